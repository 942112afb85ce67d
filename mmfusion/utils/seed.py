"""One call to make a run repeatable: python, numpy and backend seeds, optionally deterministic ops."""
import random

import numpy as np


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed python, numpy and Keras/TF; with ``deterministic`` also force deterministic TF kernels
    (TF keeps that global: it is only ever switched on). PYTHONHASHSEED only acts at start-up."""
    random.seed(seed)
    np.random.seed(seed)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
