"""What a run record says about the machine: versions, git commit, device."""
from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path


def git_commit(path=None) -> str | None:
    """The checkout's HEAD commit (with '+dirty' when it has local changes), or None outside git."""
    cwd = Path(path or Path(__file__).resolve().parents[2])
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
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    names = []
    for gpu in gpus:
        try:
            names.append(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name))
        except Exception:   # details are best-effort; the device list itself is what matters
            names.append(gpu.name)
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "gpus": names, "device": names[0] if names else "cpu"}


def versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    return {"python": sys.version.split()[0], "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}
