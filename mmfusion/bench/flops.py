"""FLOPs of a Keras model: from its TensorFlow graph (tf.profiler) and by hand from its conv / dense
layers' shapes (2 x MACs + bias), the cross-check that the graph number is the model's."""
import numpy as np


def graph_flops(model, batch: int = 1) -> int:
    """Float operations of one inference forward pass on ``batch`` inputs, from the frozen graph."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    from tensorflow.python.profiler import model_analyzer, option_builder

    specs = [tf.TensorSpec((batch,) + tuple(t.shape[1:]), t.dtype) for t in model.inputs]
    fn = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False))
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function(*specs))
    opts = option_builder.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return int(model_analyzer.profile(frozen.graph, options=opts).total_float_ops)


def layer_flops(layer) -> int:
    """2 x MACs (+ one add per output for a bias) of one conv / dense layer, else 0."""
    import keras

    try:
        out, inp = (tuple(int(d) for d in t.shape[1:]) for t in (layer.output, layer.input))
    except (AttributeError, ValueError, TypeError):
        return 0
    n_out = int(np.prod(out))
    bias = n_out if getattr(layer, "use_bias", False) else 0
    kernel = int(np.prod(getattr(layer, "kernel_size", ())))   # kh x kw (Dense: none)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return 2 * n_out * kernel + bias
    if isinstance(layer, keras.layers.Conv2D):
        return 2 * n_out * kernel * inp[-1] // layer.groups + bias
    if isinstance(layer, keras.layers.Dense):
        return 2 * n_out * inp[-1] + bias
    return 0


def hand_flops(model) -> int:
    """Sum of ``layer_flops`` over the (flat) model's conv and dense layers, batch 1."""
    import keras

    return sum(hand_flops(layer) if isinstance(layer, keras.Model) else layer_flops(layer)
               for layer in model.layers)
