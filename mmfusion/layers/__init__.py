"""Serializable Keras layers shared by the papers. Importing this package registers them all
(``keras.saving.load_model`` of a ``.keras`` file that uses them needs that)."""
# ruff: noqa: F401
from mmfusion.layers.attention import CoAttention, CrossAttention
from mmfusion.layers.fusion import GMU, MFB, TFN, CoAttentionGate, CrossModalGate, GatedHead, ModalityDropout
from mmfusion.layers.hierarchical import (
    HierarchicalSelfAttention,
    MultiScaleCrossAttention,
    SpatialSelfAttention,
)
from mmfusion.layers.tokens import ClinicalTokens, ImageTokens
