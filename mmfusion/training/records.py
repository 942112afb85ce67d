"""Run records: every run writes its own new directory; every file is written atomically."""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import os
from pathlib import Path

import pandas as pd

from mmfusion.utils.io import atomic_save, atomic_write_json, atomic_write_text

PREDICTION_COLUMNS = ("sample_id", "split", "fold", "run", "y_true")
DONE_FILE = "DONE"
STATE_DIR = "train_state"          # BackupAndRestore and phase checkpoints (removed when done)


class RunDir:
    """One run's directory. ``RunDir(path)`` opens (or creates) it; ``new_run_dir`` makes a fresh one."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"

    def __fspath__(self):
        return str(self.path)

    @property
    def figures_dir(self) -> Path:
        path = self.path / "figures"
        path.mkdir(exist_ok=True)
        return path

    @property
    def state_dir(self) -> Path:
        return self.path / STATE_DIR

    def child(self, name: str) -> "RunDir":
        """A sub-run (e.g. one fold) with its own history, model and training state."""
        return RunDir(self.path / name)

    def write_json(self, name: str, obj) -> Path:
        return atomic_write_json(self.path / name, obj)

    def write_config(self, config: dict) -> Path:
        return self.write_json("config.json", config)

    def write_manifest(self, seed: int, data_files=(), label_files=(), extra: dict | None = None) -> Path:
        from mmfusion.utils.env import device_info, git_commit, versions

        manifest = {**versions(), "git_commit": git_commit(), "seed": seed,
                    "device": device_info(), "created": _dt.datetime.now().isoformat(timespec="seconds"),
                    "data_fingerprint": data_fingerprint(data_files, label_files),
                    "n_data_files": len(list(data_files))}
        return self.write_json("manifest.json", {**manifest, **(extra or {})})

    def write_history(self, history) -> Path:
        """``history``: dict of lists (Keras style) or a list of row dicts."""
        frame = pd.DataFrame(history)
        return atomic_write_text(self.path / "history.csv", frame.to_csv(index=False))

    def write_predictions(self, frame: pd.DataFrame, name: str = "predictions.csv") -> Path:
        check_predictions(frame)
        return atomic_write_text(self.path / name, frame.to_csv(index=False))

    def write_metrics(self, metrics: dict) -> Path:
        return self.write_json("metrics.json", metrics)

    def save_model(self, model, name: str = "model.keras", include_optimizer: bool = False) -> Path:
        """The trained model as ``.keras``. Without the optimizer by default: Adam's two slots per
        weight triple the file (285 MB for ResNet50), and resuming uses its own training state."""
        if include_optimizer:
            return atomic_save(self.path / name, lambda tmp: model.save(tmp), suffix=".keras")
        optimizer, compiled = getattr(model, "optimizer", None), getattr(model, "compiled", False)
        try:
            model.optimizer, model.compiled = None, False   # no optimizer, no compile config
            return atomic_save(self.path / name, lambda tmp: model.save(tmp), suffix=".keras")
        finally:
            model.optimizer, model.compiled = optimizer, compiled

    def mark_done(self) -> None:
        atomic_write_text(self.path / DONE_FILE, _dt.datetime.now().isoformat(timespec="seconds") + "\n")

    @property
    def done(self) -> bool:
        return (self.path / DONE_FILE).exists()


def new_run_dir(out, paper: str, tag: str = "", resume: bool = False) -> RunDir:
    """``out/paper/<YYYYmmdd-HHMMSS>[-tag]/``, never an existing one (a suffix is added on clashes).

    ``resume=True`` reopens the newest run of this paper and tag when it never finished (it holds
    files but no DONE marker: killed or crashed), so the same command continues it: its finished
    fits are reloaded (``fit.json``) and an interrupted one resumes from its last epoch.
    """
    base = Path(out) / paper
    suffix = f"-{tag}" if tag else ""
    if resume and base.is_dir():
        candidates = sorted((_stamp(p.name, suffix), p) for p in base.iterdir()
                            if p.is_dir() and p.name.endswith(suffix) and _stamp(p.name, suffix))
        candidates = [p for _, p in candidates]
        for path in reversed(candidates):
            if not (path / DONE_FILE).exists() and any(path.iterdir()):
                return RunDir(path)
            break
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for i in range(1000):
        path = base / (stamp + (f"-{i}" if i else "") + suffix)
        try:
            path.mkdir(parents=True, exist_ok=False)
            return RunDir(path)
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a new run directory under {base}")


def _stamp(name: str, suffix: str):
    """(timestamp, clash counter) of a run folder name, or None when it is not one."""
    core = name[: len(name) - len(suffix)] if suffix else name
    if not (len(core) >= 15 and core[:8].isdigit() and core[8] == "-" and core[9:15].isdigit()):
        return None
    rest = core[15:]
    if rest and not (rest[0] == "-" and rest[1:].isdigit()):
        return None
    return core[:15], int(rest[1:] or 0)


def data_fingerprint(data_files=(), label_files=()) -> str:
    """sha256 over the data file list (paths relative to their common root, with sizes) and the
    contents of the label files: changes when a file is added, removed, resized or relabelled."""
    files = sorted(os.fspath(p) for p in data_files)
    root = os.path.commonpath(files) if len(files) > 1 else (os.path.dirname(files[0]) if files else "")
    digest = hashlib.sha256()
    for f in files:
        size = os.path.getsize(f) if os.path.exists(f) else -1
        digest.update(f"{os.path.relpath(f, root) if root else f}\t{size}\n".encode())
    for f in sorted(os.fspath(p) for p in label_files):
        digest.update(b"labels\n")
        digest.update(Path(f).read_bytes())
    return digest.hexdigest()


def check_predictions(frame: pd.DataFrame) -> None:
    missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
    probs = [c for c in frame.columns if c.startswith("p_")]
    if missing or not probs:
        raise ValueError(f"predictions need columns {list(PREDICTION_COLUMNS)} + p_0..p_(C-1); "
                         f"missing {missing or 'the p_ columns'}")
    if probs != [f"p_{i}" for i in range(len(probs))]:
        raise ValueError(f"probability columns must be p_0..p_{len(probs) - 1} in order, got {probs}")


def predictions_frame(sample_ids, y_true, probabilities, split: str = "test", fold: int = 0,
                      run: int = 0) -> pd.DataFrame:
    """The predictions.csv layout from ids, true labels and an (n, C) probability array."""
    import numpy as np

    probs = np.asarray(probabilities, dtype=float)
    if probs.ndim == 1:           # one sigmoid output: P(class 1)
        probs = np.stack([1 - probs, probs], axis=1)
    if len(probs) != len(sample_ids) or len(y_true) != len(sample_ids):
        raise ValueError(f"predictions_frame: {len(sample_ids)} ids, {len(y_true)} labels, {len(probs)} rows")
    frame = pd.DataFrame({"sample_id": list(sample_ids), "split": split, "fold": fold, "run": run,
                          "y_true": np.asarray(y_true).astype(int)})
    for c in range(probs.shape[1]):
        frame[f"p_{c}"] = probs[:, c]
    return frame


def read_history(path) -> list[dict]:
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    return pd.read_csv(io.StringIO(path.read_text())).to_dict("records")
