"""Reproduce Balve & Hendrix 2024 (MIAS CNN; LIME vs Grad-CAM vs Kernel SHAP): the ten retrained
models' test accuracies, the averaged macro / per-class metrics and confusion matrix on the authors'
stratified split and on a patient-grouped split, and our explanation comparison table.

Same options as ``mmfusion reproduce mias-xai``; this script only forwards them to the library.

    python experiments/mias_xai.py --quick                      # synthetic MIAS twin, minutes on CPU
    python experiments/mias_xai.py --data-dir /path/to/mias     # the paper's protocol (GPU: ~1-2 h)
    python experiments/mias_xai.py --data-dir MIAS --set runs=3 --set protocols=stratified
"""
from __future__ import annotations

import argparse
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="MIAS root (Info.txt + all-mias/); default: synthetic twin")
    p.add_argument("--out", default="runs")
    p.add_argument("--quick", action="store_true", help="64 px, 2 epochs, 2 runs, few explanations")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default="none", help="unused: the paper's CNN trains from scratch")
    p.add_argument("--mixed-precision", action="store_true")
    p.add_argument("--jit", action="store_true")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="paper option (a mmfusion.papers.mias_xai.config.MiasConfig field)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmfusion.papers.mias_xai import reproduce
    from mmfusion.registry import ReproduceOptions

    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        extra[key.strip()] = value
    options = ReproduceOptions(paper="mias-xai", data_dir=args.data_dir, out=args.out, quick=args.quick,
                               epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                               weights=None if args.weights.lower() == "none" else args.weights,
                               mixed_precision=args.mixed_precision, jit=args.jit,
                               cache_dir=args.cache_dir, extra=extra)
    run_dir = reproduce(options)
    print((run_dir / "report.md").read_text())
    print(f"run directory: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
