"""k-fold cross-validation driver: owns the split and collects per-fold predictions and histories."""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import pandas as pd


@dataclasses.dataclass
class CVResult:
    splits: list                 # [(train_idx, test_idx)] per fold
    outputs: list                # whatever fold_fn returned, per fold
    histories: list              # per-fold history dicts (None where fold_fn gave none)
    predictions: pd.DataFrame | None   # all folds' prediction frames, ``fold`` column set


def fold_indices(labels, groups=None, k: int = 5, seed: int = 0, stratified: bool = True) -> list:
    """(train_idx, test_idx) per fold: stratified by label, a group never on both sides."""
    from mmfusion.data.splits import kfold_splits

    splits = [(np.asarray(a), np.asarray(b)) for a, b in kfold_splits(labels, groups, k, seed, stratified)]
    _check_partition(splits, len(labels), groups)
    return splits


def _check_partition(splits, n, groups) -> None:
    seen = np.concatenate([test for _, test in splits])
    if len(seen) != n or len(np.unique(seen)) != n:
        raise AssertionError(f"folds do not partition the {n} samples")
    if groups is not None:
        groups = np.asarray(groups)
        for fold, (train, test) in enumerate(splits):
            shared = set(groups[train]) & set(groups[test])
            if shared:
                raise AssertionError(f"fold {fold}: groups on both sides, e.g. {sorted(shared)[:3]}")


def cross_validate(labels, fold_fn: Callable, k: int = 5, seed: int = 0, groups=None,
                   stratified: bool = True, folds=None) -> CVResult:
    """Run ``fold_fn(fold, train_idx, test_idx)`` per fold.

    fold_fn may return a dict with ``predictions`` (a predictions.csv-style DataFrame) and
    ``history`` (dict); other keys are kept in ``outputs``. ``labels`` may be an int (n_samples)
    for unstratified folds. ``folds`` restricts which folds run (e.g. [0] in quick mode).
    """
    if isinstance(labels, (int, np.integer)):
        labels, stratified = np.zeros(int(labels), int), False
    splits = fold_indices(labels, groups, k, seed, stratified)
    outputs, histories, frames = [], [], []
    for fold, (train_idx, test_idx) in enumerate(splits):
        if folds is not None and fold not in folds:
            continue
        out = fold_fn(fold, train_idx, test_idx)
        outputs.append(out)
        histories.append(out.get("history") if isinstance(out, dict) else None)
        frame = out.get("predictions") if isinstance(out, dict) else None
        if frame is not None:
            frames.append(frame.assign(fold=fold))
    predictions = pd.concat(frames, ignore_index=True) if frames else None
    return CVResult(splits, outputs, histories, predictions)
