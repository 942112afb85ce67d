"""Backbones: pinned parameter counts, flat layer access, preprocessing, weights handling."""
import keras
import numpy as np
import pytest
from helpers import assert_keras_roundtrip

from mmfusion.models import (
    ImagenetPreprocess,
    WeightsError,
    backbone_layer_names,
    build_backbone,
    build_classifier,
)
from mmfusion.models.vit import PositionEmbedding

# keras.applications include_top=False counts (as published in the Keras docs tables minus the top)
PINNED = {"resnet50": ((224, 224, 3), 23_587_712), "vgg16": ((224, 224, 3), 14_714_688),
          "vgg19": ((224, 224, 3), 20_024_384), "inceptionv3": ((299, 299, 3), 21_802_784),
          "efficientnetv2b0": ((224, 224, 3), 5_919_312)}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_full_size_parameter_counts(name):
    shape, count = PINNED[name]
    spec = build_backbone(name, shape, weights=None)
    assert spec.model.count_params() == count
    assert spec.model.get_layer(spec.last_conv_layer) is not None
    keras.backend.clear_session()


def test_vit_parameter_count_matches_hand_count():
    spec = build_backbone("vit", (32, 32, 3), weights=None, patch_size=8, dim=16, depth=2, heads=2,
                          mlp_dim=32)
    d, p, t, m = 16, 8, 16, 32
    per_block = 2 * 2 * d + 4 * (d * d + d) + (d * m + m) + (m * d + d)   # 2 LN, q/k/v/o, MLP
    expected = (p * p * 3 * d + d) + t * d + 2 * per_block + 2 * d
    assert spec.model.count_params() == expected
    assert tuple(spec.features.shape[1:]) == (4, 4, 16)


def test_backbone_is_flat_and_stages_are_reachable():
    spec = build_backbone("resnet50", (64, 64, 3), weights=None)
    assert not any(isinstance(layer, keras.Model) for layer in spec.model.layers)
    assert spec.model.layers[1].name == "preprocess"
    shapes = {k: tuple(v.shape[1:]) for k, v in spec.stage_outputs.items()}
    assert shapes["conv3"] == (8, 8, 512) and shapes["conv4"] == (4, 4, 1024) and shapes["conv5"] == (2, 2,
                                                                                                      2048)
    model = build_classifier(spec, n_classes=3, hidden=(8,), dropout=0.1)
    assert backbone_layer_names(model) == tuple(layer.name for layer in spec.model.layers)
    # a CAM-style grad model reaches the last conv layer straight through the classifier
    grad_model = keras.Model(model.inputs, [model.get_layer(spec.last_conv_layer).output, model.output])
    fmap, probs = grad_model(np.zeros((2, 64, 64, 3), "float32"))
    assert fmap.shape == (2, 2, 2, 2048)
    np.testing.assert_allclose(np.sum(probs, axis=1), 1.0, atol=1e-5)
    keras.backend.clear_session()


@pytest.mark.parametrize("mode,reference", [
    ("caffe", keras.applications.resnet50.preprocess_input),
    ("tf", keras.applications.inception_v3.preprocess_input),
    ("torch", keras.applications.densenet.preprocess_input)])
def test_preprocess_matches_keras_applications(mode, reference, tmp_path):
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    ours = np.asarray(ImagenetPreprocess(mode)(x))
    np.testing.assert_allclose(ours, reference(x.copy()), rtol=1e-5, atol=1e-4)
    assert_keras_roundtrip(ImagenetPreprocess(mode, name=f"pre_{mode}"), x, tmp_path)


def test_preprocess_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be one of"):
        ImagenetPreprocess("bgr")


def test_position_embedding_and_vit_classifier_roundtrip(tmp_path):
    x = np.random.default_rng(1).normal(size=(2, 4, 6)).astype("float32")
    assert_keras_roundtrip(PositionEmbedding(4, 6, name="pos"), x, tmp_path)
    model = build_classifier("vit", (16, 16, 3), 2, patch_size=8, dim=8, depth=1, heads=2)
    images = np.random.default_rng(2).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    assert_keras_roundtrip(model, images, tmp_path)


def test_offline_imagenet_download_raises_clear_error(monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/x.h5: None -- "
                        "[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(WeightsError) as err:
        build_backbone("resnet50", (32, 32, 3), weights="imagenet")
    text = str(err.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in text
    assert "--weights /path/to/" in text and "offline" in text


def test_local_weights_file_loads_and_missing_file_is_named(tmp_path):
    vit = dict(patch_size=8, dim=8, depth=1, heads=2)
    first = build_backbone("vit", (16, 16, 3), weights=None, **vit)
    path = tmp_path / "vit.weights.h5"
    first.model.save_weights(path)
    keras.utils.set_random_seed(99)   # different init: equality below comes from the file
    again = build_backbone("vit", (16, 16, 3), weights=str(path), **vit)
    x = np.random.default_rng(3).uniform(0, 255, (1, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(again.model(x)), np.asarray(first.model(x)), atol=1e-5)
    with pytest.raises(WeightsError, match="efficientnetv2-b0_notop.h5"):
        build_backbone("efficientnetv2b0", (32, 32, 3), weights=str(tmp_path / "missing.h5"))
    with pytest.raises(WeightsError, match="no pretrained ImageNet weights"):
        build_backbone("vit", (32, 32, 3), weights="imagenet", patch_size=8, dim=8, depth=1, heads=2)
    with pytest.raises(ValueError, match="unknown backbone"):
        build_backbone("resnet18", (32, 32, 3), weights=None)
    keras.backend.clear_session()
