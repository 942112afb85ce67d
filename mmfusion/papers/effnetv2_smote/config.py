"""effnetv2-smote settings: the paper's protocol and the quick smoke run.

Command: ``mmfusion reproduce effnetv2-smote --data-dir DIR`` (DIR holds Dataset_BUSI_with_GT/
and/or "Breast Cancer Patients MRI's"/; ``--set busi_dir=... --set mri_dir=...`` give them
separately): six fits of EfficientNetV2B0 at 299 px for 22 epochs. Reproduces
papers/effnetv2-smote.yaml Table 4 (MRI), Table 5 (BUSI B-M, B-M-N), Table 6 (ROI x normal),
Table 7 (with / without SMOTE), the ROC-AUC of both datasets (§4 text), the split counts and the
timings. A setting whose dataset is not in --data-dir is skipped and counted. ``--quick``: 32 px,
1 epoch, from scratch, on the twins (a 60-image BUSI twin), all six settings.
"""
import dataclasses

from mmfusion.experiment import PaperConfig
from mmfusion.experiment.config import option
from mmfusion.experiment.fidelity import AS_PAPER, Detail


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


_PKG = "mmfusion/papers/effnetv2_smote/"
_PIPE, _PRE, _MODEL, _EXPLAIN = (_PKG + f for f in ("pipeline.py", "preprocess.py", "model.py", "explain.py"))
_SILENT = "ours, because the text is silent: "
FIDELITY = (
    Detail("input size", "299 x 299 x 3 (§3 Data Preprocessing; §3 Model)", field="input_size", value=299,
           where=_PRE),
    Detail("backbone", "EfficientNetV2B0, ImageNet-pretrained (--weights imagenet), include_top=False, "
           "fine-tuned end to end (§3 Model)", where=_MODEL),
    Detail("head", "global average pooling (1280) -> Dense(2, softmax) (§3 Model); 3 units for B-M-N",
           where=_MODEL),
    Detail("pixel normalisation", "none: the backbone's built-in rescaling (§3 Data Preprocessing)",
           where=_MODEL),
    Detail("optimiser", "Nadam (Table 3)", where=_PIPE),
    Detail("learning rate", "0.0001 (Table 3)", AS_PAPER, "learning_rate", 1e-4, _PIPE),
    Detail("schedule", "not stated", _SILENT + "constant learning rate", where=_PIPE),
    Detail("loss", "sparse categorical cross-entropy (Table 3)", where=_PIPE),
    Detail("epochs", "22 (Table 3)", AS_PAPER, "epochs", 22, _PIPE),
    Detail("batch", "32 (Table 3)", AS_PAPER, "batch_size", 32, _PIPE),
    Detail("early stopping", "not stated", _SILENT + "none; the weights after the last epoch are evaluated",
           where=_PIPE),
    Detail("augmentation", "none besides SMOTE (§3 Data Preprocessing)", where=_PIPE),
    Detail("SMOTE", "on flattened 299x299x3 training images, BUSI only: 452 -> 610 (§3 Data Preprocessing)",
           "ours in one detail, because imblearn computes differences in the input dtype: it gets int16 "
           "pixels (uint8 wraps around) and the output is cast back to uint8", where=_PRE),
    Detail("SMOTE k_neighbors", "not stated (Table 3 lists no SMOTE parameter)",
           _SILENT + "5, imblearn's default", "smote_k", 5, _PRE),
    Detail("split", "70 / 15 / 15 per class, train / validation / test (§3 Datasets Splitting)", AS_PAPER,
           "ratios", (0.7, 0.15, 0.15), _PIPE),
    Detail("duplicates", "not mentioned", "ours, because BUSI holds copies: exact and dHash near copies "
           "(<= 3 bits) kept on one side of the split (MRI: exact copies only)", "duplicates", True, _PRE),
    Detail("MRI folders", "one 740 / 740 set split 70 / 15 / 15 (Table 2)", "ours, because the download "
           "ships train/ and validation/: both merged and re-split", where="mmfusion/data/breast_mri.py"),
    Detail("class handling", "BUSI normal excluded (B-M) for the headline; B-M-N rows in Tables 5 and 6 "
           "(§4)", AS_PAPER, "settings", tuple(SETTINGS), _PIPE),
    Detail("ROI", "image x its mask, BUSI only; MRI whole images (§3 Region of Interest)",
           "ours in the order, because the text's is ambiguous: every mask of an image OR-merged and "
           "applied at the stored resolution, then resized", where=_PRE),
    Detail("XAI method", "Grad-CAM (§3 XAI Grad-CAM Technique)", where=_EXPLAIN),
    Detail("XAI layer", "not stated", _SILENT + "top_activation, the backbone's last activation (10 x 10 "
           "at 299 px)", where=_EXPLAIN),
    Detail("Grad-CAM examples", "examples of both datasets (Figures 3, 4, 11)", "ours, because the text "
           "does not say which: test images interleaved over classes", "cam_images", 4, _EXPLAIN),
    Detail("metric averaging", "not stated (§3 Evaluation Metrics gives the binary formulas)",
           "ours, decided from the printed numbers: macro precision / recall / F1, binary specificity "
           "(TNR of benign / healthy), positive-class ROC-AUC; B-M-N: macro, one-vs-rest AUC", where=_PIPE),
    Detail("statistics", "one run per setting, no intervals (§4)", where=_PIPE),
    Detail("timings", "training 121.36 s, inference 0.09 s/image (BUSI); 4 min 23 s, evaluation 2.26 s "
           "(MRI), P100 (§4): wall time of the fit and of the test-set prediction", where=_PIPE),
)
