"""Kaggle and Colab notebooks: the kernel table (kernels), the one notebook template (template),
``mmfusion kaggle render`` (render), what a notebook runs (runtime) and the stamped build (build).

``python -m mmfusion.kaggle render --user NAME`` is the same as ``mmfusion kaggle render``.
"""
from __future__ import annotations

from mmfusion.kaggle.build import build_info

__all__ = ["build_info", "main"]


def main(argv=None) -> int:
    """``mmfusion kaggle render | build-wheel``."""
    import argparse

    from mmfusion.kaggle import build, render

    parser = argparse.ArgumentParser(prog="mmfusion kaggle", description="Kaggle / Colab notebooks")
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("render", help="write each kernel folder (notebook + kernel-metadata.json)")
    p.add_argument("--user", default=render.DEFAULT_USER, help="your Kaggle user name (the kernels' owner)")
    p.add_argument("--offline", action="store_true",
                   help="internet off: attach the data, the mmfusion wheel, extra wheels and ImageNet files")
    p.add_argument("--out", help="folder for the kernel folders (default: kaggle_kernels/)")
    p.add_argument("--repo", default=render.GITHUB_REPO,
                   help="GitHub owner/name pip installs mmfusion from online")
    p = sub.add_parser("build-wheel", help="a version- and commit-stamped wheel of this checkout")
    p.add_argument("--out", default="dist")
    p.add_argument("--extras", action="store_true", help="also the kernels' extra packages, into OUT/extra")
    args = parser.parse_args(argv)
    if args.action == "render":
        for meta in render.render(args.user, args.offline, args.out, args.repo):
            print(meta)
    else:
        for wheel in build.build_wheel(args.out, args.extras):
            print(wheel)
    return 0
