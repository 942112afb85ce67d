"""``mmfusion kaggle render``: write each kernel folder (notebook pair + kernel-metadata.json) for
one Kaggle user, online (internet on) or offline (every needed file attached as a dataset)."""
from __future__ import annotations

import json
from pathlib import Path

from mmfusion.kaggle import template
from mmfusion.kaggle.kernels import GITHUB_REPO, KERNELS, MACHINE_SHAPE, slugify

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "kaggle_kernels"
DEFAULT_USER = "your-kaggle-username"


def offline_datasets(user: str, kernel) -> dict:
    """What an offline kernel must have attached, by role; the user uploads the last three once
    (`python -m mmfusion.kaggle build-wheel --extras` writes them)."""
    out = {"data": kernel.dataset, "mmfusion wheel": f"{user}/mmfusion-wheel",
           "extra wheels": f"{user}/mmfusion-extra-wheels"}
    if kernel.weights_files:
        out["ImageNet weights"] = f"{user}/keras-imagenet-notop-weights"
    return out


def metadata(user: str, kernel, offline: bool) -> dict:
    slug = slugify(kernel.title)
    sources = list(offline_datasets(user, kernel).values()) if offline else [kernel.dataset]
    return {"id": f"{user}/{slug}", "title": kernel.title, "code_file": f"{kernel.name}.ipynb",
            "language": "python", "kernel_type": "notebook", "is_private": True,
            "enable_gpu": True, "enable_tpu": False, "enable_internet": not offline,
            "machine_shape": MACHINE_SHAPE, "dataset_sources": sources,
            "competition_sources": [], "kernel_sources": [], "model_sources": []}


def source_spec(repo: str = GITHUB_REPO) -> str:
    return f"git+https://github.com/{repo}.git"


def render(user: str = DEFAULT_USER, offline: bool = False, out=None, repo: str = GITHUB_REPO) -> list:
    """Write every kernel folder under ``out``; returns the metadata paths written."""
    if slugify(user) != user.lower() or not user:
        raise ValueError(f"--user {user!r} is not a Kaggle user name (letters, digits, hyphens)")
    out = Path(out) if out is not None else DEFAULT_OUT
    written = []
    for kernel in KERNELS.values():
        folder = out / kernel.name
        folder.mkdir(parents=True, exist_ok=True)
        cell_list = template.cells(kernel, offline, source_spec(repo))
        (folder / f"{kernel.name}.ipynb").write_text(template.to_ipynb(cell_list))
        (folder / f"{kernel.name}.py").write_text(template.to_percent(cell_list))
        meta = folder / "kernel-metadata.json"
        meta.write_text(json.dumps(metadata(user, kernel, offline), indent=2) + "\n")
        written.append(meta)
    return written


def colab_url(kernel_name: str, repo: str = GITHUB_REPO, branch: str = "main") -> str:
    return (f"https://colab.research.google.com/github/{repo}/blob/{branch}/kaggle_kernels/"
            f"{kernel_name}/{kernel_name}.ipynb")
