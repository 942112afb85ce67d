"""The registry of papers (no paper-specific code): each package under mmfusion.papers declares
its ``SPEC`` in a TensorFlow-free ``__init__``, so `mmfusion list` stays fast."""
import dataclasses
import importlib
import pkgutil

import mmfusion.papers


@dataclasses.dataclass(frozen=True)
class PaperSpec:
    """What the CLI knows of a paper before importing it (title etc. from papers/<name>.yaml)."""

    name: str                      # short name used by the CLI, folders and files
    datasets: tuple[str, ...]      # names accepted by mmfusion.data.load_dataset
    kernels: tuple = ()            # its Kaggle / Colab notebooks (mmfusion.kaggle.kernels.Kernel)
    package: str = ""              # the package that declared it (filled in by the registry)

    @property
    def claims(self):
        from mmfusion.evaluation.claims import load_claims

        return load_claims(self.name)

    @property
    def title(self) -> str:
        return self.claims.title

    @property
    def tables(self) -> list[str]:
        """The paper's tables with printed numbers, then the tables of ours its configs add."""
        claims = self.claims
        names = [c.table for c in claims.claims] + [c.get("table") for c in claims.configs or ()
                                                    if "(ours" in str(c.get("table", ""))]
        return list(dict.fromkeys(names))

    def experiment(self):
        return importlib.import_module(f"{self.package}.pipeline").EXPERIMENT


_PAPERS: dict[str, PaperSpec] = {}
_LOADED = False


def _ensure_loaded() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for info in pkgutil.iter_modules(mmfusion.papers.__path__, "mmfusion.papers."):
        if not info.ispkg:
            continue
        spec = getattr(importlib.import_module(info.name), "SPEC", None)
        if spec is None:
            raise ValueError(f"{info.name} declares no SPEC (a PaperSpec in its __init__.py)")
        kernels = tuple(dataclasses.replace(k, paper=spec.name) for k in spec.kernels)
        spec = dataclasses.replace(spec, package=info.name, kernels=kernels)
        if spec.name in _PAPERS and _PAPERS[spec.name] != spec:
            raise ValueError(f"paper {spec.name!r} is declared twice "
                             f"({_PAPERS[spec.name].package}, {info.name})")
        _PAPERS[spec.name] = spec


def get_paper(name: str) -> PaperSpec:
    _ensure_loaded()
    if name not in _PAPERS:
        raise KeyError(f"unknown paper {name!r}; known: {', '.join(sorted(_PAPERS))}")
    return _PAPERS[name]


def list_papers() -> list[PaperSpec]:
    _ensure_loaded()
    return [_PAPERS[k] for k in sorted(_PAPERS)]


@dataclasses.dataclass
class ReproduceOptions:
    """What `mmfusion reproduce PAPER` passes to a paper's entry point."""

    paper: str
    data_dir: str | None = None        # None: use (or generate, cached) the synthetic twin
    # where --data-dir came from ("Kaggle owner/slug, version N"): the report names it; not identity
    data_origin: str | None = None
    out: str = "runs"                  # each run gets its own new directory below this
    quick: bool = False                # tiny sizes and epochs: minutes on 2 CPU cores
    epochs: int | None = None          # None: the paper's value (or the quick value)
    batch_size: int | None = None
    seed: int = 0
    weights: str | None = "imagenet"   # "imagenet" | None | path to a local weights file
    mixed_precision: bool = False
    jit: bool = False                  # True: XLA; False: Keras's "auto" (utils.gpu.jit_compile)
    deterministic: bool | None = None  # None: the training default (deterministic ops, slower on GPU)
    tensorboard: str | None = None     # a TensorBoard log dir (utils.gpu.tensorboard_callbacks)
    cache_dir: str | None = None       # where synthetic twins are cached (default .mmfusion_cache)
    resume: bool = True                # reopen the newest unfinished run of this paper (same tag)
    tolerance: float | None = None     # δ of the verdict rule for every cell (None: each claim's / 0.2)
    extra: dict = dataclasses.field(default_factory=dict)   # paper-specific --set key=value
