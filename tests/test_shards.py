"""Shards and merge: `--set shard=I/N` trains every N-th fit (and the shared fits its own depend on);
`mmfusion merge` joins the shards into one run whose metrics and report tables equal the unsharded
run's; mixed or incomplete shards are refused by name."""
import json

import pytest

EXTRA = ["--set", "runs=2", "--set", "class_weight_candidates=1,2,3;2,3,4", "--set", "explain_images=2",
         "--set", "per_call_images=1", "--set", "protocols=stratified",      # 2 candidates, 2 runs
         "--set", "epochs=2", "--set", "input_size=32", "--set", "lime_samples=20",
         "--set", "shap_samples=20"]


def _run(argv):
    from mmfusion.cli import main

    assert main(argv) == 0, argv


def _only(out):
    (path,) = (out / "mias-xai").iterdir()
    return path


def _comparable(run):
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["xai"].pop("quality")        # LIME / SHAP maps of the same model, but timings and
    metrics["xai"].pop("baselines")      # re-initialised copies are re-drawn per process
    results = json.loads((run / "results.json").read_text())
    tables = {t: [(r["row"], r["column"], r["reproduced"]) for r in rows] for t,
              rows in results["tables"].items()
              if not t.startswith("Table XAI")}
    return metrics, tables


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, twin_cache):
    """The unsharded run and its two shards (folders whole, s1, s2), run once for this module."""
    out = tmp_path_factory.mktemp("shards")
    common = ["reproduce", "mias-xai", "--quick", "--cache-dir", str(twin_cache), *EXTRA]
    _run([*common, "--out", str(out / "whole")])
    for i in (1, 2):
        _run([*common, "--out", str(out / f"s{i}"), "--set", f"shard={i}/2"])
    return out


def test_two_shards_merge_into_the_unsharded_run(tmp_path, sharded):
    shards = [_only(sharded / f"s{i}") for i in (1, 2)]
    trained = [json.loads((s / "shard.json").read_text())["fits_trained"] for s in shards]
    # the candidates pick the runs' class weight: each shard trains both, then its run
    candidates = ["stratified-classweight1-seed1", "stratified-classweight2-seed1"]
    assert trained == [[*candidates, "stratified-run1"], [*candidates, "stratified-run2"]]
    settings = lambda fit: json.loads((fit / "fit.json").read_text())["settings"]  # noqa: E731
    whole = _only(sharded / "whole")
    assert settings(shards[1] / "stratified-run2") == settings(whole / "stratified-run2")
    assert not (shards[0] / "report.md").exists()              # a shard judges nothing
    from mmfusion.experiment.merge import merge

    merged = merge(shards, tmp_path / "merged")
    assert (merged / "DONE").exists()
    assert _comparable(merged) == _comparable(whole)


def test_merge_refuses_incomplete_or_mixed_shards(tmp_path, sharded, twin_cache):
    from mmfusion.experiment.merge import merge

    first = _only(sharded / "s1")
    with pytest.raises(ValueError, match="missing 2/2"):
        merge([first], tmp_path / "m")
    common = ["reproduce", "mias-xai", "--quick", "--cache-dir", str(twin_cache), *EXTRA]
    _run([*common, "--out", str(tmp_path / "b"), "--set", "shard=2/2", "--seed", "7"])   # another run's shard
    with pytest.raises(ValueError, match="shards of different runs"):
        merge([first, _only(tmp_path / "b")], tmp_path / "m")


def test_bad_shard_option_is_refused_by_name(capsys):
    from mmfusion.cli import main

    assert main(["reproduce", "mias-xai", "--quick", "--set", "shard=3/2"]) == 2
    assert "option shard='3/2': expected I/N" in capsys.readouterr().err
