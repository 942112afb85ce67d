"""hmcnet kill test: SIGKILL inside the third fit of a quick run (VGG16, fold 0), the same command
again; HMC-Net's two finished fold fits are reloaded (fit.json untouched) and metrics.json equals an
uninterrupted run's."""
import json

import pytest
from killtest import At, assert_killed, assert_ok, only_run, run_cli, start_python

pytestmark = pytest.mark.slow        # three quick runs: ~3 min on 2 cores

CLI = "from mmfusion.cli import main\nsys.exit(main(sys.argv[1:]))\n"
FINISHED = ("normal_vs_abnormal/hmcnet/fold0", "normal_vs_abnormal/hmcnet/fold1")


def _args(out, cache):
    return ["reproduce", "hmcnet", "--quick", "--out", str(out), "--cache-dir", str(cache)]


def test_killed_quick_run_resumes_and_matches_uninterrupted(tmp_path, twin_cache):
    straight = start_python(CLI, *_args(tmp_path / "straight", twin_cache))
    killed = run_cli(_args(tmp_path / "killed", twin_cache), kill=At(fit=2, epoch=0, moment="batch"))
    assert_killed(killed)
    run = only_run(tmp_path / "killed", "hmcnet")
    done = {name: (run / name / "fit.json").stat().st_mtime_ns for name in FINISHED}
    assert not (run / "normal_vs_abnormal/vgg16/fold0/fit.json").exists() and not (run / "DONE").exists()
    assert_ok(run_cli(_args(tmp_path / "killed", twin_cache)))
    assert_ok(straight.wait_done())
    assert only_run(tmp_path / "killed", "hmcnet") == run                        # resumed, not a new run
    assert {n: (run / n / "fit.json").stat().st_mtime_ns for n in done} == done   # not retrained
    metrics = [json.loads((r / "metrics.json").read_text())
               for r in (run, only_run(tmp_path / "straight", "hmcnet"))]
    assert metrics[0] == metrics[1]
