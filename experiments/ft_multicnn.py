"""Reproduce the FT-MultiCNN paper (Shimbre & Solanki 2025, ISI 30(5)): stratified k-fold, grouped by
lesion_id with the image-level split beside it, of the CNN, ResNet50, InceptionV3, MultiCNN and the
heatmap-guided FT-MultiCNN on HAM10000 (or ISIC 2019).

Same as ``mmfusion reproduce ft-multicnn`` (this script forwards its arguments to the CLI, which
prints the report and the run directory). ``--data-dir``: the HAM10000 root (HAM10000_metadata.csv +
image folders), default the synthetic twin; ``--quick``: 48 px, 2 folds, 1 epoch, CNN + FT-MultiCNN
only; ``--weights``: imagenet (default), none, or a folder holding the Keras *_notop.h5 files;
``--set KEY=VALUE``: a mmfusion.papers.ft_multicnn.config.hyperparameters key, or rows=...

    python experiments/ft_multicnn.py --quick                          # HAM10000 twin, minutes on CPU
    python experiments/ft_multicnn.py --data-dir /path/to/ham10000     # the paper's protocol (GPU: hours)
    python experiments/ft_multicnn.py --data-dir HAM --set input=heatmap --set rows=cnn,ft_multicnn
    python experiments/ft_multicnn.py --data-dir ISIC --set dataset=isic2019 --set metadata=full
"""
import sys

from mmfusion.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", "ft-multicnn", *sys.argv[1:]]))
