"""setup.cfg holds the metadata; this only stamps a built wheel with its version and git commit
(mmfusion/_build.py, read by mmfusion.kaggle.build_info), so a run from a wheel names its build."""
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _commit():
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty else "") if head.returncode == 0 else None


class StampedBuildPy(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):   # an editable install reads git at run time
            return
        version = self.distribution.get_version()
        target = Path(self.build_lib) / "mmfusion" / "_build.py"
        target.write_text(f'"""Written at build time by setup.py."""\nVERSION = {version!r}\nCOMMIT = {_commit()!r}\n')


setup(cmdclass={"build_py": StampedBuildPy})
