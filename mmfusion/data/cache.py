"""The one cache: content-hashed keys, one root, atomic writes, verified reads.

Keys are a hash of the input files' *content* and the preprocessing parameters: file size + mtime
is not enough (all MIAS PGMs have one size, and ``cp -p``, ``rsync -a`` and ``unzip`` keep mtimes).
Content digests are memoised per process on ``(size, mtime_ns, ctime_ns, inode)``: no user tool
can set ctime, so any rewrite of a file changes the memo key (git's index uses the same idea).

The root is ``--cache-dir``, else ``$MMFUSION_CACHE``, else ``/kaggle/temp/mmfusion`` on Kaggle
(``/kaggle/working`` becomes the saved output), else ``.mmfusion_cache``; never a run directory.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from mmfusion.utils.io import atomic_save

_DIGESTS: dict = {}
_CHUNK = 1 << 20


def cache_root(cache_dir=None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("MMFUSION_CACHE"):
        return Path(os.environ["MMFUSION_CACHE"])
    if Path("/kaggle/temp").is_dir():
        return Path("/kaggle/temp/mmfusion")
    return Path(".mmfusion_cache")


def file_digest(path) -> str:
    """sha256 of the file's bytes (memoised on its stat, ctime included)."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    digest = _DIGESTS.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
        digest = _DIGESTS[key] = h.hexdigest()
    return digest


def content_key(files=(), **params) -> str:
    """A short hex key over the files' contents (order-free, names relative to their common root)
    and the JSON of ``params``: the same inputs and parameters always give the same key."""
    files = sorted(os.fspath(p) for p in files)
    root = os.path.commonpath(files) if len(files) > 1 else (os.path.dirname(files[0]) if files else "")
    h = hashlib.sha256()
    for f in files:
        h.update(f"{os.path.relpath(f, root) if root else f}\t{file_digest(f)}\n".encode())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def cached_arrays(name: str, key: str, build: Callable[[], dict], cache_dir=None) -> dict:
    """``build()`` (a dict of NumPy arrays) cached as ``<root>/<name>/<key>.npz``.

    Written atomically; on read every array is loaded (so a torn or corrupt file fails here, not
    later); a corrupt entry is rebuilt with a warning naming the file.
    """
    path = cache_root(cache_dir) / name / f"{key}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            warnings.warn(f"cache entry {path} is unreadable ({type(err).__name__}: {err}); rebuilding it",
                          stacklevel=2)
            print(f"warning: rebuilding corrupt cache entry {path}", file=sys.stderr)
    arrays = build()
    atomic_save(path, lambda tmp: np.savez(tmp, **arrays), suffix=".npz")
    return arrays


def cached(name: str, files, build: Callable[[], dict], cache_dir=None, **params) -> dict:
    """``build()`` cached under ``name`` by the contents of ``files`` and ``params`` (the one way
    the papers cache what they decode)."""
    return cached_arrays(name, content_key(files, **params), build, cache_dir)
