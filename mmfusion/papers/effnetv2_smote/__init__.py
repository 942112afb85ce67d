"""effnetv2-smote: EfficientNetV2B0 + SMOTE + ROI extraction on BUSI and breast MRI, Grad-CAM.

``reproduce(options) -> Path``; the settings table lives in ``config``, the ROI images in
``preprocess``, the model in ``model``. TensorFlow is imported only when a function needs it.
"""


def reproduce(options):
    from mmfusion.papers.effnetv2_smote.run import reproduce as _reproduce

    return _reproduce(options)
