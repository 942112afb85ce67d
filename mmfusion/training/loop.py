"""The one training loop every paper uses (``fit``)."""
import dataclasses
import json
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf

from mmfusion.data.pipeline import make_dataset, steps_per_epoch
from mmfusion.training import checkpoint, reuse
from mmfusion.training.callbacks import (
    BestWeights,
    Checkpoint,
    HistoryRecorder,
    ResumableEarlyStopping,
    ResumablePlateau,
    load_or_warn,
    load_weight_dict,
    save_weight_dict,
)
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
    train_seconds: float | None = None   # this process's share after a resume; a reloaded fit's from fit.json


def make_optimizer(config: TrainConfig, learning_rate: float):
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=config.momentum)
    return {"adam": keras.optimizers.Adam, "nadam": keras.optimizers.Nadam}[config.optimizer](learning_rate)


def _split(data):
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError("training data must be a tf.data.Dataset or a tuple (x, y[, sample_weight])")
    x, y = data[0], np.asarray(data[1])
    w = None if len(data) == 2 or data[2] is None else np.asarray(data[2], dtype="float32")
    return x, y, w


def _auto_loss(config: TrainConfig, y_spec_shape, model) -> str:
    if config.loss != "auto":
        return config.loss
    if model.output_shape[-1] == 1:
        return "binary_crossentropy"
    one_hot = len(y_spec_shape) >= 2 and y_spec_shape[-1] not in (None, 1)
    return "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"


def fit(build_model, train, val, config: TrainConfig, run: RunDir | None = None,
        backbone_layer_names=None, strategy=None, callbacks=()) -> FitResult:
    """Train ``build_model()`` on ``train``, validating on ``val`` (may be None): each a tf.data.Dataset
    of batches, or (x, y[, sample_weight]) batched here in an epoch-indexed order, so a run resumed
    after a kill (checkpoints under run/train_state) ends with an uninterrupted run's weights.
    ``callbacks`` run before the history/backup ones each epoch."""
    strategy = strategy or get_strategy()
    with reuse.seeding(config, strategy):
        set_seed(config.seed, config.deterministic)
    previous_policy = keras.mixed_precision.global_policy()
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with strategy.scope():
            model = build_model()
        if run is not None and (run.path / FIT_DONE).exists() and (finished := _finished(model, run, config)):
            return finished
        # a traced model of the same architecture trains in its place (training/reuse.py)
        trainer = reuse.trainer_for(model, build_model, config, strategy,
                                    reseed=lambda: set_seed(config.seed, config.deterministic))
        start = time.perf_counter()
        training = _Training(trainer, config, strategy, list(callbacks), _prepare_data(train, val, config),
                             state=run.state_dir if run is not None else None,
                             history_path=run.path / "history.csv" if run is not None else None)
        f, e, lr = config.freeze_backbone_epochs, config.epochs, config.learning_rate
        # (start_epoch, end_epoch, learning_rate, backbone_frozen)
        phases = ([(0, f, lr, True), (f, e, config.finetune_learning_rate or lr, False)] if 0 < f < e
                  else [(0, e, lr, f > 0)])
        if any(p[3] for p in phases):
            training.frozen_names = backbone_layer_names or getattr(trainer, "_mmfusion_backbone", None)
            if not training.frozen_names:
                raise ValueError("freeze_backbone_epochs > 0 needs backbone_layer_names (or a model "
                                 "from mmfusion.models.build_classifier, which records them)")
        for k, phase in enumerate(phases):
            training.run_phase(k, *phase)
        return reuse.hand_back(training.finish(run, time.perf_counter() - start), model)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


@dataclasses.dataclass
class _Data:
    train: object                  # a Dataset, or the arrays (x, y, w) batched per epoch here
    val: object
    y_shape: tuple
    in_memory: bool

    def fit_arguments(self, config: TrainConfig, start_epoch: int) -> dict:
        if not self.in_memory:    # a Dataset's class_weight is a dict or None (_prepare_data)
            return {"x": self.train, "class_weight": config.class_weight}
        x, y, w = self.train      # epoch-indexed order: a resumed fit replays the same batches
        return {"x": make_dataset(x, y, w, batch_size=config.batch_size, shuffle=config.shuffle,
                                  seed=config.seed, augment=config.augment, repeat=True,
                                  start_epoch=start_epoch),
                "steps_per_epoch": steps_per_epoch(len(y), config.batch_size)}


def _prepare_data(train, val, config) -> _Data:
    if val is not None and not isinstance(val, tf.data.Dataset):
        val = make_dataset(*_split(val), batch_size=config.batch_size)
    if isinstance(train, tf.data.Dataset):
        if config.class_weight == "balanced":
            raise ValueError("class_weight='balanced' needs array labels; pass a dict for a Dataset")
        return _Data(train, val, tuple(train.element_spec[1].shape), in_memory=False)
    x, y, w = _split(train)
    if config.class_weight is not None:   # arrays: class weights become sample weights (exact, resumable)
        classes = y.argmax(1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype(int)
        if config.class_weight == "balanced":
            counts = np.bincount(classes)
            cw = {c: len(classes) / (len(counts) * n) for c, n in enumerate(counts) if n}
        else:
            cw = {int(k): float(v) for k, v in config.class_weight.items()}
        w = (w if w is not None
             else np.ones(len(y), "float32")) * np.array([cw.get(int(c), 1.0) for c in classes], "float32")
    return _Data((x, y, w), val, y.shape, in_memory=True)


class _Training:
    """One fit's phases over shared state: the history rows, the best weights, the checkpoints."""

    def __init__(self, model, config, strategy, extra, data: _Data, state, history_path):
        self.model, self.config, self.strategy, self.extra, self.data = model, config, strategy, extra, data
        self.state, self.history_path, self.frozen_names = state, history_path, None
        self.monitor = config.monitor if data.val is not None else config.monitor.removeprefix("val_")
        self.loss = _auto_loss(config, data.y_shape, model)
        self.rows = read_history(history_path) if history_path is not None else []
        self.best = (BestWeights(self.monitor, state / "best.npz" if state else None)
                     if config.restore_best else None)

    def run_phase(self, k, start, end, lr, frozen) -> None:
        done = self.state / f"phase{k}.done.npz" if self.state else None
        if done is not None and done.exists() and load_or_warn(self.model, done, "finished-phase weights",
                                                              "redoing the phase from its last checkpoint"):
            return
        for name in self.frozen_names or ():
            self.model.get_layer(name).trainable = not frozen
        with self.strategy.scope():
            self.model.compile(optimizer=make_optimizer(self.config, lr), loss=self.loss,
                               metrics=list(self.config.metrics), jit_compile=self.config.jit_compile,
                               run_eagerly=self.config.run_eagerly)
        directory = self.state / f"phase{k}" if self.state else None
        resume = checkpoint.latest(directory) if directory else None
        resume_at = self._rewind(resume, start)
        if resume is not None and (resume_at >= end or resume[1].get("stopped")):
            load_weight_dict(self.model, resume[0])    # the phase had ended
        else:
            self.model.fit(**self.data.fit_arguments(self.config, resume_at), epochs=end,
                           initial_epoch=resume_at, validation_data=self.data.val,
                           callbacks=self._callbacks(k, start, directory, resume),
                           verbose=_verbosity(self.config), shuffle=False)
        if done is not None:
            save_weight_dict(self.model, done)

    def _rewind(self, resume, start: int) -> int:
        """The rows and best epoch as they were when the checkpoint was written; its next epoch."""
        if resume is not None:
            self.rows[:] = resume[1]["rows"]
            resume_at = resume[1]["epoch"] + 1
        else:
            self.rows[:] = [r for r in self.rows if r["epoch"] < start]
            resume_at = start
        if self.best is not None:
            fresh = BestWeights(self.monitor, self.best.path, prior_rows=self.rows)
            fresh._weights = self.best._weights if self.best.best_epoch == fresh.best_epoch else None
            self.best = fresh
        return resume_at

    def _callbacks(self, k, start, directory, resume) -> list:
        config, prior = self.config, [r for r in self.rows if r["epoch"] >= start]
        callbacks = list(self.extra)
        if config.early_stopping_patience is not None:
            callbacks.append(ResumableEarlyStopping(prior, monitor=self.monitor,
                                                    patience=config.early_stopping_patience))
        if config.schedule == "plateau":
            callbacks.append(ResumablePlateau(prior, monitor=self.monitor, factor=config.schedule_factor,
                                              patience=config.schedule_patience,
                                              min_lr=config.min_learning_rate))
        callbacks.append(HistoryRecorder(self.rows, k, self.history_path))
        if self.best is not None:
            callbacks.append(self.best)
        if directory is not None:   # last: it saves only after the history row and best weights exist
            callbacks.append(Checkpoint(directory, self.rows, resume))
        return callbacks

    def finish(self, run, seconds: float) -> FitResult:
        if self.best is not None:
            self.best.restore(self.model)
        history = _columns(self.rows)
        best_epoch = self.best.best_epoch if self.best is not None else None
        if run is not None:
            run.write_history(history)
            run.save_model(self.model)
            samples = self.data.y_shape[0] if self.data.in_memory else None   # a Dataset's: unknown
            atomic_write_json(run.path / FIT_DONE, {"best_epoch": best_epoch, "train_seconds": seconds,
                                                    "samples_per_epoch": samples,   # after the model
                                                    "settings": fit_settings(self.config)})
            shutil.rmtree(self.state, ignore_errors=True)
        return FitResult(self.model, history, best_epoch, seconds)


def fit_settings(config: TrainConfig) -> dict:
    """The config as fit.json keeps it: the augmentation by its key (every composed op is named
    "compose"), without the verbosity."""
    settings = config.to_dict()
    settings.pop("verbose")
    if (key := getattr(config.augment, "key", None)) is not None:
        settings["augment"] = key
    return json.loads(json.dumps(settings, sort_keys=True, default=str))


def _finished(model, run, config: TrainConfig) -> FitResult | None:
    """The fit this run directory already completed, reloaded; None (retrain) when its model is
    unreadable or it was trained with other settings (e.g. a class weight picked otherwise now)."""
    done = json.loads((run.path / FIT_DONE).read_text())
    stored, asked = done.get("settings"), fit_settings(config)
    if stored is not None and stored != asked:     # fit.json from before the settings were kept: trusted
        differ = sorted(k for k in stored.keys() | asked.keys() if stored.get(k) != asked.get(k))
        changes = ", ".join(f"{k}={stored.get(k)!r}, now {asked.get(k)!r}" for k in differ)
        checkpoint.warn(f"finished fit {run.path} was trained with other settings ({', '.join(differ)} "
                        f"differ: {changes}); training it again")
        (run.path / FIT_DONE).unlink()
        return None
    path = run.path / "model.keras"
    try:
        model.load_weights(path)
    except Exception as err:   # noqa: BLE001 - h5py / zipfile / Keras raise many kinds
        checkpoint.warn(f"finished fit's model {path} is unreadable ({type(err).__name__}: {err}); "
                        "training that fit again")
        return None
    history = _columns(read_history(run.path / "history.csv"))
    return FitResult(model, history, done["best_epoch"], done.get("train_seconds"))


def _verbosity(config) -> int:
    """"auto": one line per epoch (Kaggle / CI logs), none with MMFUSION_NO_PROGRESS."""
    if config.verbose != "auto":
        return config.verbose
    return 0 if os.environ.get("MMFUSION_NO_PROGRESS") else 2


def _columns(rows) -> dict:
    """Column -> values over the rows (columns in first-seen order; None where absent)."""
    return {key: [r.get(key) for r in rows] for key in dict.fromkeys(k for r in rows for k in r)}


def predict_proba(model, x, batch_size: int = 64) -> np.ndarray:
    """Class probabilities for arrays / dicts of arrays (batched plain calls)."""
    ds = make_dataset(x, batch_size=batch_size)
    return np.concatenate([np.asarray(model(b, training=False)) for b in ds], axis=0)
