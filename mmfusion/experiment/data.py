"""Where a paper's data comes from, decided once: ``--data-dir`` (or a paper's per-dataset root),
a Kaggle mount, or the cached synthetic twin. Twins are always seed 0: the twin stands for the
dataset, and ``--seed`` varies the training, never the data."""
import dataclasses
import importlib
from pathlib import Path

TWIN_SEED = 0


@dataclasses.dataclass
class DataSource:
    name: str                 # dataset name (mmfusion.data.DATASETS)
    root: Path
    synthetic: bool
    frame: object = None      # the loader's DataFrame
    full_size: int | None = None   # images in the real download (None: unknown / synthetic)
    origin: str | None = None      # where the folder came from (a Kaggle slug and version)

    @property
    def n(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    def describe(self) -> dict:
        out = {"root": str(self.root), "synthetic": self.synthetic, "n": self.n, "N": self.full_size}
        return {**out, "kaggle": self.origin} if self.origin else out


def locate(name: str, cfg, options) -> tuple[Path, bool]:
    """(root, synthetic) of dataset ``name``."""
    from mmfusion.data import kaggle_candidates
    from mmfusion.data.cache import cache_root

    given = cfg.data_dir(name) or options.data_dir
    if given is not None:
        return Path(given), False
    mounted = next((p for p in kaggle_candidates(name) if p.exists()), None)
    if mounted is not None:
        return mounted, False
    from mmfusion.data.synthetic import ensure_twin

    return Path(ensure_twin(name, cache_root(options.cache_dir) / "twins", seed=TWIN_SEED,
                            n=cfg.twin_size(name))), True


def load(name: str, cfg, options, **loader_options) -> DataSource:
    from mmfusion import data

    root, synthetic = locate(name, cfg, options)
    frame = data.load_dataset(name, root, **loader_options)
    full = None if synthetic else getattr(data, "FULL_SIZES", {}).get(name)
    given = getattr(options, "data_dir", None)
    inside = given is not None and root.resolve().is_relative_to(Path(given).resolve())
    origin = getattr(options, "data_origin", None) if inside and not synthetic else None
    return DataSource(name, root, synthetic, frame, full, origin)


def load_all(datasets: dict, optional, cfg, options) -> tuple[dict, dict]:
    """({name: DataSource}, {name: why it is absent}): an ``optional`` dataset --data-dir lacks is left
    out; one there but broken still raises, and so does a folder holding none of them."""
    from mmfusion.data import DatasetError

    sources, missing = {}, {}
    for name, kw in datasets.items():
        why = absent(name, cfg, options) if name in optional else None
        if why:
            missing[name] = why
        else:
            sources[name] = load(name, cfg, options, **kw)
    if not sources:
        raise DatasetError("none of the datasets was found: " + "; ".join(missing.values()))
    return sources, missing


def absent(name: str, cfg, options) -> str | None:
    """Why ``name`` is not under --data-dir (None: it is there, or another root serves it)."""
    from mmfusion.data import LOADER_MODULES, DatasetError

    if cfg.data_dir(name) is not None or options.data_dir is None:
        return None
    finder = getattr(importlib.import_module(LOADER_MODULES[name]), "find_folder", None)
    try:
        if finder is not None:
            finder(Path(options.data_dir))
    except DatasetError as err:
        return str(err)
    return None
