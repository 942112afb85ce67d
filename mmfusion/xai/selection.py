"""Which examples to explain: per-class picks that every paper's figures and tables share."""
import itertools

import numpy as np


def examples_per_class(labels, per_class: int | None = None, total: int | None = None,
                       prefer=None) -> np.ndarray:
    """Positions of examples, classes interleaved round-robin (a small ``total`` still covers
    every class present), at most ``per_class`` of each class and ``total`` overall. Within a
    class, positions where ``prefer`` is True come first, then frame order."""
    labels = np.asarray(labels)
    prefer = np.zeros(len(labels), bool) if prefer is None else np.asarray(prefer, bool)
    by_class = [list(idx[np.argsort(~prefer[idx], kind="stable")][:per_class])
                for idx in (np.flatnonzero(labels == c) for c in np.unique(labels))]
    order = [i for group in itertools.zip_longest(*by_class) for i in group if i is not None]
    return np.asarray(order[:total], dtype=int)
