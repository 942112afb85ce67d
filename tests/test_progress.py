"""The per-fit progress line: its numbers from scripted clocks (no timing in the test)."""
import io

import pytest

from mmfusion.experiment import progress as P


class _Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture()
def clock(monkeypatch):
    c = _Clock()
    monkeypatch.setattr(P.time, "perf_counter", c)
    return c


def _epochs(cb, clock, n, seconds, epochs):
    cb.params = {"epochs": epochs}
    cb.on_train_begin()
    for e in range(n):
        cb.on_epoch_begin(e)
        clock.t += seconds
        cb.on_epoch_end(e)
    cb.on_train_end()
    cb.finished()


def test_line_per_fit_with_the_run_left(clock):
    out = io.StringIO()
    run = P.RunProgress(4, out)
    # fit 1: 10 epochs of 30 s, early-stopped at epoch 10 of 50: one line at 60 s steps, one at the end
    _epochs(run.callback(0, "stratified-run1"), clock, 10, 30.0, 50)
    lines = out.getvalue().splitlines()
    # at epoch 2: this fit's 48 epochs left x 30 s, then 3 fits projected at 50 x 30 s: 5,940 s
    assert lines[0] == "fit 1/4 stratified-run1: epoch 2/50, 1.0 min, about 1.6 h left in the run"
    assert len(lines) == 6           # epochs 2, 4, 6, 8, 10 (60 s apart), then the end line
    assert lines[-1] == "fit 1/4 stratified-run1: epoch 10/50, 5.0 min, about 15.0 min left in the run"
    # at its end: 3 later fits at this fit's 300 s = 15 min
    # fit 2 runs to its cap: 2 later fits at the mean of 300 s and 20 s
    out.truncate(0), out.seek(0)
    _epochs(run.callback(1, "stratified-run2"), clock, 2, 10.0, 2)
    assert out.getvalue().splitlines() == ["fit 2/4 stratified-run2: epoch 2/2, 20 s, about 5.3 min left in "
                                           "the run"]


def test_the_last_fit_says_so_and_an_unplanned_run_gives_no_estimate(clock):
    out = io.StringIO()
    _epochs(P.RunProgress(1, out).callback(0, "only"), clock, 1, 5.0, 1)
    assert out.getvalue() == "fit 1/1 only: epoch 1/1, 5 s, the run's last fit\n"
    out = io.StringIO()
    _epochs(P.RunProgress(None, out).callback(2, "x"), clock, 1, 5.0, 1)
    assert out.getvalue() == "fit 3 x: epoch 1/1, 5 s\n"
