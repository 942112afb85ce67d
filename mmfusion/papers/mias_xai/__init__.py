"""Paper mias-xai: Balve & Hendrix 2024, MIAS CNN and LIME vs Grad-CAM vs Kernel SHAP.

Modules: ``config`` (paper / quick settings), ``preprocess`` (the authors' film preprocessing,
x16 augmentation, cached crops), ``model`` (the CNN), ``pipeline`` (the protocol on the
experiment template), ``explain`` (the explanation comparison). Importing this package stays free
of TensorFlow.
"""

from mmfusion.registry import PaperSpec

SPEC = PaperSpec("mias-xai", datasets=("mias",))
