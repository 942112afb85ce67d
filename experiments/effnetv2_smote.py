"""Reproduce the effnetv2-smote paper's tables: EfficientNetV2B0 + SMOTE + ROI on BUSI (Tables 5, 6,
7), breast MRI (Table 4), the ROC-AUC of both (§4 text), split counts, training / inference times,
ROC curves, confusion matrices and Grad-CAM figures.

Same as ``mmfusion reproduce effnetv2-smote`` (this script forwards its arguments to the CLI, which
prints the report and the run directory). ``--data-dir``: the folder holding Dataset_BUSI_with_GT/
and/or "Breast Cancer Patients MRI's"/, default the synthetic twins (a folder holding only one of
them runs that dataset's settings and skips the others, saying which ``--set`` key gives the
missing one); ``--quick``: 32 px, 1 epoch, from scratch, on the twins; ``--weights``: imagenet
(default), none or a local .h5 file; ``--set KEY=VALUE``: a
mmfusion.papers.effnetv2_smote.config.EffnetConfig field, e.g. settings=busi_bm,mri busi_dir=...
mri_dir=... smote_k=5.

    python experiments/effnetv2_smote.py --quick                        # synthetic twins, minutes on CPU
    python experiments/effnetv2_smote.py --data-dir /data               # folder holding both datasets
    python experiments/effnetv2_smote.py --set busi_dir=/data/busi --set settings=busi_bm,busi_bm_nosmote
"""
import sys

from mmfusion.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", "effnetv2-smote", *sys.argv[1:]]))
