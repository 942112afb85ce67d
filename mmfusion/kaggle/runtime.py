"""What a notebook does once mmfusion is importable (on Kaggle, Colab or a local Jupyter): install
what the image lacks, find the data, choose output and cache folders, run the paper, show its report."""
import contextlib
import dataclasses
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mmfusion.data import kaggle_input
from mmfusion.data.cache import cache_root
from mmfusion.evaluation.summary import first_screen
from mmfusion.experiment import reproduce_paper
from mmfusion.experiment.plan import plan_text
from mmfusion.kaggle.kernels import KERNELS, dist_name
from mmfusion.registry import ReproduceOptions
from mmfusion.utils import quiet
from mmfusion.utils.gpu import resolve_mixed_precision

# the image's own stack: an install of an extra must never replace these
HELD = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "pandas", "scipy", "scikit-learn", "matplotlib")
DRIVE = Path("/content/drive")
MAX_DEPTH = 6    # /kaggle/input/datasets/<owner>/<slug>/<folder>/<root>: deep enough, bounded


def where() -> str:
    """"kaggle", "colab" or "local" ($MMFUSION_PLATFORM overrides, e.g. in tests)."""
    if os.environ.get("MMFUSION_PLATFORM"):
        return os.environ["MMFUSION_PLATFORM"]
    if os.environ.get("KAGGLE_KERNEL_RUN_TYPE") or Path("/kaggle/input").is_dir():
        return "kaggle"
    if "google.colab" in sys.modules or os.environ.get("COLAB_RELEASE_TAG"):
        return "colab"
    return "local"


def walk_dirs(base, skip=None):
    """Every folder under ``base``, breadth first, following symlinks, each real folder once;
    ``skip(folder)``: do not descend."""
    seen, level = set(), [Path(base)]
    for depth in range(MAX_DEPTH + 1):
        below = []
        for folder in level:
            try:
                st = folder.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            yield folder
            if depth < MAX_DEPTH and not (skip and skip(folder)):
                below += _subfolders(folder)
        level = below


def _subfolders(folder: Path) -> list:
    try:
        with os.scandir(folder) as entries:
            return sorted(folder / e.name for e in entries if e.is_dir())   # is_dir follows links
    except OSError:
        return []


def find_files(base, pattern: str) -> list:
    """The files matching ``pattern`` in any folder under ``base`` (symlinked mounts included)."""
    return [f for folder in walk_dirs(base) for f in sorted(folder.glob(pattern)) if f.is_file()]


def install_missing(extras: dict, offline: bool) -> list:
    """Install the ``extras`` (import name -> requirement) not importable, ``HELD`` packages pinned,
    from the attached wheels (offline) or PyPI; returns those installed."""
    missing = [req for module, req in extras.items() if importlib.util.find_spec(module) is None]
    if not missing:
        return []
    source = []
    if offline:
        base = kaggle_input()
        found = find_files(base, "*.whl")
        for req in missing:
            prefix = dist_name(req).lower()
            if not any(w.name.lower().startswith(prefix + "-") for w in found):
                raise SystemExit(f"{req} is missing from this image and no {prefix}-*.whl is attached "
                                 f"under {base} (offline kernel: attach the extra-wheels dataset)")
        folders = sorted({str(w.parent) for w in found})
        source = ["--no-index", *[a for d in folders for a in ("--find-links", d)]]
    held = []
    for name in HELD:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            held.append(f"{name}=={importlib.metadata.version(name)}")
    with tempfile.TemporaryDirectory() as tmp:     # pip reads the held versions as a constraints file
        constraints = Path(tmp) / "held.txt"
        constraints.write_text("\n".join(held) + "\n")
        status = subprocess.call([sys.executable, "-m", "pip", "install", "-q", *source,
                                  "-c", str(constraints), *missing])
    if status != 0:
        raise SystemExit(f"pip could not install {' '.join(missing)} next to this image's packages")
    importlib.invalidate_caches()
    return missing


def find_dataset(marker: str, slug: str, beside: tuple = (), base=None) -> Path:
    """The folder under ``base`` (default the Kaggle input) holding ``marker`` and one of ``beside``."""
    base = Path(base) if base is not None else kaggle_input()
    for root in walk_dirs(base):
        if (root / marker).exists() and (not beside or any(next(root.glob(p), None) for p in beside)):
            return root
    wanted = marker + (f" beside {' or '.join(beside)}" if beside else "")
    raise SystemExit(f"{wanted} not found under {base}; add the dataset {slug} to this notebook")


def data_handle(slug: str, version: int | None) -> str:
    """kagglehub's name of a dataset version ("owner/slug/versions/N"; unpinned: the latest)."""
    return f"{slug}/versions/{version}" if version else slug


def data_dir(kernel, platform: str, version: int | None = None):
    """$MMFUSION_DATA_DIR, the Kaggle mount, a kagglehub download (Colab), else None (the twin)."""
    if os.environ.get("MMFUSION_DATA_DIR"):
        return Path(os.environ["MMFUSION_DATA_DIR"])
    if platform == "kaggle":
        return find_dataset(kernel.marker, kernel.dataset, kernel.beside)
    if platform == "colab":
        import kagglehub  # Colab ships it; it reads the Kaggle key from Colab's secrets

        return find_dataset(kernel.marker, kernel.dataset, kernel.beside,
                            base=kagglehub.dataset_download(data_handle(kernel.dataset, version)))
    return None


def data_label(slug: str, version: int | None, platform: str, path=None) -> str | None:
    """The report's name of a Kaggle dataset: slug and version (unpinned: from kagglehub's path)."""
    if platform not in ("kaggle", "colab") or os.environ.get("MMFUSION_DATA_DIR"):
        return None
    if version is None and path is not None:
        found = re.search(r"/versions/(\d+)(/|$)", str(path))
        version = int(found.group(1)) if found else None
    pinned = f"version {version}" if version else "version not pinned (the one attached)"
    return f"Kaggle {slug}, {pinned}" + (", via kagglehub" if platform == "colab" else "")


def checkout_root() -> Path:
    """The checkout's root when run from its kaggle_kernels/, else here."""
    here = Path.cwd().resolve()
    return next((p.parent for p in (here, *here.parents) if p.name == "kaggle_kernels"), here)


def out_dir(platform: str, drive_folder: str = "mmfusion") -> Path:
    """Kaggle: /kaggle/working/runs; Colab: a Google Drive folder (survives a disconnect); local:
    $MMFUSION_OUT, else runs/."""
    if platform == "kaggle":
        return Path("/kaggle/working/runs")
    if platform == "colab":
        if not (DRIVE / "MyDrive").is_dir():
            from google.colab import drive

            drive.mount(str(DRIVE))
        return DRIVE / "MyDrive" / drive_folder / "runs"
    return Path(os.environ.get("MMFUSION_OUT") or checkout_root() / "runs")


def cache_dir(platform: str) -> Path:
    """Never under the output: Kaggle /kaggle/temp (or /tmp), Colab the VM's disk, else the cache root."""
    root = cache_root()
    if os.environ.get("MMFUSION_CACHE"):
        return root
    if platform == "kaggle" and not str(root).startswith("/kaggle/temp"):
        return Path(tempfile.gettempdir()) / "mmfusion"
    if platform == "local" and not root.is_absolute():
        return checkout_root() / root
    return root


def stage_weights(files: tuple, offline: bool, quick: bool = False):
    """Copy attached ``*_notop.h5`` files into ~/.keras/models; the --weights value (None on a quick
    run). Offline with a file missing it stops now, before any training."""
    if quick or not files:
        return None
    models = Path.home() / ".keras" / "models"
    models.mkdir(parents=True, exist_ok=True)
    for h5 in find_files(kaggle_input(), "*_notop.h5"):
        if not (models / h5.name).exists():
            shutil.copy(h5, models / h5.name)
    missing = [f for f in files if not (models / f).exists()]
    if missing and offline:
        raise SystemExit(f"offline and {len(missing)} ImageNet weights file(s) missing: "
                         f"{', '.join(missing)}; attach a dataset holding them (every model of this run "
                         "needs its file), turn internet on, or set WEIGHTS = 'none' to train from scratch")
    return "imagenet"


@dataclasses.dataclass
class Setup:
    kernel: object
    platform: str
    data_dir: Path | None
    out: Path
    cache: Path
    weights: str | None
    data_label: str | None = None     # "Kaggle owner/slug, version N": what the report names


def adopt_previous_runs(out: Path, paper: str, base=None) -> list:
    """Copy the unfinished runs of the previous kernel version's attached output back into ``out``,
    so the same command continues them."""
    base = Path(base) if base is not None else kaggle_input()
    adopted = []
    for folder in walk_dirs(base, skip=lambda p: p.name == "runs"):
        if folder.name != "runs" or not (folder / paper).is_dir():
            continue
        for run in _subfolders(folder / paper):
            target = Path(out) / paper / run.name
            if not (run / "DONE").exists() and not target.exists():
                shutil.copytree(run, target, symlinks=True)     # a link inside is kept, not followed
                adopted.append(target)
                print(f"continuing the previous version's unfinished run {run.name} (copied from {run})")
    return adopted


def prepare(name: str, quick: bool, offline: bool = False, weights: str = "imagenet",
            drive_folder: str = "mmfusion", dataset_version: int | None = None) -> Setup:
    """Everything before training, in the order that fails fastest."""
    quiet.install()              # before TensorFlow loads: its harmless C++ lines stay out of the output
    kernel = KERNELS[name]
    platform = where()
    install_missing(kernel.all_extras, offline and platform == "kaggle")
    if weights == "imagenet":
        weights = stage_weights(kernel.weights_files, offline and platform == "kaggle", quick)
    elif weights in ("none", None):
        weights = None
    data = data_dir(kernel, platform, dataset_version)
    setup = Setup(kernel, platform, data, out_dir(platform, drive_folder), cache_dir(platform), weights,
                  data_label(kernel.dataset, dataset_version, platform, data))
    if platform == "kaggle":
        adopt_previous_runs(setup.out, kernel.paper)
    named = f" ({setup.data_label})" if setup.data_label else ""
    print(f"{kernel.paper} on {platform}: data {setup.data_dir or 'synthetic twin'}{named}; "
          f"output {setup.out}; cache {setup.cache}; weights {weights or 'none'}; "
          f"{'QUICK' if quick else 'full'} run")
    return setup


def _options(setup: Setup, quick: bool, **options):
    options["mixed_precision"] = resolve_mixed_precision(options.get("mixed_precision"))
    extra = {**setup.kernel.extra, **options.pop("extra", {})}
    data = str(setup.data_dir) if setup.data_dir else None
    return ReproduceOptions(paper=setup.kernel.paper, data_dir=data, out=str(setup.out), quick=quick,
                            weights=setup.weights, cache_dir=str(setup.cache), extra=extra,
                            data_origin=setup.data_label, **options)


def estimate(setup: Setup, quick: bool, **options) -> str:
    """`mmfusion plan` for this run on this device, printed before anything trains."""
    text = plan_text(setup.kernel.paper, _options(setup, quick, **options))
    print(text, flush=True)
    return text


def run(setup: Setup, quick: bool, **options) -> Path:
    """``reproduce`` through the python API; ``options`` are ReproduceOptions fields."""
    return Path(reproduce_paper(setup.kernel.paper, _options(setup, quick, **options)))


def show(run_dir, max_figures: int = 12) -> list:
    """The report's summary, links to report.md / report.html, then the figures; returns those shown."""
    from IPython.display import Image, Markdown, display

    run_dir = Path(run_dir)
    display(Markdown(first_screen((run_dir / "report.md").read_text())))
    display(Markdown(f"Every table: `{run_dir / 'report.md'}`, and `{run_dir / 'report.html'}` (one file, "
                     "figures inside, sortable tables: download it from the output panel)."))
    figures = sorted(run_dir.rglob("*.png"))
    for png in figures[:max_figures]:
        display(Markdown(f"**{png.relative_to(run_dir)}**"), Image(filename=str(png)))
    if len(figures) > max_figures:
        display(Markdown(f"{len(figures) - max_figures} more figures under `{run_dir}`"))
    return figures[:max_figures]
