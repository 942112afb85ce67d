"""What every Kaggle kernel does once mmfusion is installed: install the extras the image lacks, find
the mounted dataset, stage the ImageNet weights attached as a dataset (no internet there), run
``reproduce`` and print the report.

The kernels in kaggle_kernels/ keep only their install bootstrap and call these.
"""
from __future__ import annotations

import glob
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from mmfusion.data import kaggle_input
from mmfusion.registry import ReproduceOptions, get_paper

WORKING = Path("/kaggle/working")


def install_missing(modules: dict) -> None:
    """pip install --no-deps, from an attached wheel, each module (name -> wheel distribution name)
    that is not importable: Kaggle ships most, there is no internet, and its TensorFlow must stay."""
    for module, dist in modules.items():
        if importlib.util.find_spec(module) is not None:
            continue
        wheels = sorted(kaggle_input().glob(f"**/{dist}-*.whl"))
        if not wheels or subprocess.call([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                                          str(wheels[0])]) != 0:
            raise SystemExit(f"{module} is missing and no {dist} wheel is attached (no internet)")
        importlib.invalidate_caches()


def find_dataset(marker: str, slug: str, beside: tuple = ()) -> Path:
    """The folder under the Kaggle input that holds ``marker`` (a relative path) and, when
    ``beside`` is given, at least one of those glob patterns too. Searched, not assumed: datasets
    are mounted at /kaggle/input/<slug>, /kaggle/input/datasets/<owner>/<slug>, sometimes nested."""
    base = kaggle_input()
    depth = len(Path(marker).parts)
    for hit in sorted(base.glob("**/" + glob.escape(marker))):
        root = hit.parents[depth - 1]
        if not beside or any(next(root.glob(p), None) for p in beside):
            return root
    wanted = marker + (f" beside {' or '.join(beside)}" if beside else "")
    raise SystemExit(f"{wanted} not found under {base}; add the dataset {slug} to this kernel")


def stage_weights(required: tuple) -> str | None:
    """Copy every attached ``*_notop.h5`` into ~/.keras/models, where Keras looks before it
    downloads; "imagenet" when all ``required`` files are there, else None (train from scratch)."""
    cache = Path.home() / ".keras" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    for h5 in kaggle_input().glob("**/*_notop.h5"):
        shutil.copy(h5, cache / h5.name)
    return "imagenet" if required and all((cache / f).exists() for f in required) else None


def run_kernel(paper: str, data_dir, weights, out=WORKING / "runs", mixed_precision: bool = True,
               **options) -> Path:
    """``reproduce`` on the real data with the GPU switch on; prints report.md and returns the run dir."""
    print(f"{paper}: data at {data_dir}; weights: {weights or 'none (training from scratch)'}")
    opts = ReproduceOptions(paper=paper, data_dir=str(data_dir), out=str(out), weights=weights,
                            mixed_precision=mixed_precision, cache_dir=str(WORKING / "cache"), **options)
    run_dir = Path(get_paper(paper).load()(opts))
    print((run_dir / "report.md").read_text())
    return run_dir
