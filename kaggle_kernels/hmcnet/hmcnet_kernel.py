"""Kaggle kernel: reproduce HMC-Net (Fatima et al. 2026) on kmader/mias-mammography with mmfusion.

Runs as pushed (GPU, no internet): finds the mounted MIAS dataset, installs mmfusion from a bundled
copy (a wheel / source tree attached as a dataset, or this kernel's folder) without touching
Kaggle's TensorFlow, runs ``reproduce`` on the real data and prints the report.
ImageNet weights: without internet Keras cannot download them; attach the file
resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 (and the VGG ones) as a dataset, copied into
~/.keras/models below, or the run falls back to training from scratch (stated in the report).
"""
import glob
import os
import subprocess
import sys
from pathlib import Path

INPUT = Path(os.environ.get("MMFUSION_KAGGLE_INPUT", "/kaggle/input"))
EXTRAS = {"scikit_posthocs": "scikit_posthocs"}


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
    weights = kaggle.stage_weights(("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",))
    kaggle.run_kernel("hmcnet", root, weights)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
