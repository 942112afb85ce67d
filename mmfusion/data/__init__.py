"""Datasets as users download them (Kaggle and original layouts) and their synthetic twins.

``load_dataset(name, root, **options)`` returns a DataFrame with one row per sample and at least
``sample_id, image_path, label, group_id`` (plus ``mask_paths`` where masks exist and the
clinical / metadata columns). ``frame.attrs['report']`` counts every skipped row.
Each loader module defines ``load(root, **options)`` and ``KAGGLE_SLUGS``.
"""
from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path

from mmfusion.data.common import DatasetError, LoadReport, finish_frame  # noqa: F401

LOADER_MODULES = {
    "cbis-ddsm": "mmfusion.data.cbis_ddsm",
    "mias": "mmfusion.data.mias",
    "busi": "mmfusion.data.busi",
    "breast-mri": "mmfusion.data.breast_mri",
    "ham10000": "mmfusion.data.skin",
    "isic2019": "mmfusion.data.skin",
}
DATASETS = tuple(LOADER_MODULES)


def _module(name: str):
    try:
        return importlib.import_module(LOADER_MODULES[name])
    except KeyError:
        raise DatasetError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}") from None


def load_dataset(name: str, root=None, **options):
    """Read dataset ``name`` from ``root`` (default: the Kaggle input folders, see find_dataset_root)."""
    root = find_dataset_root(name, root)
    module = _module(name)
    loader = getattr(module, "load_" + name.replace("-", "_"), None) or module.load
    frame = loader(root, **options)
    report = frame.attrs.get("report") or {}
    if report.get("n_skipped"):   # skipped rows are never silent: say so where the user looks
        counts = ", ".join(f"{n} {reason}" for reason, n in sorted(report["skipped"].items()))
        warnings.warn(f"{name} at {root}: kept {len(frame)} samples of {report['rows_read']} rows read; "
                      f"skipped {report['n_skipped']} ({counts}); details in frame.attrs['report']",
                      stacklevel=2)
    return frame


def kaggle_input() -> Path:
    """Where Kaggle mounts attached datasets (MMFUSION_KAGGLE_INPUT overrides it, e.g. in tests)."""
    return Path(os.environ.get("MMFUSION_KAGGLE_INPUT", "/kaggle/input"))


def kaggle_candidates(name: str) -> list[Path]:
    """Where Kaggle notebooks mount a dataset: /kaggle/input/<slug> and /kaggle/input/datasets/<owner>/<slug>."""
    base = kaggle_input()
    out = []
    for slug in getattr(_module(name), "KAGGLE_SLUGS", {}).get(name, ()):
        owner, _, short = slug.partition("/")
        out += [base / short, base / "datasets" / owner / short, base / owner / short]
    return out


def find_dataset_root(name: str, data_dir=None) -> Path:
    """``data_dir`` when given (it must exist), else the first Kaggle mount that exists."""
    if data_dir is not None:
        path = Path(data_dir)
        if not path.exists():
            raise DatasetError(f"data directory for {name} does not exist", path=path)
        return path
    tried = kaggle_candidates(name)
    for path in tried:
        if path.exists():
            return path
    raise DatasetError(f"no {name} data found; pass --data-dir, or mount it in Kaggle at one of: "
                       + ", ".join(map(str, tried)))
