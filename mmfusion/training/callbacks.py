"""Callbacks whose state survives a kill: they rebuild it from history.csv and files on disk."""
from __future__ import annotations

import os

import keras
import numpy as np
import pandas as pd

from mmfusion.utils.io import atomic_save, atomic_write_text


def save_weight_dict(model, path) -> None:
    """Model weights keyed by variable path (order-independent: trainable flags change the order)."""
    arrays = {v.path: np.asarray(v.numpy()) for v in model.weights}
    atomic_save(path, lambda tmp: np.savez(open(tmp, "wb"), **arrays))


def load_weight_dict(model, source) -> None:
    arrays = source if isinstance(source, dict) else dict(np.load(source))
    for v in model.weights:
        if v.path not in arrays:
            raise ValueError(f"saved weights have no variable {v.path!r}")
        v.assign(arrays[v.path])


def _weights_in_memory(model) -> dict:
    return {v.path: np.array(v.numpy()) for v in model.weights}


class HistoryRecorder(keras.callbacks.Callback):
    """Keeps every epoch's logs (plus phase and learning rate) and rewrites history.csv each epoch."""

    def __init__(self, rows, phase: int, path=None):
        super().__init__()
        self.rows = rows              # shared list across phases; earlier epochs already in it
        self.phase = phase
        self.path = path
        self._lr = None

    def on_epoch_begin(self, epoch, logs=None):
        self._lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, "phase": self.phase, "learning_rate": self._lr}
        row.update({k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"})
        self.rows[:] = [r for r in self.rows if r["epoch"] < epoch] + [row]
        if self.path is not None:
            atomic_write_text(self.path, pd.DataFrame(self.rows).to_csv(index=False))


def _replay(callback, rows):
    """Feed the epochs run before a restart back into a freshly started callback."""
    for row in rows:
        callback.on_epoch_end(int(row["epoch"]), dict(row))


class _Replayed:
    """Mixin: after the Keras callback resets itself, replay the epochs run before a restart."""

    def __init__(self, prior_rows=(), **kwargs):
        super().__init__(**kwargs)
        self.prior_rows = list(prior_rows)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        _replay(self, self.prior_rows)


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
        self.path = path
        self.best = None
        self.best_epoch = None
        self._weights = None
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
                self._weights = _weights_in_memory(self.model)

    def restore(self, model) -> bool:
        if self._weights is not None:
            load_weight_dict(model, self._weights)
            return True
        if self.path is not None and os.path.exists(self.path):
            load_weight_dict(model, self.path)
            return True
        return False
