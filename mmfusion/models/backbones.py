"""Flat backbones: one functional graph from the 0..255 image to the feature map.

keras.applications are built on our own input + preprocessing layer (``input_tensor=``), so the
model holds every inner layer directly (a nested backbone hides its layers from the CAM methods)."""
import dataclasses
import os

import keras

from mmfusion.models.preprocessing import ImagenetPreprocess
from mmfusion.models.vit import build_vit


class WeightsError(RuntimeError):
    """Pretrained weights could not be obtained (offline ImageNet download, missing local file)."""


@dataclasses.dataclass(frozen=True)
class _Arch:
    constructor: str                   # attribute of keras.applications
    preprocess: str                    # ImagenetPreprocess mode
    last_conv_layer: str
    stages: dict                       # stage name -> layer name whose output is that stage
    weights_file: str                  # the file keras downloads for weights="imagenet", include_top=False
    extra: dict = dataclasses.field(default_factory=dict)


_VGG_STAGES = {f"block{i}": f"block{i}_pool" for i in range(1, 6)}
ARCHS = {
    "resnet50": _Arch("ResNet50", "caffe", "conv5_block3_out",
                      {"conv2": "conv2_block3_out", "conv3": "conv3_block4_out",
                       "conv4": "conv4_block6_out", "conv5": "conv5_block3_out"},
                      "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "vgg16": _Arch("VGG16", "caffe", "block5_conv3", _VGG_STAGES,
                   "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "vgg19": _Arch("VGG19", "caffe", "block5_conv4", _VGG_STAGES,
                   "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "inceptionv3": _Arch("InceptionV3", "tf", "mixed10",
                         {"mixed2": "mixed2", "mixed7": "mixed7", "mixed10": "mixed10"},
                         "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    # EfficientNetV2 rescales inside the application (include_preprocessing=True): no extra layer.
    "efficientnetv2b0": _Arch("EfficientNetV2B0", "none", "top_activation",
                              {"block2": "block2b_add", "block3": "block3b_add",
                               "block5": "block5e_add", "block6": "block6h_add",
                               "top": "top_activation"},
                              "efficientnetv2-b0_notop.h5", {"include_preprocessing": True}),
}
BACKBONES = tuple(ARCHS) + ("vit",)
_OFFLINE_SIGNS = ("url fetch failure", "urlopen", "name resolution", "network", "connection",
                  "http error", "timed out")


@dataclasses.dataclass
class BackboneSpec:
    name: str
    model: keras.Model          # flat: image input -> feature map
    inputs: object              # the image input tensor
    features: object            # the feature-map tensor (batch, h, w, c)
    last_conv_layer: str        # a layer of ``model`` (CAM target)
    preprocess: keras.layers.Layer
    stage_outputs: dict         # stage name -> tensor (e.g. resnet50 conv3/conv4/conv5)

    @property
    def layer_names(self) -> list[str]:
        """Names of every backbone layer (what two-phase fine-tuning freezes)."""
        return [layer.name for layer in self.model.layers]


def build_backbone(name: str, input_shape=(224, 224, 3), weights="imagenet", **kw) -> BackboneSpec:
    """Build backbone ``name`` flat. ``weights``: "imagenet", None/"none", or a local .h5/.weights.h5;
    ``kw`` goes to ``build_vit`` for name="vit"."""
    name = name.lower()
    if isinstance(weights, str) and weights.lower() == "none":
        weights = None
    if name == "vit":
        return _build_vit_spec(input_shape, weights, **kw)
    if name not in ARCHS:
        raise ValueError(f"unknown backbone {name!r}; expected one of {', '.join(BACKBONES)}")
    if kw:
        raise TypeError(f"build_backbone({name!r}) got unexpected options {sorted(kw)}")
    arch = ARCHS[name]
    if weights not in (None, "imagenet"):
        weights = _local_weights(weights, name, arch)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    preprocess = ImagenetPreprocess(arch.preprocess, name="preprocess")
    constructor = getattr(keras.applications, arch.constructor)
    try:
        model = constructor(include_top=False, weights=weights, input_tensor=preprocess(inputs), **arch.extra)
    except Exception as err:   # keras raises a bare Exception("URL fetch failure ...") offline
        text = f"{type(err).__name__}: {err}".lower()
        if weights == "imagenet" and any(s in text for s in _OFFLINE_SIGNS):
            raise WeightsError(
                f"could not download the ImageNet weights for {name} (offline? {err}). Download "
                f"{arch.weights_file} on a machine with internet (keras.applications.{arch.constructor}, "
                f"include_top=False) and pass it with --weights /path/to/{arch.weights_file} "
                f"(or weights='/path/to/{arch.weights_file}'), or put it in ~/.keras/models/; "
                f"use --weights none to train from scratch.") from err
        if weights is not None and weights != "imagenet":
            raise WeightsError(_misfit_message(weights, name, arch, err)) from err
        raise
    return _spec(name, model, inputs, preprocess, arch.last_conv_layer, arch.stages)


def _spec(name, model, inputs, preprocess, last_conv, stages) -> BackboneSpec:
    return BackboneSpec(name=name, model=model, inputs=inputs, features=model.output,
                        last_conv_layer=last_conv, preprocess=preprocess,
                        stage_outputs={k: model.get_layer(v).output for k, v in stages.items()})


def _build_vit_spec(input_shape, weights, **kw) -> BackboneSpec:
    if weights == "imagenet":
        raise WeightsError("the ViT backbone has no pretrained ImageNet weights; use weights=None "
                           "(--weights none) or a local file saved from an mmfusion ViT")
    model, stages = build_vit(tuple(input_shape), **kw)
    if weights is not None:
        path = _local_weights(weights, "vit", None)
        try:
            model.load_weights(path)
        except Exception as err:   # h5py / keras shape errors name neither the file nor the model
            raise WeightsError(_misfit_message(path, "vit", None, err)) from err
    return _spec("vit", model, model.input, model.get_layer("preprocess"), "vit_feature_map", stages)


def _local_weights(path, name, arch) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        expected = f" (expected the Keras file {arch.weights_file})" if arch else ""
        raise WeightsError(f"weights file for {name} not found: {path}{expected}")
    expected = f"; expected the Keras file {arch.weights_file}" if arch else ""
    if not path.endswith(".h5"):
        raise WeightsError(f"weights file for {name} must be .h5 or .weights.h5, got {path}{expected}")
    with open(path, "rb") as f:
        if f.read(8) != b"\x89HDF\r\n\x1a\n":
            raise WeightsError(f"weights file for {name} is not an HDF5 file: {path} (a partial "
                               f"download, or an HTML page?){expected}")
    return path


def _misfit_message(path, name, arch, err) -> str:
    expected = "; expected weights saved from an mmfusion ViT"
    if arch:
        expected = (f"; expected the Keras file {arch.weights_file} (keras.applications."
                    f"{arch.constructor}, include_top=False)")
    return f"weights file {path} does not fit the {name} backbone ({type(err).__name__}: {err}){expected}"

