"""The shared fit loop: determinism, two-phase fine-tuning, class weights, labels, CV driver."""
import keras
import numpy as np
import pytest

from mmfusion.data.splits import kfold_splits
from mmfusion.models import mark_backbone
from mmfusion.training import TrainConfig, fit

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 6)).astype("float32")
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1.0).astype(int)   # 3 classes


def tiny():
    inp = keras.Input((6,), name="features")
    h = keras.layers.Dense(8, activation="relu", name="body")(inp)
    out = keras.layers.Dense(3, activation="softmax", name="head_out")(h)
    model = keras.Model(inp, out)
    mark_backbone(model, ["body"])
    return model


def cfg(**kw):
    return TrainConfig(**{"epochs": 3, "batch_size": 8, "verbose": 0, "seed": 1, **kw})


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="cosine")
    with pytest.raises(ValueError, match="freeze_backbone_epochs"):
        TrainConfig(epochs=2, freeze_backbone_epochs=3)
    for field, value, expected in [("epochs", 0, "epochs=0"), ("batch_size", 2.5, "batch_size=2.5"),
                                   ("epochs", True, "epochs=True"),
                                   ("learning_rate", 0.0, "learning_rate must be a positive"),
                                   ("finetune_learning_rate", -1e-3, "finetune_learning_rate"),
                                   ("schedule_factor", 1.0, "schedule_factor must be in"),
                                   ("early_stopping_patience", -1, "early_stopping_patience"),
                                   ("class_weight", "auto", "class_weight must be"),
                                   ("monitor", "", "monitor must be")]:
        with pytest.raises(ValueError, match=expected):
            TrainConfig(**{field: value})
    assert TrainConfig(min_learning_rate=0, learning_rate=1, class_weight={0: 2.0}).learning_rate == 1


def test_same_seed_twice_gives_identical_metrics():
    a = fit(tiny, (X, Y), (X[:16], Y[:16]), cfg(optimizer="nadam", schedule="plateau"))
    b = fit(tiny, (X, Y), (X[:16], Y[:16]), cfg(optimizer="nadam", schedule="plateau"))
    assert a.history["loss"] == b.history["loss"] and a.history["val_accuracy"] == b.history["val_accuracy"]
    for u, v in zip(a.model.weights, b.model.weights):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    c = fit(tiny, (X, Y), None, cfg(seed=2))
    assert c.history["loss"] != a.history["loss"]


def test_run_eagerly_trains_like_the_traced_graph():
    graph = fit(tiny, (X, Y), (X[:16], Y[:16]), cfg())
    eager = fit(tiny, (X, Y), (X[:16], Y[:16]), cfg(run_eagerly=True))
    assert eager.model.run_eagerly and not graph.model.run_eagerly
    np.testing.assert_allclose(eager.history["val_loss"], graph.history["val_loss"], rtol=1e-4)


def test_sparse_and_one_hot_labels_train_identically():
    sparse = fit(tiny, (X, Y), None, cfg(optimizer="sgd", learning_rate=0.05))
    onehot = fit(tiny, (X, np.eye(3)[Y]), None, cfg(optimizer="sgd", learning_rate=0.05))
    np.testing.assert_allclose(sparse.history["loss"], onehot.history["loss"], rtol=1e-5)


def test_frozen_phase_keeps_backbone_then_finetune_changes_it():
    keras.utils.set_random_seed(1)
    initial = {v.path: v.numpy() for v in tiny().weights}
    frozen = fit(tiny, (X, Y), None, cfg(epochs=2, freeze_backbone_epochs=2))
    for v in frozen.model.weights:
        same = np.array_equal(v.numpy(), initial[v.path])
        assert same == v.path.startswith("body"), v.path
    both = fit(tiny, (X, Y), None, cfg(epochs=3, freeze_backbone_epochs=1, finetune_learning_rate=1e-4))
    assert both.history["phase"] == [0, 1, 1]
    np.testing.assert_allclose(both.history["learning_rate"], [1e-3, 1e-4, 1e-4], rtol=1e-6)
    assert not np.array_equal(both.model.get_layer("body").kernel.numpy(), initial["body/kernel"])
    with pytest.raises(ValueError, match="backbone_layer_names"):
        fit(lambda: keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)]), (X, Y), None,
            cfg(freeze_backbone_epochs=1))


def test_balanced_class_weights_equal_sklearn_and_match_explicit_sample_weights():
    from sklearn.utils.class_weight import compute_class_weight

    expected = compute_class_weight("balanced", classes=np.arange(3), y=Y)
    weighted = fit(tiny, (X, Y), None, cfg(class_weight="balanced", shuffle=False))
    explicit = fit(tiny, (X, Y, expected[Y].astype("float32")), None, cfg(shuffle=False))
    np.testing.assert_allclose(weighted.history["loss"], explicit.history["loss"], rtol=1e-6)
    plain = fit(tiny, (X, Y), None, cfg(shuffle=False))
    assert not np.allclose(plain.history["loss"], weighted.history["loss"])


def test_restore_best_and_early_stopping():
    result = fit(tiny, (X, Y), (X[:16], Y[:16]), cfg(epochs=6, learning_rate=0.5, restore_best=True,
                                                      early_stopping_patience=1, optimizer="sgd"))
    val = result.history["val_loss"]
    assert result.best_epoch == int(np.argmin(val))
    assert len(val) < 6 or result.best_epoch is not None
    x_val = X[:16]
    probs = np.asarray(result.model(x_val))
    loss = keras.losses.SparseCategoricalCrossentropy()(Y[:16], probs)
    assert float(loss) == pytest.approx(min(val), rel=1e-4)


def test_kfold_splits_partition_and_keep_groups_on_one_side():
    from sklearn.model_selection import StratifiedGroupKFold

    groups = np.repeat(np.arange(16), 3)
    folds = kfold_splits(Y, groups, k=4, seed=0)
    ref = StratifiedGroupKFold(4, shuffle=True, random_state=0).split(np.zeros(len(Y)), Y, groups)
    for (train, test), (_, ref_test) in zip(folds, ref):
        assert not set(groups[train]) & set(groups[test])
        np.testing.assert_array_equal(test, ref_test)
    assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(48))
    plain = kfold_splits(np.zeros(10, int), k=5, stratified=False)
    assert sorted(np.concatenate([t for _, t in plain]).tolist()) == list(range(10))


def test_auto_verbosity_is_one_line_per_epoch_unless_progress_is_off(monkeypatch):
    from mmfusion.training.loop import _verbosity

    monkeypatch.delenv("MMFUSION_NO_PROGRESS", raising=False)
    assert _verbosity(TrainConfig(verbose="auto")) == 2 and _verbosity(TrainConfig(verbose=1)) == 1
    monkeypatch.setenv("MMFUSION_NO_PROGRESS", "1")
    assert _verbosity(TrainConfig(verbose="auto")) == 0


def test_a_finished_fit_keeps_its_training_time(tmp_path):
    """fit.json records the training's wall time and samples per epoch; reloading the fit returns
    that time, not a new one."""
    import json

    import keras
    import numpy as np

    from mmfusion.training import TrainConfig, fit
    from mmfusion.training.records import RunDir

    def build():
        inp = keras.Input((4,))
        return keras.Model(inp, keras.layers.Dense(2, activation="softmax")(inp))

    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    run = RunDir(tmp_path / "fit")
    first = fit(build, (x, y), None, TrainConfig(epochs=1, batch_size=8, verbose=0), run=run)
    assert first.train_seconds > 0
    record = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert record["train_seconds"] == first.train_seconds
    assert record["samples_per_epoch"] == 16          # what bench.protocol's images/s counts
    again = fit(build, (x, y), None, TrainConfig(epochs=1, batch_size=8, verbose=0), run=run)
    assert again.train_seconds == first.train_seconds


def test_a_finished_fit_is_reloaded_only_when_trained_as_asked(tmp_path, capsys):
    """A fit asked again with other settings (here the class weight an upstream choice picked, as
    mias-xai's runs get theirs) is trained again, equal to a fresh fit; asked as trained, reloaded."""
    import json

    from mmfusion.data import augment
    from mmfusion.training.records import RunDir

    run = RunDir(tmp_path / "fit")
    first = fit(tiny, (X, Y), None, cfg(class_weight={0: 1.0, 1: 2.0, 2: 3.0}), run=run)
    stored = json.loads((tmp_path / "fit" / "fit.json").read_text())["settings"]
    assert stored["class_weight"] == {"0": 1.0, "1": 2.0, "2": 3.0} and "verbose" not in stored
    other = cfg(class_weight={0: 1.0, 1: 1.0, 2: 1.0})
    again = fit(tiny, (X, Y), None, other, run=run)
    assert "trained with other settings (class_weight differ" in capsys.readouterr().err
    fresh = fit(tiny, (X, Y), None, other)
    assert again.history["loss"] == fresh.history["loss"] != first.history["loss"]
    assert fit(tiny, (X, Y), None, other, run=run).train_seconds == again.train_seconds   # reloaded
    assert "other settings" not in capsys.readouterr().err
    # composed ops all carry the name "compose": the settings tell them apart by their parameters
    flip, turn = augment.compose(augment.random_flip()), augment.compose(augment.random_rotation(10))
    from mmfusion.training.loop import fit_settings

    assert fit_settings(cfg(augment=flip)) != fit_settings(cfg(augment=turn))
    composed = augment.compose(augment.random_flip())
    assert fit_settings(cfg(augment=flip)) == fit_settings(cfg(augment=composed))


IMAGES = RNG.integers(0, 256, (40, 12, 12, 3)).astype("float32")
CLINICAL = RNG.normal(size=(40, 2)).astype("float32")
IMAGE_Y = (IMAGES[:, :6, :6, 0].mean(axis=(1, 2)) > 127).astype(int) + (CLINICAL[:, 0] > 0)


def image_model(dict_inputs: bool):
    inp = keras.Input((12, 12, 3), name="image")
    h = keras.layers.Rescaling(1 / 255.0)(inp)
    h = keras.layers.Conv2D(4, 3, kernel_initializer=keras.initializers.HeUniform(1))(h)
    h = keras.layers.Flatten()(keras.layers.Dropout(0.2)(keras.layers.BatchNormalization()(h)))
    if not dict_inputs:
        return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(h))
    clinical = keras.Input((2,), name="clinical")
    h = keras.layers.Concatenate()([h, clinical])
    return keras.Model({"image": inp, "clinical": clinical}, keras.layers.Dense(3, activation="softmax")(h))


def test_an_augmenting_fit_resumes_exactly(tmp_path):
    from pathlib import Path

    from mmfusion.data import augment as A
    from mmfusion.training import checkpoint
    from mmfusion.training.records import RunDir

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 2 and batch == 1:
                raise RuntimeError("interrupted")

    config = cfg(epochs=4, batch_size=16, seed=5, augment=A.compose(A.random_flip(), A.random_rotation(20.0)),
                 schedule="plateau", schedule_patience=1, restore_best=True)
    data, val = (IMAGES, IMAGE_Y), (IMAGES[:8], IMAGE_Y[:8])
    straight = fit(lambda: image_model(False), data, val, config)
    run = RunDir(tmp_path / "fit")
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(lambda: image_model(False), data, val, config, run=run, callbacks=[Interrupt()])
    assert checkpoint.latest(Path(run.state_dir) / "phase0")[1]["epoch"] == 1   # resumes at epoch 2
    resumed = fit(lambda: image_model(False), data, val, config, run=run)
    assert resumed.history == straight.history
    for a, b in zip(resumed.model.variables, straight.model.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
