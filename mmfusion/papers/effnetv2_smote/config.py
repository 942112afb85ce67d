"""effnetv2-smote settings: the paper's protocol and the quick smoke run.

Command: ``mmfusion reproduce effnetv2-smote --data-dir DIR`` (DIR holds Dataset_BUSI_with_GT/
and/or "Breast Cancer Patients MRI's"/; ``--set busi_dir=... --set mri_dir=...`` give them
separately): six fits of EfficientNetV2B0 at 299 px for 22 epochs. Reproduces
papers/effnetv2-smote.yaml Table 4 (MRI), Table 5 (BUSI B-M, B-M-N), Table 6 (ROI x normal),
Table 7 (with / without SMOTE), the ROC-AUC of both datasets (§4 text), the split counts and the
timings. A setting whose dataset is not in --data-dir is skipped and counted. ``--quick``: 32 px,
1 epoch, from scratch, on the twins (a 60-image BUSI twin), all six settings."""
import dataclasses

from mmfusion.experiment import PaperConfig, fidelity
from mmfusion.experiment.config import option


@dataclasses.dataclass(frozen=True)
class Setting:
    dataset: str          # busi | breast-mri
    normal: bool          # BUSI normal class included (B-M-N) or not (B-M)
    roi: bool             # image x merged mask
    smote: bool           # SMOTE on the training images
    cells: tuple          # (table, row) pairs this setting fills
    label: str


SETTINGS = {
    "busi_bm": Setting("busi", False, True, True,
                       (("Table 5", "BUSI B-M"), ("Table 6", "ROI, normal excluded"),
                        ("Table 7", "with SMOTE")),
                       "BUSI benign vs malignant, ROI, SMOTE"),
    "busi_bmn": Setting("busi", True, True, True,
                        (("Table 5", "BUSI B-M-N"), ("Table 6", "ROI, normal included")),
                        "BUSI benign / malignant / normal, ROI, SMOTE"),
    "busi_bm_noroi": Setting("busi", False, False, True, (("Table 6", "no ROI, normal excluded"),),
                             "BUSI benign vs malignant, whole image, SMOTE"),
    "busi_bmn_noroi": Setting("busi", True, False, True, (("Table 6", "no ROI, normal included"),),
                              "BUSI benign / malignant / normal, whole image, SMOTE"),
    "busi_bm_nosmote": Setting("busi", False, True, False, (("Table 7", "without SMOTE"),),
                               "BUSI benign vs malignant, ROI, no SMOTE"),
    "mri": Setting("breast-mri", False, False, False, (("Table 4", "MRI"),),
                   "breast MRI healthy vs sick (train+validation merged and re-split)"),
}
# the columns each table prints; ROC-AUC is printed in the §4 text only (AUC_ROW)
COLUMNS = {"Table 4": ("accuracy", "f1", "sensitivity", "specificity"),
           "Table 5": ("accuracy", "f1", "sensitivity", "specificity"),
           "Table 6": ("accuracy",), "Table 7": ("accuracy", "precision", "recall", "f1")}
# each printed column's averaging, decided from the printed numbers (the text states none): the
# BUSI B-M row fits exactly one confusion matrix (65 / 1 / 0 / 31) under this reading
AVERAGING = {"accuracy": "none", "precision": "macro", "recall": "macro", "sensitivity": "macro",
             "f1": "macro", "specificity": "binary", "auc": "binary"}
AVERAGING_NOTE = {"none": "", "macro": "macro average over classes",
                  "binary": "binary: true-negative rate of the benign / healthy class (malignant / sick "
                            "positive)"}
AUC_ROW = {"busi_bm": "BUSI", "mri": "MRI"}      # the §4 text prints the ROC-AUC of these runs
BLACK_NORMAL_NOTE = ("with ROI the normal images are all black (their masks are empty), so 'normal' is "
                     "trivially separable; this cell says little about lesion classification")


def averaging(column: str, n_classes: int) -> str:
    """Binary needs two classes: the three-class rows (B-M-N) are macro, AUC one-vs-rest."""
    avg = AVERAGING[column]
    return "macro" if avg == "binary" and n_classes != 2 else avg


DATASET_DIR_KEY = {"busi": "busi_dir", "breast-mri": "mri_dir"}   # the --set key that gives each root
MIN_INPUT = 32     # keras.applications' EfficientNetV2B0 refuses smaller inputs


@dataclasses.dataclass(frozen=True)
class EffnetConfig(PaperConfig):
    settings: tuple = option(tuple(SETTINGS), some_of=tuple(SETTINGS))
    input_size: int = option(299, at_least=MIN_INPUT, why=f"EfficientNetV2B0 needs >= {MIN_INPUT} px")
    epochs: int = 22
    batch_size: int = 32
    learning_rate: float = option(1e-4, above=0)
    # ours: the paper does not state k_neighbors (imblearn's default)
    smote_k: int = option(5, at_least=1, why="SMOTE needs k_neighbors >= 1")
    ratios: tuple = (0.7, 0.15, 0.15)
    duplicates: bool = True            # find duplicate images and keep each group on one side
    duplicate_distance: int = option(3, at_least=0)  # dHash bits still called a near duplicate (BUSI)
    cam_images: int = option(4, at_least=0)  # test images per dataset in the Grad-CAM figure
    busi_dir: str | None = None        # per-dataset roots (default: --data-dir for both)
    mri_dir: str | None = None
    busi_twin_n: int | None = None     # synthetic twin sizes (None: twin_n, else the twin's default)
    mri_twin_n: int | None = None

    @classmethod
    def quick(cls) -> "EffnetConfig":
        return cls(input_size=MIN_INPUT, epochs=1, batch_size=16, cam_images=2, busi_twin_n=60)

    def validate(self) -> None:
        super().validate()
        if len(self.ratios) != 3 or min(self.ratios) <= 0 or abs(sum(self.ratios) - 1) > 1e-6:
            raise ValueError(f"option ratios={','.join(map(str, self.ratios))}: expected three positive "
                             "fractions (train, validation, test) summing to 1")

    def datasets(self) -> tuple:
        return tuple(dict.fromkeys(SETTINGS[s].dataset for s in self.settings))

    def data_dir(self, dataset: str) -> str | None:
        return getattr(self, DATASET_DIR_KEY[dataset]) if dataset in DATASET_DIR_KEY else None

    def twin_size(self, dataset: str) -> int | None:
        own = {"busi": self.busi_twin_n, "breast-mri": self.mri_twin_n}.get(dataset)
        return own if own is not None else self.twin_n


FIDELITY = fidelity.rows("effnetv2-smote")   # papers/effnetv2-smote.yaml, fidelity:
