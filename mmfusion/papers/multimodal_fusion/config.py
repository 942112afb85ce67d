"""Hyper-parameters and the experiment table: which model reproduces which table row.

No TensorFlow here. ``hyperparameters(quick)`` is the paper's setting (or the tiny quick one);
``ROWS`` maps every trained model to its table row; ``MISSING_RATES`` / ``MISSING_GROUP_COUNTS``
define the missing-modality robustness grid.
"""
from __future__ import annotations

import dataclasses

from mmfusion.data.clinical import CLINICAL_DIM, CLINICAL_GROUPS

# The 36-d clinical vector's five feature groups, in vector order.
CLINICAL_GROUP_NAMES = tuple(CLINICAL_GROUPS)
CLINICAL_GROUP_SLICES = tuple((s.start, s.stop) for s in CLINICAL_GROUPS.values())


@dataclasses.dataclass(frozen=True)
class Row:
    key: str            # run tag and model name
    fusion: str         # model.FUSIONS
    table: str
    row: str
    quick: bool         # trained in quick mode too


ROWS = (
    Row("image_only", "image", "Table 1", "Image only", True),
    Row("clinical_only", "clinical", "Table 1", "Clinical only", True),
    Row("concat", "concat", "Table 2", "Concatenation", False),
    Row("coattention", "coattention", "Table 2", "Co-attention", False),
    Row("crossattention", "crossattention", "Table 2", "Cross-attention", True),
    Row("gated_coattention", "gated_coattention", "Table 2", "Gated co-attention", False),
    Row("gated_crossattention", "gated_crossattention", "Table 2", "Gated cross-attention", False),
    Row("gmu", "gmu", "Table 2", "GMU", False),
    Row("mfb", "mfb", "Table 2", "MFB", False),
    Row("tfn", "tfn", "Table 2", "TFN", False),
)
# The paper's best multimodal model (its title model); reported again as Table 1's third row.
BEST_MULTIMODAL = "crossattention"
BEST_ROW = "Multimodal (cross-attention)"
METRIC_COLUMNS = ("auc", "f1", "accuracy", "precision", "recall")
CI_COLUMNS = ("auc", "f1")                    # the paper prints bootstrap CIs for these

MISSING_RATES = (0.0, 0.3, 0.5, 1.0)          # share of test samples without clinical features
MISSING_GROUP_COUNTS = (0, 1, 2, 3, 4, 5)     # k of the 5 feature groups zeroed on every sample


def hyperparameters(quick: bool = False, num_classes: int = 2, seed: int = 0) -> dict:
    """The model + training setting (paper §III; Vo et al. 2021 for what the paper leaves open)."""
    hp = dict(
        backbone="resnet50", backbone_kw={}, image_size=224,
        clinical_dim=CLINICAL_DIM, clinical_groups=[list(s) for s in CLINICAL_GROUP_SLICES],
        embed_dim=100, token_dim=100, image_tokens="spatial", clinical_tokens="groups",
        direction="image<-clinical", head_hidden=200, dropout=0.5, l2=1e-4,
        modality_dropout=0.3, mfb_factor=5, num_classes=num_classes, seed=seed,
        # training
        optimizer="adam", learning_rate=1e-4, batch_size=32, epochs=100, freeze_epochs=10,
        reduce_lr_factor=0.1, reduce_lr_patience=10, early_stopping_patience=15,
        val_fraction=0.2, augment=dict(flip=True, rotation_deg=30, random_crop=0.9),
        bootstrap=1000, shap_cases=200, lime_samples=1000,
    )
    if quick:
        # tiny ViT backbone at 32 px: the whole paper runs in minutes on 2 CPU cores
        hp.update(backbone="vit", backbone_kw=dict(patch_size=8, dim=16, depth=1, heads=2),
                  image_size=32, embed_dim=16, token_dim=16, head_hidden=16, batch_size=16,
                  epochs=2, freeze_epochs=0, bootstrap=100, shap_cases=8, lime_samples=100)
    return hp


def rows(quick: bool, only=None) -> list[Row]:
    """The rows to train; ``only`` (comma list of keys, from --set rows=...) overrides the default."""
    if only:
        keys = [k.strip() for k in str(only).split(",") if k.strip()]
        known = {r.key: r for r in ROWS}
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValueError(f"unknown rows {unknown}; expected some of {', '.join(known)}")
        return [known[k] for k in keys]
    return [r for r in ROWS if r.quick or not quick]
