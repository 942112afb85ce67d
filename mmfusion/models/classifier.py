"""The shared image classifier: flat backbone + pooling + optional hidden layers + output."""
import keras
from keras import layers

from mmfusion.models.backbones import BackboneSpec, build_backbone


def classifier_head(features, n_classes: int, dropout: float = 0.0, hidden=()):
    """Global-average-pool a feature map (a vector passes through) and classify it."""
    x = layers.GlobalAveragePooling2D(name="head_pool")(features) if len(features.shape) == 4 else features
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation="relu", name=f"head_dense{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"head_dropout{i}")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    # float32 output keeps the softmax stable under mixed precision
    return layers.Dense(n_classes, activation="softmax", dtype="float32", name="head_out")(x)


def build_classifier(backbone, input_shape=(224, 224, 3), n_classes: int = 2, weights=None,
                     dropout: float = 0.0, hidden=(), name=None, **backbone_kw) -> keras.Model:
    """``backbone``: a name for build_backbone or a BackboneSpec. One flat keras.Model; its backbone
    layer names are kept for two-phase fine-tuning (``backbone_layer_names(model)``)."""
    spec = backbone if isinstance(backbone, BackboneSpec) else build_backbone(
        backbone, input_shape, weights=weights, **backbone_kw)
    out = classifier_head(spec.features, n_classes, dropout, tuple(hidden))
    model = keras.Model(spec.inputs, out, name=name or f"{spec.name}_classifier")
    mark_backbone(model, spec.layer_names)
    return model


def mark_backbone(model, layer_names) -> None:
    """Record which layers of ``model`` form its backbone (in memory; not saved with the model)."""
    model._mmfusion_backbone = tuple(layer_names)


def backbone_layer_names(model):
    return getattr(model, "_mmfusion_backbone", None)
