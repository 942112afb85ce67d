"""Paper multimodal-fusion (arXiv:2508.16000, after Vo et al. 2021): CBIS-DDSM mammogram +
clinical fusion by concatenation, co-attention and cross-attention. Importing this package stays
free of TensorFlow."""
from mmfusion.kaggle.kernels import Kernel
from mmfusion.registry import PaperSpec

SPEC = PaperSpec("multimodal-fusion", datasets=("cbis-ddsm",), kernels=(
    Kernel("multimodal-fusion", "Image + clinical fusion on CBIS-DDSM (Tables 1-2, XAI)", "cbis-ddsm",
           archs=("resnet50",), extras={"lime": "lime", "shap": "shap"}),))
