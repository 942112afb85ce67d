"""Paper multimodal-fusion (arXiv:2508.16000, after Vo et al. 2021): CBIS-DDSM mammogram +
clinical fusion by concatenation, co-attention and cross-attention.

``reproduce(options)`` lives in ``reproduction.py``; it is imported on call so that importing this
package (and the CLI's ``list``) stays free of TensorFlow.
"""


def reproduce(options):
    """Run the paper (see papers/multimodal-fusion.yaml); returns the run directory."""
    from mmfusion.papers.multimodal_fusion.reproduction import reproduce as run

    return run(options)
