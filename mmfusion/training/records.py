"""Run records: every run writes its own new directory; every file is written atomically."""
import contextlib
import datetime as _dt
import fcntl
import hashlib
import io
import json
import os
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.data.cache import file_digest
from mmfusion.training import checkpoint
from mmfusion.utils.env import build_info, code_version, device_info, versions
from mmfusion.utils.io import _jsonable, atomic_save, atomic_write_json, atomic_write_text

PREDICTION_COLUMNS = ("sample_id", "split", "fold", "run", "y_true")
DONE_FILE = "DONE"
STATE_DIR = "train_state"          # per-epoch checkpoints and finished phases (removed when done)
LOCK_FILE = ".lock"
IDENTITY_FILE = "identity.json"    # config, data fingerprint, code version: what a resume must match
_BOOKKEEPING = {LOCK_FILE, IDENTITY_FILE}
_ABSENT = object()   # a key one side of an identity lacks
_STAMP = re.compile(r"(\d{8}-\d{6})(?:-(\d+))?")   # <YYYYmmdd-HHMMSS>[-clash counter]


class RunLockedError(ValueError):
    """Another live process holds the run directory (a ValueError: the CLI exits 2)."""


class ResumeMismatchError(ValueError):
    """The unfinished run was started with another config, data or code version."""


class RunDir(contextlib.AbstractContextManager):
    """One run's directory, opened (or created); ``close()``, ``with`` or process death frees its lock."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = None

    def lock(self) -> "RunDir":
        """The exclusive fcntl.flock on ``<run>/.lock``, or RunLockedError."""
        if self._lock is not None:
            return self
        handle = open(self.path / LOCK_FILE, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a process that has not written its pid yet"
            handle.close()
            raise RunLockedError(f"{self.path} is in use by {holder}; wait for it to finish, stop it, "
                                 "or pass --fresh (or another --out) to start a separate run") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({_command_line()}), "
                     f"since {_dt.datetime.now().isoformat(timespec='seconds')}\n")
        handle.flush()
        self._lock = handle
        return self

    def close(self) -> None:
        """Release the lock (the file stays: removing it would race with a process opening it)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

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
        build = build_info()
        manifest = {**versions(), "mmfusion": build["version"], "git_commit": build["commit"],
                    "build_source": build["source"], "code_version": code_version(), "seed": seed,
                    "device": device_info(), "created": _dt.datetime.now().isoformat(timespec="seconds"),
                    "data_fingerprint": data_fingerprint(data_files, label_files),
                    "n_data_files": len(list(data_files))}
        return self.write_json("manifest.json", {**manifest, **(extra or {})})

    def write_history(self, history) -> Path:
        """``history``: dict of lists (Keras style) or a list of row dicts."""
        return atomic_write_text(self.path / "history.csv", pd.DataFrame(history).to_csv(index=False))

    def write_predictions(self, frame: pd.DataFrame, name: str = "predictions.csv") -> Path:
        check_predictions(frame)
        return atomic_write_text(self.path / name, frame.to_csv(index=False))

    def write_metrics(self, metrics: dict) -> Path:
        return self.write_json("metrics.json", metrics)

    def save_model(self, model, name: str = "model.keras", include_optimizer: bool = False) -> Path:
        """The model as ``.keras``, by default without the optimizer and compile config (Adam's slots
        triple the file; resuming uses its own training state)."""
        from mmfusion._keras_compat import without_compile_state

        with contextlib.nullcontext() if include_optimizer else without_compile_state(model):
            return atomic_save(self.path / name, lambda tmp: model.save(tmp), suffix=".keras")

    def mark_done(self) -> None:
        atomic_write_text(self.path / DONE_FILE, _dt.datetime.now().isoformat(timespec="seconds") + "\n")


def _command_line() -> str:
    """This process's command line, short: a ``python -c`` program shows as '-c ...'."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    if "-c" in argv[:-1]:
        argv[argv.index("-c") + 1] = "..."
    text = shlex.join(argv).replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


def new_run_dir(out, paper: str, tag: str = "", resume: bool = False, identity: dict | None = None) -> RunDir:
    """A new locked ``out/paper/<YYYYmmdd-HHMMSS>[-tag]/`` (a counter on clashes), ``identity`` in
    identity.json. ``resume=True`` reopens the newest such run holding files but no DONE marker
    (RunLockedError when a live process holds it, ResumeMismatchError when its identity differs)."""
    base = Path(out) / paper
    suffix = f"-{tag}" if tag else ""
    candidate = _unfinished(base, suffix) if resume else None
    if candidate is not None:
        run = RunDir(candidate).lock()
        try:
            if identity is not None:
                _check_identity(candidate, identity)
            print(f"resuming {candidate}: {resume_summary(candidate)}", file=sys.stderr)
        except BaseException:
            run.close()
            raise
        return run
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for i in range(1000):
        path = base / (stamp + (f"-{i}" if i else "") + suffix)
        try:
            path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            continue
        run = RunDir(path).lock()
        if identity is not None:
            run.write_json(IDENTITY_FILE, identity)
        return run
    raise RuntimeError(f"could not create a new run directory under {base}")


def _unfinished(base: Path, suffix: str) -> Path | None:
    """The newest run folder when it was started (holds more than its lock) and never finished."""
    stamped = sorted((_stamp(p.name, suffix), p) for p in (base.iterdir() if base.is_dir() else ())
                     if p.is_dir() and p.name.endswith(suffix) and _stamp(p.name, suffix))
    if not stamped:
        return None
    newest = stamped[-1][1]
    started = any(p.name not in _BOOKKEEPING for p in newest.iterdir())
    return newest if started and not (newest / DONE_FILE).exists() else None


def _check_identity(path: Path, identity: dict) -> None:
    stored_file = path / IDENTITY_FILE
    if not stored_file.exists():
        raise ResumeMismatchError(f"cannot resume {path}: it has no {IDENTITY_FILE} (started by an older "
                                  "mmfusion), so its config, data and code cannot be checked; "
                                  "rerun with --fresh to start a new run directory")
    stored = json.loads(stored_file.read_text())
    wanted = json.loads(json.dumps(identity, sort_keys=True, default=_jsonable))
    changes = _differences(stored, wanted)
    if changes:
        shown = "; ".join(changes[:8]) + (f"; and {len(changes) - 8} more" if len(changes) > 8 else "")
        raise ResumeMismatchError(f"cannot resume {path}: it was started with other settings ({shown}); "
                                  "rerun with --fresh to start a new run directory, or repeat the "
                                  "original options to continue it")


def _differences(old, new, prefix: str = "") -> list[str]:
    """'key.sub: old -> new' for every leaf that differs (dicts compared key by key)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [line for key in sorted(set(old) | set(new), key=str)
                for line in _differences(old.get(key, _ABSENT), new.get(key, _ABSENT),
                                         f"{prefix}.{key}" if prefix else str(key))]
    return [] if old == new else [f"{prefix}: {_short(old)} -> {_short(new)}"]


def _short(value) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def resume_summary(path) -> str:
    """'N fits done, continuing <fit> from epoch E' from the files below ``path``."""
    path = Path(path)
    done = sum(1 for _ in path.rglob("fit.json"))
    fits = []
    for state in sorted(path.rglob(STATE_DIR)):
        epochs = [e for d in state.glob("phase*")
                  if d.is_dir() and (e := checkpoint.newest_epoch(d)) is not None]
        if epochs:
            name = os.path.relpath(state.parent, path)
            fits.append(f"continuing {'the run' if name == '.' else name} from epoch {max(epochs) + 1}")
    return f"{done} fit{'s' if done != 1 else ''} done, " + (", ".join(fits) or "no fit in progress")


def _stamp(name: str, suffix: str):
    """(timestamp, clash counter) of a run folder name, or None when it is not one."""
    m = _STAMP.fullmatch(name[: len(name) - len(suffix)] if suffix else name)
    return (m.group(1), int(m.group(2) or 0)) if m else None


def data_fingerprint(data_files=(), label_files=()) -> str:
    """sha256 over the data files' names (relative to their common root) and contents, and the label
    files' contents (so a rewrite that keeps size and mtime, ``cp -p``, still changes it)."""
    files = sorted(os.fspath(p) for p in data_files)
    root = os.path.commonpath(files) if len(files) > 1 else (os.path.dirname(files[0]) if files else "")
    digest = hashlib.sha256()
    for f in files:
        content = file_digest(f) if os.path.exists(f) else "missing"
        digest.update(f"{os.path.relpath(f, root) if root else f}\t{content}\n".encode())
    for f in sorted(os.fspath(p) for p in label_files):
        digest.update(f"labels\t{file_digest(f)}\n".encode())
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
    probs = np.asarray(probabilities, dtype=float)
    if probs.ndim == 1:           # one sigmoid output: P(class 1)
        probs = np.stack([1 - probs, probs], axis=1)
    if len(probs) != len(sample_ids) or len(y_true) != len(sample_ids):
        raise ValueError(f"predictions_frame: {len(sample_ids)} ids, {len(y_true)} labels, {len(probs)} rows")
    return pd.DataFrame({"sample_id": list(sample_ids), "split": split, "fold": fold, "run": run,
                         "y_true": np.asarray(y_true).astype(int),
                         **{f"p_{c}": probs[:, c] for c in range(probs.shape[1])}})


def read_history(path) -> list[dict]:
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    return pd.read_csv(io.StringIO(path.read_text())).to_dict("records")
