"""Which build is running (a wheel carries its version and commit in mmfusion/_build.py, written
by setup.py at build time), and the wheels a Kaggle kernel needs attached: mmfusion's own and,
offline, every kernel's extra packages with their dependencies, built for the Kaggle image's Python.

Every pip command goes through ``run`` (None: ``subprocess.check_call``), so tests see the
commands without running pip."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mmfusion.utils.env import build_info  # noqa: F401  (re-exported: mmfusion.kaggle.build_info)

ROOT = Path(__file__).resolve().parents[2]
# manylinux tags a Kaggle image (glibc >= 2.28) installs; newest first
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


def _pip(*args) -> list:
    return [sys.executable, "-m", "pip", *args]


def mmfusion_wheel(out, run=None) -> list:
    """``pip wheel --no-deps`` of this checkout into ``out`` (stamped by setup.py)."""
    out = Path(out)
    (run or subprocess.check_call)(_pip("wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)))
    return sorted(out.glob("mmfusion-*.whl"))


def extra_requirements() -> list:
    from mmfusion.kaggle.kernels import KERNELS

    return sorted({r for k in KERNELS.values() for r in k.all_extras.values()})


def target_options(python_version: str) -> list:
    """pip's options for wheels of another interpreter: CPython ``python_version`` on x86-64 Linux."""
    abi = "cp" + python_version.replace(".", "")
    return ["--python-version", python_version, "--implementation", "cp", "--abi", abi,
            *[a for p in PLATFORMS for a in ("--platform", p)], "--only-binary=:all:"]


def wheel_project(wheel: Path) -> str:
    """The normalised project name of a wheel file ("scikit_learn-1.6.1-..." -> "scikit-learn")."""
    return wheel.name.split("-", 1)[0].lower().replace("_", "-")


def extra_wheels(out, python_version: str | None = None, constraints=None, requirements=None,
                 run=None) -> list:
    """Every kernel's extra packages and their dependencies as wheels for the Kaggle image's Python
    into ``out``. ``constraints``: a pip constraints file (e.g. the image's ``pip freeze``) so the
    versions picked fit the image. What the image ships and the notebooks hold (TensorFlow, NumPy,
    pandas ...) is dropped: it is never installed from here."""
    from mmfusion.kaggle.kernels import KAGGLE_PYTHON, SDIST_ONLY, dist_name
    from mmfusion.kaggle.runtime import HELD

    run = run or subprocess.check_call
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reqs = list(requirements or extra_requirements())
    sdists = [r for r in reqs if dist_name(r).lower() in SDIST_ONLY]
    if sdists:   # pure Python: the wheel built here serves any Python 3; an offline kernel cannot build one
        run(_pip("wheel", "--no-deps", "-q", "-w", str(out), *sdists))
    pinned = ["-c", str(constraints)] if constraints else []
    run(_pip("download", "-q", "-d", str(out), "--find-links", str(out),
             *target_options(python_version or KAGGLE_PYTHON), *pinned, *reqs))
    for wheel in out.glob("*.whl"):
        if wheel_project(wheel) in HELD:
            wheel.unlink()
    return sorted(out.glob("*.whl"))


def build_wheel(out="dist", extras: bool = False, python_version: str | None = None, constraints=None,
                run=None) -> list:
    """``build-wheel``: the mmfusion wheel into ``out``; with ``extras`` also the extra wheels into
    ``out/extra`` (the extra-wheels dataset)."""
    out = Path(out)
    wheels = mmfusion_wheel(out, run)
    if extras:
        wheels += extra_wheels(out / "extra", python_version, constraints, run=run)
    return wheels
