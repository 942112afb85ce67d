"""multimodal-fusion kill test: SIGKILL inside the third fit of a quick run, the same command
again; the two finished fits are reloaded (fit.json untouched) and metrics.json equals an
uninterrupted run's (timings aside)."""
import json
import shutil
from pathlib import Path

import pytest
from killtest import At, assert_killed, assert_ok, only_run, run_cli, start_python

pytestmark = pytest.mark.slow        # three quick runs: ~3 min on 2 cores

CLI = "from mmfusion.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _args(out, cache):
    return ["reproduce", "multimodal-fusion", "--quick", "--out", str(out), "--cache-dir", str(cache)]


def _metrics(run):
    m = json.loads((run / "metrics.json").read_text())
    m["xai"].pop("gradcam_seconds_per_image", None)      # wall time, never equal
    return m


def _snapshot(tmp_path) -> dict:
    """A frozen copy of the sources: the shared working tree may change between the two runs, and
    a resume rightly refuses another code version."""
    repo = Path(__file__).resolve().parents[1]
    src = tmp_path / "src"
    for name in ("mmfusion", "papers"):
        shutil.copytree(repo / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    return {"env": {"PYTHONPATH": str(src)}, "cwd": src}


def test_killed_quick_run_resumes_and_matches_uninterrupted(tmp_path, twin_cache):
    frozen = _snapshot(tmp_path)
    straight = start_python(CLI, *_args(tmp_path / "straight", twin_cache), **frozen)
    killed = run_cli(_args(tmp_path / "killed", twin_cache), kill=At(fit=2, epoch=1, moment="batch"),
                     **frozen)
    assert_killed(killed)
    run = only_run(tmp_path / "killed", "multimodal-fusion")
    done = {name: (run / name / "fit.json").stat().st_mtime_ns for name in ("image_only", "clinical_only")}
    assert not (run / "unweighted" / "fit.json").exists() and not (run / "DONE").exists()
    assert_ok(run_cli(_args(tmp_path / "killed", twin_cache), **frozen))
    assert_ok(straight.wait_done())
    assert only_run(tmp_path / "killed",
                    "multimodal-fusion") == run                        # resumed, not a new run
    assert {n: (run / n / "fit.json").stat().st_mtime_ns for n in done} == done   # not retrained
    assert _metrics(run) == _metrics(only_run(tmp_path / "straight", "multimodal-fusion"))
