"""Kaggle kernel: reproduce the multimodal-fusion paper (arXiv:2508.16000) on
awsaf49/cbis-ddsm-breast-cancer-image-dataset (CBIS-DDSM JPEG copy: csv/ + jpeg/).

Runs as pushed (GPU, no internet): finds the mounted dataset, installs mmfusion from a bundled copy
(a wheel / source tree attached as a dataset, or this kernel's folder) without touching Kaggle's
TensorFlow, runs ``reproduce`` on the real data and prints the report.
ImageNet weights: without internet Keras cannot download them; attach
resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 as a dataset (copied into ~/.keras/models
below), or ResNet50 trains from scratch (printed below and recorded in config.json).
"""
import glob
import os
import subprocess
import sys
from pathlib import Path

INPUT = Path(os.environ.get("MMFUSION_KAGGLE_INPUT", "/kaggle/input"))
EXTRAS = {"lime": "lime", "scikit_posthocs": "scikit_posthocs"}


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
    root = kaggle.find_dataset("csv/dicom_info.csv", "awsaf49/cbis-ddsm-breast-cancer-image-dataset",
                               beside=("jpeg",))
    weights = kaggle.stage_weights(("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",))
    kaggle.run_kernel("multimodal-fusion", root, weights)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
