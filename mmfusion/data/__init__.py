"""Datasets as users download them (Kaggle and original layouts) and their synthetic twins.

``load_dataset(name, root, **options)`` returns a DataFrame with one row per sample and at least
``sample_id, image_path, label, group_id`` (plus ``mask_paths`` where masks exist and the
clinical / metadata columns). ``frame.attrs['report']`` counts every skipped row.
Each loader module defines ``load(root, **options)`` and ``KAGGLE`` (name -> KaggleData).
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
# Samples in the full real download (reproduced["data"]["N"]: fewer used -> PARTIAL DATA). Where
# each comes from: mias 322 images (mias.py docstring: 330 Info.txt rows for 322 images); busi 780
# (Al-Dhabyani et al. 2020: 437 benign + 210 malignant + 133 normal; papers/effnetv2-smote.yaml's
# "15 % of 780"); cbis-ddsm 3568 abnormality rows (the four case CSVs: mass 1318 + 378, calc
# 1546 + 326); ham10000 10015 (skin.py docstring); isic2019 25331 (ISIC 2019 training set,
# papers/ft-multicnn.yaml); breast-mri unknown here (no count in the loader's docs or tests).
FULL_SIZES = {"mias": 322, "busi": 780, "cbis-ddsm": 3568, "ham10000": 10015, "isic2019": 25331,
              "breast-mri": None}


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
    notes = {k: v for k, v in (frame.attrs.get("notes") or {}).items() if isinstance(v, int) and v}
    if notes:   # counts that otherwise reach only manifest.json
        _console(f"{name} at {root}: "
                 + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(notes.items())))
    return merge_identical(frame, name)


def _console(message: str) -> None:
    warnings.warn(message, stacklevel=3)   # the CLI shows warnings on stderr


def merge_identical(frame, name: str = "dataset"):
    """Byte-identical image files share one group id (so every splitter keeps them on one side);
    the count goes to the console and to ``frame.attrs['report']['identical_images']``. Only
    files of equal size are hashed (sha256, memoised by data.cache)."""
    from mmfusion.data.cache import file_digest
    from mmfusion.data.splits import merge_groups

    if len(frame) < 2 or "image_path" not in frame.columns:
        return frame
    paths = frame["image_path"].astype(str).tolist()
    sizes = [os.path.getsize(p) for p in paths]
    repeated = {s for s in sizes if sizes.count(s) > 1} if len(set(sizes)) < len(sizes) else set()
    digests = [file_digest(p) if s in repeated else None for p, s in zip(paths, sizes)]
    if len({d for d in digests if d}) == sum(d is not None for d in digests):
        return frame
    merged = merge_groups(frame["group_id"].astype(str).to_numpy(), digests)
    first = {}
    for i, root in enumerate(merged):
        first.setdefault(root, frame["group_id"].iloc[i])
    attrs = dict(frame.attrs)
    frame = frame.assign(group_id=[first[r] for r in merged])
    frame.attrs.update(attrs)
    n_copies = sum(d is not None for d in digests) - len({d for d in digests if d})
    groups = {}
    for sid, d in zip(frame["sample_id"], digests):
        if d:
            groups.setdefault(d, []).append(str(sid))
    sets = [ids for ids in groups.values() if len(ids) > 1]
    report = dict(attrs.get("report") or {})
    report["identical_images"] = {"copies": n_copies, "sets": sets}
    frame.attrs["report"] = report
    _console(f"{name}: {n_copies} byte-identical image copies in {len(sets)} sets (e.g. "
             f"{', '.join(sets[0][:3])}); each set kept on one side of every split (group ids merged)")
    return frame


def kaggle_input() -> Path:
    """Where Kaggle mounts attached datasets (MMFUSION_KAGGLE_INPUT overrides it, e.g. in tests)."""
    return Path(os.environ.get("MMFUSION_KAGGLE_INPUT", "/kaggle/input"))


def kaggle_data(name: str):
    """Dataset ``name`` as Kaggle hosts it (common.KaggleData: slugs, root marker)."""
    return _module(name).KAGGLE[name]


def kaggle_candidates(name: str) -> list[Path]:
    """Where Kaggle notebooks mount a dataset: /kaggle/input/<slug>, /kaggle/input/datasets/<owner>/<slug>."""
    base = kaggle_input()
    out = []
    for slug in kaggle_data(name).slugs:
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
