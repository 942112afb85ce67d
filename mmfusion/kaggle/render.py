"""``mmfusion kaggle render``: write each kernel folder (notebook pair + kernel-metadata.json) for
one Kaggle user, online (internet on) or offline (every needed file attached as a dataset)."""
import json
import re
from pathlib import Path

from mmfusion.kaggle import template
from mmfusion.kaggle.kernels import (
    EXTRA_WHEELS_DATASET,
    KERNELS,
    MACHINE_SHAPE,
    WEIGHTS_DATASET,
    WHEEL_DATASET,
    slugify,
)

# the committed folders: regenerated only by an explicit `render --out kaggle_kernels`
COMMITTED = Path(__file__).resolve().parents[2] / "kaggle_kernels"
DEFAULT_USER = "your-kaggle-username"


def default_out(user: str) -> Path:
    """Where ``render --user NAME`` writes without --out: a build folder, never the committed one."""
    return Path("build") / "kaggle" / user / "kernels"


def check_user(user: str) -> None:
    if not user or slugify(user) != user.lower():
        raise ValueError(f"--user {user!r} is not a Kaggle user name (letters, digits, hyphens)")


def metadata(user: str, kernel, offline: bool, version: int | None = None) -> dict:
    """kernel-metadata.json: the data and the wheel attached; offline the extra wheels and weights too."""
    sources = [f"{kernel.dataset}/{version}" if version else kernel.dataset, f"{user}/{WHEEL_DATASET}"]
    if offline:
        sources.append(f"{user}/{EXTRA_WHEELS_DATASET}")
        if kernel.weights_files:
            sources.append(f"{user}/{WEIGHTS_DATASET}")
    return {"id": f"{user}/{slugify(kernel.title)}", "title": kernel.title,
            "code_file": f"{kernel.name}.ipynb", "language": "python", "kernel_type": "notebook",
            "is_private": True, "enable_gpu": True, "enable_tpu": False, "enable_internet": not offline,
            "machine_shape": MACHINE_SHAPE, "dataset_sources": sources,
            "competition_sources": [], "kernel_sources": [], "model_sources": []}


def dataset_versions(values, kernel_names) -> dict:
    """{data slug: version} from --dataset-version values (``N`` or ``OWNER/SLUG/N``)."""
    slugs = {KERNELS[k].dataset for k in kernel_names}
    pins = {}
    for value in values or ():
        slug, _, number = str(value).rpartition("/")
        if not number.isdigit() or int(number) < 1:
            raise ValueError(f"--dataset-version {value!r}: expected N or OWNER/SLUG/N with N >= 1")
        if not slug:
            if len(slugs) != 1:
                raise ValueError(f"--dataset-version {value}: these kernels read {len(slugs)} datasets; "
                                 f"pin each as OWNER/SLUG/N ({', '.join(sorted(slugs))})")
            slug = next(iter(slugs))
        if slug not in slugs:
            raise ValueError(f"--dataset-version {value!r}: no kernel here reads {slug} "
                             f"(they read {', '.join(sorted(slugs))})")
        pins[slug] = int(number)
    return pins


def render(user: str = DEFAULT_USER, offline: bool = False, out=None, repo: str | None = None,
           versions: dict | None = None, kernels=None) -> list:
    """Write the kernel folders under ``out``; ``versions``: {data slug: pinned version}. Returns
    the metadata paths."""
    check_user(user)
    if repo is not None and not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", repo):
        raise ValueError(f"--repo {repo!r}: expected a GitHub OWNER/NAME")
    out = Path(out) if out is not None else default_out(user)
    written = []
    for name in kernels or KERNELS:
        kernel = KERNELS[name]
        version = (versions or {}).get(kernel.dataset)
        folder = out / kernel.name
        folder.mkdir(parents=True, exist_ok=True)
        cell_list = template.cells(kernel, offline, user=user, repo=repo, version=version)
        (folder / f"{kernel.name}.ipynb").write_text(template.to_ipynb(cell_list))
        (folder / f"{kernel.name}.py").write_text(template.to_percent(cell_list))
        meta = folder / "kernel-metadata.json"
        meta.write_text(json.dumps(metadata(user, kernel, offline, version), indent=2) + "\n")
        written.append(meta)
    return written
