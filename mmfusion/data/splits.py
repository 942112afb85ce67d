"""Leak-free splits (stratified, grouped, k-fold, fixed ratio): every splitter returns positional
indices and runs ``check_leakage`` first, so no patient / lesion / duplicate group sits on two sides."""
import numpy as np
import pandas as pd

from mmfusion.data.common import DatasetError


class LeakageError(DatasetError):
    """A group (patient, lesion, duplicate) or a sample occurs on two sides of a split."""


def check_leakage(splits: dict, groups: dict | None = None) -> None:
    """LeakageError if an index or a ``groups`` value (kind -> values) occurs in two of ``splits``."""
    for kind, values in {"sample index": None, **(groups or {})}.items():
        values = None if values is None else np.asarray(values)
        seen: dict = {}
        for side, idx in splits.items():
            idx = np.asarray(idx, dtype=int)
            for value in (idx if values is None else values[idx]):
                if not pd.isna(value) and seen.setdefault(value, side) != side:
                    shown = value.item() if isinstance(value, np.generic) else value
                    raise LeakageError(f"{kind} {shown!r} is on both {seen[value]!r} and {side!r}")


def require_enough(labels, what: str, per_class: int = 1, total: int = 2, groups=None,
                   n_groups: int = 0) -> None:
    """Too few images for a split stop here, naming the class counts and the minimum needed."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    problems = []
    if counts.size and counts.min() < per_class:
        problems.append(f"at least {per_class} images of every class")
    if len(labels) < total:
        problems.append(f"at least {total} images in all")
    if groups is not None and (got := len(np.unique(np.asarray(groups).astype(str)))) < n_groups:
        problems.append(f"at least {n_groups} groups (patients/lesions; got {got})")
    if problems:
        shown = ", ".join(f"{c}: {n}" for c, n in zip(classes.tolist(), counts.tolist())) or "none"
        raise DatasetError(f"too few images for {what}: {len(labels)} images, classes {{{shown}}}; "
                           f"it needs {', '.join(problems)}")


def two_step_minimum(labels, first: float, second: float, again: str) -> int:
    """Fewest images two stratified train_test_split calls accept (``second`` of the ``again`` part)."""
    c = len(np.unique(np.asarray(labels)))
    for n in range(2, 100000):
        t1 = int(np.ceil(first * n))
        part = t1 if again == "test" else n - t1
        t2 = int(np.ceil(second * part))
        if min(t1, n - t1, part // 2, t2, part - t2) >= c:
            return n
    return n


def merge_groups(*arrays) -> np.ndarray:
    """Connected components over several group kinds (samples sharing any value share one), each
    named by its first sample's position."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(arrays[0])
    edges = []   # (sample, first sample with its value), per group kind
    for values in arrays:
        first: dict = {}
        edges += [(i, first.setdefault(v, i)) for i, v in enumerate(np.asarray(values)) if not pd.isna(v)]
    i, j = np.array(edges, dtype=int).reshape(-1, 2).T
    labels = connected_components(coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False)[1]
    return np.unique(labels, return_index=True)[1][labels]


def _grouped_ratio_split(labels, groups, ratios, seed) -> list[np.ndarray]:
    """Greedy stratified group assignment: largest groups first, each to the side it fills best."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    classes, y = np.unique(labels, return_inverse=True)
    uniq, g = np.unique(groups.astype(str), return_inverse=True)
    counts = np.zeros((len(uniq), len(classes)))
    np.add.at(counts, (g, y), 1)
    ratios = np.asarray(ratios, float) / np.sum(ratios)
    targets = ratios[:, None] * counts.sum(axis=0)[None, :]
    current = np.zeros_like(targets)
    order = np.random.default_rng(seed).permutation(len(uniq))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]
    side_of = np.empty(len(uniq), int)
    for gi in order:
        need = (targets - current) / np.maximum(targets, 1e-9)  # relative deficit per side and class
        side_of[gi] = side = int(np.argmax(need @ counts[gi]))
        current[side] += counts[gi]
    return [np.flatnonzero(side_of[g] == s) for s in range(len(ratios))]


def train_val_test_split(labels, groups=None, ratios=(0.7, 0.15, 0.15), seed: int = 0) -> dict:
    """``{"train", "val", "test"}`` stratified: sklearn's ``train_test_split`` twice, or by group."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    what = f"a train/val/test split {tuple(ratios)}"
    if groups is None:
        test_share, val_share = ratios[2] / sum(ratios), ratios[1] / (ratios[0] + ratios[1])
        require_enough(labels, what, 2, two_step_minimum(labels, test_share, val_share, "rest"))
        rest, test = train_test_split(np.arange(len(labels)), test_size=test_share, stratify=labels,
                                      random_state=seed)
        train, val = train_test_split(rest, test_size=val_share, stratify=labels[rest], random_state=seed)
        out = {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}
    else:
        require_enough(labels, what, 1, 3, groups, 3)
        out = dict(zip(("train", "val", "test"), _grouped_ratio_split(labels, groups, ratios, seed)))
    check_leakage(out, None if groups is None else {"group": groups})
    return out


def kfold_splits(labels, groups=None, k: int = 5, seed: int = 0, stratified: bool = True) -> list:
    """``[(train_idx, test_idx)] * k`` via sklearn (Stratified)(Group)KFold, shuffled with ``seed``."""
    from sklearn import model_selection as ms

    labels = np.asarray(labels)
    require_enough(labels, f"{k}-fold cross-validation", 1, k, groups, k)
    if groups is None:
        splitter = ms.StratifiedKFold if stratified else ms.KFold
    else:
        splitter = ms.StratifiedGroupKFold if stratified else ms.GroupKFold
    folds = list(splitter(n_splits=k, shuffle=True, random_state=seed).split(np.zeros((len(labels), 1)),
                                                                             labels, groups))
    for train, test in folds:
        check_leakage({"train": train, "test": test}, None if groups is None else {"group": groups})
    return folds


def holdout_by_group(train_idx, labels, groups, fraction: float = 0.15, seed: int = 0):
    """``(train_idx, val_idx)``: validation carved from ``train_idx`` by group, stratified by label."""
    train_idx = np.asarray(train_idx, dtype=int)
    labels, groups = np.asarray(labels), np.asarray(groups)
    require_enough(labels[train_idx], f"a {fraction:.0%} validation hold-out", 1, 2, groups[train_idx], 2)
    keep, val = _grouped_ratio_split(labels[train_idx], groups[train_idx], (1 - fraction, fraction), seed)
    out = {"train": train_idx[keep], "val": train_idx[val]}
    check_leakage(out, {"group": groups})
    return out["train"], out["val"]
