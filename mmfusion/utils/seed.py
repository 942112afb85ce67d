"""One call to make a run repeatable: python, numpy and backend seeds, optionally deterministic ops."""
import random

import numpy as np


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed python, numpy and Keras/TF; ``deterministic`` also switches on deterministic TF kernels."""
    random.seed(seed)
    np.random.seed(seed)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
