"""Test helpers shared by the suite (keras-hub style: one call per serialisation test)."""
import numpy as np


def assert_keras_roundtrip(obj, inputs, tmp_path, atol=1e-6):
    """Save ``obj`` (a keras Layer or Model) to .keras, load it back, compare outputs on ``inputs``.

    A layer is wrapped in a functional model first. Returns the reloaded model.
    """
    import keras

    if isinstance(obj, keras.Model):
        model = obj
    else:
        def as_input(x):
            return keras.Input(shape=np.shape(x)[1:], dtype=str(np.asarray(x).dtype))
        if isinstance(inputs, dict):
            sym = {k: as_input(v) for k, v in inputs.items()}
        elif isinstance(inputs, (list, tuple)):
            sym = [as_input(v) for v in inputs]
        else:
            sym = as_input(inputs)
        model = keras.Model(sym, obj(sym))
    path = tmp_path / f"{obj.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    expected = keras.tree.map_structure(np.asarray, model(inputs, training=False))
    actual = keras.tree.map_structure(np.asarray, loaded(inputs, training=False))
    for e, a in zip(keras.tree.flatten(expected), keras.tree.flatten(actual)):
        np.testing.assert_allclose(a, e, atol=atol, rtol=1e-5)
    assert len(loaded.weights) == len(model.weights)
    return loaded
