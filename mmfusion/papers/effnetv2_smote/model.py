"""The paper's classifier: EfficientNetV2B0 (include_top=False, its own rescaling) -> global
average pooling (1280) -> Dense(n, softmax), one flat graph (Grad-CAM reads ``top_activation``)."""
BACKBONE = "efficientnetv2b0"
LAST_CONV_LAYER = "top_activation"
BACKBONE_PARAMS = 5_919_312   # keras.applications.EfficientNetV2B0(include_top=False)


def expected_params(n_classes: int = 2) -> int:
    return BACKBONE_PARAMS + 1280 * n_classes + n_classes


def build_model(input_size: int = 299, n_classes: int = 2, weights=None):
    from mmfusion.models import build_classifier

    return build_classifier(BACKBONE, (input_size, input_size, 3), n_classes, weights=weights,
                            name=f"effnetv2b0_{n_classes}class")
