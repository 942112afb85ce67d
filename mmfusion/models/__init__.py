"""Backbones, the shared classifier and preprocessing. Importing this imports Keras."""
from mmfusion.models.backbones import BACKBONES, BackboneSpec, WeightsError, build_backbone  # noqa: F401
from mmfusion.models.classifier import backbone_layer_names, build_classifier, classifier_head, mark_backbone  # noqa: F401
from mmfusion.models.preprocessing import ImagenetPreprocess  # noqa: F401
from mmfusion.models.vit import build_vit  # noqa: F401
