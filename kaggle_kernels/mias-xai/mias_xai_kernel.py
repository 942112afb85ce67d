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

INPUT = Path(os.environ.get("MMFUSION_KAGGLE_INPUT", "/kaggle/input"))
EXTRAS = {"lime": "lime", "shap": "shap", "imblearn": "imbalanced_learn", "cv2": "opencv_python_headless",
          "skimage": "scikit_image", "yaml": "PyYAML"}


def install_mmfusion() -> None:
    """pip --no-deps (Kaggle's TensorFlow stays) from a bundled copy: an attached wheel or source tree,
    or this kernel's folder. It stays in the kernel because mmfusion cannot be imported before it."""
    try:
        import mmfusion  # noqa: F401
        return
    except ImportError:
        pass
    here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
    found = sorted(glob.glob(str(INPUT / "**" / "mmfusion-*.whl"), recursive=True))
    found += [p.parent for p in sorted(INPUT.glob("**/setup.cfg")) if (p.parent / "mmfusion").is_dir()]
    found += [p for p in (here, here.parent.parent) if (p / "mmfusion").is_dir()]
    if not found or subprocess.call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", str(found[0])]):
        raise SystemExit("could not install mmfusion: attach its wheel or source tree as a dataset")


def main() -> None:
    install_mmfusion()
    from mmfusion import kaggle

    kaggle.install_missing(EXTRAS)
    root = kaggle.find_dataset("Info.txt", "kmader/mias-mammography", beside=("all-mias", "mdb*.pgm"))
    kaggle.run_kernel("mias-xai", root, weights=None, mixed_precision=False)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
