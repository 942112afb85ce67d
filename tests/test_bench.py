"""Benchmark harness smoke tests: values checked by hand, never timings."""
import json
import os
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest

from mmfusion.bench import harness

INTEL = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Gold 6140 CPU @ 2.30GHz
cpu MHz\t\t: 1000.000
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw
"""
AMD = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
cpu MHz\t\t: 2596.134
flags\t\t: fpu sse2 avx avx2 fma avx512f
"""
OLD = "model name\t: Some CPU @ 3.00GHz\nflags\t\t: fpu sse2\n"


def test_cpu_peak_by_hand():
    # the named GHz wins over the current clock; AVX-512 = 2 FMA x 16 lanes x 2 = 64 FLOP/cycle
    assert harness.cpu_peak(INTEL, 4)["peak_flops"] == pytest.approx(4 * 2.30e9 * 64)
    # AMD (Zen 4) runs AVX-512 on 256-bit pipes: 32 FLOP/cycle at the reported clock
    assert harness.cpu_peak(AMD, 2)["peak_flops"] == pytest.approx(2 * 2.596134e9 * 32)
    assert harness.cpu_peak(OLD, 1)["peak_flops"] == pytest.approx(3.0e9 * 8)


def test_emit_prints_a_json_line(capsys):
    rec = harness.emit("unit", "case a", img_s=np.float32(12.345678), n=3)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) == {"bench": "unit", "case": "case a", "img_s": 12.35, "n": 3}
    assert rec in harness.RECORDS
    assert "| unit | case a | img_s=12.35, n=3 |" in harness.format_table([rec])


def test_cli_rejects_unknown_bench():
    from mmfusion.bench.__main__ import main

    with pytest.raises(SystemExit) as err:
        main(["nosuchbench"])
    assert err.value.code == 2


def _tiny_model():
    import keras

    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="valid")(inp)
    x = keras.layers.Flatten()(x)
    return keras.Model(inp, keras.layers.Dense(5)(x))


def test_flops_of_a_tiny_model_equal_the_hand_count():
    from mmfusion.bench.flops import graph_flops, hand_flops

    model = _tiny_model()
    # conv: 6x6x4 outputs x (3x3x3 MACs x 2) + 144 bias adds; dense: 144x5 MACs x 2 + 5 bias adds
    by_hand = 6 * 6 * 4 * 27 * 2 + 144 + 144 * 5 * 2 + 5
    assert by_hand == 9365
    assert hand_flops(model) == by_hand
    assert graph_flops(model) == by_hand


def test_naive_gradcam_baseline_computes_the_same_map():
    """The naive baseline must do the same job as mmfusion's GradCAM (a fair comparison)."""
    import keras

    from mmfusion.papers.mias_xai.explain import naive_gradcam
    from mmfusion.xai import GradCAM

    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv")(inp)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inp, keras.layers.Dense(3)(x))   # linear output: same score in both
    images = np.random.default_rng(0).uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    ours = GradCAM(model, layer_name="conv")(images)
    naive = naive_gradcam(model, images, "conv")
    lo = naive.min(axis=(1, 2), keepdims=True)
    span = naive.max(axis=(1, 2), keepdims=True) - lo
    np.testing.assert_allclose(ours, (naive - lo) / span, atol=1e-4)


def test_smote_child_on_the_smallest_case():
    from mmfusion.bench.smote import measure

    counts = (10, 7)   # 17 images of 8 px: SMOTE raises the minority to 10 -> 20 rows
    small = measure(8, "uint8", counts)
    wide = measure(8, "float64", counts)
    assert (small["n_out"], small["out_dtype"]) == (20, "uint8")
    assert (wide["n_out"], wide["out_dtype"]) == (20, "float64")
    assert wide["input_mb"] == pytest.approx(8 * small["input_mb"])
    assert small["input_mb"] == pytest.approx(17 * 8 * 8 * 3 / 2**20)


def test_timings_stage_split(tmp_path):
    from mmfusion.bench.protocol import stage_split

    path = tmp_path / "timings.json"
    path.write_text(json.dumps({"data": 1.5, "training": 30.0, "evaluation": 2.0,
                                "explanations": 10.0, "report": 0.5, "total": 45.0}))
    out = stage_split(path)
    assert out["largest"] == "training" and out["total"] == 45.0
    assert out["other"] == pytest.approx(45.0 - 44.0)
    path.write_text(json.dumps({"data": 1.0, "total": 2.0}))
    with pytest.raises(ValueError, match="lacks .*training"):
        stage_split(path)


def _fake_fit(run, name, epochs, record, finished_at):
    fit = run / name
    fit.mkdir(parents=True)
    rows = "".join(f"{e},0,0.0001,0.5,1.0,0.5,1.0\n" for e in range(epochs))
    (fit / "history.csv").write_text("epoch,phase,learning_rate,accuracy,loss,val_accuracy,val_loss\n" + rows)
    (fit / "fit.json").write_text(json.dumps(record))
    os.utime(fit / "fit.json", (finished_at, finished_at))


def test_protocol_summary_sums_fits_in_finishing_order(tmp_path, capsys):
    from mmfusion.bench import protocol

    run = tmp_path / "mias-xai" / "20240101-000000"
    _fake_fit(run, "stratified-run1", 3, {"best_epoch": 1, "train_seconds": 30.0}, finished_at=2000)
    _fake_fit(run, "stratified-classweight1", 5, {"best_epoch": 4, "train_seconds": 84.0}, finished_at=1000)
    out = protocol.summarise(run, images_per_epoch=1680)
    assert [f["span_seconds"] for f in out["per_fit"]] == [None, 1000] and out["fits_span_seconds"] is None
    (run / "config.json").write_text("{}")                               # the run's start
    os.utime(run / "config.json", (400, 400))
    out = protocol.summarise(run, images_per_epoch=1680)
    assert [f["span_seconds"] for f in out["per_fit"]] == [600, 1000] and out["fits_span_seconds"] == 1600
    assert [f["span_img_s"] for f in out["per_fit"]] == [pytest.approx(5 * 1680 / 600),
                                                         pytest.approx(3 * 1680 / 1000)]
    assert [f["fit"] for f in out["per_fit"]] == ["stratified-classweight1", "stratified-run1"]
    assert (out["fits"], out["epochs"], out["fits_train_seconds"]) == (2, 8, 114.0)
    assert [f["train_img_s"] for f in out["per_fit"]] == [pytest.approx(5 * 1680 / 84),
                                                          pytest.approx(3 * 1680 / 30)]
    assert out["finished"] is False and "training" not in out          # no timings.json yet

    (run / "timings.json").write_text(json.dumps({"data": 1.0, "training": 114.5, "evaluation": 2.0,
                                                  "explanations": 40.0, "report": 0.5, "total": 160.0}))
    _fake_fit(run, "stratified-run2", 2, {"best_epoch": 0}, finished_at=3000)   # fit.json before ccd3519
    out = protocol.summarise(run)
    assert out["finished"] and out["largest"] == "training" and out["other"] == pytest.approx(2.0)
    assert out["fits_train_seconds"] is None and out["per_fit"][-1]["train_seconds"] is None
    assert "train_img_s" not in out["per_fit"][0] and "span_img_s" not in out["per_fit"][0]
    out = protocol.summarise(run, images_per_epoch=protocol.parse_per_epoch("stratified-classweight1=10,x=3"))
    assert [f["images_per_epoch"] for f in out["per_fit"]] == [10, None, None] and out["images"] is None
    _fake_fit(run, "stratified-run3", 4, {"best_epoch": 0, "train_seconds": 8.0, "samples_per_epoch": 6},
              finished_at=4000)                                          # fit.json keeps its own count
    out = protocol.summarise(run, images_per_epoch=1680)
    assert [f["images_per_epoch"] for f in out["per_fit"]] == [1680, 1680, 1680, 6]
    assert out["images"] == (5 + 3 + 2) * 1680 + 4 * 6 and out["per_fit"][-1]["train_img_s"] == 3.0

    assert protocol.main(["--run-dir", str(run)]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["bench"], line["epochs"], line["total"]) == ("protocol", 14, 160.0)
    with pytest.raises(FileNotFoundError, match="no run directory"):
        protocol.newest_run(tmp_path, "hmcnet")


def test_protocol_needs_a_source():
    from mmfusion.bench import protocol

    with pytest.raises(SystemExit):
        protocol.main([])


FAKE_MAIN = '''import json, subprocess, sys
from pathlib import Path
root = Path(__file__).resolve().parents[1]
out = Path(sys.argv[sys.argv.index("--out") + 1])
assert out.is_absolute(), out            # the child runs in the checkout: relative paths would move
run = out / "mias-xai" / "20240101-000000"
(run / "stratified-run1").mkdir(parents=True)
commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
(run / "manifest.json").write_text(json.dumps({"git_commit": commit}))
(run / "config.json").write_text("{}")
(run / "stratified-run1" / "history.csv").write_text("epoch,loss\\n0,1.0\\n1,0.5\\n")
(run / "stratified-run1" / "fit.json").write_text(json.dumps({"best_epoch": 1, "train_seconds": 2.0}))
'''


def _fake_checkout(path):
    """A git checkout whose ``mmfusion`` only writes a one-fit run and its manifest."""
    (path / "mmfusion").mkdir(parents=True)
    (path / "mmfusion" / "__init__.py").write_text("")
    (path / "mmfusion" / "__main__.py").write_text(FAKE_MAIN)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(path)]
    for step in (["init", "-q"], ["add", "."], ["commit", "-qm", "fake"]):
        subprocess.run(git + step, check=True)
    return subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def test_protocol_code_runs_that_checkout(tmp_path, capsys, monkeypatch):
    from mmfusion.bench import protocol

    commit = _fake_checkout(tmp_path / "before")
    here = tmp_path / "main"                          # run from a checkout with its own package,
    (here / "mmfusion").mkdir(parents=True)           # which `python -m` would import before PYTHONPATH
    (here / "mmfusion" / "__init__.py").write_text("")
    monkeypatch.chdir(here)                           # relative --out and --data-dir, made absolute
    assert protocol.main(["--code", "../before", "--data-dir", "twin", "--out", "runs"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["git_commit"], line["fits"], line["epochs"]) == (commit, 1, 2)
    assert f"--out {here / 'runs'}" in line["command"]

    run = here / "runs" / "mias-xai" / "20240101-000000"
    (run / "manifest.json").write_text(json.dumps({"git_commit": "0" * 40}))
    with pytest.raises(SystemExit, match="did not import the checkout"):
        protocol.run_commit(run, tmp_path / "before")
    (tmp_path / "empty").mkdir()                      # no package there: this checkout's would run
    with pytest.raises(SystemExit, match="imports mmfusion from"):
        protocol.main(["--code", str(tmp_path / "empty"), "--data-dir", "twin", "--out", "runs"])


def test_train_timings_fastest_wall_median_cpu_warmup_dropped(monkeypatch):
    """Scripted clocks: the warm-up fit is dropped, images/s is the fastest round, CPU the median."""
    from mmfusion.bench import pipeline

    clock = {"wall": 0.0, "cpu": 0.0}   # the module's own clock only: the real time module stays as it is
    monkeypatch.setattr(pipeline, "time", SimpleNamespace(perf_counter=lambda: clock["wall"],
                                                         process_time=lambda: clock["cpu"]))
    order = []

    class Fake:
        def __init__(self, name, rounds):   # rounds: (wall s, cpu s) per fit, warm-up first
            self.name, self.rounds = name, list(rounds)

        def fit(self, feed, steps_per_epoch, epochs, verbose):
            order.append(self.name)
            wall, cpu = self.rounds.pop(0)
            clock["wall"] += wall
            clock["cpu"] += cpu

    runs = {"a": (Fake("a", [(99, 99), (2.0, 3.0), (1.0, 4.0), (4.0, 8.0)]), None),
            "b": (Fake("b", [(99, 99), (0.5, 1.0), (0.8, 1.6), (0.6, 1.2)]), None)}
    got = pipeline.train_timings(runs, steps=4, batch_size=8, rounds=3)   # 32 images per fit
    assert order == ["a", "b"] * 4
    assert got["a"] == {"img_s": pytest.approx(32 / 1.0), "cpu_ms_per_img": pytest.approx(1000 * 4.0 / 32)}
    assert got["b"] == {"img_s": pytest.approx(32 / 0.5), "cpu_ms_per_img": pytest.approx(1000 * 1.2 / 32)}
    ratios = pipeline.cpu_ratios(got, "b", ("a",))
    assert ratios == {"a_cpu_over_b": pytest.approx(1.2 / 4.0)}
