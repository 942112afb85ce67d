"""`mmfusion plan`: each paper's planned fits are the fits its steps() makes (names checked against
the fit.json files of a quick run), the estimate multiplies out by hand, the CLI prints it."""
import math

import pytest

from mmfusion.experiment import plan as P


def test_estimate_and_verdict_by_hand():
    fits = [P.PlannedFit("a", "cnn", None, n_train=100, epochs=3, batch_size=32),
            P.PlannedFit("b", "cnn", None, n_train=64, epochs=2, batch_size=32)]
    assert [f.steps for f in fits] == [3 * math.ceil(100 / 32), 2 * 2]
    probes = {"cnn": (2.0, 0.5, 0.25)}
    val = [math.ceil(0.2 * 100 / 32), math.ceil(0.2 * 64 / 32)]          # validation steps per epoch
    by_hand = (2.0 + 11 * 0.5 + 3 * (val[0] * 0.5 / 3 + 0.25)) + (2.0 + 3 * 0.5 + 2 * (val[1] * 0.5 / 3 + 0.25))
    assert P.estimate(fits, probes) == pytest.approx(by_hand)
    assert "fits one 12 h" in P.verdict(3600) and "does NOT fit" in P.verdict(13 * 3600)
    assert "2 fits x <= 2/3 epochs x 64/100 images" in P.describe(fits)


@pytest.mark.parametrize("paper, extra", [
    ("mias-xai", {"runs": 1, "class_weight_candidates": "1,2,3;2,3,4", "explain_images": 2, "per_call_images": 1,
                  "protocols": "stratified"}),
    ("ft-multicnn", {}),
    ("hmcnet", {}),
    ("effnetv2-smote", {"settings": "busi_bm,mri"}),
    ("multimodal-fusion", {}),
])
def test_planned_fits_are_the_fits_a_quick_run_makes(paper, extra, tmp_path, twin_cache):
    from mmfusion.experiment import prepare, reproduce_paper
    from mmfusion.registry import ReproduceOptions, get_paper

    options = ReproduceOptions(paper, quick=True, out=str(tmp_path), cache_dir=str(twin_cache), weights=None,
                               extra=extra)
    experiment = get_paper(paper).experiment()
    cfg, sources, _ = prepare(experiment, options)
    planned = {f.name for f in experiment.plan(cfg, sources)}
    run = reproduce_paper(paper, options)
    trained = {str(p.parent.relative_to(run)) for p in run.rglob("fit.json")}
    assert planned == trained


def test_plan_command_prints_the_trainings(capsys):
    from mmfusion.cli import main

    assert main(["plan", "mias-xai", "--no-probe"]) == 0
    out = capsys.readouterr().out
    assert "mias-xai: 26 trainings" in out            # 2 protocols x (3 class-weight fits + 10 runs)
