"""Which build is running (a wheel carries its version and commit in mmfusion/_build.py, written
by setup.py at build time), and the wheels an offline Kaggle kernel needs attached."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mmfusion.utils.env import build_info  # noqa: F401  (re-exported: mmfusion.kaggle.build_info)

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(out="dist", extras: bool = False) -> list:
    """``pip wheel --no-deps`` of this checkout into ``out`` (stamped by setup.py); with ``extras``
    also every kernel's extra packages, --no-deps, into ``out/extra`` (the extra-wheels dataset)."""
    from mmfusion.kaggle.kernels import KERNELS

    out = Path(out)
    pip = [sys.executable, "-m", "pip"]
    subprocess.check_call([*pip, "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)])
    if extras:
        reqs = sorted({r for k in KERNELS.values() for r in k.all_extras.values()})
        # pip wheel, not download: lime ships only an sdist, and a Kaggle kernel offline cannot build one
        subprocess.check_call([*pip, "wheel", "--no-deps", "-q", "-w", str(out / "extra"), *reqs])
    return sorted(out.rglob("*.whl"))
