"""Paper effnetv2-smote: EfficientNetV2B0 + SMOTE + ROI on BUSI and breast MRI, Grad-CAM.
Importing this package stays free of TensorFlow."""
from mmfusion.kaggle.kernels import Kernel
from mmfusion.registry import PaperSpec

_SMOTE = {"imblearn": "imbalanced-learn"}
SPEC = PaperSpec("effnetv2-smote", datasets=("busi", "breast-mri"), kernels=(
    Kernel("effnetv2-smote-busi", "EfficientNetV2B0 + SMOTE + ROI on BUSI (Tables 4-7)", "busi",
           archs=("efficientnetv2b0",), extras=_SMOTE,
           extra={"settings": "busi_bm,busi_bmn,busi_bm_noroi,busi_bmn_noroi,busi_bm_nosmote"}),
    Kernel("effnetv2-smote-mri", "EfficientNetV2B0 on breast MRI", "breast-mri",
           archs=("efficientnetv2b0",), extras=_SMOTE, extra={"settings": "mri"})))
