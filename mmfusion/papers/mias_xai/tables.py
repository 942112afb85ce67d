"""predictions.csv -> the paper's tables (per-run accuracy, averaged metrics, confusion matrix),
as metrics.json content and as reproduced cells keyed like papers/mias-xai.yaml."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mmfusion.papers.mias_xai.data import CLASS_NAMES

PROTOCOL_ROW = {"stratified": "", "patient": " (patient-grouped split)"}
AVERAGED = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "specificity", "auc")


def _probs(frame: pd.DataFrame) -> np.ndarray:
    return frame[[f"p_{c}" for c in range(len(CLASS_NAMES))]].to_numpy(float)


def run_metrics(frame: pd.DataFrame) -> dict:
    """One run's test predictions -> macro metrics, per-class P/R/F1, confusion matrix, baseline."""
    from mmfusion.evaluation import classification_metrics, confusion_matrix, per_class_report

    y, p = frame["y_true"].to_numpy(int), _probs(frame)
    macro = classification_metrics(y, p, "macro")
    per_class = per_class_report(y, p, CLASS_NAMES)
    majority = int(np.bincount(y, minlength=len(CLASS_NAMES)).argmax())
    baseline = classification_metrics(y, np.eye(len(CLASS_NAMES))[np.full(len(y), majority)], "macro")
    return {"macro": macro,
            "per_class": {c: {k: float(per_class.loc[c, k]) for k in ("precision", "recall", "f1", "support")}
                          for c in CLASS_NAMES},
            "confusion_matrix": confusion_matrix(y, p.argmax(1), len(CLASS_NAMES)).tolist(),
            "majority_class": CLASS_NAMES[majority], "majority_accuracy": baseline["accuracy"],
            "n_test": int(len(y))}


def metric_tables(predictions: pd.DataFrame, protocols) -> tuple[dict, list]:
    """(metrics.json content, reproduced cells) from the test rows of every protocol and run."""
    metrics, cells = {}, []
    test = predictions[predictions["split"] == "test"]
    for protocol in protocols:
        rows = test[test["protocol"] == protocol]
        runs = {int(r): run_metrics(f) for r, f in rows.groupby("run", sort=True)}
        suffix = PROTOCOL_ROW[protocol]
        per = list(runs.values())

        def cell(table, row, column, values, note=""):
            cells.append({"table": table, "row": row + suffix, "column": column,
                          "values": [float(v) for v in values], "note": note})

        for r, m in runs.items():
            cell("Table Runs", f"run {r}", "accuracy", [m["macro"]["accuracy"]], f"seed offset {r - 1}")
        for column in AVERAGED:
            values = [m["macro"][column] for m in per]
            if not np.isnan(values).any():
                cell("Table Metrics", "CNN", column, values, f"macro, one value per run ({len(per)})")
        for c in CLASS_NAMES:
            for column in ("precision", "recall", "f1"):
                cell("Table Metrics", c, column, [m["per_class"][c][column] for m in per], "per class, per run")
        cell("Table Metrics", "Majority baseline", "accuracy", [per[0]["majority_accuracy"]],
             f"always '{per[0]['majority_class']}' (the test set's most frequent class)")
        cms = np.array([m["confusion_matrix"] for m in per])
        for i, t in enumerate(CLASS_NAMES):
            for j, q in enumerate(CLASS_NAMES):
                cell("Confusion matrix", f"true {t}", f"pred {q}", cms[:, i, j], "counts, one value per run")
        metrics[protocol] = {"runs": runs, "mean": {k: float(np.mean([m["macro"][k] for m in per]))
                                                    for k in AVERAGED},
                             "confusion_matrix_mean": cms.mean(axis=0).tolist()}
    return metrics, cells
