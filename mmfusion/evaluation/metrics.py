"""Classification metrics on top of scikit-learn, bootstrap CIs and mean ± sample std. Every number
comes from sklearn; this module only fixes the conventions (argmax predictions, class 1 is the
positive class for ``average="binary"``, specificity as one-vs-rest TNR)."""
import warnings
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

METRIC_NAMES = ("accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1", "auc")
AVERAGES = ("binary", "macro", "weighted")
_AVERAGED = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}
_PLAIN = {"accuracy": skm.accuracy_score, "balanced_accuracy": skm.balanced_accuracy_score}


def _as_arrays(y_true, y_prob):
    y_true = np.asarray(y_true).astype(int).ravel()
    y_prob = np.asarray(y_prob, dtype=float)
    if y_prob.ndim == 1:  # binary scores for class 1
        y_prob = np.stack([1.0 - y_prob, y_prob], axis=1)
    if y_prob.ndim != 2 or len(y_prob) != len(y_true):
        raise ValueError(f"y_prob must be (N, C) with N={len(y_true)}; got shape {y_prob.shape}")
    if len(y_true) == 0:
        raise ValueError("empty y_true")
    if y_true.min() < 0 or y_true.max() >= y_prob.shape[1]:
        raise ValueError(f"labels must be in 0..{y_prob.shape[1] - 1}; got {np.unique(y_true)}")
    return y_true, y_prob


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """sklearn confusion matrix with every class present (rows: true, columns: predicted)."""
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred).astype(int).ravel()
    if n_classes is None:
        n_classes = int(max(y_true.max(), y_pred.max())) + 1
    return skm.confusion_matrix(y_true, y_pred, labels=list(range(n_classes)))


def specificity_per_class(cm: np.ndarray) -> np.ndarray:
    """One-vs-rest true-negative rate of each class from a confusion matrix."""
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    return np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1e-300), 0.0)


def _specificity(y_true, y_pred, n_classes, average):
    cm = confusion_matrix(y_true, y_pred, n_classes)
    spec = specificity_per_class(cm)
    if average == "binary":
        return float(spec[1])  # TNR with class 1 positive = recall of class 0
    if average == "macro":
        return float(spec.mean())
    return float(np.average(spec, weights=cm.sum(axis=1)))   # y_true is never empty (_as_arrays)


def _auc(y_true, y_prob, average):
    """NaN when a class is absent from y_true (sklearn raises, or warns and returns NaN)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            if y_prob.shape[1] == 2:
                return float(skm.roc_auc_score(y_true, y_prob[:, 1]))
            return float(skm.roc_auc_score(y_true, y_prob, multi_class="ovr", average=average,
                                           labels=list(range(y_prob.shape[1]))))
    except ValueError:
        return float("nan")


def metric_function(name: str, average: str = "binary") -> Callable[[np.ndarray, np.ndarray], float]:
    """A function (y_true, y_prob) -> float computing one metric of :func:`classification_metrics`."""
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown metric {name!r}; expected one of {METRIC_NAMES}")

    def fn(y_true, y_prob):
        y_true, y_prob = _as_arrays(y_true, y_prob)
        n_classes = y_prob.shape[1]
        if average not in AVERAGES:
            raise ValueError(f"average must be one of {AVERAGES}; got {average!r}")
        if average == "binary" and n_classes != 2:
            raise ValueError(f"average='binary' needs 2 classes; y_prob has {n_classes}")
        if name == "auc":
            return _auc(y_true, y_prob, "macro" if average == "binary" else average)
        y_pred = y_prob.argmax(axis=1)
        if name in _PLAIN:
            return float(_PLAIN[name](y_true, y_pred))
        if name == "specificity":
            return _specificity(y_true, y_pred, n_classes, average)
        # binary: sklearn's default pos_label=1
        return float(_AVERAGED[name](y_true, y_pred, labels=list(range(n_classes)), average=average,
                                     zero_division=0))

    fn.__name__ = f"{name}_{average}"
    return fn


def classification_metrics(y_true, y_prob, average: str = "binary") -> dict:
    """Every METRIC_NAMES metric of argmax(y_prob) ((N, C), or 1-D: p(class 1)); specificity is the
    one-vs-rest TNR (``weighted``: by support); AUC is NaN if a class is absent."""
    return {name: metric_function(name, average)(y_true, y_prob) for name in METRIC_NAMES}


def per_class_report(y_true, y_prob, class_names=None) -> pd.DataFrame:
    """Per-class precision, recall, specificity, f1, support (sklearn classification_report)."""
    y_true, y_prob = _as_arrays(y_true, y_prob)
    n_classes = y_prob.shape[1]
    y_pred = y_prob.argmax(axis=1)
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    if len(names) != n_classes:
        raise ValueError(f"{len(names)} class names for {n_classes} classes")
    rep = skm.classification_report(y_true, y_pred, labels=list(range(n_classes)),
                                    target_names=names, output_dict=True, zero_division=0)
    spec = specificity_per_class(confusion_matrix(y_true, y_pred, n_classes))
    rows = [{"class": n, "precision": rep[n]["precision"], "recall": rep[n]["recall"],
             "specificity": float(s), "f1": rep[n]["f1-score"], "support": int(rep[n]["support"])}
            for n, s in zip(names, spec)]
    return pd.DataFrame(rows).set_index("class")


class MeanStd(NamedTuple):
    mean: float
    std: float


def mean_std(values) -> MeanStd:
    """Mean and *sample* standard deviation (ddof=1); std is NaN for a single value."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise ValueError("mean_std of no values")
    return MeanStd(float(v.mean()), float(np.std(v, ddof=1)) if v.size > 1 else float("nan"))


def bootstrap_ci(y_true, y_prob, metric="auc", n_resamples: int = 1000, seed: int = 0,
                 stratified: bool = False, alpha: float = 0.05, average: str = "binary") -> dict:
    """Percentile bootstrap CI of a metric (a METRIC_NAMES name or ``(y_true, y_prob) -> float``);
    ``stratified`` keeps class counts; resamples where it is NaN are skipped, counted in ``n_skipped``."""
    y_true, y_prob = _as_arrays(y_true, y_prob)
    fn = metric_function(metric, average) if isinstance(metric, str) else metric
    rng = np.random.default_rng(seed)
    n = len(y_true)
    groups = [np.flatnonzero(y_true == c) for c in np.unique(y_true)] if stratified else None
    stats = []
    for _ in range(n_resamples):
        idx = (np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups]) if stratified
               else rng.integers(0, n, size=n))
        stats.append(fn(y_true[idx], y_prob[idx]))
    stats = np.asarray(stats, dtype=float)
    ok = stats[~np.isnan(stats)]
    low, high = (np.quantile(ok, [alpha / 2, 1 - alpha / 2]) if ok.size else (np.nan, np.nan))
    return {"metric": getattr(fn, "__name__", str(metric)), "point": float(fn(y_true, y_prob)),
            "low": float(low), "high": float(high), "alpha": alpha, "n_resamples": n_resamples,
            "n_skipped": int(stats.size - ok.size), "stratified": stratified, "seed": seed}
