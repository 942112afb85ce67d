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
import shutil
import subprocess
import sys
from pathlib import Path

INPUT = Path("/kaggle/input")
WEIGHT_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"


def find_cbis() -> Path:
    for csv in sorted(INPUT.glob("**/csv/dicom_info.csv")):
        if (csv.parent.parent / "jpeg").is_dir():
            return csv.parent.parent
    raise SystemExit(f"CBIS-DDSM (csv/dicom_info.csv beside jpeg/) not found under {INPUT}; "
                     "add the dataset awsaf49/cbis-ddsm-breast-cancer-image-dataset to this kernel")


def install_mmfusion() -> None:
    try:
        import mmfusion  # noqa: F401
        return
    except ImportError:
        pass
    wheels = sorted(glob.glob(str(INPUT / "**" / "mmfusion-*.whl"), recursive=True))
    trees = [p.parent for p in sorted(INPUT.glob("**/setup.cfg")) if (p.parent / "mmfusion").is_dir()]
    here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
    trees += [p for p in (here, here.parent.parent) if (p / "mmfusion").is_dir()]
    target = wheels[0] if wheels else (str(trees[0]) if trees else None)
    if target is None:
        raise SystemExit("no bundled mmfusion found: attach the mmfusion wheel or source as a dataset")
    # --no-deps: never reinstall Kaggle's TensorFlow; Kaggle ships sklearn, statsmodels, shap, pydicom
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", target])
    for module in ("lime", "scikit_posthocs"):
        if subprocess.call([sys.executable, "-c", f"import {module}"]) != 0:
            local = sorted(glob.glob(str(INPUT / "**" / f"{module}-*.whl"), recursive=True))
            if local:
                subprocess.call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", local[0]])


def stage_weights():
    """Copy an attached ImageNet ResNet50 .h5 where Keras looks; None if there is none."""
    cache = Path.home() / ".keras" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    for h5 in INPUT.glob("**/*_notop.h5"):
        shutil.copy(h5, cache / h5.name)
    return "imagenet" if (cache / WEIGHT_FILE).exists() else None


def main() -> None:
    root = find_cbis()
    install_mmfusion()
    from mmfusion.papers.multimodal_fusion import reproduce
    from mmfusion.registry import ReproduceOptions

    weights = stage_weights()
    print(f"CBIS-DDSM at {root}; weights: {weights or 'none (no ImageNet file attached)'}")
    options = ReproduceOptions(paper="multimodal-fusion", data_dir=str(root), out="/kaggle/working/runs",
                               weights=weights, mixed_precision=True, seed=0,
                               cache_dir="/kaggle/working/cache")
    run_dir = reproduce(options)
    print((Path(run_dir) / "report.md").read_text())


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
