"""The one seed policy of every fit: ``seed + run + 100 * fold``. Run r of seed 0 trains with seed r
(mias-xai's authors' loop); folds and runs never share a seed below 100 runs; every row (model) of a
table trains with the same seeds, as a paired comparison (McNemar, Friedman) across rows assumes."""
RUN_STRIDE = 1
FOLD_STRIDE = 100


def fit_seed(seed: int, fold: int = 0, run: int = 0) -> int:
    if not 0 <= run < FOLD_STRIDE:
        raise ValueError(f"run index must be in 0..{FOLD_STRIDE - 1}, got {run}")
    if fold < 0:
        raise ValueError(f"fold index must be >= 0, got {fold}")
    return int(seed) + RUN_STRIDE * int(run) + FOLD_STRIDE * int(fold)
