"""Reproduce Balve & Hendrix 2024 (MIAS CNN; LIME vs Grad-CAM vs Kernel SHAP): the ten retrained
models' test accuracies, the averaged macro / per-class metrics and confusion matrix on the authors'
stratified split and on a patient-grouped split, and our explanation comparison table.

Same as ``mmfusion reproduce mias-xai`` (this script forwards its arguments to the CLI, which prints
the report and the run directory). ``--data-dir``: the MIAS root (Info.txt + all-mias/), default the
synthetic twin; ``--quick``: 64 px, 2 epochs, 2 runs, few explanations; ``--weights`` is unused (the
paper's CNN trains from scratch); ``--set KEY=VALUE``: a mmfusion.papers.mias_xai.config.MiasConfig
field.

    python experiments/mias_xai.py --quick                      # synthetic MIAS twin, minutes on CPU
    python experiments/mias_xai.py --data-dir /path/to/mias     # the paper's protocol (GPU: ~1-2 h)
    python experiments/mias_xai.py --data-dir MIAS --set runs=3 --set protocols=stratified
"""
import sys

from mmfusion.cli import main

if __name__ == "__main__":
    # --weights none first: the CNN has no pretrained weights (a later --weights still wins)
    sys.exit(main(["reproduce", "mias-xai", "--weights", "none", *sys.argv[1:]]))
