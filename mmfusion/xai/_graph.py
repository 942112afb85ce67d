"""Model-graph helpers shared by the explainers: input handling, layer search, logits.

``keras.Model(model.inputs, layer.output)`` fails for a layer inside a nested backbone, so the graph
is re-run symbolically, descending into nested models, giving one flat
``keras.Model(model.input, [activation, logits])`` with the same layers and weights."""
import keras
import numpy as np

from mmfusion import _keras_compat as compat


def as_functional(model):
    """A top-level Sequential as its functional graph (same layers); others unchanged."""
    if isinstance(model, keras.Sequential):
        graph = compat.sequential_graph(model)
        if graph is None:
            raise ValueError(f"Sequential model {model.name!r} is not built; give it an Input")
        return graph
    return model


def input_names(model) -> list[str]:
    model = as_functional(model)
    struct = compat.inputs_struct(model)
    if isinstance(struct, dict):   # model.inputs orders a dict by key (keras.tree.flatten)
        return sorted(struct)
    return [t.name for t in model.inputs]


def flatten_inputs(model, inputs) -> list[np.ndarray]:
    """``inputs`` (array, list or dict) as a list of arrays aligned with ``model.inputs``."""
    names = input_names(model)
    if isinstance(inputs, dict):
        missing = [n for n in names if n not in inputs]
        if missing:
            raise ValueError(f"inputs dict lacks {missing}; the model expects inputs {names}")
        flat = [inputs[n] for n in names]
    else:
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(flat) != len(names):
        raise ValueError(f"got {len(flat)} input arrays; the model expects {len(names)}: {names}")
    flat = [np.asarray(x) for x in flat]
    sizes = {len(x) for x in flat}
    if len(sizes) != 1:
        raise ValueError(f"all inputs must have the same batch size; got sizes {sorted(sizes)}")
    return flat


def image_input_index(model, input_name=None) -> int:
    """Index of the image input: ``input_name`` if given, else the only 4-D input."""
    model = as_functional(model)
    names = input_names(model)
    if input_name is not None:
        if input_name not in names:
            raise ValueError(f"input_name={input_name!r} is not an input of the model: {names}")
        return names.index(input_name)
    four_d = [i for i, t in enumerate(model.inputs) if len(t.shape) == 4]
    if len(four_d) != 1:
        raise ValueError(f"cannot tell which input is the image among {names}; pass input_name")
    return four_d[0]


def _sublayers(model):
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def _walk(model):
    """Every layer of ``model``, depth first, each nested model followed by its own layers."""
    for layer in _sublayers(model):
        yield layer
        if isinstance(layer, keras.Model):
            yield from _walk(layer)


def find_layer(model, name: str):
    """The layer called ``name`` anywhere in ``model``, nested models included."""
    for layer in _walk(model):
        if layer.name == name:
            return layer
    raise ValueError(f"no layer named {name!r} in model {model.name!r} (nested models searched)")


def _is_conv(layer) -> bool:
    # every convolution kind carries a kernel_size; keep 4-D (image) outputs
    if not hasattr(layer, "kernel_size") or isinstance(layer, keras.Model):
        return False
    try:
        return len(layer.output.shape) == 4
    except (AttributeError, ValueError):
        return False


def last_conv_layer(model):
    """The last convolution layer with a 4-D output, nested models included."""
    for layer in reversed(list(_walk(model))):
        if _is_conv(layer):
            return layer
    raise ValueError(f"model {model.name!r} has no convolution layer with a 4-D output; pass layer_name")


def _activation_name(layer) -> str | None:
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    name = getattr(getattr(layer, "activation", None), "__name__", None)
    return name if name in ("softmax", "sigmoid") else None


def _final_layer(model):
    if len(model.outputs) != 1:
        raise ValueError(f"model {model.name!r} has {len(model.outputs)} outputs; "
                         "the explainers need a single classification output")
    op = compat.producing_operation(model.outputs[0])
    return _final_layer(op) if isinstance(op, keras.Model) else op


class _PreActivation(keras.layers.Layer):
    """``layer`` without its softmax/sigmoid, same weights (the logits); a layer of its own so that
    the activation is swapped at run time, not only while building."""

    def __init__(self, layer, **kwargs):
        super().__init__(name=f"{layer.name}_logits", **kwargs)
        self.layer = layer

    def call(self, *args, **kwargs):
        if isinstance(self.layer, (keras.layers.Softmax, keras.layers.Activation)):
            return args[0]
        with compat.swapped_activation(self.layer):
            return self.layer(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        if isinstance(self.layer, (keras.layers.Softmax, keras.layers.Activation)):
            return keras.KerasTensor(args[0].shape, args[0].dtype)
        return self.layer.compute_output_spec(*args, **kwargs)


def _run(model, inputs, hooks):
    """Re-run ``model`` on ``inputs`` in inference mode; ``hooks``: {id(layer): (layer, fn)}."""
    def wrap(op):
        if id(op) in hooks:
            return hooks[id(op)][1]
        if isinstance(op, keras.Model) and any(layer is t for layer in _walk(op) for t, _ in hooks.values()):
            return lambda x, *a, **k: _run(op, x, hooks)
        return compat.operation_fn(op, training=False)

    if isinstance(model, keras.Sequential):
        x = inputs
        for layer in _sublayers(model):
            x = wrap(layer)(x)
        return x
    out = compat.run_through_graph(model, keras.tree.flatten(inputs), wrap)   # a dict: by key, as input_names
    return out[0] if isinstance(out, (list, tuple)) and len(out) == 1 else out


def build_explain_model(model, layer=None):
    """(flat ``keras.Model(model.input, [activation of layer, logits])``, output kind): ``layer``
    None gives logits only; the kind is the activation removed from the last layer, or 'linear'."""
    model = as_functional(model)
    final = _final_layer(model)
    kind = _activation_name(final) or "linear"
    captured, hooks = {}, {}
    if kind != "linear":
        hooks[id(final)] = (final, _PreActivation(final))
    if layer is not None:
        if id(layer) in hooks:
            raise ValueError(f"layer {layer.name!r} is the output layer; pick a conv layer")

        def capture(*args, **kwargs):
            out = compat.operation_fn(layer, training=False)(*args, **kwargs)
            captured.setdefault("act", out)  # a shared layer: its first call
            return out
        hooks[id(layer)] = (layer, capture)
    logits = _run(model, model.input, hooks)
    if layer is not None and "act" not in captured:
        raise ValueError(f"layer {layer.name!r} is not on the path to the model output")
    outputs = [captured["act"], logits] if layer is not None else logits
    return keras.Model(model.input, outputs, name=f"{model.name}_explain"), kind
