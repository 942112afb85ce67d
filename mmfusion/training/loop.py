"""The one training loop every paper uses (``fit``)."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mmfusion.data.pipeline import make_dataset, steps_per_epoch
from mmfusion.training.callbacks import (BestWeights, HistoryRecorder, ResumableEarlyStopping,
                                         ResumablePlateau, load_weight_dict, save_weight_dict)
from mmfusion.training.config import TrainConfig
from mmfusion.training.distribute import get_strategy
from mmfusion.training.records import RunDir, read_history
from mmfusion.utils.io import atomic_write_json
from mmfusion.utils.seed import set_seed

FIT_DONE = "fit.json"   # written once a fit has finished and saved its model


@dataclasses.dataclass
class FitResult:
    model: keras.Model
    history: dict                 # column -> list over all epochs (epoch, phase, learning_rate, logs)
    best_epoch: int | None = None


def make_optimizer(config: TrainConfig, learning_rate: float):
    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate)
    if config.optimizer == "nadam":
        return keras.optimizers.Nadam(learning_rate)
    return keras.optimizers.SGD(learning_rate, momentum=config.momentum)


def _split(data):
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError("training data must be a tf.data.Dataset or a tuple (x, y[, sample_weight])")
    x, y = data[0], np.asarray(data[1])
    w = None if len(data) == 2 or data[2] is None else np.asarray(data[2], dtype="float32")
    return x, y, w


def _class_weights(config: TrainConfig, y) -> dict | None:
    if config.class_weight is None:
        return None
    classes = y.argmax(1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype(int)
    if config.class_weight == "balanced":
        counts = np.bincount(classes)
        return {c: len(classes) / (len(counts) * n) for c, n in enumerate(counts) if n}
    return {int(k): float(v) for k, v in config.class_weight.items()}


def _auto_loss(config: TrainConfig, y_spec_shape, model) -> str:
    if config.loss != "auto":
        return config.loss
    if model.output_shape[-1] == 1:
        return "binary_crossentropy"
    one_hot = len(y_spec_shape) >= 2 and y_spec_shape[-1] not in (None, 1)
    return "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"


def _phases(config: TrainConfig):
    """[(start_epoch, end_epoch, learning_rate, backbone_frozen)]."""
    f, e = config.freeze_backbone_epochs, config.epochs
    finetune = config.finetune_learning_rate or config.learning_rate
    if f == 0:
        return [(0, e, config.learning_rate, False)]
    if f >= e:
        return [(0, e, config.learning_rate, True)]
    return [(0, f, config.learning_rate, True), (f, e, finetune, False)]


def _set_backbone_trainable(model, names, trainable: bool) -> None:
    for name in names:
        model.get_layer(name).trainable = trainable


def fit(build_model, train, val, config: TrainConfig, run: RunDir | None = None,
        backbone_layer_names=None, strategy=None, callbacks=()) -> FitResult:
    """Train ``build_model()`` on ``train`` (validating on ``val``, may be None).

    ``callbacks``: extra Keras callbacks (run before the history/backup ones each epoch).
    ``train``/``val``: tf.data.Dataset of batches, or (x, y[, sample_weight]) with x an array or a
    dict of arrays. Array inputs are batched here with an epoch-indexed order, so a run resumed
    after a kill (``run`` given: Keras BackupAndRestore under run/train_state) replays the same
    batches and ends with the same weights as an uninterrupted run.
    """
    set_seed(config.seed, config.deterministic)
    previous_policy = keras.mixed_precision.global_policy()
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        strategy = strategy or get_strategy()
        with strategy.scope():
            model = build_model()
        if run is not None and (run.path / FIT_DONE).exists():
            return _finished(model, run)
        return _fit(model, train, val, config, run, backbone_layer_names, strategy, list(callbacks))
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def _fit(model, train, val, config, run, backbone_layer_names, strategy, extra) -> FitResult:
    phases = _phases(config)
    frozen_names = None
    if any(p[3] for p in phases):
        frozen_names = backbone_layer_names or getattr(model, "_mmfusion_backbone", None)
        if not frozen_names:
            raise ValueError("freeze_backbone_epochs > 0 needs backbone_layer_names (or a model from "
                             "mmfusion.models.build_classifier, which records them)")
    state = Path(run.state_dir) if run is not None else None
    monitor = config.monitor if val is not None else config.monitor.removeprefix("val_")
    rows = read_history(run.path / "history.csv") if run is not None else []
    best = BestWeights(monitor, state / "best.npz" if state else None) if config.restore_best else None

    in_memory = not isinstance(train, tf.data.Dataset)
    if in_memory:
        x, y, w = _split(train)
        cw = _class_weights(config, y)
        if cw is not None:
            classes = y.argmax(1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype(int)
            w = (w if w is not None else np.ones(len(y), "float32")) * np.array([cw.get(int(c), 1.0) for c in classes], "float32")
        y_shape = y.shape
    else:
        if config.class_weight == "balanced":
            raise ValueError("class_weight='balanced' needs array labels; pass a dict for a Dataset")
        y_shape = tuple(train.element_spec[1].shape)
    val_ds = val
    if val is not None and not isinstance(val, tf.data.Dataset):
        vx, vy, vw = _split(val)
        val_ds = make_dataset(vx, vy, vw, batch_size=config.batch_size)
    loss = _auto_loss(config, y_shape, model)

    for k, (start, end, lr, frozen) in enumerate(phases):
        done = state / f"phase{k}.done.npz" if state else None
        if done is not None and done.exists():
            load_weight_dict(model, done)
            continue
        if frozen_names:
            _set_backbone_trainable(model, frozen_names, not frozen)
        with strategy.scope():
            model.compile(optimizer=make_optimizer(config, lr), loss=loss, metrics=list(config.metrics),
                          jit_compile=config.jit_compile, run_eagerly=config.run_eagerly)
        backup = state / f"phase{k}" if state else None
        resume_at = _backup_epoch(backup, start)
        rows[:] = [r for r in rows if r["epoch"] < resume_at]
        prior = [r for r in rows if r["epoch"] >= start]
        if best is not None:
            best = _rebuild_best(best, monitor, rows)
        callbacks = list(extra)
        if config.early_stopping_patience is not None:
            callbacks.append(ResumableEarlyStopping(prior, monitor=monitor,
                                                    patience=config.early_stopping_patience))
        if config.schedule == "plateau":
            callbacks.append(ResumablePlateau(prior, monitor=monitor, factor=config.schedule_factor,
                                              patience=config.schedule_patience,
                                              min_lr=config.min_learning_rate))
        callbacks.append(HistoryRecorder(rows, k, run.path / "history.csv" if run else None))
        if best is not None:
            callbacks.append(best)
        if backup is not None:   # last: it saves only after the history row and best weights exist
            callbacks.append(keras.callbacks.BackupAndRestore(str(backup)))
        if in_memory:
            train_ds = make_dataset(x, y, w, batch_size=config.batch_size, shuffle=config.shuffle,
                                    seed=config.seed, augment=config.augment, repeat=True,
                                    start_epoch=resume_at)
            steps = steps_per_epoch(len(y), config.batch_size)
            model.fit(train_ds, steps_per_epoch=steps, epochs=end, initial_epoch=start,
                      validation_data=val_ds, callbacks=callbacks, verbose=_verbosity(config),
                      shuffle=False)
        else:
            model.fit(train, epochs=end, initial_epoch=start, validation_data=val_ds,
                      callbacks=callbacks, verbose=_verbosity(config), shuffle=False,
                      class_weight=config.class_weight if isinstance(config.class_weight, dict) else None)
        if done is not None:
            save_weight_dict(model, done)

    if best is not None:
        best.restore(model)
    history = {key: [r.get(key) for r in rows] for key in _keys(rows)}
    best_epoch = best.best_epoch if best is not None else None
    if run is not None:
        run.write_history(history)
        run.save_model(model)
        atomic_write_json(run.path / FIT_DONE, {"best_epoch": best_epoch})   # after the model
        shutil.rmtree(state, ignore_errors=True)
    return FitResult(model, history, best_epoch)


def _finished(model, run) -> FitResult:
    """A fit this run directory already completed (a resumed ``reproduce``): reload, don't retrain."""
    model.load_weights(run.path / "model.keras")
    rows = read_history(run.path / "history.csv")
    history = {key: [r.get(key) for r in rows] for key in _keys(rows)}
    return FitResult(model, history, json.loads((run.path / FIT_DONE).read_text())["best_epoch"])


def _verbosity(config) -> int:
    """"auto": one line per epoch (readable in Kaggle / CI logs), none with MMFUSION_NO_PROGRESS."""
    if config.verbose != "auto":
        return config.verbose
    return 0 if os.environ.get("MMFUSION_NO_PROGRESS") else 2


def _backup_epoch(backup, start: int) -> int:
    meta = backup / "training_metadata.json" if backup else None
    if meta is not None and meta.exists():
        return max(start, int(json.loads(meta.read_text())["epoch"]))
    return start


def _rebuild_best(best: BestWeights, monitor, rows) -> BestWeights:
    fresh = BestWeights(monitor, best.path, prior_rows=rows)
    fresh._weights = best._weights if best.best_epoch == fresh.best_epoch else None
    return fresh


def _keys(rows):
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    return keys


def predict_proba(model, x, batch_size: int = 64) -> np.ndarray:
    """Class probabilities for arrays / dicts of arrays (batched plain calls, no shuffling)."""
    ds = make_dataset(x, batch_size=batch_size)
    return np.concatenate([np.asarray(model(b, training=False)) for b in ds], axis=0)
