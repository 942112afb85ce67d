"""tf.distribute: the default strategy on one device, MirroredStrategy across several GPUs.

Keras before 3.9 scales the loss wrongly under MirroredStrategy (a 2-replica fit trains to other
weights than one device), so on such a Keras one of several GPUs is used, with a warning."""
import warnings


def mirrored_is_sound() -> bool:
    import keras

    return tuple(int(p) for p in keras.__version__.split(".")[:2]) >= (3, 9)


def get_strategy(devices=None):
    """``devices`` (e.g. ["/cpu:0", "/cpu:1"]) forces a MirroredStrategy over them."""
    import tensorflow as tf

    if devices:
        return tf.distribute.MirroredStrategy(list(devices))
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        if mirrored_is_sound():
            return tf.distribute.MirroredStrategy()
        warnings.warn(f"{len(gpus)} GPUs, but this Keras mis-scales the loss under MirroredStrategy "
                      "(fixed in 3.9, keras-team/keras#20609): training on one GPU", stacklevel=2)
    return tf.distribute.get_strategy()
