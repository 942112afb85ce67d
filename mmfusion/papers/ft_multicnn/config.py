"""Hyper-parameters and the experiment table (which model, on which input, reproduces which row).

No TensorFlow here. ``hyperparameters(quick)`` is the paper's setting or the tiny quick one;
``ROWS`` maps every trained model to its table row; ``--set key=value`` overrides go through
``apply_overrides``.
"""
from __future__ import annotations

import dataclasses

from mmfusion import overrides

TABLE = "Table Results"
INPUTS = ("raw", "heatmap", "overlay")
METADATA = ("seven", "full")
PROTOCOLS = ("lesion", "image")        # k-fold grouped by lesion_id | plain image-level k-fold


@dataclasses.dataclass(frozen=True)
class Row:
    key: str            # run tag
    model: str          # model.MODELS
    input: str | None   # INPUTS; None: the configured ``input`` (the FT-MultiCNN's own)
    row: str            # table row name
    quick: bool         # trained in quick mode too


ROWS = (
    Row("cnn", "cnn", "raw", "CNN", True),                       # image only; also the CAM source
    Row("resnet50", "resnet50", "raw", "ResNet50", False),
    Row("inceptionv3", "inceptionv3", "raw", "InceptionV3", False),
    Row("multicnn", "multicnn", "raw", "MultiCNN (image + metadata)", False),
    Row("ft_multicnn", "ft_multicnn", None, "FT-MultiCNN", True),
    Row("ft_multicnn_raw", "ft_multicnn", "raw", "FT-MultiCNN (raw input)", False),
    Row("ft_multicnn_heatmap", "ft_multicnn", "heatmap", "FT-MultiCNN (heatmap input)", False),
)
HEADLINE = "ft_multicnn"
# Metric columns of the table: (column name, classification_metrics key, average)
COLUMNS = (("accuracy", "accuracy", "macro"),
           ("precision", "precision", "macro"), ("recall", "recall", "macro"), ("f1", "f1", "macro"),
           ("precision_weighted", "precision", "weighted"), ("recall_weighted", "recall", "weighted"),
           ("f1_weighted", "f1", "weighted"))


def hyperparameters(quick: bool = False, seed: int = 0) -> dict:
    """Paper §3.2-3.5 (Adam, batch 32, 50 epochs, 128 px); ours where the paper is silent."""
    hp = dict(
        dataset="ham10000", image_size=128, metadata="seven", input="overlay",
        folds=5, protocols=list(PROTOCOLS), image_level_rows=[HEADLINE],
        epochs=50, batch_size=32, learning_rate=1e-3, val_fraction=0.1,
        dropout=0.5, backbone=None, cam_source="cnn", overlay_alpha=0.4, augment=True,
        twin_n=None, seed=seed,
    )
    if quick:
        hp.update(image_size=48, folds=2, epochs=1, batch_size=16)
    return hp


def apply_overrides(hp: dict, extra: dict, epochs=None, batch_size=None) -> dict:
    """``--set`` values into a copy of ``hp``; unknown keys are an error, not ignored (``rows``
    is read by ``rows()``)."""
    hp = overrides.apply_overrides(hp, extra, owner="ft-multicnn", epochs=epochs, batch_size=batch_size,
                                   skip=("rows",))
    _check(hp)
    return hp


def _check(hp: dict) -> None:
    if hp["input"] not in INPUTS:
        raise ValueError(f"input must be one of {INPUTS}, got {hp['input']!r}")
    if hp["metadata"] not in METADATA:
        raise ValueError(f"metadata must be one of {METADATA}, got {hp['metadata']!r}")
    bad = [p for p in hp["protocols"] if p not in PROTOCOLS]
    if bad:
        raise ValueError(f"protocols must be among {PROTOCOLS}, got {bad}")
    if hp["dataset"] not in ("ham10000", "isic2019"):
        raise ValueError(f"dataset must be ham10000 or isic2019, got {hp['dataset']!r}")
    if hp["folds"] < 2:
        raise ValueError(f"folds must be >= 2, got {hp['folds']}")


def rows(quick: bool, only=None) -> list[Row]:
    """The rows to train; ``only`` (comma list of keys, --set rows=...) overrides the default."""
    known = {r.key: r for r in ROWS}
    if only:
        keys = [k.strip() for k in str(only).split(",") if k.strip()]
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValueError(f"unknown rows {unknown}; expected some of {', '.join(known)}")
        return [known[k] for k in keys]
    return [r for r in ROWS if r.quick or not quick]


def input_of(row: Row, hp: dict) -> str:
    return row.input or hp["input"]
