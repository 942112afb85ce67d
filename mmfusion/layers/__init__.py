"""Serializable Keras layers shared by the papers. Importing this package registers them all
(``keras.saving.load_model`` of a ``.keras`` file that uses them needs that)."""
from mmfusion.layers.attention import CoAttention, CrossAttention  # noqa: F401
from mmfusion.layers.fusion import GMU, MFB, TFN, CoAttentionGate, CrossModalGate, GatedHead, ModalityDropout  # noqa: F401
from mmfusion.layers.hierarchical import (  # noqa: F401
                                    HierarchicalSelfAttention,
                                    MultiScaleCrossAttention,
                                    SpatialSelfAttention,
)
from mmfusion.layers.tokens import ClinicalTokens, ImageTokens  # noqa: F401
