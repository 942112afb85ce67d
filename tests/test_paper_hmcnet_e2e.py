"""End-to-end: ``reproduce hmcnet --quick`` on the MIAS twin; every number re-derived independently."""
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

from mmfusion.registry import ReproduceOptions


@pytest.fixture(scope="module")
def quick_run(twin_cache, tmp_path_factory):
    from mmfusion.papers.hmcnet import reproduce

    out = tmp_path_factory.mktemp("hmcnet-runs")
    return reproduce(ReproduceOptions(paper="hmcnet", quick=True, out=str(out), cache_dir=str(twin_cache)))


def sklearn_metrics(frame):
    y, p = frame["y_true"].to_numpy(), frame[["p_0", "p_1"]].to_numpy()
    pred = p.argmax(1)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {"accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, zero_division=0),
            "recall": skm.recall_score(y, pred, zero_division=0),
            "f1": skm.f1_score(y, pred, zero_division=0),
            "specificity": tn / (tn + fp), "auc": skm.roc_auc_score(y, p[:, 1])}


def test_run_directory_contents(quick_run):
    for name in ("config.json", "manifest.json", "history.csv", "predictions.csv", "metrics.json",
                 "model.keras", "reproduced.json", "report.md", "results.json", "DONE"):
        assert (quick_run / name).is_file(), name
    assert (quick_run / "figures" / "cd_diagram_normal_vs_abnormal_paper.png").stat().st_size > 1000
    config = json.loads((quick_run / "config.json").read_text())
    assert config["synthetic"] is True and config["experiment"]["folds"] == 2
    report = (quick_run / "report.md").read_text()
    titles = [line for line in report.splitlines() if line.startswith("## ")]
    assert titles and all("SYNTHETIC" in t for t in titles)


def test_metrics_recomputed_with_sklearn(quick_run):
    from mmfusion.data import load_dataset

    metrics = json.loads((quick_run / "metrics.json").read_text())["normal_vs_abnormal"]
    models = metrics["models"]
    assert set(models) == {"hmcnet", "vgg16", "vit"}
    frame = load_dataset("mias", json.loads((quick_run / "config.json").read_text())["data_root"])
    expected_ids = set(frame["sample_id"])
    fold_of = None
    for name, result in models.items():
        preds = pd.read_csv(quick_run / "normal_vs_abnormal" / name / "predictions.csv")
        np.testing.assert_allclose(preds[["p_0", "p_1"]].sum(1), 1.0, atol=1e-5)
        assert set(preds["sample_id"]) == expected_ids and not preds["sample_id"].duplicated().any()
        truth = frame.set_index("sample_id")["label"].gt(0).astype(int)
        assert (preds["y_true"].to_numpy() == truth.loc[preds["sample_id"]].to_numpy()).all()
        folds = preds.set_index("sample_id")["fold"]
        fold_of = folds if fold_of is None else fold_of
        assert (folds.loc[fold_of.index] == fold_of).all(), "every model must see the same folds"
        for fold, got in enumerate(result["folds"]):
            want = sklearn_metrics(preds[preds["fold"] == fold])
            for key, value in want.items():
                assert got[key] == pytest.approx(value, abs=1e-9), (name, fold, key)
        accs = [f["accuracy"] for f in result["folds"]]
        assert result["summary"]["accuracy"]["mean"] == pytest.approx(np.mean(accs))
        assert result["summary"]["accuracy"]["std"] == pytest.approx(np.std(accs, ddof=1))
    # a patient (left + right breast) never sits in two folds
    patients = frame.set_index("sample_id")["group_id"].loc[fold_of.index]
    assert (pd.Series(fold_of.to_numpy()).groupby(patients.to_numpy()).nunique() == 1).all()
    # headline predictions are HMC-Net's
    top = pd.read_csv(quick_run / "predictions.csv")
    hmc = pd.read_csv(quick_run / "normal_vs_abnormal" / "hmcnet" / "predictions.csv")
    np.testing.assert_allclose(top["p_1"], hmc["p_1"])


def test_friedman_recomputed_with_scipy(quick_run):
    metrics = json.loads((quick_run / "metrics.json").read_text())["normal_vs_abnormal"]
    row = "Friedman test (HMC-Net vs VGG16, ViT)"
    fn = metrics["friedman"][row]
    accs = [[f["accuracy"] for f in metrics["models"][m]["folds"]] for m in ("hmcnet", "vgg16", "vit")]
    assert fn["pvalue"] == pytest.approx(stats.friedmanchisquare(*accs).pvalue)
    cells = json.loads((quick_run / "reproduced.json").read_text())["cells"]
    friedman = [c for c in cells if c["row"] == row]
    assert friedman and friedman[0]["values"] == [pytest.approx(fn["pvalue"])]
    hmc_acc = [c for c in cells if (c["table"], c["row"], c["column"]) == ("Abstract", "HMC-Net", "accuracy")]
    assert hmc_acc[0]["values"] == pytest.approx([f["accuracy"] for f in metrics["models"]["hmcnet"]["folds"]])


def test_cams_and_learning_curves(quick_run):
    cams = quick_run / "normal_vs_abnormal" / "hmcnet" / "cams"
    for fold in (0, 1):
        data = np.load(cams / f"cams_fold{fold}.npz")
        info = json.loads((cams / f"cams_fold{fold}.json").read_text())
        assert info["layer"] == "conv5_block3_out"
        assert (cams / f"cams_fold{fold}.png").stat().st_size > 1000
        quality = info["lesion_quality"]
        if quality["n_films"]:   # pointing game is a hit rate, energy a share: both in [0, 1]
            assert 0.0 <= quality["GradCAM"]["pointing_game"] <= 1.0
            assert 0.0 <= quality["ScoreCAM"]["energy_in_mask"] <= 1.0
        for method in ("GradCAM", "GradCAMPlusPlus", "ScoreCAM"):
            assert data[method].shape == (1, 32, 32)
            assert 0.0 <= data[method].min() and data[method].max() <= 1.0
    history = pd.read_csv(quick_run / "normal_vs_abnormal" / "hmcnet" / "history.csv")
    assert sorted(history["fold"].unique()) == [0, 1] and "val_loss" in history
    assert (quick_run / "normal_vs_abnormal" / "hmcnet" / "figures" / "learning_curves.png").is_file()
