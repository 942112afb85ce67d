"""Kaggle kernel: reproduce FT-MultiCNN (Shimbre & Solanki 2025) on kmader/skin-cancer-mnist-ham10000.

Runs as pushed (GPU, no internet): finds the mounted HAM10000 dataset, installs mmfusion from a
bundled copy (a wheel / source tree attached as a dataset, or this kernel's folder) without touching
Kaggle's TensorFlow, runs ``reproduce`` on the real data and prints the report.
ImageNet weights for the ResNet50 / InceptionV3 baselines: without internet Keras cannot download
them; attach resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 and
inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 as a dataset (copied into ~/.keras/models
below), or the baselines train from scratch (printed below and recorded in config.json).
"""
import glob
import os
import subprocess
import sys
from pathlib import Path

INPUT = Path(os.environ.get("MMFUSION_KAGGLE_INPUT", "/kaggle/input"))
EXTRAS = {"albumentations": "albumentations"}


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
    root = kaggle.find_dataset("HAM10000_metadata.csv", "kmader/skin-cancer-mnist-ham10000",
                               beside=("**/ISIC_*.jpg",))
    weights = kaggle.stage_weights(("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"))
    kaggle.run_kernel("ft-multicnn", root, weights)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
