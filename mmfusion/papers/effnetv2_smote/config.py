"""The experiment table of the effnetv2-smote reproduction: settings (dataset x ROI x normal x
SMOTE -> the table cells they fill), full and quick values, CLI overrides (``--set key=value``).

Full values follow the paper (Table 3): EfficientNetV2B0 at 299 px, Nadam 1e-4, sparse
categorical cross-entropy, 22 epochs, batch 32, SMOTE k = 5, 70/15/15 stratified splits.
"""
from __future__ import annotations

import dataclasses

from mmfusion.overrides import apply_overrides


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
                       (("Table 5", "BUSI B-M"), ("Table 6", "ROI, normal excluded"), ("Table 7", "with SMOTE")),
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


@dataclasses.dataclass(frozen=True)
class Experiment:
    settings: tuple = tuple(SETTINGS)
    input_size: int = 299
    epochs: int = 22
    batch_size: int = 32
    learning_rate: float = 1e-4
    smote_k: int = 5
    ratios: tuple = (0.7, 0.15, 0.15)
    duplicates: bool = True            # find duplicate images and keep each group on one side
    duplicate_distance: int = 3        # dHash bits still called a near duplicate
    cam_images: int = 4                # test images per dataset in the Grad-CAM figure
    busi_dir: str | None = None        # per-dataset roots (default: --data-dir for both)
    mri_dir: str | None = None
    busi_twin_n: int | None = None     # synthetic twin sizes (None: the twin's default)
    mri_twin_n: int | None = None

    def __post_init__(self):
        bad = [s for s in self.settings if s not in SETTINGS]
        if bad:
            raise ValueError(f"unknown effnetv2-smote settings {bad}; expected some of {', '.join(SETTINGS)}")
        if len(self.ratios) != 3 or abs(sum(self.ratios) - 1) > 1e-6:
            raise ValueError(f"ratios must be three fractions summing to 1, got {self.ratios}")
        if self.smote_k < 1:
            raise ValueError(f"smote_k must be >= 1, got {self.smote_k}")

    def datasets(self) -> tuple:
        return tuple(dict.fromkeys(SETTINGS[s].dataset for s in self.settings))


FULL = Experiment()
# 32 px: EfficientNetV2B0 builds (1x1 final map) and a 1-epoch run traces in well under a minute
QUICK = Experiment(input_size=32, epochs=1, batch_size=16, cam_images=2, busi_twin_n=60)


def experiment_for(quick: bool, epochs=None, batch_size=None, extra: dict | None = None) -> Experiment:
    """The full or quick experiment with the CLI overrides (``--set key=value`` lands in ``extra``)."""
    return apply_overrides(QUICK if quick else FULL, extra, owner="effnetv2-smote",
                           epochs=epochs, batch_size=batch_size)
