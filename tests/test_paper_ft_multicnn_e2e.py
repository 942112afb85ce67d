"""``reproduce ft-multicnn --quick`` end to end on the HAM10000 twin: run directory, predictions
that partition the data per protocol without lesion leaks, metrics recomputed with sklearn."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm


@pytest.fixture(scope="module")
def run_dir(quick_runs):
    return quick_runs("ft-multicnn")


def test_run_directory_contents(run_dir):
    for name in ("config.json", "manifest.json", "history.csv", "predictions.csv", "predictions_all.csv",
                 "metrics.json", "model.keras", "reproduced.json", "report.md", "results.json", "DONE",
                 "figures/confusion_matrix.png", "figures/learning_curves.png",
                 "figures/cam_inputs_lesion.png", "figures/cam_inputs_image.png"):
        assert (run_dir / name).is_file(), name
    for sub in ("lesion-cnn-fold0", "lesion-ft_multicnn-fold1", "image-ft_multicnn-fold0"):
        assert (run_dir / sub / "model.keras").is_file(), sub
    report = (run_dir / "report.md").read_text()
    titles = [line for line in report.splitlines() if line.startswith("#")]
    assert titles and all("SYNTHETIC" in t for t in titles)
    results = json.loads((run_dir / "results.json").read_text())
    assert results["synthetic"] is True
    abstract = {(r["row"], r["column"]): r for r in results["tables"]["Abstract"]}
    assert abstract[("FT-MultiCNN", "accuracy")]["reproduced"]["n"] == 2
    assert abstract[("FT-MultiCNN", "accuracy")]["verdict"] == "not comparable (synthetic data; quick run)"
    assert not any(r["verdict"].startswith("consistent") for rows in results["tables"].values() for r in rows)


def test_predictions_partition_the_twin_and_keep_lesions_together(run_dir):
    from mmfusion.data import load_dataset

    config = json.loads((run_dir / "config.json").read_text())
    frame = load_dataset("ham10000", config["data"]["ham10000"]["root"])
    lesion = dict(zip(frame["sample_id"], frame["group_id"]))
    preds = pd.read_csv(run_dir / "predictions_all.csv")
    probs = preds.filter(regex=r"^p_\d+$").to_numpy()
    assert probs.shape[1] == 7
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    for (protocol, model), p in preds.groupby(["protocol", "model"]):
        assert sorted(p["sample_id"]) == sorted(frame["sample_id"]), (protocol,
                                                                      model)   # each image tested once
        if protocol == "lesion":
            folds_of = p.assign(lesion=p["sample_id"].map(lesion)).groupby("lesion")["fold"].nunique()
            assert (folds_of == 1).all()
    true = dict(zip(frame["sample_id"], frame["label"]))
    assert (preds["y_true"] == preds["sample_id"].map(true)).all()


def test_metrics_json_equals_sklearn_on_predictions(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    head = metrics["headline"]
    assert (head["row"], head["protocol"]) == ("ft_multicnn", "lesion")
    preds = pd.read_csv(run_dir / "predictions.csv")
    assert sorted(preds["fold"].unique()) == [0, 1]
    cm = np.zeros((7, 7), int)
    for fold, p in preds.groupby("fold"):
        y, yhat = p["y_true"].to_numpy(), p.filter(regex=r"^p_\d+$").to_numpy().argmax(1)
        got = head["folds"][fold]
        assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, yhat))
        for avg in ("macro", "weighted"):
            p_, r_, f_, _ = skm.precision_recall_fscore_support(y, yhat, labels=range(7), average=avg,
                                                                zero_division=0)
            assert got[f"precision_{avg}"] == pytest.approx(p_)
            assert got[f"recall_{avg}"] == pytest.approx(r_)
            assert got[f"f1_{avg}"] == pytest.approx(f_)
        cm += skm.confusion_matrix(y, yhat, labels=range(7))
    assert head["confusion_matrix"] == cm.tolist()
    accs = [f["accuracy"] for f in head["folds"]]
    assert head["mean_std"]["accuracy"]["mean"] == pytest.approx(np.mean(accs))
    assert head["mean_std"]["accuracy"]["std"] == pytest.approx(np.std(accs, ddof=1))
    reproduced = json.loads((run_dir / "reproduced.json").read_text())
    cell = next(c for c in reproduced["cells"] if c["table"] == "Table Results (ours)"
                and c["row"] == "FT-MultiCNN"
                and c["column"] == "f1_weighted")
    assert cell["values"] == pytest.approx([f["f1_weighted"] for f in head["folds"]])
    # one Grad-CAM cache file per (protocol, fold), each keyed by that fold's CNN
    keys = [c["key"] for c in metrics["cams"]]
    assert len(keys) == 4 and len(set(keys)) == 4
