"""Metrics agree with sklearn exactly; bootstrap CI against the binomial standard error."""
import math
import statistics

import numpy as np
import pytest
from sklearn import metrics as skm

from mmfusion.evaluation import (
    bootstrap_ci,
    classification_metrics,
    confusion_matrix,
    mean_std,
    per_class_report,
)


def _data(n_classes, n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes)) + 1.5 * np.eye(n_classes)[y]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, p


def test_binary_matches_sklearn():
    y, p = _data(2)
    pred = p.argmax(1)
    m = classification_metrics(y, p, "binary")
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    assert m["accuracy"] == skm.accuracy_score(y, pred)
    assert m["balanced_accuracy"] == skm.balanced_accuracy_score(y, pred)
    assert m["precision"] == skm.precision_score(y, pred)
    assert m["recall"] == skm.recall_score(y, pred)
    assert m["f1"] == skm.f1_score(y, pred)
    assert m["auc"] == skm.roc_auc_score(y, p[:, 1])
    assert m["specificity"] == pytest.approx(tn / (tn + fp), abs=0)
    # a 1-D score vector is read as p(class 1)
    assert classification_metrics(y, p[:, 1], "binary") == m


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multiclass_matches_sklearn(average):
    y, p = _data(3, seed=1)
    pred = p.argmax(1)
    m = classification_metrics(y, p, average)
    assert m["precision"] == skm.precision_score(y, pred, average=average)
    assert m["recall"] == skm.recall_score(y, pred, average=average)
    assert m["f1"] == skm.f1_score(y, pred, average=average)
    assert m["auc"] == skm.roc_auc_score(y, p, multi_class="ovr", average=average)
    cm = skm.confusion_matrix(y, pred)
    tnr = [(cm.sum() - cm[c].sum() - cm[:, c].sum() + cm[c, c]) / (cm.sum() - cm[c].sum()) for c in range(3)]
    expected = np.mean(tnr) if average == "macro" else np.average(tnr, weights=cm.sum(1))
    assert m["specificity"] == pytest.approx(expected, rel=1e-12)


def test_binary_average_rejects_three_classes():
    y, p = _data(3)
    with pytest.raises(ValueError, match="2 classes"):
        classification_metrics(y, p, "binary")


def test_confusion_matrix_and_per_class_report():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    pred = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    p = np.eye(3)[pred]
    assert confusion_matrix(y, pred).tolist() == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
    rep = per_class_report(y, p, ["a", "b", "c"])
    assert rep.loc["a", "precision"] == pytest.approx(2 / 3)
    assert rep.loc["b", "recall"] == pytest.approx(0.5)
    assert rep.loc["c", "specificity"] == pytest.approx(4 / 5)  # TN 4 (of 5 non-c), FP 1
    assert rep["support"].tolist() == [3, 2, 3]


def test_mean_std_is_sample_std():
    v = [0.9, 0.95, 0.97, 0.99, 1.0]
    mean, std = mean_std(v)
    assert mean == pytest.approx(statistics.mean(v))
    assert std == pytest.approx(statistics.stdev(v))
    assert math.isnan(mean_std([0.5]).std)


def test_bootstrap_ci_width_matches_binomial_se():
    rng = np.random.default_rng(3)
    n = 400
    y = rng.integers(0, 2, n)
    correct = rng.random(n) < 0.8
    pred = np.where(correct, y, 1 - y)
    acc = correct.mean()
    res = bootstrap_ci(y, np.eye(2)[pred], metric="accuracy", n_resamples=600, seed=0)
    se = math.sqrt(acc * (1 - acc) / n)
    assert res["point"] == pytest.approx(acc)
    assert res["low"] < acc < res["high"]
    assert (res["high"] - res["low"]) == pytest.approx(2 * 1.96 * se, rel=0.15)
    again = bootstrap_ci(y, np.eye(2)[pred], metric="accuracy", n_resamples=600, seed=0)
    assert again == res


def test_bootstrap_stratified_keeps_class_counts_and_counts_skips():
    y = np.array([0] * 30 + [1] * 3)
    p = np.eye(2)[y]
    res = bootstrap_ci(y, p, metric=lambda yt, yp: float(yt.sum()), n_resamples=50, stratified=True)
    assert res["low"] == res["high"] == 3.0
    plain = bootstrap_ci(y, p, metric="auc", n_resamples=200, seed=1)
    assert plain["n_skipped"] > 0  # resamples without a positive: AUC undefined, counted
    assert plain["low"] == plain["high"] == 1.0
