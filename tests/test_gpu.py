"""mmfusion.utils.gpu and the CLI switches that reach ReproduceOptions."""
import pytest

from mmfusion import cli
from mmfusion.utils import gpu


@pytest.mark.parametrize("caps, expected", [
    ([(7, 5)], True), ([(8, 0), (7, 0)], True),     # T4, A100 + V100: Tensor Cores everywhere
    ([(6, 0)], False), ([(7, 5), (6, 0)], False),   # a P100 alone or in the mix
    ([], False), ([(0, 0)], False)])                # CPU only; capability not reported
def test_default_mixed_precision(caps, expected):
    assert gpu.default_mixed_precision(caps) is expected


def test_this_cpu_machine_gets_float32():
    assert gpu.compute_capabilities() == [] and gpu.default_mixed_precision() is False
    assert gpu.resolve_mixed_precision(None) is False and gpu.resolve_mixed_precision(True) is True


def test_jit_and_tensorboard(tmp_path):
    assert gpu.jit_compile(False) == "auto" and gpu.jit_compile(True) is True
    assert gpu.tensorboard_callbacks(None) == []
    (cb,) = gpu.tensorboard_callbacks(tmp_path, "fold0")
    assert cb.log_dir == str(tmp_path / "fold0")


def test_cli_switches(monkeypatch):
    seen = {}
    monkeypatch.setattr("mmfusion.experiment.reproduce_paper", lambda name,
                        o: seen.setdefault("o", o) and "x")
    assert cli.main(["reproduce", "mias-xai", "--no-deterministic", "--tensorboard", "tb",
                     "--no-mixed-precision"]) == 0
    o = seen["o"]
    assert (o.deterministic, o.tensorboard, o.mixed_precision, o.jit) == (False, "tb", False, False)
    seen.clear()
    assert cli.main(["reproduce", "mias-xai"]) == 0
    assert (seen["o"].deterministic, seen["o"].tensorboard, seen["o"].mixed_precision) == (None, None, False)
