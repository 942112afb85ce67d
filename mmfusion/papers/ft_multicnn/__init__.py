"""Paper ft-multicnn (Shimbre & Solanki 2025, ISI 30(5), doi:10.18280/isi.300520): a 128 px
three-block CNN beside a 7-feature patient-metadata branch, fed raw images, Grad-CAM heatmaps or
heatmap overlays, on HAM10000 / ISIC 2019.

``config`` (experiment table, no TensorFlow), ``model`` (§3.5 builders), ``heatmaps`` (§3.3 CAM
inputs, cached by model), ``augment`` (§3.2.3 albumentations), ``reproduction`` (``reproduce``).
"""


def reproduce(options):
    """Run the paper (see papers/ft-multicnn.yaml); returns the run directory."""
    from mmfusion.papers.ft_multicnn.reproduction import reproduce as run

    return run(options)
