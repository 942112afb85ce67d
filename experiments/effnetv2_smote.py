"""Reproduce the effnetv2-smote paper's tables: EfficientNetV2B0 + SMOTE + ROI on BUSI (Tables 5, 6,
7), breast MRI (Table 4), split counts (Table 2), training / inference times, ROC curves, confusion
matrices and Grad-CAM figures.

Same options as ``mmfusion reproduce effnetv2-smote``; this script only forwards them to the library.

    python experiments/effnetv2_smote.py --quick                        # synthetic twins, minutes on CPU
    python experiments/effnetv2_smote.py --data-dir /data               # folder holding both datasets
    python experiments/effnetv2_smote.py --set busi_dir=/data/busi --set settings=busi_bm,busi_bm_nosmote
"""
from __future__ import annotations

import argparse
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="folder holding Dataset_BUSI_with_GT/ and/or \"Breast Cancer Patients MRI's\"/; "
                        "default: synthetic twins")
    p.add_argument("--out", default="runs")
    p.add_argument("--quick", action="store_true", help="32 px, 1 epoch, from scratch, on the twins")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default="imagenet", help='"imagenet", "none" or a local .h5 file')
    p.add_argument("--mixed-precision", action="store_true")
    p.add_argument("--jit", action="store_true")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="paper option (mmfusion.papers.effnetv2_smote.config.Experiment field), "
                        "e.g. settings=busi_bm,mri busi_dir=... mri_dir=... smote_k=5")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmfusion.papers.effnetv2_smote import reproduce
    from mmfusion.registry import ReproduceOptions

    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        extra[key.strip()] = value
    options = ReproduceOptions(paper="effnetv2-smote", data_dir=args.data_dir, out=args.out, quick=args.quick,
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
