"""Training checkpoints on disk: one ``<dir>/epoch-<EEEE>.<sha256[:16]>.npz`` per completed epoch,
named by a rename after it was written and fsync'd (a kill leaves the old set or the new one), its
digest checked on load, the previous good one kept. NumPy only: run records read it without TensorFlow."""
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from mmfusion.data.cache import UNREADABLE, read_npz, sha256_file
from mmfusion.utils.io import atomic_save

KEEP = 2                                    # the newest and the previous good one
_NAME = re.compile(r"^epoch-(\d{4,})\.([0-9a-f]{16})\.npz$")


def write(directory, epoch: int, arrays: dict, meta: dict) -> None:
    """Write the state after ``epoch`` (0-based, completed); drop all but the newest KEEP."""
    directory = Path(directory)
    payload = {**arrays, "__meta__": np.array(json.dumps({**meta, "epoch": epoch}))}
    staged = atomic_save(directory / f".epoch-{epoch:04d}.staged.npz",
                         lambda tmp: np.savez(tmp, **payload), suffix=".npz")
    final = directory / f"epoch-{epoch:04d}.{sha256_file(staged)[:16]}.npz"
    staged.replace(final)
    # what a resume superseded (a torn newer file, another copy of this epoch), then the oldest
    stale = [p for e, p in _listed(directory) if e > epoch or (e == epoch and p != final)]
    for old in stale + [p for _, p in _listed(directory) if p not in stale][KEEP:]:
        old.unlink(missing_ok=True)


def latest(directory) -> tuple[dict, dict] | None:
    """(arrays, meta) of the newest checkpoint that verifies; a torn or altered newer one is
    skipped with a warning naming it. None when there is none (the phase starts over)."""
    listed = _listed(directory)
    for i, (_, path) in enumerate(listed):
        try:
            if sha256_file(path)[:16] == _NAME.match(path.name).group(2):
                arrays = read_npz(path)
                return arrays, json.loads(str(arrays.pop("__meta__")))
            problem = f"corrupt (its sha256 no longer matches; {path.stat().st_size} bytes)"
        except UNREADABLE as err:
            problem = f"unreadable ({type(err).__name__}: {err})"
        warn(f"checkpoint {path} is {problem}; " + ("falling back to the previous one" if i < len(listed) - 1
             else "no usable checkpoint is left in its folder, so this training phase starts over"))
    return None


def newest_epoch(directory) -> int | None:
    """The newest checkpointed epoch by file name (unverified: for messages only)."""
    listed = _listed(directory)
    return listed[0][0] if listed else None


def warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)
    print(f"warning: {message}", file=sys.stderr)


def _listed(directory) -> list[tuple[int, Path]]:
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(((int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))),
                  reverse=True)
