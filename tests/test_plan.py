"""`mmfusion plan`: each paper's planned fits are the fits its steps() makes and its planned
explanations what its steps() explain (both checked against one quick run's outputs), the
estimate multiplies out by hand, the CLI prints every share of it."""
import json
import math

import pytest

from mmfusion.experiment import plan as P
from mmfusion.experiment import probe as Q
from mmfusion.training import TrainConfig


def test_training_estimate_and_verdict_by_hand():
    fits = [P.PlannedFit("a", "cnn", None, n_train=100, config=TrainConfig(epochs=3, batch_size=32)),
            P.PlannedFit("b", "cnn", None, n_train=64, config=TrainConfig(epochs=2, batch_size=32))]
    assert [f.steps for f in fits] == [3 * math.ceil(100 / 32), 2 * 2]
    probes = {"cnn": (2.0, 0.5, 0.25)}
    val = [math.ceil(0.2 * 100 / 32), math.ceil(0.2 * 64 / 32)]          # validation steps per epoch
    by_hand = (2.0 + 11 * 0.5 + 3 * (val[0] * 0.5 / 3 + 0.25)) + (2.0 + 3 * 0.5 + 2
                                                                  * (val[1] * 0.5 / 3 + 0.25))
    assert P.training_seconds(fits, probes) == pytest.approx(by_hand)
    # a later fit of the architecture pays the later fixed cost (0.5 s) instead of the first's
    assert P.training_seconds(fits, {"cnn": (2.0, 0.5, 0.25, 0.5)}) == pytest.approx(by_hand - 1.5)
    assert "fits one 12 h" in P.verdict(3600) and "does NOT fit" in P.verdict(13 * 3600)
    assert "(1.00 h estimated; 3 % of Kaggle's 30 h weekly GPU quota)" in P.verdict(3600)
    assert "run it in 3 shards, --set shard=1/3 ... shard=3/3" in P.verdict(25 * 3600)   # 25 h / 10.8 h
    assert "2 fits x <= 2/3 epochs x 64/100 images" in P.describe(fits)


def test_whole_run_estimate_by_hand():
    """Every share from given probe figures: start, data, training, evaluation (forward calls and
    figures), explanations (calls, segmentation, sampler work, CAM passes and traces, predict traces,
    models built, figures, imports), the report constant."""
    fit = P.PlannedFit("a", "cnn", None, n_train=64, config=TrainConfig(epochs=1, batch_size=32),
                       n_predict=100, predict_batch=64, figures=2)
    lime = P.PlannedExplanation("LIME", "cnn", 4, 32, calls=((2, 64),), segment=True, samples=100,
                                sampler="lime",
                                libraries=("lime",))
    cam = P.PlannedExplanation("Grad-CAM", "cnn", 4, 32, cam="GradCAM", cam_batch=4, traces=2, models=1,
                               figures=1, panels=8)
    styled = P.PlannedExplanation("LIME (per-call style)", "cnn", 1, 32, calls=((10, 10),), predict=True,
                                  traces=1)
    plan = P.Plan([fit], (lime, cam, styled), bootstraps=((3, "auc", 100, 50, "binary"),))
    probe = P.Probe(fits={"cnn": (2.0, 0.5, 0.25)}, start=4.0, data=0.3, build={"cnn": 0.7},
                    forward={("cnn", 64, False): (0.2, 0.1), ("cnn", 10, True): (1.5, 0.05)},
                    cam={P.cam_key(cam): (0.9, 0.01)}, segment={32: 0.02}, sample={("lime", 32): 0.001},
                    figure=(0.5, 0.1, 0.02), evaluation_figure=0.3, imports={"lime": 0.15},
                    bootstrap={("auc", 100, 50, "binary"): 0.2})
    parts = P.estimate(plan, probe)
    training = 2.0 + (2 - 1) * 0.5 + 1 * (math.ceil(0.2 * 64 / 32) * 0.5 / 3 + 0.25)   # 2 steps, 1 epoch
    evaluation = 2 * 0.1 + 2 * 0.3 + 3 * 0.2                 # ceil(100 / 64) calls, two figures, 3 CIs
    explanations = (4
                    * (2 * 0.1 + 0.02 + 100 * 0.001)                   # LIME: calls, quickshift, its own work
                    + 4 * 0.01 + 2 * 0.9 + 0.7 + 0.1 + 8
                    * 0.02          # CAM: passes, traces, a model, a figure
                    + 1 * 10 * 0.05 + 1 * (1.5 - 0.05)                   # model.predict calls and its trace
                    + 0.15
                    + 0.5)                                        # lime's import, pyplot's first figure
    assert parts == pytest.approx({"start": 4.0, "data": 0.3, "training": training, "evaluation": evaluation,
                                   "explanations": explanations, "report": P.REPORT_SECONDS,
                                   "exit": P.EXIT_SECONDS,
                                   "total": 4.0 + 0.3 + training + evaluation + explanations
                                   + P.REPORT_SECONDS
                                   + P.EXIT_SECONDS})
    assert P.forward_keys(plan) == {("cnn", 64, False), ("cnn", 10, True)}
    text = P.breakdown(plan, probe, parts)
    for share in ("process start + imports", "data", "training", "evaluation", "explanations", "report",
                  "process exit", "total"):
        assert share in text
    assert "fits one 12 h" in text


def test_the_probe_measures_what_the_plan_needs():
    """A tiny CNN's plan through the real probe: every forward key, CAM, segmentation size, sampler,
    figure and bootstrap the estimate reads is measured (positive), and the estimate has every share."""
    import keras

    def build():
        inputs = keras.Input((32, 32, 3))
        x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))

    from mmfusion.data import augment

    config = TrainConfig(epochs=1, batch_size=4, augment=augment.random_flip(horizontal=True))
    fit = P.PlannedFit("a", "tiny", build, n_train=8, config=config, n_predict=8, predict_batch=4,
                       figures=1)   # augmented: its step is a real fit's
    plan = P.Plan([fit],
                  (P.PlannedExplanation("LIME", "tiny", 1, 32, calls=((1, 8),), segment=True, samples=8,
                                               sampler="lime", libraries=("lime",)),
                          P.PlannedExplanation("Grad-CAM", "tiny", 2, 32, cam="GradCAM", cam_batch=2,
                                               traces=1,
                                               cam_options=(("layer_name", "conv"),), figures=1, panels=4)),
                  bootstraps=((2, "auc", 20, 30, "binary"),))
    probe = Q.probe(plan, steps=1)
    assert set(probe.forward) == P.forward_keys(plan) and set(probe.cam) == {P.cam_key(plan.explanations[1])}
    assert probe.segment[32] > 0 and ("lime", 32) in probe.sample and probe.evaluation_figure > 0
    # a 1 x 1 grid
    assert probe.figure[1] >= 0 and probe.figure[2] >= 0 and probe.figure[1] + 2 * probe.figure[2] > 0
    assert probe.bootstrap[("auc", 20, 30, "binary")] > 0
    assert len(probe.fits["tiny"]) == 4 and probe.fits["tiny"][1] > 0
    parts = P.estimate(plan, probe)
    assert all(parts[k] > 0 for k in ("training", "evaluation", "explanations", "total"))


def _explained(paper, run, sources) -> dict:
    """{method: images explained} and the explanation figures, read from a finished run's files."""
    out, figures = {}, 0

    def add(method, n):
        out[method] = out.get(method, 0) + n

    if paper == "mias-xai":
        xai = json.loads((run / "xai.json").read_text())
        n = len(xai["sample_ids"])
        for method in xai["seconds_batched"]:
            add(method, n)
        for row in xai["baselines"]:
            if "re-initialised" in row:
                add(row, len(xai["baselines"][row]["deletion_auc"]))
        for method, seconds in xai["seconds_per_call"].items():
            add(f"{method} (per-call style)", len(seconds))
        # curves of every scored map set; the random row averages 3 seeds' sets
        add("deletion / insertion curves", n * (len(xai["quality"]) + len(xai["baselines"]) + 2))
        figures = len(list((run / "figures").glob("xai_*.png")))
    elif paper == "hmcnet":
        for path in run.rglob("cams_fold*.json"):
            cams = json.loads(path.read_text())
            for method in cams["seconds_per_image"]:
                add(method, len(cams["sample_ids"]))
            for row in cams["lesion_scores"]:
                if "re-initialised" in row:
                    add(row, len(cams["sample_ids"]))
        figures = len(list(run.rglob("cams_fold*.png")))
    elif paper == "effnetv2-smote":
        for path in run.rglob("metrics.json"):
            metrics = json.loads(path.read_text())
            if "gradcam" in metrics:
                add("Grad-CAM", len(metrics["gradcam"]["sample_ids"]))
        figures = len(list((run / "figures").glob("gradcam_*.png")))
    elif paper == "ft-multicnn":
        cams = json.loads((run / "cams.json").read_text())
        add("Grad-CAM", len(cams) * len(next(iter(sources.values())).frame))   # every image, per fold
        figures = len(list((run / "figures").glob("cam_inputs_*.png")))
    elif paper == "multimodal-fusion":
        xai = json.loads((run / "metrics.json").read_text())["xai"]
        add("Kernel SHAP (clinical groups)", xai["shap_cases"] + len(xai["cases"]))
        for method in ("Grad-CAM", "LIME tabular", "LIME image"):
            add(method, len(xai["cases"]))
        figures = sum(len(list((run / "figures").glob(g))) for g in ("shap_*.png", "case*.png"))
    return {k: v for k, v in out.items() if v}, figures


QUICK_RUNS = [("mias-xai", {"runs": 1, "class_weight_candidates": "1,2,3", "explain_images": 4}),
              ("ft-multicnn", {}), ("hmcnet", {}), ("effnetv2-smote", {"settings": "busi_bm,mri"}),
              ("multimodal-fusion", {})]


@pytest.mark.parametrize("paper, extra", QUICK_RUNS)
def test_plan_matches_what_a_quick_run_does(paper, extra, tmp_path, twin_cache, quick_runs):
    """One quick run per paper (shared with its end-to-end tests): its fit.json files are the
    planned fits, and what it explained (methods, images, explanation figures) is the planned
    explanation work."""
    from mmfusion.experiment import planning_context
    from mmfusion.registry import ReproduceOptions, get_paper

    options = ReproduceOptions(paper, quick=True, out=str(tmp_path), cache_dir=str(twin_cache), weights=None,
                               extra=extra)
    experiment = get_paper(paper).experiment()
    ctx = planning_context(experiment, options)
    plan, sources = experiment.plan(ctx), ctx.sources
    run = quick_runs(paper, **extra)
    trained = {str(p.parent.relative_to(run)) for p in run.rglob("fit.json")}
    assert {f.name for f in plan.fits} == trained
    declared = {}
    for e in plan.explanations:
        if e.images:
            declared[e.method] = declared.get(e.method, 0) + e.images
    explained, figures = _explained(paper, run, sources)
    assert declared == explained
    assert sum(e.figures for e in plan.explanations) == figures


def test_plan_command_prints_the_trainings(capsys):
    from mmfusion.cli import main

    assert main(["plan", "mias-xai", "--no-probe"]) == 0
    out = capsys.readouterr().out
    assert "mias-xai: 30 trainings" in out            # 2 protocols x 10 runs + 10 sensitivity runs
    assert "explanations: Grad-CAM x 6; LIME x 6" in out     # all 6 test crops of the default 40-film twin


def test_plan_of_a_shard_counts_that_shards_fits(capsys):
    """--set shard=I/N: the fits dealt to that shard (round-robin in steps() order) and the shared
    search fits it needs; no explanations (the merge explains)."""
    from mmfusion.cli import main

    search = ["--set", "class_weight_candidates=1,1,1;1,2,3", "--set", "class_weight_seeds=1"]
    assert main(["plan", "mias-xai", "--no-probe", "--set", "shard=2/3"]) == 0
    out = capsys.readouterr().out
    # 30 dealt fits, every third from the second: 10
    assert "mias-xai shard 2/3: 10 trainings" in out and "explanations" not in out
    assert main(["plan", "mias-xai", "--no-probe", "--set", "shard=1/2", *search]) == 0
    out = capsys.readouterr().out
    # 4 shared candidates (2 per protocol) + 10 of the 20 runs
    assert "mias-xai shard 1/2: 14 trainings" in out
