"""Callbacks whose state survives a kill: they rebuild it from history.csv and files on disk."""
import os

import keras
import numpy as np
import pandas as pd

from mmfusion.training import checkpoint
from mmfusion.utils.io import atomic_save, atomic_write_text


def save_weight_dict(model, path) -> None:
    """Every model variable (weights, BatchNorm statistics, dropout seed states), by position."""
    arrays = _arrays(model.variables, "v/")
    atomic_save(path, lambda tmp: np.savez(tmp, **arrays), suffix=".npz")


def load_weight_dict(model, source) -> None:
    arrays = source if isinstance(source, dict) else checkpoint.read_npz(source)
    _assign(model.variables, arrays, "v/", "saved weights" if isinstance(source, dict) else str(source))


def load_or_warn(model, path, what: str, instead: str) -> bool:
    """:func:`load_weight_dict` from ``path``; False, with a warning saying ``instead``, when unreadable."""
    try:
        load_weight_dict(model, path)
    except checkpoint.UNREADABLE as err:
        checkpoint.warn(f"{what} {path} are unreadable ({err}); {instead}")
        return False
    return True


def _arrays(variables, prefix: str) -> dict:
    """By position, not by path: auto-numbered names (dense_3, adam_1) differ between processes,
    the structural order of model.variables / optimizer.variables does not (trainable flags keep it)."""
    return {f"{prefix}{i:05d}": np.array(v.numpy()) for i, v in enumerate(variables)}


def _assign(variables, arrays: dict, prefix: str, origin: str) -> None:
    stored = sum(1 for k in arrays if k.startswith(prefix))
    if stored != len(variables):
        raise ValueError(f"{origin} holds {stored} variables under {prefix!r}, this model has "
                         f"{len(variables)}: it was written for another model or optimizer")
    for i, v in enumerate(variables):
        value = arrays[f"{prefix}{i:05d}"]
        if tuple(value.shape) != tuple(v.shape):
            raise ValueError(f"{origin}: variable {i} ({v.path}) has shape {tuple(value.shape)}, "
                             f"the model's is {tuple(v.shape)}")
        v.assign(value)


class Checkpoint(keras.callbacks.Callback):
    """Our BackupAndRestore: each epoch's weights, optimizer variables, history rows and stop flag.
    Must be the last callback (it saves after the history row and the best weights exist).
    ``resume``: (arrays, meta) restored at train begin, after the replayed callbacks (ReduceLROnPlateau)
    have touched the optimizer."""

    def __init__(self, directory, rows, resume=None):
        super().__init__()
        self.directory, self.rows, self.resume = directory, rows, resume

    def on_train_begin(self, logs=None):
        if self.resume is None:
            return
        arrays, meta = self.resume
        origin = f"the checkpoint of epoch {meta['epoch']} in {self.directory}"
        _assign(self.model.variables, arrays, "v/", origin)
        if not any(k.startswith("o/") for k in arrays):
            return
        optimizer = self.model.optimizer
        if not optimizer.built:   # Keras builds it when tracing; its variables must exist to be set
            with self.model.distribute_strategy.scope():
                optimizer.build(self.model.trainable_variables)
        _assign(optimizer.variables, arrays, "o/", origin)

    def on_epoch_end(self, epoch, logs=None):
        # model variables under "v/", optimizer variables (step, learning rate, slots) under "o/"
        state = {**_arrays(self.model.variables, "v/"), **_arrays(self.model.optimizer.variables, "o/")}
        meta = {"rows": self.rows, "stopped": bool(self.model.stop_training)}
        checkpoint.write(self.directory, epoch, state, meta)


class HistoryRecorder(keras.callbacks.Callback):
    """Keeps every epoch's logs (plus phase and learning rate) and rewrites history.csv each epoch."""

    def __init__(self, rows, phase: int, path=None):
        super().__init__()
        self.rows = rows              # shared list across phases; earlier epochs already in it
        self.phase, self.path, self._lr = phase, path, None

    def on_epoch_begin(self, epoch, logs=None):
        self._lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, "phase": self.phase, "learning_rate": self._lr}
        row.update({k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"})
        self.rows[:] = [r for r in self.rows if r["epoch"] < epoch] + [row]
        if self.path is not None:
            atomic_write_text(self.path, pd.DataFrame(self.rows).to_csv(index=False))


class _Replayed:
    """Mixin: after the Keras callback resets itself, replay the epochs run before a restart."""

    def __init__(self, prior_rows=(), **kwargs):
        super().__init__(**kwargs)
        self.prior_rows = list(prior_rows)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        for row in self.prior_rows:
            self.on_epoch_end(int(row["epoch"]), dict(row))


class ResumableEarlyStopping(_Replayed, keras.callbacks.EarlyStopping):
    pass


class ResumablePlateau(_Replayed, keras.callbacks.ReduceLROnPlateau):
    """Its learning-rate changes are restored with the optimizer; wait/best come from the replay."""


class BestWeights(keras.callbacks.Callback):
    """Tracks the best monitored epoch across phases and keeps its weights (on disk when ``path``)."""

    def __init__(self, monitor: str, path=None, prior_rows=()):
        super().__init__()
        self.monitor = monitor
        self.mode_max = any(s in monitor for s in ("acc", "auc", "f1", "precision", "recall"))
        self.path, self.best, self.best_epoch, self._weights = path, None, None, None
        for row in prior_rows:
            self._consider(int(row["epoch"]), row.get(monitor))

    def _consider(self, epoch, value) -> bool:
        if value is None or not np.isfinite(value):
            return False
        if self.best is None or (value > self.best if self.mode_max else value < self.best):
            self.best, self.best_epoch = float(value), epoch
            return True
        return False

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"monitor {self.monitor!r} not in the epoch logs {sorted(logs or {})}")
        if self._consider(epoch, float(value)):
            if self.path is not None:
                save_weight_dict(self.model, self.path)
            else:
                self._weights = _arrays(self.model.variables, "v/")

    def restore(self, model) -> None:
        if self._weights is not None:
            load_weight_dict(model, self._weights)
        elif self.path is not None and os.path.exists(self.path):
            load_or_warn(model, self.path, "best weights", "keeping the last epoch's weights")
