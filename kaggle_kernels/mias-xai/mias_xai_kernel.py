"""Kaggle kernel: reproduce Balve & Hendrix 2024 (MIAS CNN; LIME vs Grad-CAM vs Kernel SHAP) with mmfusion.

Runs as pushed (GPU, no internet): finds the mounted kmader/mias-mammography dataset, installs
mmfusion from a bundled copy (a wheel or source tree attached as a dataset, or this kernel's folder)
with --no-deps so Kaggle's TensorFlow is never reinstalled, installs from attached wheels only what
the image lacks, runs ``reproduce`` on the real data and prints the report. The CNN trains from
scratch, so no ImageNet weights are needed.
"""
import glob
import os
import subprocess
import sys
from pathlib import Path

INPUT = Path("/kaggle/input")
NEEDED = {"lime": "lime", "shap": "shap", "imblearn": "imbalanced_learn", "cv2": "opencv_python_headless",
          "skimage": "scikit_image", "yaml": "PyYAML"}


def find_mias() -> Path:
    for info in sorted(INPUT.glob("**/Info.txt")):
        if (info.parent / "all-mias").is_dir() or list(info.parent.glob("mdb*.pgm")):
            return info.parent
    raise SystemExit(f"MIAS (Info.txt beside all-mias/) not found under {INPUT}; "
                     "add the dataset kmader/mias-mammography to this kernel")


def _pip(target) -> int:
    return subprocess.call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", str(target)])


def install_mmfusion() -> None:
    try:
        import mmfusion  # noqa: F401
    except ImportError:
        wheels = sorted(glob.glob(str(INPUT / "**" / "mmfusion-*.whl"), recursive=True))
        trees = [p.parent for p in sorted(INPUT.glob("**/setup.cfg")) if (p.parent / "mmfusion").is_dir()]
        here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
        trees += [p for p in (here, here.parent.parent) if (p / "mmfusion").is_dir()]
        target = wheels[0] if wheels else (trees[0] if trees else None)
        if target is None:
            raise SystemExit("no bundled mmfusion found: attach the mmfusion wheel or source as a dataset")
        if _pip(target) != 0:
            raise SystemExit(f"pip could not install mmfusion from {target}")
    for module, dist in NEEDED.items():   # Kaggle ships most; only a missing one is installed
        if subprocess.call([sys.executable, "-c", f"import {module}"]) != 0:
            local = sorted(glob.glob(str(INPUT / "**" / f"{dist}-*.whl"), recursive=True))
            if not local or _pip(local[0]) != 0:
                raise SystemExit(f"{module} is missing and no {dist} wheel is attached (no internet)")


def main() -> None:
    root = find_mias()
    install_mmfusion()
    from mmfusion.papers.mias_xai import reproduce
    from mmfusion.registry import ReproduceOptions

    print(f"MIAS at {root}")
    options = ReproduceOptions(paper="mias-xai", data_dir=str(root), out="/kaggle/working/runs",
                               weights=None, seed=0, cache_dir="/kaggle/working/cache")
    run_dir = reproduce(options)
    print((Path(run_dir) / "report.md").read_text())


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
