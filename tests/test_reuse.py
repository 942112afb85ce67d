"""Trace-once reuse: a reused fit equals a fresh-model fit of the same seed, value for value."""
import keras
import numpy as np
import pytest

from mmfusion.data import augment as A
from mmfusion.training import TrainConfig, fit, reuse

RNG = np.random.default_rng(0)
X = RNG.integers(0, 256, (40, 8, 8, 3)).astype("float32")
Y = (X[:, :4, :4, 0].mean(axis=(1, 2)) > 127).astype(int) + (X[:, 4:, 4:, 1].mean(axis=(1, 2)) > 127)


def build(size=8, seed=None):
    # dropout (seed state), batch norm (moving statistics) and a seeded initializer
    inp = keras.Input((size, size, 3))
    h = keras.layers.Rescaling(1 / 255.0)(inp)
    h = keras.layers.Conv2D(4, 3, kernel_initializer=keras.initializers.HeUniform(seed))(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Flatten()(keras.layers.Dropout(0.3)(h))
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(h))


def _config(seed, **kw):
    # the learning rate differs per seed: a reused optimizer must take the new one
    return TrainConfig(**{"epochs": 3, "batch_size": 16, "seed": seed, "verbose": 0, "restore_best": True,
                          "learning_rate": 1e-3 * seed, "schedule": "plateau", "schedule_patience": 1,
                          "augment": A.random_flip(), **kw})


def _fit(seed, **kw):
    return fit(lambda: build(seed=seed), (X, Y), (X[:12], Y[:12]), _config(seed, **kw))


def _values(result):
    return [v.numpy() for v in result.model.variables], result.history


def test_reused_fits_equal_fresh_fits_and_keep_earlier_models(monkeypatch):
    monkeypatch.setenv("MMFUSION_REUSE", "0")
    fresh = [_values(_fit(s)) for s in (1, 2)]
    monkeypatch.setenv("MMFUSION_REUSE", "1")
    reuse.clear()
    first = _fit(1)
    trainer = next(iter(reuse._TRAINERS.values()))
    functions = trainer.train_function, trainer.test_function
    assert None not in functions
    kept = [v.numpy() for v in first.model.variables]
    second = _fit(2)
    assert len(reuse._TRAINERS) == 1 and next(iter(reuse._TRAINERS.values())) is trainer
    assert (trainer.train_function, trainer.test_function) == functions   # not made (traced) again
    assert first.model is not trainer and second.model is not first.model
    for (weights, history), result in zip(fresh, (first, second)):
        ours, our_history = _values(result)
        assert our_history["loss"] == history["loss"]
        assert our_history["learning_rate"] == history["learning_rate"]
        for a, b in zip(ours, weights):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(kept, first.model.variables):        # the later fit left the first model alone
        np.testing.assert_array_equal(a, b.numpy())
    probs = second.model(X[:4], training=False).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_a_reused_trainer_trains_each_fits_augmentation_exactly_with_one_trace(monkeypatch):
    """The augmentation runs in the feed, so one traced train function serves fits with other
    augmentations (or none), each trained exactly as a fresh model would be."""
    rotate = A.compose(A.random_flip(), A.random_rotation(20.0))
    fits = [(1, A.random_flip()), (2, rotate), (3, None), (4, A.random_flip())]
    monkeypatch.setenv("MMFUSION_REUSE", "0")
    fresh = [_values(_fit(s, augment=a)) for s, a in fits]
    monkeypatch.setenv("MMFUSION_REUSE", "1")
    reuse.clear()
    functions = []
    for (s, a), (weights, history) in zip(fits, fresh):
        result = _fit(s, augment=a)
        (trainer,) = reuse._TRAINERS.values()
        functions.append(trainer.train_function)
        ours, our_history = _values(result)
        assert our_history == history, s
        for u, v in zip(ours, weights):
            np.testing.assert_array_equal(u, v)
    assert len({id(f) for f in functions}) == 1


def test_architecture_key_ignores_names_and_seeds_but_not_shapes():
    a, b = build(seed=1), build(seed=2)
    assert a.layers[2].name != b.layers[2].name
    assert reuse.architecture_key(a) == reuse.architecture_key(b)
    assert reuse.architecture_key(build(size=10)) != reuse.architecture_key(a)

    class Sub(keras.Model):
        def call(self, x):
            return x
    assert reuse.architecture_key(Sub()) is None


@pytest.mark.parametrize("change", [{"freeze_backbone_epochs": 1}, {"run_eagerly": True}])
def test_frozen_phase_and_eager_fits_build_their_own_model(change):
    import tensorflow as tf

    model = build(seed=0)
    config = _config(1).replace(**change)
    assert reuse.trainer_for(model, build, config, tf.distribute.get_strategy(), lambda: None) is model


class _Noise(keras.layers.Layer):
    """A stateful TF random op: its seed is fixed when the graph is traced."""

    def call(self, x, training=False):
        import tensorflow as tf

        return x + tf.random.uniform(tf.shape(x)) if training else x


def test_a_trainer_with_a_stateful_random_op_is_not_reused():
    reuse.clear()
    config = TrainConfig(epochs=1, batch_size=16, seed=0, verbose=0)
    fit(lambda: build(seed=0), (X, Y), None, config)
    (clean,) = reuse._TRAINERS.values()
    assert reuse.stateful_random_ops(clean) == set()          # the scan saw the graphs, found none

    def noisy():
        inp = keras.Input((8, 8, 3))
        h = keras.layers.Flatten()(_Noise()(inp))
        return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(h))
    reuse.clear()
    fit(noisy, (X, Y), None, config)
    assert reuse._TRAINERS == {}
