"""Synthetic twins: each dataset in its exact on-disk format with a learnable signal. Each twin
module defines ``DEFAULT_N`` and ``write(out_dir, n, seed) -> loader root`` (or ``write_<name>``)."""
import importlib
import os
import shutil
import tempfile
from pathlib import Path

from mmfusion.data import LOADER_MODULES

TWIN_MODULES = {name: module.replace("mmfusion.data.", "mmfusion.data.synthetic.")
                for name, module in LOADER_MODULES.items()}
DEFAULT_CACHE = Path(".mmfusion_cache") / "twins"
_DONE = ".twin-complete"  # marker written last; holds the loader root relative to the cache folder


def _module(name: str):
    if name not in TWIN_MODULES:
        raise ValueError(f"no synthetic twin for {name!r}; expected one of {', '.join(TWIN_MODULES)}")
    return importlib.import_module(TWIN_MODULES[name])


def default_n(name: str, n=None) -> int:
    module = _module(name)   # validates the name
    return int(n) if n is not None else int(module.DEFAULT_N)


def write_twin(name: str, out_dir, n=None, seed: int = 0, **options) -> Path:
    """Write the twin of ``name`` (``options``: e.g. the mias twin's ``counts``); returns its loader root."""
    module, n = _module(name), default_n(name, n)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    writer = getattr(module, "write_" + name.replace("-", "_"), None) or module.write
    return Path(writer(Path(out_dir), n, seed, **options))


def twin_dir(name: str, cache_dir=None, seed: int = 0, n=None) -> Path:
    base = Path(cache_dir if cache_dir is not None else os.environ.get("MMFUSION_TWIN_CACHE", DEFAULT_CACHE))
    return base / f"{name}-seed{seed}-n{default_n(name, n)}"


def ensure_twin(name: str, cache_dir=None, seed: int = 0, n=None) -> Path:
    """The cached twin's loader root, written if needed into a temporary folder renamed when complete."""
    final = twin_dir(name, cache_dir, seed, n)
    marker = final / _DONE
    if marker.is_file():
        return final / marker.read_text().strip()
    shutil.rmtree(final, ignore_errors=True)   # if there: left by an interrupted older layout, untrusted
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=final.parent))
    try:
        (tmp / _DONE).write_text(os.path.relpath(write_twin(name, tmp, n, seed), tmp) + "\n")
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished first; use theirs
            if not marker.is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)   # gone once renamed
    return final / marker.read_text().strip()
