"""k-fold cross-validation folds: every paper loops over ``fold_indices`` itself."""
from mmfusion.data.splits import kfold_splits


def fold_indices(labels, groups=None, k: int = 5, seed: int = 0, stratified: bool = True) -> list:
    """(train_idx, test_idx) per fold, a partition of the samples (sklearn's k-fold): stratified by
    label, a group never on both sides (each fold passes ``check_leakage`` in ``kfold_splits``)."""
    return kfold_splits(labels, groups, k, seed, stratified)
