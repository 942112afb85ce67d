"""The §3.5 models, built flat (one functional graph, so Grad-CAM reaches every layer): ``multicnn``
(conv stack beside the metadata Dense, concatenated, softmax), its §3.5.4 fine-tune variant
``ft_multicnn`` (BatchNorm, Dropout, optionally a pretrained backbone), the image-only ``cnn`` and
the ``resnet50`` / ``inceptionv3`` baselines. Kernel size and 'valid' padding are ours (not printed)."""
import keras
from keras import layers

from mmfusion.models.backbones import build_backbone
from mmfusion.models.classifier import build_classifier, mark_backbone

MODELS = ("cnn", "multicnn", "ft_multicnn", "resnet50", "inceptionv3")
FILTERS = (32, 64, 128)
META_UNITS = 64
CAM_LAYER = "conv3"          # last convolution of the conv stack (Grad-CAM target)


def _conv_stack(image, batchnorm: bool, rescale: bool = True):
    # rescale=False: the paper's pipeline, whose only scaling is Normalize(p=0.5) in its augmentation
    x = layers.Rescaling(1.0 / 255, name="rescale")(image) if rescale else image
    for i, filters in enumerate(FILTERS, start=1):
        x = layers.Conv2D(filters, 3, activation=None if batchnorm else "relu", name=f"conv{i}")(x)
        if batchnorm:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
            x = layers.Activation("relu", name=f"relu{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    return layers.Flatten(name="flatten")(x)


def _out(x, n_classes):
    # float32 output keeps the softmax stable under mixed precision
    return layers.Dense(n_classes, activation="softmax", dtype="float32", name="classifier")(x)


def build_cnn(image_size: int = 128, n_classes: int = 7, rescale: bool = True) -> keras.Model:
    """Image-only baseline: the §3.5 conv stack → Dense(C, softmax)."""
    image = keras.Input((image_size, image_size, 3), name="image")
    return keras.Model(image, _out(_conv_stack(image, False, rescale), n_classes), name="cnn")


def build_multicnn(image_size: int = 128, meta_dim: int = 7, n_classes: int = 7,
                   finetune: bool = False, dropout: float = 0.5, backbone: str | None = None,
                   weights=None, rescale: bool = True) -> keras.Model:
    """§3.5 MultiCNN (``finetune=False``) or its §3.5.4 fine-tune variant (BatchNorm + Dropout,
    optionally ``backbone`` = a build_backbone name in place of the conv stack)."""
    if backbone is not None and not finetune:
        raise ValueError("a pretrained backbone is the fine-tune variant: pass finetune=True")
    meta_in = keras.Input((meta_dim,), name="metadata")
    if backbone is None:
        image = keras.Input((image_size, image_size, 3), name="image")
        features, backbone_layers = _conv_stack(image, finetune, rescale), None
    else:
        spec = build_backbone(backbone, (image_size, image_size, 3), weights=weights)
        image, backbone_layers = spec.inputs, spec.layer_names
        features = layers.GlobalAveragePooling2D(name="backbone_pool")(spec.features)
    meta = layers.Dense(META_UNITS, activation=None if finetune else "relu", name="meta_dense")(meta_in)
    if finetune:
        meta = layers.BatchNormalization(name="meta_bn")(meta)
        meta = layers.Activation("relu", name="meta_relu")(meta)
    x = layers.Concatenate(name="concat")([features, meta])
    if finetune and dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    name = ("ft_multicnn" if finetune else "multicnn") + (f"_{backbone}" if backbone else "")
    model = keras.Model({"image": image, "metadata": meta_in}, _out(x, n_classes), name=name)
    if backbone_layers:
        mark_backbone(model, backbone_layers)
    return model


def build_model(kind: str, image_size: int, meta_dim: int, n_classes: int, dropout: float = 0.5,
                backbone: str | None = None, weights=None, rescale: bool = True) -> keras.Model:
    """One of ``MODELS``; ``rescale`` (the conv stack's 1/255) is off for the paper's Normalize(p=0.5)."""
    if kind == "cnn":
        return build_cnn(image_size, n_classes, rescale)
    if kind == "multicnn":
        return build_multicnn(image_size, meta_dim, n_classes, rescale=rescale)
    if kind == "ft_multicnn":
        return build_multicnn(image_size, meta_dim, n_classes, finetune=True, dropout=dropout,
                              backbone=backbone, weights=weights, rescale=rescale)
    if kind in ("resnet50", "inceptionv3"):
        return build_classifier(kind, (image_size, image_size, 3), n_classes, weights=weights, name=kind)
    raise ValueError(f"unknown model {kind!r}; expected one of {', '.join(MODELS)}")
