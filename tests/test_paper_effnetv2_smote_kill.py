"""effnetv2-smote kill test: SIGKILL inside the third fit of a quick run (the MRI setting), the same
command again; the two finished BUSI fits are reloaded (fit.json untouched) and metrics.json equals
an uninterrupted run's (wall times live in each setting's timings.json, not in metrics.json)."""
import json

import pytest
from killtest import At, assert_killed, assert_ok, only_run, run_python, start_python

pytestmark = pytest.mark.slow        # three quick runs of three fits: ~3 min on 2 cores

# the code version is pinned: in a working tree that others edit meanwhile, the resume would
# otherwise be (rightly) refused as other code; the identity check has its own tests
CLI = ("import mmfusion.utils.env as env\nenv.code_version = lambda: 'killtest'\n"
       "from mmfusion.cli import main\nsys.exit(main(sys.argv[1:]))\n")
FINISHED = ("busi_bm", "busi_bm_nosmote")


def _args(out, cache):
    return ["reproduce", "effnetv2-smote", "--quick", "--out", str(out), "--cache-dir", str(cache),
            "--set", "settings=busi_bm,busi_bm_nosmote,mri"]


def test_killed_quick_run_resumes_and_matches_uninterrupted(tmp_path, twin_cache):
    straight = start_python(CLI, *_args(tmp_path / "straight", twin_cache))
    killed = run_python(CLI, *_args(tmp_path / "killed", twin_cache),
                        kill=At(fit=2, epoch=0, moment="batch", batch=0))
    assert_killed(killed)
    run = only_run(tmp_path / "killed", "effnetv2-smote")
    done = {name: (run / name / "fit.json").stat().st_mtime_ns for name in FINISHED}
    timings = {name: json.loads((run / name / "timings.json").read_text()) for name in FINISHED}
    assert not (run / "mri" / "fit.json").exists() and not (run / "DONE").exists()
    assert_ok(run_python(CLI, *_args(tmp_path / "killed", twin_cache)))
    assert_ok(straight.wait_done())
    assert only_run(tmp_path / "killed",
                    "effnetv2-smote") == run                        # resumed, not a new run
    assert {n: (run / n / "fit.json").stat().st_mtime_ns for n in done} == done   # not retrained
    # a reloaded fit reports the training time it took, not the reload's
    assert all(json.loads((run / n / "timings.json").read_text())["training_s"] == timings[n]["training_s"]
               for n in FINISHED)
    metrics = [json.loads((r / "metrics.json").read_text())
               for r in (run, only_run(tmp_path / "straight", "effnetv2-smote"))]
    assert metrics[0] == metrics[1]
