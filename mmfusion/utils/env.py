"""What a run record says about the machine: versions, git commit, device, code version."""
import functools
import hashlib
import platform
import subprocess
import sys
from pathlib import Path

from mmfusion import __version__
from mmfusion.utils.gpu import gpu_details

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def git_commit(path=None) -> str | None:
    """HEAD commit (+'dirty') of ``path`` (default: mmfusion's own checkout); None outside git."""
    if path is None and not (PACKAGE_DIR.parent / ".git").exists():
        return None
    cwd = Path(path or PACKAGE_DIR.parent)
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def device_info() -> dict:
    """CPU model and the accelerators TensorFlow sees."""
    names = [details.get("device_name", gpu.name) for gpu, details in gpu_details()]
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "gpus": names, "device": names[0] if names else "cpu"}


def versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    return {"python": sys.version.split()[0], "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``<version>[+g<commit>]+src.<hash>``, the hash over the imported mmfusion/**/*.py sources."""
    digest = hashlib.sha256()
    for source in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(f"{source.relative_to(PACKAGE_DIR).as_posix()}\n".encode())
        digest.update(source.read_bytes())
    commit = git_commit()
    git = f"+g{commit.split('+')[0][:12]}" if commit else ""
    return f"{__version__}{git}+src.{digest.hexdigest()[:16]}"


def build_info() -> dict:
    """{"version", "commit", "source"}: from the wheel's stamp (mmfusion/_build.py), else from git."""
    try:
        from mmfusion import _build
    except ImportError:
        return {"version": __version__, "commit": git_commit(), "source": "checkout"}
    return {"version": _build.VERSION, "commit": _build.COMMIT, "source": "wheel"}
