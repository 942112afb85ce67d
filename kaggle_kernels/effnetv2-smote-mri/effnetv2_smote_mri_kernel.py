"""Kaggle kernel: reproduce effnetv2-smote (EfficientNetV2B0 on breast MRI) on uzairkhan45/breast-cancer-patients-mris with mmfusion.

Runs as pushed (GPU, no internet): finds the mounted dataset, installs mmfusion from a bundled copy
(a wheel / source tree attached as a dataset, or this kernel's folder) without touching Kaggle's
TensorFlow, runs ``reproduce`` with settings mri on the real data and prints the report.
ImageNet weights: without internet Keras cannot download them; attach efficientnetv2-b0_notop.h5
as a dataset (copied into ~/.keras/models below), or the run trains from scratch (stated in the report).
"""
import glob
import os
import subprocess
import sys
from pathlib import Path

INPUT = Path(os.environ.get("MMFUSION_KAGGLE_INPUT", "/kaggle/input"))
EXTRAS = {"imblearn": "imbalanced_learn"}


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
    root = kaggle.find_dataset("Breast Cancer Patients MRI's", "uzairkhan45/breast-cancer-patients-mris")
    weights = kaggle.stage_weights(("efficientnetv2-b0_notop.h5",))
    kaggle.run_kernel("effnetv2-smote", root, weights, extra={"settings": "mri"})


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
