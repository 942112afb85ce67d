"""ft-multicnn kill test: SIGKILL mid-epoch in the second fit of a quick run (the fold-0
FT-MultiCNN), the same command again; the finished CNN fit is reloaded (fit.json untouched) and
metrics.json equals an uninterrupted run's."""
import json

import pytest
from killtest import At, assert_killed, assert_ok, only_run, run_cli, start_python

pytestmark = pytest.mark.slow        # three quick runs: ~2 min on 2 cores

CLI = "from mmfusion.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _args(out, cache):
    return ["reproduce", "ft-multicnn", "--quick", "--out", str(out), "--cache-dir", str(cache),
            "--set", "protocols=lesion"]


def _metrics(run):
    return json.loads((run / "metrics.json").read_text())


def test_killed_quick_run_resumes_and_matches_uninterrupted(tmp_path, twin_cache):
    straight = start_python(CLI, *_args(tmp_path / "straight", tmp_path / "cache-straight"))
    killed = run_cli(_args(tmp_path / "killed", tmp_path / "cache-killed"),
                     kill=At(fit=1, epoch=0, moment="batch"))
    assert_killed(killed)
    run = only_run(tmp_path / "killed", "ft-multicnn")
    finished = run / "lesion-cnn-fold0" / "fit.json"
    stamp = finished.stat().st_mtime_ns
    assert not (run / "lesion-ft_multicnn-fold0" / "fit.json").exists()
    resumed = run_cli(_args(tmp_path / "killed", tmp_path / "cache-killed"))
    assert_ok(resumed)
    assert "continuing lesion-ft_multicnn-fold0" in resumed.stderr or "1 fit done" in resumed.stderr
    assert_ok(straight.wait_done())
    assert only_run(tmp_path / "killed", "ft-multicnn") == run and finished.stat().st_mtime_ns == stamp
    assert _metrics(run) == _metrics(only_run(tmp_path / "straight", "ft-multicnn"))
