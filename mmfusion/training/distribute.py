"""tf.distribute: the default strategy on one device, MirroredStrategy across several GPUs."""
from __future__ import annotations


def get_strategy(devices=None):
    """``devices`` (e.g. ["/cpu:0", "/cpu:1"]) forces a MirroredStrategy over them."""
    import tensorflow as tf

    if devices:
        return tf.distribute.MirroredStrategy(list(devices))
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()
