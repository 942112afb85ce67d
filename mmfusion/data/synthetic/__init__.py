"""Synthetic twins: each dataset written in its exact on-disk format with a learnable signal.

``write_twin(name, out_dir, n=None, seed=0) -> Path`` writes the twin of dataset ``name`` and
returns the root to pass to ``mmfusion.data.load_dataset(name, root)``.
``ensure_twin(name, cache_dir=None, seed=0, n=None) -> Path`` writes it once and reuses it.
Each twin module defines ``write(out_dir, n, seed) -> Path`` and ``DEFAULT_N`` (the skin module
writes both ``ham10000`` and ``isic2019`` and takes ``name=``, or defines ``write_<name>``).
"""
from __future__ import annotations

import importlib
import inspect
import os
import shutil
import tempfile
from pathlib import Path

TWIN_MODULES = {
    "cbis-ddsm": "mmfusion.data.synthetic.cbis_ddsm",
    "mias": "mmfusion.data.synthetic.mias",
    "busi": "mmfusion.data.synthetic.busi",
    "breast-mri": "mmfusion.data.synthetic.breast_mri",
    "ham10000": "mmfusion.data.synthetic.skin",
    "isic2019": "mmfusion.data.synthetic.skin",
}
TWINS = tuple(TWIN_MODULES)
DEFAULT_CACHE = Path(".mmfusion_cache") / "twins"
_DONE = ".twin-complete"  # marker written last; holds the loader root relative to the cache folder


def _module(name: str):
    if name not in TWIN_MODULES:
        raise ValueError(f"no synthetic twin for {name!r}; expected one of {', '.join(TWINS)}")
    return importlib.import_module(TWIN_MODULES[name])


def default_n(name: str, n=None) -> int:
    module = _module(name)
    if n is not None:
        return int(n)
    key = "DEFAULT_N_" + name.replace("-", "_").upper()
    return int(getattr(module, key, getattr(module, "DEFAULT_N")))


def write_twin(name: str, out_dir, n=None, seed: int = 0, **options) -> Path:
    """Write the twin of ``name`` under ``out_dir``; returns the root its loader reads.
    ``options`` go to the twin's writer (e.g. the mias twin's ``counts``)."""
    module = _module(name)
    n = default_n(name, n)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    specific = getattr(module, "write_" + name.replace("-", "_"), None)
    if specific is not None:
        return Path(specific(out_dir, n, seed, **options))
    if "name" in inspect.signature(module.write).parameters:
        return Path(module.write(out_dir, n, seed, name=name, **options))
    return Path(module.write(out_dir, n, seed, **options))


def twin_dir(name: str, cache_dir=None, seed: int = 0, n=None) -> Path:
    base = Path(cache_dir) if cache_dir is not None else Path(os.environ.get("MMFUSION_TWIN_CACHE",
                                                                             DEFAULT_CACHE))
    return base / f"{name}-seed{seed}-n{default_n(name, n)}"


def ensure_twin(name: str, cache_dir=None, seed: int = 0, n=None) -> Path:
    """The cached twin's loader root, writing it first if needed.

    Written into a temporary sibling folder and renamed into place only when complete, so a crash
    or a concurrent writer never leaves a half-written twin that later calls would trust.
    """
    final = twin_dir(name, cache_dir, seed, n)
    marker = final / _DONE
    if marker.is_file():
        return final / marker.read_text().strip()
    if final.exists():  # left over by an older, interrupted layout: not trustworthy
        shutil.rmtree(final, ignore_errors=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=final.parent))
    try:
        root = write_twin(name, tmp, n, seed)
        rel = os.path.relpath(root, tmp)
        (tmp / _DONE).write_text(rel + "\n")
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished first; use theirs
            if not marker.is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final / marker.read_text().strip()
