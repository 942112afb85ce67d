"""Arithmetic behind the claims audit: rounding intervals, the largest sample std of a bounded mean,
GRIM-style enumeration of integer confusion matrices. Largest sample std of k values in [0, 1] with
mean m: the sum of squares is convex, so its maximum over {x in [0,1]^k, sum x = km} is at a vertex
(j = floor(km) values at 1, one at f = km - j, the rest 0): SS_max = j + f^2 - k m^2 and
s_max = sqrt(SS_max / (k - 1))."""
import itertools
import math

import numpy as np

EPS = 1e-9
BOUNDED = {"accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1", "auc"}
METRIC_ALIASES = {
    **{m: m for m in BOUNDED}, "acc": "accuracy", "balanced accuracy": "balanced_accuracy",
    "ppv": "precision", "sensitivity": "recall", "tpr": "recall", "tnr": "specificity", "f1-score": "f1",
    "f1_score": "f1", "f1 score": "f1", "auc-roc": "auc", "roc_auc": "auc", "auc_roc": "auc",
}


def canonical_metric(column: str):
    """'Sensitivity' -> 'recall', 'F1-score' -> 'f1', ...; None for a column that is no metric."""
    return METRIC_ALIASES.get(str(column).strip().lower())


def inferred_decimals(value) -> int:
    """Digits after the point as a float prints (YAML 0.9972 -> 4)."""
    s = repr(float(value))
    if "e" in s:
        return 6
    frac = s.split(".")[1] if "." in s else ""
    return 0 if frac == "0" else len(frac)


def printed_interval(value, decimals, mode):
    """Set of true values that print as ``value`` with ``decimals`` digits by ``mode``."""
    u = 10.0 ** -decimals
    if mode == "truncate":
        return (value - EPS, value + u - EPS) if value >= 0 else (value - u + EPS, value + EPS)
    return (value - u / 2 - EPS, value + u / 2 + EPS)


def matches(x, value, decimals, modes=("round", "truncate")):
    """Boolean array: does ``x`` (same scale as ``value``) print as ``value`` under any mode?"""
    x = np.asarray(x, dtype=float)
    ivs = [printed_interval(value, decimals, mode) for mode in modes]
    return np.logical_or.reduce([(x >= lo) & (x <= hi) for lo, hi in ivs])


def max_sample_std(mean: float, k: int) -> float:
    """Largest sample std (ddof=1) of k values in [0, 1] whose mean is ``mean``."""
    if k < 2:
        return 0.0
    if not 0.0 <= mean <= 1.0:
        raise ValueError(f"mean {mean} outside [0, 1]")
    total = k * mean
    j = math.floor(total + 1e-12)
    f = max(total - j, 0.0)
    ss = j + f * f - k * mean * mean
    return math.sqrt(max(ss, 0.0) / (k - 1))


def max_sample_std_interval(lo: float, hi: float, k: int, grid: int = 201) -> float:
    """Largest :func:`max_sample_std` for a mean anywhere in [lo, hi] (clipped to [0, 1])."""
    lo, hi = max(lo, 0.0), min(hi, 1.0)
    cands = list(np.linspace(lo, hi, grid))
    # vertices where k*m crosses an integer are the local maxima; add them exactly
    cands += [i / k for i in range(math.ceil(lo * k), math.floor(hi * k) + 1)]
    return max(max_sample_std(m, k) for m in cands)


def _compositions(n: int, k: int) -> np.ndarray:
    """All ways to split n into k non-negative integers, as an array (P, k) (stars and bars)."""
    bars = np.array(list(itertools.combinations(range(n + k - 1), k - 1)), dtype=np.int64)
    edges = np.hstack([np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), n + k - 1)])
    return (np.diff(edges, axis=1) - 1).astype(np.int32)


def enumerate_confusion_matrices(class_counts, allowed_correct=None, limit: int = 3_000_000):
    """Integer confusion matrices (M, k, k) with row sums ``class_counts``, only those whose trace
    (correct predictions) is in ``allowed_correct`` when given. OverflowError past ``limit``."""
    counts = [int(c) for c in class_counts]
    k = len(counts)
    comps = [_compositions(n, k) for n in counts]
    by_diag = [{d: c[c[:, i] == d] for d in range(counts[i] + 1)} for i, c in enumerate(comps)]
    total_rows, size = [], 0
    for diag in itertools.product(*[range(n + 1) for n in counts]):
        if allowed_correct is not None and sum(diag) not in allowed_correct:
            continue
        groups = [by_diag[i][d] for i, d in enumerate(diag)]
        m = math.prod(len(g) for g in groups)
        size += m
        if size > limit:
            raise OverflowError(f"more than {limit} confusion matrices to enumerate")
        idx = np.stack(np.meshgrid(*[np.arange(len(g)) for g in groups], indexing="ij"), -1).reshape(-1, k)
        total_rows.append(np.stack([groups[i][idx[:, i]] for i in range(k)], axis=1))
    return np.concatenate(total_rows) if total_rows else np.zeros((0, k, k), dtype=np.int32)


def metrics_of_matrices(cms: np.ndarray, reading: str, class_names) -> dict:
    """Each matrix's metrics (fractions) under one averaging reading; sklearn's zero_division=0."""
    cms = cms.astype(float)
    n = cms.sum(axis=(1, 2))
    tp = np.diagonal(cms, axis1=1, axis2=2)
    support = cms.sum(axis=2)
    predicted = cms.sum(axis=1)
    fp, fn = predicted - tp, support - tp
    tn = n[:, None] - tp - fp - fn
    with np.errstate(invalid="ignore", divide="ignore"):
        rec = np.where(support > 0, tp / support, 0.0)
        prec = np.where(predicted > 0, tp / predicted, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
        spec = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
    acc = tp.sum(axis=1) / n
    out = {"accuracy": acc, "balanced_accuracy": rec.mean(axis=1)}
    if reading.startswith("binary"):
        j = list(class_names).index(reading[len("binary(pos="):-1])
        out.update(precision=prec[:, j], recall=rec[:, j], f1=f1[:, j], specificity=spec[:, j])
    elif reading == "macro":
        out.update(precision=prec.mean(1), recall=rec.mean(1), f1=f1.mean(1), specificity=spec.mean(1))
    elif reading == "weighted":
        w = support / n[:, None]
        out.update(precision=(prec * w).sum(1), recall=(rec * w).sum(1), f1=(f1 * w).sum(1),
                   specificity=(spec * w).sum(1))
    elif reading == "micro":
        out.update(precision=acc, recall=acc, f1=acc, specificity=(tn.sum(1) / (tn + fp).sum(1)))
    else:
        raise ValueError(f"unknown reading {reading!r}")
    return out


def allowed_correct_counts(n: int, value: float, decimals: int, percent: bool, modes):
    """Numbers of correct predictions c in 0..n with c/n printing as ``value``."""
    c = np.arange(n + 1)
    x = c / n * (100.0 if percent else 1.0)
    return set(c[matches(x, value, decimals, modes)].tolist())
