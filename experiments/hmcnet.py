"""Reproduce the HMC-Net paper's tables (Fatima et al. 2026): 5-fold CV of HMC-Net, its ablations and
the baselines on MIAS (normal vs abnormal, benign vs malignant), Friedman + Nemenyi, CAMs.

Same as ``mmfusion reproduce hmcnet`` (this script forwards its arguments to the CLI, which prints
the report and the run directory). ``--data-dir``: the MIAS root (Info.txt + all-mias/), default the
synthetic twin; ``--quick``: tiny input, 2 folds, 1 epoch, a subset of models; ``--weights``:
imagenet (default), none, a local .h5 file or a folder of Keras ``*_notop.h5`` files (ResNet50,
VGG16, VGG19); ``--set KEY=VALUE``: a mmfusion.papers.hmcnet.config.HmcConfig field.

    python experiments/hmcnet.py --quick                     # synthetic MIAS twin, minutes on CPU
    python experiments/hmcnet.py --data-dir /path/to/mias    # the paper's protocol (GPU: hours)
    python experiments/hmcnet.py --data-dir MIAS --set tasks=benign_vs_malignant --set models=hmcnet,resnet50
"""
import sys

from mmfusion.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", "hmcnet", *sys.argv[1:]]))
