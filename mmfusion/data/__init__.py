"""Datasets as users download them: ``load_dataset`` gives one row per sample (at least ``sample_id,
image_path, label, group_id``), skipped rows counted in ``frame.attrs['report']``."""
import collections
import importlib
import os
import warnings
from pathlib import Path

from mmfusion.data.cache import file_digest
from mmfusion.data.common import DatasetError, LoadReport, finish_frame  # noqa: F401
from mmfusion.data.splits import merge_groups

LOADER_MODULES = {"cbis-ddsm": "mmfusion.data.cbis_ddsm", "mias": "mmfusion.data.mias",
                  "busi": "mmfusion.data.busi", "breast-mri": "mmfusion.data.breast_mri",
                  "ham10000": "mmfusion.data.skin", "isic2019": "mmfusion.data.skin"}
DATASETS = tuple(LOADER_MODULES)
# Samples in the full real download (fewer used -> PARTIAL DATA): busi 437 benign + 210 malignant +
# 133 normal (Al-Dhabyani et al. 2020); cbis-ddsm the case CSVs' rows (mass 1318 + 378, calc 1546 + 326).
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
    frame = (getattr(module, "load_" + name.replace("-", "_"), None) or module.load)(root, **options)
    report = frame.attrs.get("report") or {}
    if report.get("n_skipped"):   # skipped rows are never silent: the CLI shows warnings on stderr
        counts = ", ".join(f"{n} {reason}" for reason, n in sorted(report["skipped"].items()))
        warnings.warn(f"{name} at {root}: kept {len(frame)} samples of {report['rows_read']} rows read; "
                      f"skipped {report['n_skipped']} ({counts}); details in frame.attrs['report']",
                      stacklevel=2)
    notes = {k: v for k, v in (frame.attrs.get("notes") or {}).items() if isinstance(v, int) and v}
    if notes:   # counts that otherwise reach only manifest.json
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(notes.items()))
        warnings.warn(f"{name} at {root}: {counts}", stacklevel=2)
    return merge_identical(frame, name)


def merge_identical(frame, name: str = "dataset"):
    """Byte-identical image files share one group id (counted in attrs['report']['identical_images'])."""
    paths = frame["image_path"].astype(str).tolist()
    sizes = [os.path.getsize(p) for p in paths]
    repeated = {s for s, n in collections.Counter(sizes).items() if n > 1}
    digests = [file_digest(p) if s in repeated else None for p, s in zip(paths, sizes)]
    hashed = [d for d in digests if d]
    n_copies = len(hashed) - len(set(hashed))
    if not n_copies:
        return frame
    merged = merge_groups(frame["group_id"].astype(str).to_numpy(), digests)   # named by first position
    frame = frame.assign(group_id=frame["group_id"].to_numpy()[merged])
    by_digest = frame["sample_id"].astype(str).groupby(digests, sort=False)   # None digests are left out
    sets = [ids.tolist() for _, ids in by_digest if len(ids) > 1]
    frame.attrs["report"] = {**(frame.attrs.get("report") or {}),
                             "identical_images": {"copies": n_copies, "sets": sets}}
    warnings.warn(f"{name}: {n_copies} byte-identical image copies in {len(sets)} sets (e.g. "
                  f"{', '.join(sets[0][:3])}); each set kept on one side of every split (group ids merged)",
                  stacklevel=2)
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
    return [p for owner, _, short in (slug.partition("/") for slug in kaggle_data(name).slugs)
            for p in (base / short, base / "datasets" / owner / short, base / owner / short)]


def find_dataset_root(name: str, data_dir=None) -> Path:
    """``data_dir`` when given (it must exist), else the first Kaggle mount that exists."""
    if data_dir is not None:
        if not Path(data_dir).exists():
            raise DatasetError(f"data directory for {name} does not exist", path=Path(data_dir))
        return Path(data_dir)
    tried = kaggle_candidates(name)
    found = next((p for p in tried if p.exists()), None)
    if found is None:
        raise DatasetError(f"no {name} data found; pass --data-dir, or mount it in Kaggle at one of: "
                           + ", ".join(map(str, tried)))
    return found
