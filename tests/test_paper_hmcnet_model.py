"""HMC-Net builder: pinned parameter counts (independent arithmetic), flat graph, variants, round-trip."""
import numpy as np
import pytest
from helpers import assert_keras_roundtrip

keras = pytest.importorskip("keras")
from mmfusion.papers.hmcnet.model import MODELS, AttentionConfig, build_model, last_conv_layer  # noqa: E402

RESNET50_NOTOP = 23_587_712   # keras.applications.ResNet50(include_top=False) parameters


def mha_params(d, heads, key_dim):
    return 3 * (d * heads * key_dim + heads * key_dim) + heads * key_dim * d + d


def hmcnet_params(width=256, heads=8, n_classes=2, grid=(28, 14, 7), channels=(512, 1024, 2048)):
    """The full model's count by hand: backbone + self-attention + cross-attention + head."""
    k = width // heads
    hsa = sum(c * width + width for c in channels) + sum(g * g for g in grid) * width \
        + 3 * (mha_params(width, heads, k) + 2 * width)
    msca = 2 * (mha_params(width, heads, k) + 2 * width) + 3 * width * width + width
    return RESNET50_NOTOP + hsa + msca + width * n_classes + n_classes


def test_full_size_hmcnet_parameter_count_is_pinned():
    model = build_model("hmcnet", 224, 2, weights=None)
    assert model.count_params() == hmcnet_params() == 26_285_186
    # flat: the backbone's conv5 output is a layer of the model itself (CAMs need it)
    assert model.get_layer(last_conv_layer("hmcnet")).output.shape == (None, 7, 7, 2048)
    assert model.get_layer("hierarchical_attention") and model.get_layer("multiscale_attention")


def test_variants_differ_by_exactly_their_module():
    a = AttentionConfig(width=16, num_heads=2)
    counts = {m: build_model(m, 32, 2, weights=None, attention=a).count_params()
              for m in ("hmcnet", "resnet50_hsa", "resnet50_msca", "resnet50")}
    head = lambda width: width * 2 + 2  # noqa: E731
    grid = (4, 2, 1)  # conv3/4/5 at 32 px
    hsa = sum(c * 16 + 16 for c in (512, 1024, 2048)) + sum(g * g for g in grid) * 16 \
        + 3 * (mha_params(16, 2, 8) + 32)
    assert counts["resnet50"] == RESNET50_NOTOP + 2048 * 2 + 2
    assert counts["resnet50_hsa"] == RESNET50_NOTOP + hsa + head(48)
    # without self-attention the cross-attention projects the raw stages to the common width itself
    msca_raw = sum(c * 16 + 16 for c in (512, 1024, 2048)) + 2 * (mha_params(16, 2, 8) + 32) + 48 * 16 + 16
    assert counts["resnet50_msca"] == RESNET50_NOTOP + msca_raw + head(16)
    assert counts["hmcnet"] == RESNET50_NOTOP + hsa + 2 * (mha_params(16, 2, 8)
                                                           + 32) + 48 * 16 + 16 + head(16)


def test_baselines_build_and_predict_probabilities():
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    for name in ("vgg16", "vit"):
        model = build_model(name, 32, 2, weights=None, vit_options={"patch_size": 8, "dim": 16,
                                                                   "depth": 1, "heads": 2})
        p = np.asarray(model(x, training=False))
        np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
        assert model.get_layer(last_conv_layer(name))
    assert set(MODELS) == {"hmcnet", "resnet50_hsa", "resnet50_msca", "resnet50", "vgg16", "vgg19", "vit"}


def test_unknown_names_are_explained():
    with pytest.raises(ValueError, match="unknown hmcnet model 'resnet'"):
        build_model("resnet")
    with pytest.raises(ValueError, match="unknown HMC-Net attention options"):
        AttentionConfig.from_dict({"heads": 4})


def test_hmcnet_keras_roundtrip(tmp_path):
    model = build_model("hmcnet", 32, 2, weights=None,
                        attention=AttentionConfig(width=8, num_heads=2, kv_grid=2, fusion="sum"))
    x = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    loaded = assert_keras_roundtrip(model, x, tmp_path, atol=1e-5)
    assert loaded.get_layer("multiscale_attention").fusion == "sum"


def test_every_pretrained_backbone_is_listed_for_the_kaggle_kernel():
    from mmfusion.kaggle.kernels import KERNELS
    from mmfusion.papers.hmcnet.model import backbone

    assert {m: backbone(m) for m in MODELS} == {"hmcnet": "resnet50", "resnet50_hsa": "resnet50",
                                                "resnet50_msca": "resnet50", "resnet50": "resnet50",
                                                "vgg16": "vgg16", "vgg19": "vgg19", "vit": None}
    assert set(KERNELS["hmcnet"].archs) == {backbone(m) for m in MODELS} - {None}

