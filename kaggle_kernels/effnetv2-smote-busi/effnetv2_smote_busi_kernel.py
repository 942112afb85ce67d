"""Kaggle kernel: reproduce effnetv2-smote (EfficientNetV2B0 + SMOTE + ROI on BUSI) on aryashah2k/breast-ultrasound-images-dataset with mmfusion.

Runs as pushed (GPU, no internet): finds the mounted dataset, installs mmfusion from a bundled copy
(a wheel / source tree attached as a dataset, or this kernel's folder) without touching Kaggle's
TensorFlow, runs ``reproduce`` with settings busi_bm,busi_bmn,busi_bm_noroi,busi_bmn_noroi,busi_bm_nosmote on the real data and prints the report.
ImageNet weights: without internet Keras cannot download them; attach efficientnetv2-b0_notop.h5
as a dataset (copied into ~/.keras/models below), or the run trains from scratch (stated in the report).
"""
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

INPUT = Path("/kaggle/input")
MARKER = "Dataset_BUSI_with_GT"            # the folder the loader looks for
SETTINGS = "busi_bm,busi_bmn,busi_bm_noroi,busi_bmn_noroi,busi_bm_nosmote"
WEIGHTS_FILE = "efficientnetv2-b0_notop.h5"


def find_root() -> Path:
    hits = sorted(p for p in INPUT.glob("**/" + glob.escape(MARKER)) if p.is_dir())
    if not hits:
        raise SystemExit(f"{MARKER}/ not found under {INPUT}; add the dataset aryashah2k/breast-ultrasound-images-dataset to this kernel")
    return hits[0].parent


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
    # --no-deps: never reinstall Kaggle's TensorFlow; the light extras Kaggle may lack come from wheels
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", target])
    for pkg in ("imbalanced-learn", "tf-keras-vis"):
        module = {"imbalanced-learn": "imblearn"}.get(pkg, pkg.replace("-", "_"))
        if subprocess.call([sys.executable, "-c", f"import {module}"]) != 0:
            local = sorted(glob.glob(str(INPUT / "**" / f"{pkg.replace('-', '_')}-*.whl"), recursive=True))
            if local:
                subprocess.call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", local[0]])


def stage_weights() -> str | None:
    """Copy an attached EfficientNetV2B0 .h5 where Keras looks; 'imagenet' if it is there."""
    cache = Path.home() / ".keras" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    for h5 in INPUT.glob("**/" + WEIGHTS_FILE):
        shutil.copy(h5, cache / h5.name)
    return "imagenet" if (cache / WEIGHTS_FILE).exists() else None


def main() -> None:
    root = find_root()
    install_mmfusion()
    from mmfusion.papers.effnetv2_smote import reproduce
    from mmfusion.registry import ReproduceOptions

    weights = stage_weights()
    print(f"data at {root}; weights: {weights or 'none (no ImageNet file attached)'}")
    options = ReproduceOptions(paper="effnetv2-smote", data_dir=str(root), out="/kaggle/working/runs",
                               weights=weights, mixed_precision=True, seed=0, extra={"settings": SETTINGS})
    run_dir = reproduce(options)
    print((Path(run_dir) / "report.md").read_text())


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
