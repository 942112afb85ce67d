"""Shared fixtures. Session fixtures are per xdist worker, except the quick runs, which all workers
share (quick_runs)."""
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = REPO.parent / "shared" / "data-samples"


@pytest.fixture(scope="session")
def shared_samples():
    """The small real samples beside the checkout; tests that need them skip cleanly without."""
    if not SHARED_SAMPLES.is_dir():
        pytest.skip("../shared/data-samples is not present")
    return SHARED_SAMPLES


@pytest.fixture(scope="session")
def twin_cache(tmp_path_factory):
    """One cache folder for synthetic twins for the whole session (each twin written once)."""
    return tmp_path_factory.mktemp("twins")


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory, twin_cache):
    """``quick_runs(paper, **extra)``: one quick run per paper and ``--set`` options for the whole
    session, shared by every test that reads it (read only: a test that edits a run copies it).
    The xdist workers share them: the first to ask computes it under a lock, the others wait."""
    import fcntl
    import hashlib

    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "quick-runs"
    shared.mkdir(exist_ok=True)

    def get(paper: str, **extra):
        key = hashlib.sha1(repr((paper, sorted(extra.items()))).encode()).hexdigest()[:12]
        done = shared / f"{paper}-{key}.path"
        with open(shared / f"{paper}-{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists():
                from mmfusion.experiment import reproduce_paper
                from mmfusion.registry import ReproduceOptions

                run = reproduce_paper(paper, ReproduceOptions(
                    paper, quick=True, out=str(shared / f"{paper}-{key}"), weights=None,
                    cache_dir=str(twin_cache), extra=dict(extra)))
                done.write_text(str(run))
        return Path(done.read_text())

    return get


@pytest.fixture
def kaggle_env(tmp_path, monkeypatch):
    """/kaggle/input and HOME as tmp folders for the Kaggle runtime tests."""
    inp, home = tmp_path / "input", tmp_path / "home"
    inp.mkdir()
    home.mkdir()
    monkeypatch.setenv("MMFUSION_KAGGLE_INPUT", str(inp))
    monkeypatch.setenv("HOME", str(home))
    return inp, home
