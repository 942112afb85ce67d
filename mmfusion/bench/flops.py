"""FLOPs of a Keras model: from its TensorFlow graph (tf.profiler) and by hand (conv/dense).

``graph_flops`` freezes ``model(x, training=False)`` as a concrete function and sums the
profiler's per-op float counts (Conv2D / MatMul = 2 x MACs, bias adds, element-wise ops);
``hand_flops`` counts only convolutions and dense layers (2 x MACs + bias) from the layer
shapes, the cross-check that says the graph number is the model's and not the harness's.
"""
from __future__ import annotations

import numpy as np


def graph_flops(model, batch: int = 1) -> int:
    """Float operations of one inference forward pass on ``batch`` inputs, from the graph."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    from tensorflow.python.profiler import model_analyzer, option_builder

    specs = [tf.TensorSpec((batch,) + tuple(t.shape[1:]), t.dtype) for t in model.inputs]
    fn = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False))
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function(*specs))
    opts = option_builder.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return int(model_analyzer.profile(frozen.graph, options=opts).total_float_ops)


def _shape(t):
    return tuple(int(d) for d in t.shape[1:])


def layer_flops(layer) -> int:
    """2 x MACs (+ one add per output for a bias) of one conv / dense layer, else 0."""
    import keras

    try:
        out = _shape(layer.output)
        inp = _shape(layer.input)
    except (AttributeError, ValueError, TypeError):
        return 0
    bias = int(np.prod(out)) if getattr(layer, "use_bias", False) else 0
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kh, kw = layer.kernel_size
        return 2 * int(np.prod(out)) * kh * kw + bias
    if isinstance(layer, keras.layers.SeparableConv2D):
        kh, kw = layer.kernel_size
        depth = inp[-1] * layer.depth_multiplier
        return 2 * int(np.prod(out[:-1])) * (depth * kh * kw + depth * out[-1]) + bias
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = layer.kernel_size
        return 2 * int(np.prod(out)) * kh * kw * inp[-1] // layer.groups + bias
    if isinstance(layer, keras.layers.Dense):
        return 2 * int(np.prod(out)) * inp[-1] + bias
    return 0


def hand_flops(model) -> int:
    """Sum of ``layer_flops`` over the (flat) model's conv and dense layers, batch 1."""
    import keras

    total = 0
    for layer in model.layers:
        total += hand_flops(layer) if isinstance(layer, keras.Model) else layer_flops(layer)
    return total
