"""The wheels a Kaggle kernel needs attached: mmfusion's own (setup.py stamps version and commit in
mmfusion/_build.py) and, offline, the kernels' extras, through pip."""
import subprocess
import sys
from pathlib import Path

from mmfusion.kaggle.kernels import KAGGLE_PYTHON, SDIST_ONLY, dist_name
from mmfusion.utils.env import build_info  # noqa: F401  (re-exported: mmfusion.kaggle.build_info)

ROOT = Path(__file__).resolve().parents[2]
# manylinux tags a Kaggle image (glibc >= 2.28) installs; newest first
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


def _pip(*args) -> None:
    subprocess.check_call([sys.executable, "-m", "pip", *args])


def mmfusion_wheel(out) -> list:
    _pip("wheel", "--no-deps", "-q", "-w", str(out), str(ROOT))
    return sorted(Path(out).glob("mmfusion-*.whl"))


def extra_requirements() -> list:
    from mmfusion.kaggle.kernels import KERNELS

    return sorted({r for k in KERNELS.values() for r in k.all_extras.values()})


def extra_wheels(out, python_version: str = KAGGLE_PYTHON, constraints=None) -> list:
    """The kernels' extra packages and dependencies as wheels for CPython ``python_version`` on
    x86-64 Linux, without the image's held packages (TensorFlow, NumPy ...)."""
    from mmfusion.kaggle.runtime import HELD
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reqs = extra_requirements()
    sdists = [r for r in reqs if dist_name(r).lower() in SDIST_ONLY]
    if sdists:   # pure Python: the wheel built here serves any Python 3; an offline kernel cannot build one
        _pip("wheel", "--no-deps", "-q", "-w", str(out), *sdists)
    target = ["--python-version", python_version, "--implementation", "cp",
              "--abi", "cp" + python_version.replace(".", ""),
              *[a for p in PLATFORMS for a in ("--platform", p)], "--only-binary=:all:"]
    pinned = ["-c", str(constraints)] if constraints else []
    _pip("download", "-q", "-d", str(out), "--find-links", str(out), *target, *pinned, *reqs)
    for wheel in out.glob("*.whl"):
        if wheel.name.split("-", 1)[0].lower().replace("_", "-") in HELD:   # the wheel's project name
            wheel.unlink()
    return sorted(out.glob("*.whl"))
