"""Missing-modality robustness and the XAI of the best multimodal model (paper §III.E).

Robustness: clinical vector zeroed for 0/30/50/100% of the test samples (one seeded draw), and k
of the 5 feature groups zeroed on every sample (mean over all C(5, k) choices of groups).
XAI: Grad-CAM on the mammogram branch, grouped KernelSHAP over the 5 clinical feature groups
(global mean |phi| bar plot and per-case values), LIME tabular and image, and case figures for a
correct malignant and a false negative.
"""
from __future__ import annotations

import itertools

import numpy as np

from mmfusion.data.clinical import group_mask
from mmfusion.evaluation import classification_metrics
from mmfusion.papers.multimodal_fusion import config as cfg
from mmfusion.training.loop import predict_proba

ROBUST_COLUMNS = ("auc", "f1", "accuracy")


def _predict_variants(model, image, variants, hp):
    """One batched prediction for every clinical variant (the image is the same in all)."""
    n = len(image)
    probs = predict_proba(model, {"image": np.concatenate([image] * len(variants)),
                                  "clinical": np.concatenate(variants)}, batch_size=hp["batch_size"])
    return [probs[i * n:(i + 1) * n] for i in range(len(variants))]


def missing_modality(model, x, y, hp, average) -> dict:
    """-> {"summary": {...}, "cells": [...]} for the "Robustness" table."""
    rng = np.random.default_rng(hp["seed"])
    n, cells, summary = len(y), [], {"clinical_absent": {}, "groups_missing": {}}
    order = rng.permutation(n)
    variants, labels = [], []
    for rate in cfg.MISSING_RATES:
        clinical = x["clinical"].copy()
        clinical[order[:int(round(rate * n))]] = 0.0
        variants.append(clinical)
        labels.append(("rate", rate, None))
    for k in cfg.MISSING_GROUP_COUNTS:
        for combo in itertools.combinations(cfg.CLINICAL_GROUP_NAMES, k):
            variants.append(x["clinical"] * group_mask(combo))
            labels.append(("groups", k, combo))
    metrics = [classification_metrics(y, p, average=average)
               for p in _predict_variants(model, x["image"], variants, hp)]
    for (kind, value, _), m in zip(labels, metrics):
        if kind == "rate":
            summary["clinical_absent"][f"{value:.0%}"] = m
            cells += [{"table": "Robustness", "row": f"clinical absent for {value:.0%} of test samples",
                       "column": c, "values": [float(m[c])]} for c in ROBUST_COLUMNS]
    for k in cfg.MISSING_GROUP_COUNTS:
        per_combo = [m for (kind, value, _), m in zip(labels, metrics) if kind == "groups" and value == k]
        summary["groups_missing"][str(k)] = {c: float(np.mean([m[c] for m in per_combo])) for c in ROBUST_COLUMNS}
        cells += [{"table": "Robustness", "row": f"{k} of 5 clinical feature groups missing", "column": c,
                   "values": [float(m[c]) for m in per_combo],
                   "note": f"one value per choice of {k} groups ({len(per_combo)})"} for c in ROBUST_COLUMNS]
    return {"summary": summary, "cells": cells}


def case_indices(y, probs) -> dict:
    """The most confident correct malignant and the most confident false negative (None if absent)."""
    pred = probs.argmax(1)
    malignant = 1 if probs.shape[1] == 2 else None
    out = {}
    if malignant is None:
        return out
    tp = np.flatnonzero((y == 1) & (pred == 1))
    fn = np.flatnonzero((y == 1) & (pred != 1))
    out["correct_malignant"] = int(tp[np.argmax(probs[tp, 1])]) if tp.size else None
    out["false_negative"] = int(fn[np.argmin(probs[fn, 1])]) if fn.size else None
    return out


def explain(model, x, y, ids, probs, hp, run, synthetic, train_clinical) -> dict:
    """Writes the XAI figures into the run; returns a summary for metrics.json."""
    from mmfusion.papers.multimodal_fusion import xai_figures

    hp = {**hp, "lime_background": train_clinical}
    return xai_figures.explain(model, x, y, ids, probs, hp, run, synthetic, case_indices(y, probs))
