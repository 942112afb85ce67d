"""Reproduce the HMC-Net paper's tables (Fatima et al. 2026): 5-fold CV of HMC-Net, its ablations and
the baselines on MIAS (normal vs abnormal, benign vs malignant), Friedman + Nemenyi, CAMs.

Same options as ``mmfusion reproduce hmcnet``; this script only forwards them to the library.

    python experiments/hmcnet.py --quick                     # synthetic MIAS twin, minutes on CPU
    python experiments/hmcnet.py --data-dir /path/to/mias    # the paper's protocol (GPU: hours)
    python experiments/hmcnet.py --data-dir MIAS --set tasks=benign_vs_malignant --set models=hmcnet,resnet50
"""
from __future__ import annotations

import argparse
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="MIAS root (Info.txt + all-mias/); default: synthetic twin")
    p.add_argument("--out", default="runs")
    p.add_argument("--quick", action="store_true", help="tiny input, 2 folds, 1 epoch, a subset of models")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default="imagenet", help='"imagenet", "none" or a local .h5 file')
    p.add_argument("--mixed-precision", action="store_true")
    p.add_argument("--jit", action="store_true")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="paper option (mmfusion.papers.hmcnet.config.Experiment field)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmfusion.papers.hmcnet import reproduce
    from mmfusion.registry import ReproduceOptions

    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        extra[key.strip()] = value
    options = ReproduceOptions(paper="hmcnet", data_dir=args.data_dir, out=args.out, quick=args.quick,
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
