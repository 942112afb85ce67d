"""The experiment table of the HMC-Net reproduction: tasks, models, full and quick settings.

The paper's abstract gives the model, MIAS, 5-fold CV, the metrics and the Friedman test; the
training settings below are our choices (papers/hmcnet.yaml ``notes``).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mmfusion.overrides import apply_overrides
from mmfusion.papers.hmcnet.model import MODELS

# MIAS loader labels: 0 normal, 1 benign, 2 malignant.
TASKS = {
    "normal_vs_abnormal": {"keep": (0, 1, 2), "map": {0: 0, 1: 1, 2: 1}, "names": ("normal", "abnormal")},
    "benign_vs_malignant": {"keep": (1, 2), "map": {1: 0, 2: 1}, "names": ("benign", "malignant")},
}
PREPROCESSING = ("resize", "mias-xai")   # mias-xai: noise removal + CLAHE of the mias-xai paper


@dataclasses.dataclass(frozen=True)
class Experiment:
    tasks: tuple = tuple(TASKS)
    models: tuple = MODELS
    folds: int = 5
    epochs: int = 50
    batch_size: int = 16
    input_size: int = 224
    learning_rate: float = 1e-4
    patience: int = 10               # early stopping on the inner validation loss
    val_fraction: float = 0.15       # inner validation split of each training fold, by patient
    preprocessing: str = "resize"
    cam_images: int = 4              # images per fold explained by Grad-CAM / Grad-CAM++ / Score-CAM
    scorecam_channels: int | None = None   # Score-CAM channels kept (None: all 2048 of conv5)
    twin_n: int | None = None        # synthetic twin size (None: the twin's default)
    vit: dict = dataclasses.field(default_factory=lambda: {"patch_size": 16, "dim": 192, "depth": 6, "heads": 3})
    attention: dict = dataclasses.field(default_factory=dict)   # AttentionConfig overrides

    def __post_init__(self):
        bad = [m for m in self.models if m not in MODELS]
        if bad:
            raise ValueError(f"unknown hmcnet models {bad}; expected some of {', '.join(MODELS)}")
        bad = [t for t in self.tasks if t not in TASKS]
        if bad:
            raise ValueError(f"unknown hmcnet tasks {bad}; expected some of {', '.join(TASKS)}")
        if self.preprocessing not in PREPROCESSING:
            raise ValueError(f"preprocessing must be one of {PREPROCESSING}, got {self.preprocessing!r}")
        if self.folds < 2:
            raise ValueError(f"cross-validation needs at least 2 folds, got {self.folds}")


FULL = Experiment()
QUICK = Experiment(tasks=("normal_vs_abnormal",), models=("hmcnet", "vgg16", "vit"), folds=2, epochs=1,
                   batch_size=8, input_size=32, patience=1, cam_images=1, scorecam_channels=16,
                   vit={"patch_size": 8, "dim": 32, "depth": 2, "heads": 2},
                   attention={"width": 32, "num_heads": 4})


def experiment_for(quick: bool, epochs=None, batch_size=None, extra: dict | None = None) -> Experiment:
    """The full or quick experiment with the CLI overrides (``--set key=value`` lands in ``extra``)."""
    return apply_overrides(QUICK if quick else FULL, extra, owner="hmcnet", epochs=epochs, batch_size=batch_size)


def task_frame(frame: pd.DataFrame, task: str) -> tuple[pd.DataFrame, int]:
    """Rows of ``task`` relabelled 0/1 (``label``, ``label_name``) and how many rows it leaves out."""
    spec = TASKS[task]
    labels = frame["label"].to_numpy()
    unknown = sorted({int(v) for v in np.unique(labels)} - {0, 1, 2})
    if unknown:
        raise ValueError(f"task {task}: MIAS labels must be 0 normal, 1 benign, 2 malignant; got {unknown}")
    keep = np.isin(labels, spec["keep"])
    out = frame.loc[keep].copy()
    out["label"] = [spec["map"][int(v)] for v in out["label"]]
    out["label_name"] = [spec["names"][v] for v in out["label"]]
    out = out.reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out, int((~keep).sum())
