"""HMC-Net (Fatima et al. 2026): ResNet50 + hierarchical self-attention + multi-scale cross-attention
on MIAS. ``reproduce(options) -> Path``; the model builders live in ``model``, the experiment table
in ``config``. TensorFlow is imported only when a function needs it."""


def reproduce(options):
    from mmfusion.papers.hmcnet.run import reproduce as _reproduce

    return _reproduce(options)
