"""Reproduce the multimodal-fusion paper (arXiv:2508.16000, after Vo et al. 2021): CBIS-DDSM lesion
crops + 36-d clinical vector; Table 1's framework row and Table 2's five rows (unweighted,
feature-specific, concatenation, co-attention, cross-attention; bootstrap CIs, McNemar of
cross-attention against every simpler row), ours: image-only / clinical-only, gated variants, GMU,
MFB, TFN, missing-modality robustness and the XAI figures (Grad-CAM, grouped KernelSHAP, LIME).

Same as ``mmfusion reproduce multimodal-fusion`` (this script forwards its arguments to the CLI,
which prints the report and the run directory). ``--data-dir``: the CBIS-DDSM root (Kaggle csv/ +
jpeg/, or the TCIA CSVs + DICOM tree), default the synthetic twin; ``--quick``: tiny ViT at 32 px,
2 epochs, six rows; ``--weights``: imagenet (default), none, or the path of
resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5; ``--set KEY=VALUE``: any field of
mmfusion.papers.multimodal_fusion.config.FusionConfig (rows=..., labels=binary|4class, ...).

    python experiments/multimodal_fusion.py --quick                        # CBIS twin, minutes on CPU
    python experiments/multimodal_fusion.py --data-dir /path/to/cbis-ddsm  # Kaggle JPEG or TCIA layout
    python experiments/multimodal_fusion.py --data-dir CBIS --set rows=concat,coattention,crossattention
    python experiments/multimodal_fusion.py --data-dir CBIS --set labels=4class \
        --set direction="clinical<-image"
"""
import sys

from mmfusion.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", "multimodal-fusion", *sys.argv[1:]]))
