"""The six notebooks as data: which paper, which dataset (and how to recognise its mount), which
backbones need ImageNet files, which packages a Kaggle / Colab image may lack."""
from __future__ import annotations

import dataclasses

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
    name: str                     # folder, notebook file stem
    paper: str
    summary: str                  # one line under the notebook's title
    dataset: str                  # Kaggle slug of the data
    marker: str                   # relative path inside the dataset that identifies its root
    beside: tuple = ()            # globs of which one must sit next to ``marker``
    archs: tuple = ()             # backbones whose ImageNet weights the full run loads
    extras: dict = dataclasses.field(default_factory=dict)   # import name -> pip requirement
    extra: dict = dataclasses.field(default_factory=dict)    # --set options of this kernel

    @property
    def title(self) -> str:
        """Kaggle finds a kernel by the slug of its title, so the title is built to slug to the id."""
        return f"mmfusion {self.name} reproduction"

    @property
    def weights_files(self) -> tuple:
        from mmfusion.models.backbones import ARCHS

        return tuple(ARCHS[a].weights_file for a in self.archs)

    @property
    def all_extras(self) -> dict:
        return {**BASE_EXTRAS, **self.extras}


_MIAS = dict(dataset="kmader/mias-mammography", marker="Info.txt", beside=("all-mias", "mdb*.pgm"))
_BUSI_SETTINGS = "busi_bm,busi_bmn,busi_bm_noroi,busi_bmn_noroi,busi_bm_nosmote"

KERNELS = {k.name: k for k in (
    Kernel("mias-xai", "mias-xai", "Balve & Hendrix 2024: MIAS CNN, LIME vs Grad-CAM vs Kernel SHAP", **_MIAS,
           extras={"lime": "lime", "shap": "shap", "imblearn": "imbalanced-learn",
                   "cv2": "opencv-python-headless", "skimage": "scikit-image"}),
    # scikit-posthocs: the Nemenyi post-hoc of the Friedman test (mmfusion.evaluation.stats)
    Kernel("hmcnet", "hmcnet", "Fatima et al. 2026: HMC-Net on MIAS, 5-fold CV, Friedman + Nemenyi", **_MIAS,
           archs=("resnet50", "vgg16", "vgg19"), extras={"scikit_posthocs": "scikit-posthocs"}),
    Kernel("effnetv2-smote-busi", "effnetv2-smote", "EfficientNetV2B0 + SMOTE + ROI on BUSI (Tables 4-7)",
           "aryashah2k/breast-ultrasound-images-dataset", "Dataset_BUSI_with_GT", archs=("efficientnetv2b0",),
           extras={"imblearn": "imbalanced-learn"}, extra={"settings": _BUSI_SETTINGS}),
    Kernel("effnetv2-smote-mri", "effnetv2-smote", "EfficientNetV2B0 on breast MRI",
           "uzairkhan45/breast-cancer-patients-mris", "Breast Cancer Patients MRI's",
           archs=("efficientnetv2b0",),
           extras={"imblearn": "imbalanced-learn"}, extra={"settings": "mri"}),
    Kernel("ft-multicnn", "ft-multicnn", "Shimbre & Solanki 2025: FT-MultiCNN on HAM10000",
           "kmader/skin-cancer-mnist-ham10000", "HAM10000_metadata.csv", beside=("**/ISIC_*.jpg",),
           archs=("resnet50", "inceptionv3"),
           extras={"albumentations": "albumentations", "cv2": "opencv-python-headless"}),
    Kernel("multimodal-fusion", "multimodal-fusion", "Image + clinical fusion on CBIS-DDSM (Tables 1-2, XAI)",
           "awsaf49/cbis-ddsm-breast-cancer-image-dataset", "csv/dicom_info.csv", beside=("jpeg",),
           archs=("resnet50",), extras={"lime": "lime", "shap": "shap"}),
)}


def slugify(text: str) -> str:
    """Kaggle's slug of a title: lower case, every run of other characters one hyphen."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def dist_name(requirement: str) -> str:
    """The wheel file prefix of a requirement ("scikit-posthocs>=0.9" -> "scikit_posthocs")."""
    import re

    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].replace("-", "_")
