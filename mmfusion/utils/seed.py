"""One call to make a run repeatable: python, numpy and backend seeds, optionally deterministic ops."""


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed python, numpy and Keras/TF (keras.utils.set_random_seed seeds all three);
    ``deterministic`` also switches on deterministic TF kernels."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
