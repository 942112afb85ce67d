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
import shutil
import subprocess
import sys
from pathlib import Path

INPUT = Path("/kaggle/input")


def find_mias() -> Path:
    for info in sorted(INPUT.glob("**/Info.txt")):
        if (info.parent / "all-mias").is_dir() or list(info.parent.glob("mdb*.pgm")):
            return info.parent
    raise SystemExit(f"MIAS (Info.txt beside all-mias/) not found under {INPUT}; "
                     "add the dataset kmader/mias-mammography to this kernel")


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
    # --no-deps: never reinstall Kaggle's TensorFlow; the few light extras are installed below
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", target])
    for pkg in ("scikit-posthocs", "tf-keras-vis"):
        module = pkg.replace("-", "_")
        if subprocess.call([sys.executable, "-c", f"import {module}"]) != 0:
            local = sorted(glob.glob(str(INPUT / "**" / f"{module}-*.whl"), recursive=True))
            if local:
                subprocess.call([sys.executable, "-m", "pip", "install", "--no-deps", "-q", local[0]])


def stage_weights() -> str:
    """Copy attached ImageNet .h5 files where Keras looks; 'imagenet' if the ResNet50 one is there."""
    cache = Path.home() / ".keras" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    for h5 in INPUT.glob("**/*_notop.h5"):
        shutil.copy(h5, cache / h5.name)
    return "imagenet" if (cache / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5").exists() else None


def main() -> None:
    root = find_mias()
    install_mmfusion()
    from mmfusion.papers.hmcnet import reproduce
    from mmfusion.registry import ReproduceOptions

    weights = stage_weights()
    print(f"MIAS at {root}; weights: {weights or 'none (no ImageNet file attached)'}")
    options = ReproduceOptions(paper="hmcnet", data_dir=str(root), out="/kaggle/working/runs",
                               weights=weights, mixed_precision=True, seed=0)
    run_dir = reproduce(options)
    print((Path(run_dir) / "report.md").read_text())


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
