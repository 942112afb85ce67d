"""One test per private-Keras shim (mmfusion._keras_compat, written for Keras 3.15): an upgrade
that moves one of them fails here, by name, not deep inside an explainer or a save."""
import keras
import numpy as np
import pytest

from mmfusion import _keras_compat as compat


def _model():
    inp = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inp)
    out = keras.layers.Dense(2, activation="softmax", name="out")(hidden)
    return keras.Model(inp, out)


def test_written_for_the_pinned_keras_and_the_oldest_supported():
    """WRITTEN_FOR is requirements.txt's Keras line; the shims also hold on setup.cfg's oldest Keras
    (the old-stack CI job runs this file there): a new pin means checking each shim again."""
    import configparser
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pinned = re.search(r"^keras==(\d+\.\d+)", (root / "requirements.txt").read_text(), re.M).group(1)
    assert compat.WRITTEN_FOR == pinned, \
        f"requirements.txt pins Keras {pinned}; check every shim, then update WRITTEN_FOR"
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    oldest = re.search(r"keras>=(\d+)\.(\d+)", cfg["options.extras_require"]["full"]).groups()
    assert tuple(map(int, keras.__version__.split(".")[:2])) >= tuple(map(int, oldest))


def test_run_through_graph_with_operation_fn_equals_the_model():
    model = _model()
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    out = compat.run_through_graph(model, [keras.ops.convert_to_tensor(x)],
                                   lambda op: compat.operation_fn(op, training=False))
    out = out[0] if isinstance(out, (list, tuple)) else out
    np.testing.assert_allclose(np.asarray(out), np.asarray(model(x)), rtol=1e-6)


def test_inputs_struct_is_the_dict_of_a_dict_model():
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    model = keras.Model({"a": a, "b": b}, keras.layers.Concatenate()([a, b]))
    assert isinstance(compat.inputs_struct(model), dict) and set(compat.inputs_struct(model)) == {"a", "b"}
    assert not isinstance(compat.inputs_struct(_model()), dict)


def test_producing_operation_is_the_output_layer():
    model = _model()
    assert compat.producing_operation(model.outputs[0]) is model.get_layer("out")


def test_sequential_graph_exists_once_built_with_an_input():
    seq = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert isinstance(compat.sequential_graph(seq), keras.Model)
    assert compat.sequential_graph(keras.Sequential([keras.layers.Dense(2)])) is None


def test_flatten_layers_reaches_nested_models():
    inner = _model()
    outer = keras.Sequential([keras.Input((4,)), inner])
    names = {layer.name for layer in compat.flatten_layers(outer, include_self=False)}
    assert {"hidden", "out"} <= names


def test_without_compile_state_saves_no_optimizer(tmp_path):
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with compat.without_compile_state(model):
        model.save(tmp_path / "m.keras")
    assert model.compiled and model.optimizer is not None
    assert getattr(keras.models.load_model(tmp_path / "m.keras"), "optimizer", None) is None


def test_swapped_activation_gives_logits_and_restores():
    model = _model()
    layer = model.get_layer("out")
    x = np.ones((1, 4), "float32")
    with compat.swapped_activation(layer):
        logits = np.asarray(model(x))
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(), np.asarray(model(x)), rtol=1e-5)
    assert layer.activation is keras.activations.softmax


def test_kernel_cache_kept_restores_the_clear():
    from tensorflow.python import pywrap_tfe

    before = pywrap_tfe.TFE_ContextClearCaches
    with compat.kernel_cache_kept():
        assert pywrap_tfe.TFE_ContextClearCaches is not before
    assert pywrap_tfe.TFE_ContextClearCaches is before


@pytest.mark.parametrize("name", ["keras.src", "_run_through_graph", "_inputs_struct", "_keras_history",
                                  "model.compiled =", "_flatten_layers", "pywrap_tfe"])
def test_no_private_keras_use_outside_the_compat_module(name):
    from pathlib import Path

    import mmfusion

    root = Path(mmfusion.__file__).parent
    users = [str(p.relative_to(root)) for p in root.rglob("*.py")
             if p.name != "_keras_compat.py" and name in p.read_text()]
    assert not users, f"{name} used outside mmfusion/_keras_compat.py: {users}"
