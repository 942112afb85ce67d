"""effnetv2-smote end to end on the synthetic twins (quick): run directory contents and sane numbers
recomputed from predictions.csv with sklearn."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm


def _reproduce(tmp_path, twin_cache, settings):
    from mmfusion.experiment import reproduce_paper
    from mmfusion.registry import ReproduceOptions

    options = ReproduceOptions(paper="effnetv2-smote", out=str(tmp_path / "runs"), quick=True,
                               cache_dir=str(twin_cache), extra={"settings": settings})
    return reproduce_paper("effnetv2-smote", options)


def _check_setting(run, key):
    pred = pd.read_csv(run / key / "predictions.csv")
    probs = pred.filter(like="p_").to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    test = pred[pred.split == "test"]
    y, p = test["y_true"].to_numpy(), test.filter(like="p_").to_numpy()
    m = json.loads((run / key / "metrics.json").read_text())
    assert m["macro"]["accuracy"] == pytest.approx(skm.accuracy_score(y, p.argmax(1)))
    assert m["macro"]["recall"] == pytest.approx(skm.recall_score(y, p.argmax(1), average="macro",
                                                                  zero_division=0))
    assert m["macro"]["f1"] == pytest.approx(skm.f1_score(y, p.argmax(1), average="macro", zero_division=0))
    assert m["confusion_matrix"] == skm.confusion_matrix(y, p.argmax(1),
                                                         labels=list(range(p.shape[1]))).tolist()
    if p.shape[1] == 2:   # the printed specificity is binary: the true-negative rate of class 0
        assert m["binary"]["specificity"] == pytest.approx(skm.recall_score(y, p.argmax(1), pos_label=0,
                                                                            zero_division=0))
        assert m["binary"]["auc"] == pytest.approx(skm.roc_auc_score(y, p[:, 1]))
    assert m["counts"]["test"] == len(test) and m["counts"]["val"] == int((pred.split == "val").sum())
    return m


def test_quick_reproduce_busi_headline(quick_runs):
    run = quick_runs("effnetv2-smote", settings="busi_bm,mri")     # the run test_plan checks
    for name in ("config.json", "manifest.json", "history.csv", "predictions.csv", "metrics.json",
                 "model.keras", "reproduced.json", "report.md", "results.json", "DONE",
                 "figures/gradcam_busi_bm.png", "figures/roc_busi_bm.png", "figures/confusion_busi_bm.png"):
        assert (run / name).is_file(), name
    m = _check_setting(run, "busi_bm")
    assert m["counts"]["train_after_smote"] > m["counts"]["train"]
    assert len(set(m["counts"]["train_per_class_after_smote"])) == 1     # SMOTE balanced the classes
    top = json.loads((run / "metrics.json").read_text())
    assert top["averaging"]["specificity"] == "binary" and top["averaging"]["f1"] == "macro"
    assert top["duplicates"]["busi"]["duplicate_images"] == 1
    results = json.loads((run / "results.json").read_text())
    assert results["synthetic"] is True
    sens = [r for r in results["tables"]["Table 5"] if r["row"] == "BUSI B-M"
            and r["column"] == "sensitivity"][0]
    assert sens["paper"] == pytest.approx(0.9924)
    assert sens["reproduced"]["mean"] == pytest.approx(m["macro"]["recall"])
    assert sens["verdict"].startswith("not comparable")
    spec = [r for r in results["tables"]["Table 5"] if r["row"] == "BUSI B-M"
            and r["column"] == "specificity"][0]
    assert spec["reproduced"]["mean"] == pytest.approx(m["binary"]["specificity"])
    auc = [r for r in results["tables"]["§4 Results text"] if r["row"] == "BUSI" and r["column"] == "auc"][0]
    assert auc["reproduced"]["mean"] == pytest.approx(m["binary"]["auc"])
    timings = json.loads((run / "busi_bm" / "timings.json").read_text())
    assert timings["training_s"] > 0 and timings["inference_s_per_image"] == pytest.approx(
        timings["evaluation_s"] / m["counts"]["test"])
    report = (run / "report.md").read_text()
    assert report.count("SYNTHETIC TWIN") >= len(results["tables"])


@pytest.mark.slow
def test_quick_reproduce_all_settings(tmp_path, twin_cache):
    run = _reproduce(tmp_path, twin_cache,
                     "busi_bm,busi_bmn,busi_bm_noroi,busi_bmn_noroi,busi_bm_nosmote,mri")
    for key in ("busi_bm", "busi_bmn", "busi_bm_noroi", "busi_bmn_noroi", "busi_bm_nosmote", "mri"):
        _check_setting(run, key)
    assert (run / "figures" / "gradcam_mri.png").is_file()
    nosmote = json.loads((run / "busi_bm_nosmote" / "metrics.json").read_text())
    assert nosmote["counts"]["train_after_smote"] == nosmote["counts"]["train"]
    assert "trivially separable" in (run / "report.md").read_text()
