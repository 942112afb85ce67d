"""k-fold cross-validation folds, checked: every paper loops over ``fold_indices`` itself."""
import numpy as np

from mmfusion.data.splits import kfold_splits


def fold_indices(labels, groups=None, k: int = 5, seed: int = 0, stratified: bool = True) -> list:
    """(train_idx, test_idx) per fold: stratified by label, a group never on both sides (each fold
    passes ``check_leakage`` in ``kfold_splits``)."""
    n = len(labels)
    splits = [(np.asarray(a), np.asarray(b)) for a, b in kfold_splits(labels, groups, k, seed, stratified)]
    seen = np.concatenate([test for _, test in splits])
    if len(seen) != n or len(np.unique(seen)) != n:
        raise AssertionError(f"folds do not partition the {n} samples")
    return splits
