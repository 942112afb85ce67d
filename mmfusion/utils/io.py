"""Atomic writes: a reader never sees a half-written file (temp file in the same dir, fsync, rename).
A full disk in any write, whatever library writes, ends in one :class:`DiskFullError`."""
import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


class DiskFullError(OSError):
    """No space left while writing a run file; the previous version of the file is intact."""

    def __init__(self, path):
        self.path, self.free = Path(path), None
        folder = self.path.parent          # the nearest existing folder holds the free space
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        with contextlib.suppress(OSError):
            self.free = shutil.disk_usage(folder).free
        room = "unknown free space" if self.free is None else f"{_size(self.free)} free"
        super().__init__(errno.ENOSPC, f"no space left on the device writing {self.path} ({room} on "
                         f"{self.path.parent}); free some space and run the same command again: "
                         "it continues from the last checkpoint")

    def __str__(self):
        return self.strerror


def atomic_save(path, writer: Callable[[str], None], suffix: str = "") -> Path:
    """``writer(tmp_path)``, fsync, rename onto ``path``; on any failure ``path`` keeps its content."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
        os.close(fd)
        writer(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except BaseException as err:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        # ENOSPC / EDQUOT, also when a library (h5py) only puts the errno in its message
        if (isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)
                or "No space left on device" in str(err) or "errno = 28" in str(err)):
            raise DiskFullError(path) from None
        raise
    return path


def atomic_write_bytes(path, data: bytes) -> Path:
    return atomic_save(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def _fsync_dir(path) -> None:
    """Makes the rename itself durable (a power cut could otherwise lose it)."""
    with contextlib.suppress(OSError):   # some file systems refuse fsync on a directory; still atomic
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _jsonable(obj):
    """numpy scalars/arrays, paths and sets become plain JSON values."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return list(obj) if isinstance(obj, (set, tuple)) else str(obj)
