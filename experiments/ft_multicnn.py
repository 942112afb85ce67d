"""Reproduce the FT-MultiCNN paper (Shimbre & Solanki 2025, ISI 30(5)): stratified k-fold, grouped by
lesion_id with the image-level split beside it, of the CNN, ResNet50, InceptionV3, MultiCNN and the
heatmap-guided FT-MultiCNN on HAM10000 (or ISIC 2019).

Same options as ``mmfusion reproduce ft-multicnn``; this script only forwards them to the library.

    python experiments/ft_multicnn.py --quick                          # HAM10000 twin, minutes on CPU
    python experiments/ft_multicnn.py --data-dir /path/to/ham10000     # the paper's protocol (GPU: hours)
    python experiments/ft_multicnn.py --data-dir HAM --set input=heatmap --set rows=cnn,ft_multicnn
    python experiments/ft_multicnn.py --data-dir ISIC --set dataset=isic2019 --set metadata=full
"""
from __future__ import annotations

import argparse
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="HAM10000 root (HAM10000_metadata.csv + image folders); default: synthetic twin")
    p.add_argument("--out", default="runs")
    p.add_argument("--quick", action="store_true", help="48 px, 2 folds, 1 epoch, CNN + FT-MultiCNN only")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default="imagenet",
                   help='"imagenet", "none", or a folder holding the Keras *_notop.h5 files')
    p.add_argument("--mixed-precision", action="store_true")
    p.add_argument("--jit", action="store_true")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="paper option (mmfusion.papers.ft_multicnn.config.hyperparameters key, or rows=...)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmfusion.papers.ft_multicnn import reproduce
    from mmfusion.registry import ReproduceOptions

    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        extra[key.strip()] = value
    options = ReproduceOptions(paper="ft-multicnn", data_dir=args.data_dir, out=args.out, quick=args.quick,
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
