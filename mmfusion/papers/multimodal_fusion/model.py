"""The fusion network of the paper: image branch + clinical branch + fusion + head, built flat.

Image: backbone (ResNet50 on 224 crops) -> GAP 2048 -> Dense(100, ReLU). Clinical: 36 ->
Dense(100, ReLU). Fusion (FUSIONS) -> head. The backbone's layers sit directly in the returned
model (its conv map stays reachable for Grad-CAM) and are marked for two-phase fine-tuning.
"""
from __future__ import annotations

import keras
from keras import layers

from mmfusion.layers.attention import CoAttention, CrossAttention
from mmfusion.layers.fusion import (GMU, MFB, TFN, CoAttentionGate, CrossModalGate, GatedHead,
                                    ModalityDropout)
from mmfusion.layers.tokens import ClinicalTokens, ImageTokens
from mmfusion.models import build_backbone, mark_backbone

FUSIONS = ("image", "clinical", "concat", "coattention", "crossattention", "gated_coattention",
           "gated_crossattention", "gmu", "mfb", "tfn")
ATTENTION = ("coattention", "crossattention")
GATED = ("gated_coattention", "gated_crossattention")
IMAGE_INPUT, CLINICAL_INPUT = "image", "clinical"


def _dense(units, l2, name, activation="relu"):
    reg = keras.regularizers.L2(l2) if l2 else None
    return layers.Dense(units, activation=activation, kernel_initializer="he_normal",
                        kernel_regularizer=reg, name=name)


def _tokens(hp, feature_map, e, clinical, c):
    """Image tokens from the conv map ("spatial") or the embedding ("pooled"); clinical tokens per
    feature group ("groups") or from the embedding ("vector")."""
    d = hp["token_dim"]
    image_src = feature_map if hp["image_tokens"] == "spatial" else e
    clin_groups = hp["clinical_groups"] if hp["clinical_tokens"] == "groups" else None
    clin_src = clinical if clin_groups is not None else c
    return (ImageTokens(d, name="image_tokens")(image_src),
            ClinicalTokens(d, groups=clin_groups, name="clinical_tokens")(clin_src))


def _fuse(fusion, hp, feature_map, e, clinical, c):
    """-> (fused vector, gated head?)"""
    if fusion == "image":
        return e, False
    if fusion == "clinical":
        return c, False
    if fusion in ATTENTION:
        te, tc = _tokens(hp, feature_map, e, clinical, c)
        te, tc = _modality_dropout(hp, te, tc)
        if fusion == "coattention":
            te, tc = CoAttention(hp["token_dim"], name="coattention")([te, tc])
        elif hp["direction"] == "image<-clinical":
            te = CrossAttention(hp["token_dim"], direction=hp["direction"], name="crossattention")([te, tc])
        else:
            tc = CrossAttention(hp["token_dim"], direction=hp["direction"], name="crossattention")([te, tc])
        pooled = [layers.GlobalAveragePooling1D(name=f"{n}_token_pool")(t)
                  for n, t in (("image", te), ("clinical", tc))]
        return layers.Concatenate(name="fused")(pooled), False
    e, c = _modality_dropout(hp, e, c)
    if fusion == "concat":
        return layers.Concatenate(name="fused")([e, c]), False
    if fusion in GATED:
        gate = CoAttentionGate(name="coattention_gate") if fusion == "gated_coattention" \
            else CrossModalGate(name="crossattention_gate")
        return layers.Concatenate(name="fused")(gate([e, c])), True
    if fusion == "gmu":
        return GMU(hp["embed_dim"], name="gmu")([e, c]), False
    if fusion == "mfb":
        return MFB(hp["embed_dim"], factor=hp["mfb_factor"], name="mfb")([e, c]), False
    if fusion == "tfn":
        return TFN(name="tfn")([e, c]), False
    raise ValueError(f"unknown fusion {fusion!r}; expected one of {', '.join(FUSIONS)}")


def _modality_dropout(hp, e, c):
    if not hp["modality_dropout"]:
        return e, c
    return ModalityDropout(hp["modality_dropout"], seed=hp.get("seed"), name="modality_dropout")([e, c])


def build_fusion_model(fusion: str, hp: dict, backbone=None, weights=None) -> keras.Model:
    """Inputs ``{"image": (H, W, 3) 0..255, "clinical": (36,)}`` -> class probabilities.

    ``hp`` keys: backbone, backbone_kw, image_size, clinical_dim, clinical_groups, embed_dim,
    token_dim, image_tokens, clinical_tokens, direction, head_hidden, dropout, l2,
    modality_dropout, mfb_factor, num_classes, seed. ``backbone`` may be a ready BackboneSpec.
    """
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; expected one of {', '.join(FUSIONS)}")
    size = hp["image_size"]
    spec = backbone or build_backbone(hp["backbone"], (size, size, 3), weights=weights,
                                      **hp.get("backbone_kw", {}))
    image_in = spec.inputs
    clinical_in = keras.Input((hp["clinical_dim"],), name=CLINICAL_INPUT)
    l2 = hp["l2"]
    e = _dense(hp["embed_dim"], l2, "image_embed")(layers.GlobalAveragePooling2D(name="image_gap")(spec.features))
    c = _dense(hp["embed_dim"], l2, "clinical_embed")(clinical_in)
    z, gated = _fuse(fusion, hp, spec.features, e, clinical_in, c)
    if gated:
        logits = GatedHead(hp["num_classes"], hidden=hp["head_hidden"], dropout=hp["dropout"],
                           l2=l2, name="gated_head")(z)
    else:
        h = _dense(hp["head_hidden"], l2, "head_hidden")(z)
        h = layers.Dropout(hp["dropout"], name="head_dropout")(h)
        logits = _dense(hp["num_classes"], l2, "head_logits", activation=None)(h)
    probs = layers.Activation("softmax", dtype="float32", name="probs")(logits)
    model = keras.Model({IMAGE_INPUT: image_in, CLINICAL_INPUT: clinical_in}, probs,
                        name=f"fusion_{fusion}")
    # the clinical-only model holds no backbone layer: nothing to freeze
    mark_backbone(model, spec.layer_names if fusion != "clinical" else ())
    model._mmfusion_cam_layer = spec.last_conv_layer   # in memory, like mark_backbone
    return model
