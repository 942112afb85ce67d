"""End-to-end: ``reproduce hmcnet --quick`` on the MIAS twin; every number re-derived independently
(sklearn, scipy, NumPy on the saved maps)."""
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm


@pytest.fixture(scope="module")
def quick_run(quick_runs):
    return quick_runs("hmcnet")


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
                 "model.keras", "reproduced.json", "report.md", "results.json", "timings.json", "DONE"):
        assert (quick_run / name).is_file(), name
    assert (quick_run / "figures" / "cd_diagram_normal_vs_abnormal_paper.png").stat().st_size > 1000
    config = json.loads((quick_run / "config.json").read_text())
    assert config["data"]["mias"]["synthetic"] is True and config["config"]["folds"] == 2
    report = (quick_run / "report.md").read_text()
    titles = [line for line in report.splitlines() if line.startswith("## ")]
    assert titles and all("SYNTHETIC" in t for t in titles)
    assert "## Fidelity to the paper's protocol" in report
    # every fold's fit sits in its own sub-run (what a resumed run reloads)
    for name in ("hmcnet", "vgg16", "vit"):
        for fold in (0, 1):
            assert (quick_run / "normal_vs_abnormal" / name / f"fold{fold}" / "fit.json").is_file()
    results = json.loads((quick_run / "results.json").read_text())
    assert {"Abstract", "CAM lesion scores (ours)",
            "Baselines and ablations (ours)"} <= set(results["tables"])
    assert {r["row"] for r in results["tables"]["Abstract"] if r["reproduced"]} <= {"HMC-Net"} | {
        r["row"] for r in results["tables"]["Abstract"] if r["row"].startswith("Friedman")}


def test_metrics_recomputed_with_sklearn(quick_run):
    from mmfusion.data import load_dataset

    metrics = json.loads((quick_run / "metrics.json").read_text())["normal_vs_abnormal"]
    models = metrics["models"]
    assert set(models) == {"hmcnet", "vgg16", "vit"}
    frame = load_dataset("mias", json.loads((quick_run / "config.json").read_text())["data"]["mias"]["root"])
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
    assert hmc_acc[0]["values"] == pytest.approx([f["accuracy"]
                                                  for f in metrics["models"]["hmcnet"]["folds"]])


def test_cams_and_learning_curves(quick_run):
    cams = quick_run / "normal_vs_abnormal" / "hmcnet" / "cams"
    for fold in (0, 1):
        data = np.load(cams / f"cams_fold{fold}.npz")
        info = json.loads((cams / f"cams_fold{fold}.json").read_text())
        assert info["layer"] == "conv5_block3_out"
        assert (cams / f"cams_fold{fold}.png").stat().st_size > 1000
        for method in ("Grad-CAM", "Grad-CAM++", "Score-CAM"):
            assert data[method].shape == (1, 32, 32)
            assert 0.0 <= data[method].min() and data[method].max() <= 1.0
    history = pd.read_csv(quick_run / "normal_vs_abnormal" / "hmcnet" / "history.csv")
    assert sorted(history["fold"].unique()) == [0, 1] and "val_loss" in history
    assert (quick_run / "normal_vs_abnormal" / "hmcnet" / "figures" / "learning_curves.png").is_file()


def _energy(maps, masks):
    return [float((m * k).sum() / m.sum()) if m.sum() > 0 else 0.0 for m, k in zip(maps, masks)]


def _pointing(maps, masks):
    return [float(k.ravel()[np.argmax(m)]) for m, k in zip(maps, masks)]


def test_cam_lesion_scores_and_baselines_recomputed(quick_run):
    """Methods from the saved maps, random maps and the blob from their definitions; the table
    cells pool every fold's lesion films."""
    cams = quick_run / "normal_vs_abnormal" / "hmcnet" / "cams"
    pooled = {}
    for fold in (0, 1):
        data = np.load(cams / f"cams_fold{fold}.npz")
        scores = json.loads((cams / f"cams_fold{fold}.json").read_text())["lesion_scores"]
        keep = data["lesion_masks"].reshape(len(data["lesion_masks"]), -1).any(1)
        if not keep.any():
            assert scores == {}
            continue
        masks = data["lesion_masks"][keep]
        expected = {m: data[m][keep] for m in ("Grad-CAM", "Grad-CAM++", "Score-CAM")}
        seed = 100 * fold                               # the seed policy: seed + 100 * fold
        n, shape = len(data["lesion_masks"]), masks.shape[1:]
        randoms = [np.random.default_rng(seed + s).random((n, *shape))[keep] for s in range(3)]
        rows, cols = np.mgrid[:shape[0], :shape[1]]
        c = (shape[0] - 1) / 2
        blob = np.exp(-(((rows - c) / (0.25 * shape[0])) ** 2 + ((cols - c) / (0.25 * shape[1])) ** 2) / 2)
        expected["centred Gaussian blob"] = np.repeat(blob[None], len(masks), 0)
        for row, maps in expected.items():
            assert scores[row]["energy_in_mask"] == pytest.approx(_energy(maps, masks)), row
            assert scores[row]["pointing_game"] == pytest.approx(_pointing(maps, masks)), row
        random_row = scores["random map (mean of 3 seeds)"]
        assert random_row["energy_in_mask"] == pytest.approx(np.mean([_energy(r, masks) for r in randoms], 0))
        assert random_row["pointing_game"] == pytest.approx(np.mean([_pointing(r, masks) for r in randoms],
                                                                    0))
        for m in ("Grad-CAM", "Grad-CAM++", "Score-CAM"):
            assert all(0 <= v <= 1 for v in scores[f"{m} of a re-initialised model"]["energy_in_mask"])
        for row, metrics in scores.items():
            pooled.setdefault(row, []).extend(metrics["energy_in_mask"])
    assert pooled, "the twin's test folds hold lesion films"
    cells = json.loads((quick_run / "reproduced.json").read_text())["cells"]
    table = {c["row"]: c["values"] for c in cells
             if c["table"] == "CAM lesion scores (ours)" and c["column"] == "energy in mask"}
    assert set(table) == set(pooled) and len(table) == 3 + 2 + 3
    for row, values in pooled.items():
        assert table[row] == pytest.approx(values)
