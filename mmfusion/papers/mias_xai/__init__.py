"""Paper mias-xai: Balve & Hendrix 2024, MIAS CNN and LIME vs Grad-CAM vs Kernel SHAP.
Importing this package stays free of TensorFlow."""
from mmfusion.kaggle.kernels import Kernel
from mmfusion.registry import PaperSpec

SPEC = PaperSpec("mias-xai", datasets=("mias",), kernels=(
    Kernel("mias-xai", "Balve & Hendrix 2024: MIAS CNN, LIME vs Grad-CAM vs Kernel SHAP", "mias",
           extras={"lime": "lime", "shap": "shap", "imblearn": "imbalanced-learn",
                   "cv2": "opencv-python-headless", "skimage": "scikit-image"}),))
