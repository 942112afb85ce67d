"""HMC-Net, its two ablations and the baselines, all flat on ``mmfusion.models.build_backbone``.

HMC-Net (our reading of the abstract): ResNet50 stages conv3/conv4/conv5 -> hierarchical
self-attention (per stage, common width) -> multi-scale cross-attention (conv5 queries attend to
pooled conv3/conv4) -> dropout -> softmax. Ablations: ``resnet50_hsa`` pools and concatenates the
self-attended stages; ``resnet50_msca`` cross-attends the raw stages. The ResNet50 layers sit
directly in the model, so CAMs reach ``conv5_block3_out``."""
import dataclasses

HMC_MODELS = ("hmcnet", "resnet50_hsa", "resnet50_msca")
BASELINES = ("resnet50", "vgg16", "vgg19", "vit")
MODELS = HMC_MODELS + BASELINES
STAGES = ("conv3", "conv4", "conv5")
PAPER_INPUT = 224


@dataclasses.dataclass(frozen=True)
class AttentionConfig:
    """The design choices the abstract leaves open (documented in papers/hmcnet.yaml notes)."""

    width: int = 256              # common width of the projected stages
    num_heads: int = 8
    key_dim: int | None = None    # None: width // num_heads
    max_grid: int | None = None   # self-attention token grid cap per stage (None: full 28/14/7 at 224 px)
    kv_grid: int = 7              # cross-attention keys/values pooled to at most kv_grid x kv_grid
    position_embedding: bool = True
    fusion: str = "concat"        # concat | sum
    attention_dropout: float = 0.0
    dropout: float = 0.3          # before the softmax layer

    @classmethod
    def from_dict(cls, values: dict) -> "AttentionConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown HMC-Net attention options {unknown}; expected some of {sorted(known)}")
        return cls(**values)


def build_model(name: str, input_size: int = PAPER_INPUT, n_classes: int = 2, weights="imagenet",
                attention: AttentionConfig | None = None, vit_options: dict | None = None):
    """One model of the paper's comparison, as a flat keras.Model on 0..255 RGB images."""
    from mmfusion.models import build_classifier

    if name not in MODELS:
        raise ValueError(f"unknown hmcnet model {name!r}; expected one of {', '.join(MODELS)}")
    shape = (input_size, input_size, 3)
    attention = attention or AttentionConfig()
    if name in BASELINES:
        kw = dict(vit_options or {}) if name == "vit" else {}
        return build_classifier(name, shape, n_classes, weights=None if name == "vit" else weights,
                                dropout=attention.dropout, name=name, **kw)
    return build_hmc(name, shape, n_classes, weights, attention)


def build_hmc(variant: str, input_shape, n_classes: int, weights, attention: AttentionConfig):
    import keras
    from keras import layers

    from mmfusion.layers.hierarchical import HierarchicalSelfAttention, MultiScaleCrossAttention
    from mmfusion.models import build_backbone, classifier_head, mark_backbone

    spec = build_backbone("resnet50", input_shape, weights=weights)
    maps = [spec.stage_outputs[s] for s in STAGES]
    a = attention
    if variant in ("hmcnet", "resnet50_hsa"):
        maps = HierarchicalSelfAttention(a.width, a.num_heads, a.key_dim, a.max_grid, a.position_embedding,
                                         a.attention_dropout, name="hierarchical_attention")(maps)
    if variant in ("hmcnet", "resnet50_msca"):
        x = MultiScaleCrossAttention(a.width, a.num_heads, a.key_dim, a.kv_grid, a.fusion,
                                     a.attention_dropout, name="multiscale_attention")(maps)
    else:
        pooled = [layers.GlobalAveragePooling2D(name=f"{s}_pool")(m) for s, m in zip(STAGES, maps)]
        x = layers.Concatenate(name="stage_concat")(pooled)
    out = classifier_head(x, n_classes, a.dropout)
    model = keras.Model(spec.inputs, out, name=variant)
    mark_backbone(model, spec.layer_names)
    return model


def backbone(name: str) -> str | None:
    """The pretrained backbone ``name`` loads (None: the ViT trains from scratch)."""
    return None if name == "vit" else ("resnet50" if name in HMC_MODELS else name)


def last_conv_layer(name: str) -> str:
    """The CAM target: the backbone's last conv stage (conv5 for the ResNet50 family)."""
    from mmfusion.models.backbones import ARCHS

    return "vit_feature_map" if name == "vit" else ARCHS[backbone(name)].last_conv_layer
