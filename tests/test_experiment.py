"""The experiment template's shared policies, checked by hand: one seed function, the weights
policy, validation before any directory, timings and the headline files of a run."""
import json

import pytest

from mmfusion.experiment.seeds import fit_seed


def test_seed_policy_by_hand():
    assert fit_seed(0) == 0 and fit_seed(0, run=9) == 9           # mias-xai's ten runs: seeds 0..9
    assert fit_seed(7, fold=2) == 207 and fit_seed(7, fold=2, run=3) == 210
    seeds = {fit_seed(0, fold=f, run=r) for f in range(10) for r in range(100)}
    assert len(seeds) == 1000                                      # folds and runs never share a seed
    with pytest.raises(ValueError, match="run index"):
        fit_seed(0, run=100)


def test_weights_policy():
    from mmfusion.experiment.context import Context
    from mmfusion.registry import ReproduceOptions

    def ctx(**kw):
        return Context("x", ReproduceOptions("x", **kw), None, None, {})

    assert ctx(quick=True).weights("resnet50") is None               # quick runs train from scratch
    assert ctx(weights="imagenet").weights("resnet50") == "imagenet"
    assert ctx(weights="imagenet").weights(None) is None             # the paper's own CNN
    full = ctx(weights="/w/resnet.h5")
    assert full.weights("resnet50") == "/w/resnet.h5" and full.unused_weights_note() is None
    unused = ctx(quick=True, weights="/w/resnet.h5")
    unused.weights("resnet50")
    assert "was given but not used (a quick run trains from scratch)" in unused.unused_weights_note()


def test_a_quick_run_records_timings_and_no_consistent_verdict(quick_runs):
    run = quick_runs("mias-xai", runs=1, class_weight_candidates="1,2,3", explain_images=4)  # test_plan's
    timings = json.loads((run / "timings.json").read_text())
    assert set(timings) == {"data", "training", "evaluation", "explanations", "report", "total"}
    assert timings["training"] > 0 and sum(v for k,
                                           v in timings.items() if k != "total") <= timings["total"] * 1.01
    results = json.loads((run / "results.json").read_text())
    verdicts = [r["verdict"] for rows in results["tables"].values() for r in rows]
    assert verdicts and not any(v.startswith("consistent") for v in verdicts)
    identity = json.loads((run / "identity.json").read_text())
    assert identity["config"]["runs"] == 1 and identity["data_fingerprint"]
    assert "QUICK" in (run / "report.md").read_text().splitlines()[0]


def test_a_relabelled_dataset_is_other_data(tmp_path, twin_cache):
    """Editing a label (same image files) changes the run identity, so a resume is refused."""
    import shutil

    from mmfusion.data.synthetic import ensure_twin
    from mmfusion.experiment import reproduce_paper
    from mmfusion.registry import ReproduceOptions

    root = tmp_path / "mias"
    shutil.copytree(ensure_twin("mias", twin_cache / "twins", n=64), root)
    extra = {"runs": 1, "class_weight_candidates": "1,2,3", "sensitivity_weights": "none",
             "explain_images": 1, "per_call_images": 1,
             "protocols": "stratified", "epochs": 1, "input_size": 32, "lime_samples": 20, "shap_samples": 20}
    options = ReproduceOptions("mias-xai", quick=True, out=str(tmp_path / "runs"), data_dir=str(root),
                               extra=extra)
    run = reproduce_paper("mias-xai", options)
    (run / "DONE").unlink()                                   # as if it had been killed
    info = root / "Info.txt"
    lines = info.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if " B " in line)
    lines[i] = lines[i].replace(" B ", " M ")                 # one film relabelled benign -> malignant
    info.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="labels_fingerprint"):
        reproduce_paper("mias-xai", options)
