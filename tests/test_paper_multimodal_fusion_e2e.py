"""multimodal-fusion end to end: reproduce(quick) on the CBIS twin; run directory checked against
sklearn recomputations from predictions.csv."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

pytest.importorskip("keras")


@pytest.fixture(scope="module")
def run_dir(quick_runs):
    return quick_runs("multimodal-fusion")


def test_run_directory_contents(run_dir):
    for name in ("config.json", "manifest.json", "history.csv", "predictions.csv", "metrics.json",
                 "model.keras", "reproduced.json", "report.md", "results.json", "predictions_all.csv",
                 "timings.json", "figures/shap_clinical_groups.png", "figures/cases_gradcam_lime.png",
                 "DONE"):
        assert (run_dir / name).is_file(), name
    from mmfusion.papers.multimodal_fusion.config import QUICK_ROWS

    for row in QUICK_ROWS:
        assert (run_dir / row / "model.keras").is_file()
    report = (run_dir / "report.md").read_text()
    assert report.count("SYNTHETIC TWIN") >= 4        # title and every table
    assert "Fidelity to the paper's protocol" in report
    results = json.loads((run_dir / "results.json").read_text())
    assert results["synthetic"] is True
    assert {"Table 1", "Table 2", "Table 1 (ours)", "Robustness (ours)",
            "McNemar (ours)"} <= set(results["tables"])


def test_metrics_equal_sklearn_on_predictions(run_dir):
    pred = pd.read_csv(run_dir / "predictions.csv")
    p = pred[["p_0", "p_1"]].to_numpy()
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    y, yhat = pred["y_true"].to_numpy(), p.argmax(1)
    m = json.loads((run_dir / "metrics.json").read_text())
    assert m["best_multimodal"] == "crossattention"
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, yhat))
    assert m["f1"] == pytest.approx(skm.f1_score(y, yhat, zero_division=0))
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y, p[:, 1]))
    # McNemar's table from the two rows' predictions
    both = pd.read_csv(run_dir / "predictions_all.csv")
    right = {k: (g["p_1"].to_numpy() > g["p_0"].to_numpy()) == g["y_true"].to_numpy()
             for k, g in both.groupby("model")}
    from scipy.stats import binomtest, chi2

    a = right["crossattention"]
    assert set(m["mcnemar"]) == set(right) - {"crossattention"}       # every simpler row
    for other, test in m["mcnemar"].items():
        b = right[other]
        assert test["table"] == [[int(np.sum(a & b)), int(np.sum(a & ~b))],
                                 [int(np.sum(~a & b)), int(np.sum(~a & ~b))]]
        n01, n10 = int(np.sum(a & ~b)), int(np.sum(~a & b))
        if test["exact"]:
            expected = 1.0 if n01 + n10 == 0 else binomtest(n01, n01 + n10, 0.5).pvalue
        else:
            expected = chi2.sf((abs(n01 - n10) - 1) ** 2 / (n01 + n10), 1)
        assert test["pvalue"] == pytest.approx(expected)
    cells = json.loads((run_dir / "reproduced.json").read_text())["cells"]
    (claim,) = [c for c in cells if c["table"] == "§III.C.2 text" and c["column"] == "p_value"]
    assert claim["values"] == [pytest.approx(max(t["pvalue"] for t in m["mcnemar"].values()))]


def test_robustness_and_shap_sanity(run_dir):
    m = json.loads((run_dir / "metrics.json").read_text())
    pred = pd.read_csv(run_dir / "predictions.csv")
    # 0% missing and 0 groups missing are the unperturbed test set
    assert m["robustness"]["clinical_absent"]["0%"]["auc"] == pytest.approx(m["auc"])
    assert m["robustness"]["groups_missing"]["0"]["accuracy"] == pytest.approx(m["accuracy"])
    assert set(m["robustness"]["groups_missing"]) == {"0", "1", "2", "3", "4", "5"}
    # a group that is all-zero (its "absent" value) is a null player: SHAP exactly 0
    for case in m["xai"]["cases"].values():
        sid = case["sample_id"]
        assert sid in set(pred["sample_id"])
        zero_groups = ("calc_type", "calc_distribution") if sid.startswith("Mass") else ("mass_shape",
                                                                                         "mass_margins")
        for g in zero_groups:
            assert case["shap_groups"][g] == pytest.approx(0.0, abs=1e-9)
