"""The paper's fusion network, built flat (the backbone's conv map stays reachable for Grad-CAM):
image backbone -> GAP -> Dense(d); clinical 36 -> Dense(d); fusion (FUSIONS) -> head. Table 2's first
two rows, as we read them: "unweighted" is the cross-attention framework with its attention weights
removed (every image token takes the plain mean of the clinical value tokens); "feature_specific"
is concatenation fed only the ``selected_groups`` of the clinical vector."""
import keras
from keras import layers

from mmfusion.data.clinical import CLINICAL_DIM, CLINICAL_GROUPS, group_mask
from mmfusion.layers import fusion as F
from mmfusion.layers.attention import CoAttention, CrossAttention
from mmfusion.layers.tokens import ClinicalTokens, ImageTokens
from mmfusion.models import build_backbone, mark_backbone
from mmfusion.papers.multimodal_fusion.config import CLINICAL_GROUP_SLICES

FUSIONS = ("image", "clinical", "unweighted", "feature_specific", "concat", "coattention", "crossattention",
           "gated_coattention", "gated_crossattention", "gmu", "mfb", "tfn")
ATTENTION = ("coattention", "crossattention", "unweighted")
GATED = ("gated_coattention", "gated_crossattention")
IMAGE_INPUT, CLINICAL_INPUT = "image", "clinical"


def _dense(units, l2, name, activation="relu"):
    reg = keras.regularizers.L2(l2) if l2 else None
    return layers.Dense(units, activation=activation, kernel_initializer="he_normal",
                        kernel_regularizer=reg, name=name)


def _modality_dropout(cfg, seed, e, c):
    if not cfg.modality_dropout:
        return e, c
    return F.ModalityDropout(cfg.modality_dropout, seed=seed, name="modality_dropout")([e, c])


def _fuse(fusion, cfg, seed, feature_map, e, clinical, c):
    """-> (fused vector, gated head?)"""
    if fusion == "image":
        return e, False
    if fusion == "clinical":
        return c, False
    if fusion in ATTENTION:
        # image tokens from the conv map ("spatial") or the embedding ("pooled"); clinical tokens per
        # feature group ("groups") or from the embedding ("vector")
        groups = [list(s) for s in CLINICAL_GROUP_SLICES] if cfg.clinical_tokens == "groups" else None
        image_src = feature_map if cfg.image_tokens == "spatial" else e
        te = ImageTokens(cfg.token_dim, name="image_tokens")(image_src)
        tc = ClinicalTokens(cfg.token_dim, groups=groups, name="clinical_tokens")(clinical if groups else c)
        te, tc = _modality_dropout(cfg, seed, te, tc)
        if fusion == "coattention":
            te, tc = CoAttention(cfg.token_dim, affinity=cfg.coattention_affinity,
                                 name="coattention")([te, tc])
        else:
            layer = CrossAttention(cfg.token_dim, direction=cfg.direction, uniform=fusion == "unweighted",
                                   name=fusion)([te, tc])
            te, tc = (layer, tc) if cfg.direction == "image<-clinical" else (te, layer)
        pooled = [layers.GlobalAveragePooling1D(name=f"{n}_token_pool")(t)
                  for n, t in (("image", te), ("clinical", tc))]
        return layers.Concatenate(name="fused")(pooled), False
    e, c = _modality_dropout(cfg, seed, e, c)
    if fusion in ("concat", "feature_specific"):
        return layers.Concatenate(name="fused")([e, c]), False
    if fusion in GATED:
        gate = F.CoAttentionGate(name="coattention_gate") if fusion == "gated_coattention" \
            else F.CrossModalGate(name="crossattention_gate")
        return layers.Concatenate(name="fused")(gate([e, c])), True
    if fusion == "gmu":
        return F.GMU(cfg.embed_dim, name="gmu")([e, c]), False
    if fusion == "mfb":
        return F.MFB(cfg.embed_dim, factor=cfg.mfb_factor, name="mfb")([e, c]), False
    return F.TFN(name="tfn")([e, c]), False     # "tfn": build_fusion_model checked the name


def build_fusion_model(fusion: str, cfg, num_classes: int = 2, seed=None, backbone=None,
                       weights=None) -> keras.Model:
    """Inputs ``{"image": (H, W, 3) 0..255, "clinical": (36,)}`` -> class probabilities; ``cfg`` a
    FusionConfig, ``backbone`` a ready BackboneSpec (else built from cfg)."""
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; expected one of {', '.join(FUSIONS)}")
    size, l2 = cfg.input_size, cfg.l2
    spec = backbone or build_backbone(cfg.backbone, (size, size, 3), weights=weights, **cfg.backbone_kw)
    clinical_in = clinical = keras.Input((CLINICAL_DIM,), name=CLINICAL_INPUT)
    if fusion == "feature_specific":     # only the selected groups reach the network
        mask = group_mask([g for g in CLINICAL_GROUPS if g not in cfg.selected_groups])
        clinical = F.FeatureMask(mask.tolist(), name="selected_clinical")(clinical_in)
    e = _dense(cfg.embed_dim, l2,
               "image_embed")(layers.GlobalAveragePooling2D(name="image_gap")(spec.features))
    c = _dense(cfg.embed_dim, l2, "clinical_embed")(clinical)
    z, gated = _fuse(fusion, cfg, seed, spec.features, e, clinical, c)
    if gated:
        logits = F.GatedHead(num_classes, hidden=cfg.head_hidden, dropout=cfg.dropout, l2=l2,
                             name="gated_head")(z)
    else:
        h = _dense(cfg.head_hidden, l2, "head_hidden")(z)
        h = layers.Dropout(cfg.dropout, name="head_dropout")(h)
        logits = _dense(num_classes, l2, "head_logits", activation=None)(h)
    probs = layers.Activation("softmax", dtype="float32", name="probs")(logits)
    model = keras.Model({IMAGE_INPUT: spec.inputs, CLINICAL_INPUT: clinical_in}, probs,
                        name=f"fusion_{fusion}")
    # frozen for the first epochs ("lower layers"): the named stages (ResNet50's conv3_block4_out is in
    # stage conv3); the clinical-only model has none
    lower = [n for n in spec.layer_names if n.split("_")[0] in cfg.freeze_stages]
    mark_backbone(model, lower if fusion != "clinical" else ())
    model._mmfusion_cam_layer = spec.last_conv_layer   # in memory, like mark_backbone
    return model
