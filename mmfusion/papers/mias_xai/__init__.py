"""Paper mias-xai: Balve & Hendrix 2024, MIAS CNN and LIME vs Grad-CAM vs Kernel SHAP.

``reproduce(options)`` lives in ``reproduction.py``; it is imported on call so that importing this
package (and the CLI's ``list``) stays free of TensorFlow.
"""


def reproduce(options):
    """Run the paper (see papers/mias-xai.yaml); returns the run directory."""
    from mmfusion.papers.mias_xai.reproduction import reproduce as run

    return run(options)
