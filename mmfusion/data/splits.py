"""Leak-free splits: stratified, grouped (patient / lesion / duplicate group), k-fold and fixed ratio.

Every splitter returns positional indices into the frame and runs ``check_leakage`` before
returning, so a group (patient, lesion, duplicate image) can never sit on two sides.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mmfusion.data.common import DatasetError


class LeakageError(DatasetError):
    """A group (patient, lesion, duplicate) or a sample occurs on two sides of a split."""


def _as_array(values) -> np.ndarray:
    return np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def check_leakage(splits: dict, groups: dict | None = None) -> None:
    """Raise LeakageError if an index or a group value occurs in two splits.

    ``splits``: side name -> positional indices. ``groups``: kind ("patient", "duplicate", ...) ->
    array of group values over all samples; None/NaN values belong to no group.
    """
    owner: dict = {}
    for side, idx in splits.items():
        for i in np.asarray(idx, dtype=int):
            if i in owner and owner[i] != side:
                raise LeakageError(f"sample index {int(i)} is on both {owner[i]!r} and {side!r}")
            owner[i] = side
    for kind, values in (groups or {}).items():
        values = _as_array(values)
        seen: dict = {}
        for side, idx in splits.items():
            for value in values[np.asarray(idx, dtype=int)]:
                if _missing(value):
                    continue
                if seen.setdefault(value, side) != side:
                    shown = value.item() if isinstance(value, np.generic) else value
                    raise LeakageError(f"{kind} {shown!r} is on both {seen[value]!r} and {side!r}")


def require_enough(labels, what: str, per_class: int = 1, total: int = 2, groups=None,
                   n_groups: int = 0) -> None:
    """Too few images for a split stop here, naming the classes, their counts and the minimum
    needed, instead of in sklearn or as an empty side."""
    from mmfusion.data.common import DatasetError

    labels = _as_array(labels)
    classes, counts = np.unique(labels, return_counts=True)
    problems = []
    if counts.size and counts.min() < per_class:
        problems.append(f"at least {per_class} images of every class")
    if len(labels) < total:
        problems.append(f"at least {total} images in all")
    got = len(np.unique(_as_array(groups).astype(str))) if groups is not None else None
    if got is not None and got < n_groups:
        problems.append(f"at least {n_groups} groups (patients/lesions; got {got})")
    if problems:
        shown = ", ".join(f"{c}: {n}" for c, n in zip(classes.tolist(), counts.tolist())) or "none"
        raise DatasetError(f"too few images for {what}: {len(labels)} images, classes {{{shown}}}; "
                           f"it needs {', '.join(problems)}")


def two_step_minimum(labels, first: float, second: float, again: str) -> int:
    """Fewest images two stratified train_test_split calls accept: test share ``first``, then
    ``second`` of its ``again`` part ("test" or "rest"); sklearn needs one image per class on each
    side of each call and two per class in the part split again."""
    c = len(np.unique(_as_array(labels)))
    for n in range(2, 100000):
        t1 = int(np.ceil(first * n))
        part = t1 if again == "test" else n - t1
        t2 = int(np.ceil(second * part))
        if min(t1, n - t1, part // 2, t2, part - t2) >= c:
            return n
    return n


def merge_groups(*arrays) -> np.ndarray:
    """Connected components over several group kinds (e.g. patient and duplicate group).

    Two samples share a component when they share any non-missing value of any kind, so splitting
    on the component keeps every kind leak-free at once.
    """
    n = len(arrays[0])
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for values in arrays:
        first: dict = {}
        for i, value in enumerate(_as_array(values)):
            if _missing(value):
                continue
            j = first.setdefault(value, i)
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return np.array([find(i) for i in range(n)])


def _grouped_ratio_split(labels, groups, ratios, seed) -> list[np.ndarray]:
    """Greedy stratified group assignment: largest groups first, each to the side whose per-class
    targets it fills best. With one sample per group this is as exact as integer counts allow."""
    labels, groups = _as_array(labels), _as_array(groups)
    classes, y = np.unique(labels, return_inverse=True)
    uniq, g = np.unique(groups.astype(str), return_inverse=True)
    counts = np.zeros((len(uniq), len(classes)))
    np.add.at(counts, (g, y), 1)
    ratios = np.asarray(ratios, float) / np.sum(ratios)
    targets = ratios[:, None] * counts.sum(axis=0)[None, :]
    current = np.zeros_like(targets)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]
    side_of = np.empty(len(uniq), int)
    for gi in order:
        need = (targets - current) / np.maximum(targets, 1e-9)  # relative deficit per side and class
        score = need @ counts[gi]
        side = int(np.argmax(score))
        side_of[gi] = side
        current[side] += counts[gi]
    return [np.flatnonzero(side_of[g] == s) for s in range(len(ratios))]


def train_val_test_split(labels, groups=None, ratios=(0.7, 0.15, 0.15), seed: int = 0) -> dict:
    """``{"train", "val", "test"}`` positional indices, stratified by label.

    Without groups: sklearn's ``train_test_split`` twice (test first, then val from the rest,
    ``random_state=seed``), so the result equals that reference exactly. With groups: the greedy
    stratified group assignment above (no group on two sides).
    """
    from sklearn.model_selection import train_test_split

    labels = _as_array(labels)
    n = len(labels)
    what = f"a train/val/test split {tuple(ratios)}"
    if groups is None:
        require_enough(labels, what, 2, two_step_minimum(labels, ratios[2] / sum(ratios),
                                                           ratios[1] / (ratios[0] + ratios[1]), "rest"))
    else:
        require_enough(labels, what, 1, 3, groups, 3)
    if groups is None:
        idx = np.arange(n)
        rest, test = train_test_split(idx, test_size=ratios[2] / sum(ratios), stratify=labels,
                                      random_state=seed)
        train, val = train_test_split(rest, test_size=ratios[1] / (ratios[0] + ratios[1]),
                                      stratify=labels[rest], random_state=seed)
        out = {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}
    else:
        train, val, test = _grouped_ratio_split(labels, groups, ratios, seed)
        out = {"train": train, "val": val, "test": test}
    check_leakage(out, None if groups is None else {"group": groups})
    return out


def kfold_splits(labels, groups=None, k: int = 5, seed: int = 0, stratified: bool = True) -> list:
    """``[(train_idx, test_idx)] * k`` via sklearn (Stratified)(Group)KFold, shuffled with ``seed``."""
    from sklearn import model_selection as ms

    labels = _as_array(labels)
    require_enough(labels, f"{k}-fold cross-validation", 1, k, groups, k)
    x = np.zeros((len(labels), 1))
    if groups is not None:
        groups = _as_array(groups)
        if stratified:
            splitter = ms.StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        else:
            splitter = ms.GroupKFold(n_splits=k, shuffle=True, random_state=seed)
        folds = list(splitter.split(x, labels, groups))
    else:
        splitter = (ms.StratifiedKFold if stratified else ms.KFold)(n_splits=k, shuffle=True,
                                                                    random_state=seed)
        folds = list(splitter.split(x, labels))
    for train, test in folds:
        check_leakage({"train": train, "test": test}, None if groups is None else {"group": groups})
    return folds


def holdout_by_group(train_idx, labels, groups, fraction: float = 0.15, seed: int = 0):
    """Carve a validation set from ``train_idx`` by group (patient), stratified by label.

    ``labels`` and ``groups`` are over all samples; returns ``(train_idx, val_idx)`` as positions
    into the same full arrays.
    """
    train_idx = np.asarray(train_idx, dtype=int)
    labels, groups = _as_array(labels), _as_array(groups)
    require_enough(labels[train_idx], f"a {fraction:.0%} validation hold-out", 1, 2, groups[train_idx], 2)
    keep, val = _grouped_ratio_split(labels[train_idx], groups[train_idx], (1 - fraction, fraction), seed)
    out = {"train": train_idx[keep], "val": train_idx[val]}
    check_leakage(out, {"group": groups})
    return out["train"], out["val"]
