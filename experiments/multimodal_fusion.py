"""Reproduce the multimodal-fusion paper (arXiv:2508.16000, after Vo et al. 2021): CBIS-DDSM lesion
crops + 36-d clinical vector; Table 1 (image-only / clinical-only / best multimodal, bootstrap CIs,
McNemar), Table 2 (concatenation, co-attention, cross-attention, gated variants, GMU, MFB, TFN),
missing-modality robustness and the XAI figures (Grad-CAM, grouped KernelSHAP, LIME).

Same options as ``mmfusion reproduce multimodal-fusion``; this script only forwards them.

    python experiments/multimodal_fusion.py --quick                        # CBIS twin, minutes on CPU
    python experiments/multimodal_fusion.py --data-dir /path/to/cbis-ddsm  # Kaggle JPEG or TCIA layout (GPU: hours)
    python experiments/multimodal_fusion.py --data-dir CBIS --set rows=concat,coattention,crossattention
    python experiments/multimodal_fusion.py --data-dir CBIS --set labels=4class --set direction="clinical<-image"
"""
from __future__ import annotations

import argparse
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="CBIS-DDSM root (Kaggle csv/ + jpeg/, or the TCIA CSVs + DICOM tree); default: synthetic twin")
    p.add_argument("--out", default="runs")
    p.add_argument("--quick", action="store_true",
                   help="tiny ViT at 32 px, 2 epochs, image-only / clinical-only / cross-attention rows")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default="imagenet",
                   help='"imagenet", "none", or the path of resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5')
    p.add_argument("--mixed-precision", action="store_true")
    p.add_argument("--jit", action="store_true")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="rows=..., labels=binary|4class, or a key of "
                        "mmfusion.papers.multimodal_fusion.reproduction.OVERRIDABLE")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmfusion.papers.multimodal_fusion import reproduce
    from mmfusion.registry import ReproduceOptions

    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        extra[key.strip()] = value
    options = ReproduceOptions(paper="multimodal-fusion", data_dir=args.data_dir, out=args.out,
                               quick=args.quick, epochs=args.epochs, batch_size=args.batch_size,
                               seed=args.seed, weights=None if args.weights.lower() == "none" else args.weights,
                               mixed_precision=args.mixed_precision, jit=args.jit,
                               cache_dir=args.cache_dir, extra=extra)
    run_dir = reproduce(options)
    print((run_dir / "report.md").read_text())
    print(f"run directory: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
