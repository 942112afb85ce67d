"""The one seed policy of every fit (and every seeded split inside a fit).

``fit_seed(seed, fold, run) = seed + run + 100 * fold``: run r of the default seed 0 (mias-xai's ten
runs) trains with seed r, as the authors' loop did; folds and runs never share a seed below 100 runs;
every row (model) of a table trains with the same seeds, so rows differ by their model only, as a
paired comparison (McNemar, Friedman) across rows assumes.
"""
RUN_STRIDE = 1
FOLD_STRIDE = 100


def fit_seed(seed: int, fold: int = 0, run: int = 0) -> int:
    if not 0 <= run < FOLD_STRIDE:
        raise ValueError(f"run index must be in 0..{FOLD_STRIDE - 1}, got {run}")
    if fold < 0:
        raise ValueError(f"fold index must be >= 0, got {fold}")
    return int(seed) + RUN_STRIDE * int(run) + FOLD_STRIDE * int(fold)
