"""The notebooks as data (each paper declares its own in ``SPEC.kernels``): which dataset, which
backbones need ImageNet files, which packages a Kaggle / Colab image may lack."""
import dataclasses
import re

# Mirrors requirements.txt's names; lower bounds only: online, pip picks what fits the image's
# own TensorFlow / NumPy (held by a constraints file), offline the attached wheel decides.
BASE_EXTRAS = {"yaml": "PyYAML", "tqdm": "tqdm"}         # mmfusion's own install_requires
MACHINE_SHAPE = "NvidiaTeslaT4"                          # compute capability 7.5: mixed precision pays
KAGGLE_PYTHON = "3.12"                                   # the Kaggle image's: offline wheels are for it
SDIST_ONLY = ("lime",)                                   # no wheel on PyPI: built here (pure Python)
# the datasets `mmfusion kaggle push` keeps under the user's name (slugs)
WHEEL_DATASET = "mmfusion-wheel"
EXTRA_WHEELS_DATASET = "mmfusion-extra-wheels"
WEIGHTS_DATASET = "keras-imagenet-notop-weights"


@dataclasses.dataclass(frozen=True)
class Kernel:
    """One notebook; the data's Kaggle slug and root marker come from the dataset's loader (``KAGGLE``)."""

    name: str                     # folder, notebook file stem
    summary: str                  # one line under the notebook's title
    data: str                     # the mmfusion dataset it reads
    archs: tuple = ()             # backbones whose ImageNet weights the full run loads
    extras: dict = dataclasses.field(default_factory=dict)   # import name -> pip requirement
    extra: dict = dataclasses.field(default_factory=dict)    # --set options of this kernel
    paper: str = ""               # filled in by the registry

    @property
    def title(self) -> str:
        """Kaggle finds a kernel by the slug of its title, so the title is built to slug to the id."""
        return f"mmfusion {self.name} reproduction"

    @property
    def _source(self):
        from mmfusion.data import kaggle_data

        return kaggle_data(self.data)

    @property
    def dataset(self) -> str:
        """The Kaggle slug the notebook attaches."""
        return self._source.slugs[0]

    @property
    def marker(self) -> str:
        return self._source.marker

    @property
    def beside(self) -> tuple:
        return self._source.beside

    @property
    def weights_files(self) -> tuple:
        from mmfusion.models.backbones import ARCHS

        return tuple(ARCHS[a].weights_file for a in self.archs)

    @property
    def all_extras(self) -> dict:
        return {**BASE_EXTRAS, **self.extras}


def __getattr__(name):
    if name == "KERNELS":   # every paper's SPEC.kernels, by name (computed: the registry imports papers)
        from mmfusion.registry import list_papers

        return {k.name: k for spec in list_papers() for k in spec.kernels}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def slugify(text: str) -> str:
    """Kaggle's slug of a title: lower case, every run of other characters one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def dist_name(requirement: str) -> str:
    """The wheel file prefix of a requirement ("scikit-posthocs>=0.9" -> "scikit_posthocs")."""
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].replace("-", "_")
