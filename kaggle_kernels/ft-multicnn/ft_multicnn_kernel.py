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
import shutil
import subprocess
import sys
from pathlib import Path

INPUT = Path("/kaggle/input")
WEIGHT_FILES = ("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")


def find_ham10000() -> Path:
    for meta in sorted(INPUT.glob("**/HAM10000_metadata.csv")):
        if list(meta.parent.glob("**/ISIC_*.jpg")):
            return meta.parent
    raise SystemExit(f"HAM10000 (HAM10000_metadata.csv beside the image folders) not found under {INPUT}; "
                     "add the dataset kmader/skin-cancer-mnist-ham10000 to this kernel")


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
    # --no-deps: never reinstall Kaggle's TensorFlow; Kaggle ships albumentations, OpenCV, sklearn
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", target])
    for pkg, module in (("albumentations", "albumentations"), ("tf-keras-vis", "tf_keras_vis")):
        if subprocess.call([sys.executable, "-c", f"import {module}"]) != 0:
            local = sorted(glob.glob(str(INPUT / "**" / f"{module}-*.whl"), recursive=True))
            if local:
                subprocess.call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", local[0]])


def stage_weights():
    """Copy attached ImageNet .h5 files where Keras looks; 'imagenet' only if both baselines have theirs."""
    cache = Path.home() / ".keras" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    for h5 in INPUT.glob("**/*_notop.h5"):
        shutil.copy(h5, cache / h5.name)
    return "imagenet" if all((cache / f).exists() for f in WEIGHT_FILES) else None


def main() -> None:
    root = find_ham10000()
    install_mmfusion()
    from mmfusion.papers.ft_multicnn import reproduce
    from mmfusion.registry import ReproduceOptions

    weights = stage_weights()
    print(f"HAM10000 at {root}; weights: {weights or 'none (no ImageNet files attached)'}")
    options = ReproduceOptions(paper="ft-multicnn", data_dir=str(root), out="/kaggle/working/runs",
                               weights=weights, mixed_precision=True, seed=0)
    run_dir = reproduce(options)
    print((Path(run_dir) / "report.md").read_text())


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
