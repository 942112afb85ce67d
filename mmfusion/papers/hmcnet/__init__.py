"""Paper hmcnet: Fatima et al. 2026, HMC-Net (ResNet50 + hierarchical self-attention + multi-scale
cross-attention) on MIAS, 5-fold CV against baselines and ablations, Friedman + Nemenyi, CAMs.

Modules: ``config`` (paper / quick settings, fidelity table), ``model`` (HMC-Net, ablations,
baselines), ``preprocess`` (cached films, task relabelling), ``pipeline`` (the protocol on the
experiment template), ``explain`` (CAMs scored against the lesion circles, with baselines).
Importing this package stays free of TensorFlow.
"""

from mmfusion.registry import PaperSpec

SPEC = PaperSpec("hmcnet", datasets=("mias",))
