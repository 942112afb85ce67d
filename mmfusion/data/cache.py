"""The one cache: keys hash the input files' *content* (all MIAS PGMs have one size; ``cp -p`` and
``unzip`` keep mtimes) and the parameters; atomic writes, verified reads. Digests are memoised
on ``(size, mtime_ns, ctime_ns, inode)``: no user tool can set ctime."""
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
UNREADABLE = (OSError, ValueError, EOFError, zipfile.BadZipFile)   # what a torn or corrupt .npz raises


def cache_root(cache_dir=None) -> Path:
    """``cache_dir``, else ``$MMFUSION_CACHE``, else ``/kaggle/temp/mmfusion`` on Kaggle, else local."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("MMFUSION_CACHE"):
        return Path(os.environ["MMFUSION_CACHE"])
    return Path("/kaggle/temp/mmfusion" if Path("/kaggle/temp").is_dir() else ".mmfusion_cache")


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_npz(path) -> dict:
    """Every array of an .npz (reading them all is what finds a torn file)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def file_digest(path) -> str:
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    if key not in _DIGESTS:
        _DIGESTS[key] = sha256_file(path)
    return _DIGESTS[key]


def content_key(files=(), **params) -> str:
    """Hex key over the files' contents (order-free, names relative to their common root) and ``params``."""
    files = sorted(os.fspath(p) for p in files)
    root = os.path.commonpath(files) if len(files) > 1 else (os.path.dirname(files[0]) if files else "")
    h = hashlib.sha256()
    for f in files:
        h.update(f"{os.path.relpath(f, root) if root else f}\t{file_digest(f)}\n".encode())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def cached_arrays(name: str, key: str, build: Callable[[], dict], cache_dir=None) -> dict:
    """``build()`` (a dict of arrays) cached as ``<root>/<name>/<key>.npz``; a corrupt entry is rebuilt."""
    path = cache_root(cache_dir) / name / f"{key}.npz"
    if path.exists():
        try:
            return read_npz(path)
        except UNREADABLE as err:
            warnings.warn(f"cache entry {path} is unreadable ({type(err).__name__}: {err}); rebuilding it",
                          stacklevel=2)
            print(f"warning: rebuilding corrupt cache entry {path}", file=sys.stderr)
    arrays = build()
    atomic_save(path, lambda tmp: np.savez(tmp, **arrays), suffix=".npz")
    return arrays


def cached(name: str, files, build: Callable[[], dict], cache_dir=None, **params) -> dict:
    return cached_arrays(name, content_key(files, **params), build, cache_dir)
