"""Paper mias-xai: Balve & Hendrix 2024, MIAS CNN and LIME vs Grad-CAM vs Kernel SHAP.

Modules: ``config`` (paper / quick settings), ``preprocess`` (the authors' film preprocessing,
x16 augmentation, cached crops), ``model`` (the CNN), ``pipeline`` (the protocol on the
experiment template), ``explain`` (the explanation comparison). Importing this package stays free
of TensorFlow.
"""


def reproduce(options):
    """Run the paper (papers/mias-xai.yaml); returns the run directory."""
    from mmfusion.experiment import reproduce_paper

    return reproduce_paper("mias-xai", options)
