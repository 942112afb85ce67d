"""Paper effnetv2-smote: EfficientNetV2B0 + SMOTE + ROI on BUSI and breast MRI, Grad-CAM.

Modules: ``config`` (paper / quick settings, the settings table, the fidelity table),
``preprocess`` (ROI images, cached decoding, duplicate groups, SMOTE), ``model`` (the classifier),
``pipeline`` (the protocol on the experiment template), ``explain`` (Grad-CAM, ROC and confusion
figures). Importing this package stays free of TensorFlow.
"""

from mmfusion.registry import PaperSpec

SPEC = PaperSpec("effnetv2-smote", datasets=("busi", "breast-mri"))
