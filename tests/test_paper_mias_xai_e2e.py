"""mias-xai end to end on the MIAS twin (quick, 1 run, 1 class-weight candidate), plus the
table and agreement helpers against sklearn / scipy / hand-computed numbers."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, precision_score, recall_score

from mmfusion.papers.mias_xai import config as C
from mmfusion.papers.mias_xai import explain as E
from mmfusion.papers.mias_xai import pipeline as T


def test_top_region_and_agreement_hand_computed():
    a = np.arange(100, dtype=float).reshape(10, 10)
    assert E.top_region(a).sum() == 10 and E.top_region(a)[9].all()     # the last row: 90..99
    b = a.copy()
    b[9, :5] = -1                                                          # 5 of the 10 leave the top
    out = E.agreement(a[None], b[None])
    assert out["iou_top10"][0] == pytest.approx(5 / 15)
    from scipy.stats import spearmanr
    assert out["spearman"][0] == pytest.approx(spearmanr(a.ravel(), b.ravel()).statistic)
    assert E.agreement(a[None], np.zeros((1, 10, 10)))["spearman"] == [0.0]


def test_examples_per_class_interleaves_classes():
    from mmfusion.xai import examples_per_class

    labels = np.array([0, 0, 0, 0, 1, 2, 2])
    assert examples_per_class(labels, total=4).tolist() == [0, 4, 5, 1]
    assert sorted(examples_per_class(labels).tolist()) == list(range(7))
    assert examples_per_class(labels, per_class=1).tolist() == [0, 4, 5]
    # eight classes (ISIC 2019): every one covered, never a hard-coded seven
    assert len(examples_per_class(np.arange(8).repeat(2), per_class=1)) == 8
    prefer = np.array([False, False, True, False, False, False, True])
    assert examples_per_class(labels, per_class=1, prefer=prefer).tolist() == [2, 4, 6]


def test_config_options_and_class_weight_parsing():
    from mmfusion.experiment.config import resolve
    from mmfusion.registry import ReproduceOptions

    cfg = resolve(C.MiasConfig, ReproduceOptions("mias-xai", quick=True, epochs=3,
                                          extra={"runs": "4", "class_weight_candidates": "1,2,3;2,3,4"}),
                  "mias-xai")
    assert (cfg.input_size, cfg.epochs, cfg.runs) == (64, 3, 4)
    assert cfg.class_weight_candidates == ({0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 3.0, 2: 4.0})
    full = resolve(C.MiasConfig, ReproduceOptions("mias-xai"), "mias-xai")
    assert (full.input_size, full.epochs, full.batch_size, full.runs, full.learning_rate) == (224, 50, 16, 10,
                                                                                              1e-4)
    with pytest.raises(ValueError, match="no setting 'bogus'"):
        resolve(C.MiasConfig, ReproduceOptions("mias-xai", extra={"bogus": 1}), "mias-xai")
    with pytest.raises(ValueError, match="3 weights"):
        C.parse_class_weights("1,2")


def test_run_metrics_against_sklearn_and_the_papers_matrix():
    # the paper's first model: [[29,1,1],[0,6,3],[1,4,3]] -> accuracy 38/48
    cm = [[29, 1, 1], [0, 6, 3], [1, 4, 3]]
    y = np.repeat([0, 0, 0, 1, 1, 1, 2, 2, 2], np.ravel(cm))
    pred = np.repeat([0, 1, 2] * 3, np.ravel(cm))
    frame = pd.DataFrame({"y_true": y, **{f"p_{c}": (pred == c).astype(float) for c in range(3)}})
    m = T.run_metrics(frame)
    assert m["confusion_matrix"] == cm
    assert m["macro"]["accuracy"] == pytest.approx(38 / 48)
    assert m["macro"]["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred))
    assert m["macro"]["f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["per_class"]["benign"]["precision"] == pytest.approx(6 / 11)
    assert m["majority_accuracy"] == pytest.approx(31 / 48) and m["majority_class"] == "normal"


@pytest.fixture
def quick_run(quick_runs):
    return quick_runs("mias-xai", runs=1, class_weight_candidates="1,2,3", explain_images=4)


def test_quick_run_writes_the_run_directory(quick_run):
    for name in ("config.json", "manifest.json", "history.csv", "predictions.csv", "metrics.json",
                 "model.keras", "reproduced.json", "report.md", "results.json", "xai.json", "DONE",
                 "figures/xai_normal.png", "figures/xai_benign.png", "figures/xai_malignant.png"):
        assert (quick_run / name).is_file(), name
    report = (quick_run / "report.md").read_text()
    assert "SYNTHETIC TWIN" in report and "Table XAI" in report
    results = json.loads((quick_run / "results.json").read_text())
    assert results["synthetic"] is True
    assert {"Table Runs", "Table Metrics", "Table XAI (ours)", "Test set",
            "Table Metrics (ours: patient-grouped split)"} <= set(results["tables"])


def test_quick_run_metrics_match_predictions(quick_run):
    pred = pd.read_csv(quick_run / "predictions.csv")
    probs = pred[["p_0", "p_1", "p_2"]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert set(pred["protocol"]) == {"stratified", "patient"} and set(pred["split"]) == {"val", "test"}
    metrics = json.loads((quick_run / "metrics.json").read_text())
    for protocol in ("stratified", "patient"):
        test = pred[(pred["protocol"] == protocol) & (pred["split"] == "test")]
        y, p = test["y_true"].to_numpy(), test[["p_0", "p_1", "p_2"]].to_numpy().argmax(1)
        got = metrics[protocol]["runs"]["1"]["macro"]
        assert got["accuracy"] == pytest.approx(accuracy_score(y, p))
        assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, p))
        for name, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
            assert got[name] == pytest.approx(fn(y, p, average="macro", labels=[0, 1, 2], zero_division=0))
    manifest = json.loads((quick_run / "manifest.json").read_text())
    assert manifest["skipped"]["preprocessing"]["abnormal_without_coordinates"] == 1   # the twin has one


def test_quick_run_xai_numbers_are_sane(quick_run):
    xai = json.loads((quick_run / "xai.json").read_text())
    assert len(xai["sample_ids"]) == 4
    for method in E.METHODS:
        q = xai["quality"][method]
        assert all(0 <= v <= 1 for v in q["deletion_auc"] + q["insertion_auc"])
        assert all(0 <= v <= 1 for v in q.get("energy_in_mask", []))
        assert all(s > 0 for s in xai["seconds_batched"][method] + xai["seconds_per_call"][method])
    for pair in xai["agreement"].values():
        assert all(-1 <= r <= 1 for r in pair["spearman"]) and all(0 <= v <= 1 for v in pair["iou_top10"])


def test_quick_run_learns_the_twin(quick_run):
    # The twin's lesions are learnable (6 quick epochs): a label or crop mix-up would leave the CNN
    # at chance (1/3 balanced accuracy on 3 classes).
    metrics = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["stratified"]["runs"]["1"]["macro"]["balanced_accuracy"] > 0.6


def test_fixed_weights_retrain_the_sensitivity_weights_beside_them(quick_run):
    """The paper config's path: {1,2,3} fixed, no search fits, the runs retrained with {1,1,1}."""
    metrics = json.loads((quick_run / "metrics.json").read_text())
    info = metrics["protocols"]["stratified"]
    assert info["class_weight"] == {"0": 1.0, "1": 2.0, "2": 3.0} and info["class_weight_search"] is None
    assert set(info["class_weight_sensitivity"]) == {"{1,2,3}", "{1,1,1}"}
    assert "class_weight_sensitivity" not in metrics["protocols"]["patient"] or \
        set(metrics["protocols"]["patient"]["class_weight_sensitivity"]) == set()
    assert (quick_run / "stratified-sensitivity1-run1" / "fit.json").is_file()
    assert not list(quick_run.glob("*classweight*"))
    # the {1,2,3} row is the main runs' test accuracy, recomputed here with sklearn
    pred = pd.read_csv(quick_run / "predictions.csv")
    test = pred[(pred["protocol"] == "stratified") & (pred["split"] == "test")]
    acc = accuracy_score(test["y_true"], test[["p_0", "p_1", "p_2"]].to_numpy().argmax(1))
    assert info["class_weight_sensitivity"]["{1,2,3}"]["accuracy"]["values"] == [pytest.approx(acc)]
    rows = json.loads((quick_run / "results.json").read_text())["tables"]["Class-weight sensitivity (ours)"]
    assert {r["row"] for r in rows} == {"{1,2,3} (chosen)", "{1,1,1}"}


def test_table_runs_compares_the_authors_runs_as_a_sample(quick_run):
    """No run row is paired with the authors' run of the same number; one row compares the samples."""
    from scipy import stats

    rows = json.loads((quick_run / "results.json").read_text())["tables"]["Table Runs"]
    runs = [r for r in rows if r["row"].startswith("run ")]
    assert len(runs) == 10 and all(r["verdict"].startswith("not paired") and r["difference"] is None
                                   for r in runs)
    (sample,) = [r for r in rows if r["row"] == "runs 1-10"]
    authors = [0.792, 0.8125, 0.792, 0.792, 0.833, 0.6875, 0.8125, 0.708, 0.75, 0.771]
    assert sample["paper"] == pytest.approx(np.mean(authors))
    assert f"sd {np.std(authors, ddof=1):.3f}" in sample["note"] and "range 0.688-0.833" in sample["note"]
    assert sample["verdict"].startswith("not comparable")        # synthetic, quick
    ours = sample["reproduced"]["mean"]
    assert sample["difference"]["value"] == pytest.approx(ours - np.mean(authors))
    assert stats.ttest_ind([ours], authors).statistic is not None


def test_class_weight_search_on_the_real_count_twin(tmp_path, twin_cache):
    """The search on a twin with MIAS's class counts: chosen weights, per-seed scores with their
    spread and the rule in metrics.json; the choice and sensitivity rows in the report; the chosen
    one is the highest mean (recomputed from the scores)."""
    from mmfusion.cli import main
    from mmfusion.experiment import planning_context, reproduce_paper
    from mmfusion.registry import ReproduceOptions, get_paper

    data = tmp_path / "data"
    assert main(["fixtures", "--out", str(data), "--dataset", "mias", "--n", "322", "--counts",
                 "207,64,51"]) == 0
    options = ReproduceOptions("mias-xai", quick=True, out=str(tmp_path / "runs"),
                               data_dir=str(data / "mias"),
                               cache_dir=str(twin_cache), extra={
                                   "runs": 1, "class_weight_candidates": "1,1,1;1,2,3",
                                                                 "class_weight_seeds": 2,
                                   "epochs": 2, "input_size": 32, "explain_images": 1, "per_call_images": 1,
                                                                 "protocols": "stratified"})
    experiment = get_paper("mias-xai").experiment()
    planned = [f.name for f in experiment.plan(planning_context(experiment, options)).fits]
    run = reproduce_paper("mias-xai", options)
    assert sorted(p.parent.name for p in run.glob("*/fit.json")) == sorted(planned)
    info = json.loads((run / "metrics.json").read_text())["protocols"]["stratified"]
    assert info["split_sizes"]["test"]["normal"] == 31     # the twin's films differ, its counts are MIAS's
    search = info["class_weight_search"]
    assert "ties" in search["rule"] and set(search["scores"]) == {"{1,1,1}", "{1,2,3}"}
    for s in search["scores"].values():
        assert len(s["per_seed"]) == 2 and s["mean"] == pytest.approx(np.mean(s["per_seed"]))
        assert s["std"] == pytest.approx(np.std(s["per_seed"], ddof=1))
    means = {k: s["mean"] for k, s in search["scores"].items()}
    best = max(means.values())
    chosen = "{" + ",".join(f"{info['class_weight'][c]:g}" for c in "012") + "}"
    assert means[chosen] == best and (chosen == "{1,1,1}" or means["{1,1,1}"] < best)
    assert set(info["class_weight_sensitivity"]) == {"{1,1,1}", "{1,2,3}"}
    report = (run / "report.md").read_text()
    assert "## Class-weight choice (ours)" in report and "## Class-weight sensitivity (ours)" in report
    assert f"| {chosen} (chosen) | validation balanced accuracy |" in report
    assert f"| {chosen} (chosen) | benign recall |" in report


def test_pick_takes_the_best_mean_then_the_smaller_spread_then_the_earlier():
    assert T.pick({0: [0.60, 0.62], 1: [0.70, 0.50], 2: [0.66, 0.64]}) == 2      # means .61 .60 .65
    assert T.pick({0: [0.5, 0.7], 1: [0.6, 0.6]}) == 1                           # tie: spread 0.1 vs 0
    assert T.pick({0: [0.656], 1: [0.656], 2: [0.614]}) == 0                     # tie, no spread: earlier
    assert T.weights_label({0: 1.0, 1: 2.0, 2: 3.0}) == "{1,2,3}"


def test_quick_run_verifies_and_its_first_screen_is_the_summary(quick_run, capsys):
    from mmfusion.evaluation.summary import first_screen
    from mmfusion.evaluation.verify import verify_command

    assert verify_command(str(quick_run)) == 0
    out = capsys.readouterr().out
    assert out.startswith("VERIFIED") and " 0 of " not in out          # derived cells were recomputed
    screen = first_screen((quick_run / "report.md").read_text())
    assert "## Summary" in screen and "**Verdicts**" in screen and "## Table Runs" not in screen
    assert len(screen.splitlines()) < 40
