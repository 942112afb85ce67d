"""Kill tests: run Python (or the CLI) in a child process and SIGKILL it at a chosen training point.

    from killtest import At, run_cli, assert_killed
    killed = run_cli(["reproduce", "mias-xai", "--quick", "--out", out], kill=At(fit=1, epoch=0))
    assert_killed(killed)
    resumed = run_cli([...same...])            # continues the run: compare with an uninterrupted one

The kill point is armed inside the child by patching ``keras.Model.fit`` (and the checkpoint
writer for ``moment="checkpoint"``); nothing in mmfusion knows about it. Children also pin
``code_version()`` by default: a resume refuses other code, and in a working tree that others
edit meanwhile the source hash would change between the killed run and the rerun.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

ENV = "MMFUSION_KILLTEST"
PIN_ENV = "MMFUSION_KILLTEST_CODE_VERSION"
TIMEOUT = 600


@dataclasses.dataclass(frozen=True)
class At:
    """Where to die. ``fit``: the index among fits this process trains from epoch 0 (fits a resumed
    run reloads or continues are not counted). ``epoch``: 0-based, counted over all phases.
    ``moment``: "epoch_end" (after that epoch's checkpoint is on disk: an epoch boundary),
    "batch" (after batch ``batch`` of that epoch: mid-epoch) or "checkpoint" (while that epoch's
    checkpoint is being written: a torn temporary file is left behind)."""
    fit: int = 0
    epoch: int = 0
    moment: str = "epoch_end"
    batch: int = 1

    def __post_init__(self):
        if self.moment not in ("epoch_end", "batch", "checkpoint"):
            raise ValueError(f"moment must be epoch_end, batch or checkpoint, got {self.moment!r}")


def prelude() -> str:
    """Python that arms the kill point named in $MMFUSION_KILLTEST (put first in a child script)."""
    here = str(Path(__file__).parent)
    return f"import sys; sys.path.insert(0, {here!r}); import killtest; killtest.arm()\n"


def run_python(code: str, *args, kill: At | None = None, env: dict | None = None,
               timeout: float = TIMEOUT, cwd=None,
               pin_code_version: bool = True) -> subprocess.CompletedProcess:
    return start_python(code, *args, kill=kill, env=env, cwd=cwd,
                        pin_code_version=pin_code_version).wait_done(timeout)


def run_cli(argv, kill: At | None = None, env: dict | None = None, timeout: float = TIMEOUT,
            cwd=None, pin_code_version: bool = True) -> subprocess.CompletedProcess:
    """``mmfusion <argv>`` in a child process (exit code = the CLI's)."""
    code = "from mmfusion.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return run_python(code, *argv, kill=kill, env=env, timeout=timeout, cwd=cwd,
                      pin_code_version=pin_code_version)


class Child(subprocess.Popen):
    def wait_done(self, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        try:
            out, err = self.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self.communicate()
            raise AssertionError(f"child timed out after {timeout} s; stderr:\n{err[-3000:]}") from None
        return subprocess.CompletedProcess(self.args, self.returncode, out, err)


def start_python(code: str, *args, kill: At | None = None, env: dict | None = None, cwd=None,
                 pin_code_version: bool = True) -> Child:
    """Start the child without waiting (an uninterrupted reference can run beside a killed run)."""
    child_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MMFUSION_NO_PROGRESS": "1", **(env or {})}
    child_env.pop(ENV, None)
    child_env.pop(PIN_ENV, None)
    if kill is not None:
        child_env[ENV] = json.dumps(dataclasses.asdict(kill))
    if pin_code_version:
        child_env[PIN_ENV] = "killtest"
    return Child([sys.executable, "-c", prelude() + code, *map(str, args)], stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, stdin=subprocess.PIPE, text=True, env=child_env, cwd=cwd)


def only_run(out, paper: str) -> Path:
    """The one run directory a command wrote under ``out/paper`` (a resume must not add a second)."""
    (path,) = (Path(out) / paper).iterdir()
    return path


def assert_killed(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == -9, (f"expected SIGKILL (-9), got exit {proc.returncode}; "
                                   f"the kill point was never reached?\n{proc.stderr[-3000:]}")


def assert_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stderr[-3000:]}"


def result(proc: subprocess.CompletedProcess, tag: str = "RESULT"):
    """The JSON the child printed on a line starting with ``tag``."""
    assert_ok(proc)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(tag)), None)
    assert line is not None, f"no {tag} line in the child's output:\n{proc.stdout[-2000:]}"
    return json.loads(line[len(tag):])


# --- inside the child ----------------------------------------------------------------------------

def arm() -> None:
    if os.environ.get(PIN_ENV):
        from mmfusion.utils import env

        env.code_version = lambda: os.environ[PIN_ENV]
    spec = os.environ.get(ENV)
    if not spec:
        return
    at = At(**json.loads(spec))
    import keras

    from mmfusion.training import checkpoint

    fits = {"started": 0, "current": None}
    original_fit, original_write = keras.Model.fit, checkpoint.write

    def fit(self, *args, **kwargs):
        if kwargs.get("initial_epoch", 0) == 0:     # a fit's first phase, not a resumed one
            fits["current"], fits["started"] = fits["started"], fits["started"] + 1
        if fits["current"] == at.fit and at.moment != "checkpoint":
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _killer(at)]   # after ours
        return original_fit(self, *args, **kwargs)

    def write(directory, epoch, arrays, meta):
        if at.moment == "checkpoint" and fits["current"] == at.fit and epoch == at.epoch:
            _die_mid_write(Path(directory), epoch, arrays)
        return original_write(directory, epoch, arrays, meta)

    keras.Model.fit, checkpoint.write = fit, write


def _killer(at: At):
    import keras

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if at.moment == "batch" and self.epoch == at.epoch and batch == at.batch:
                _die()

        def on_epoch_end(self, epoch, logs=None):
            if at.moment == "epoch_end" and epoch == at.epoch:
                _die()
    return Kill()


def _die_mid_write(directory: Path, epoch: int, arrays: dict) -> None:
    """Leave what a kill during the write leaves: half a temporary file, never renamed."""
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".epoch-{epoch:04d}.staged.npz.killed.npz"
    np.savez(tmp, **arrays)
    with open(tmp, "r+b") as f:
        f.truncate(tmp.stat().st_size // 2)
    _die()


def _die() -> None:
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
