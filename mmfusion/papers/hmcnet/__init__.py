"""Paper hmcnet: Fatima et al. 2026, HMC-Net (ResNet50 + hierarchical self-attention + multi-scale
cross-attention) on MIAS, 5-fold CV against baselines and ablations, Friedman + Nemenyi, CAMs.
Importing this package stays free of TensorFlow."""
from mmfusion.kaggle.kernels import Kernel
from mmfusion.registry import PaperSpec

# scikit-posthocs: the Nemenyi post-hoc of the Friedman test (mmfusion.evaluation.stats)
SPEC = PaperSpec("hmcnet", datasets=("mias",), kernels=(
    Kernel("hmcnet", "Fatima et al. 2026: HMC-Net on MIAS, 5-fold CV, Friedman + Nemenyi", "mias",
           archs=("resnet50", "vgg16", "vgg19"), extras={"scikit_posthocs": "scikit-posthocs"}),))
