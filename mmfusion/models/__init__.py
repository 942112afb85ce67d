"""Backbones, the shared classifier and preprocessing. Importing this imports Keras."""
# ruff: noqa: F401
from mmfusion.models.backbones import BACKBONES, BackboneSpec, WeightsError, build_backbone
from mmfusion.models.classifier import backbone_layer_names, build_classifier, classifier_head, mark_backbone
from mmfusion.models.preprocessing import ImagenetPreprocess
from mmfusion.models.vit import build_vit
