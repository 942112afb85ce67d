"""ft-multicnn pieces: §3.5 models (parameter counts by hand), CAM-heatmap colouring against cv2,
the heatmap cache key, the §3.2.3 augmentation against albumentations itself, the config table."""
import cv2
import numpy as np
import pytest

from mmfusion.papers.ft_multicnn import config as cfg
from mmfusion.papers.ft_multicnn import preprocess as H


# ----------------------------------------------------------------------------- models
def _conv(k_in, k_out):
    return 3 * 3 * k_in * k_out + k_out


def test_multicnn_parameter_count_at_128px_by_hand():
    from mmfusion.papers.ft_multicnn.model import build_cnn, build_multicnn

    # 'valid' 3x3 convs and 2x2 pools: 128 -> 126 -> 63 -> 61 -> 30 -> 28 -> 14
    convs = _conv(3, 32) + _conv(32, 64) + _conv(64, 128)
    flat = 14 * 14 * 128
    meta = 7 * 64 + 64
    expected = convs + meta + (flat + 64) * 7 + 7
    assert expected == 269_831
    model = build_multicnn(128, 7, 7)
    assert model.count_params() == expected
    assert model.get_layer("flatten").output.shape[-1] == flat
    assert build_cnn(128, 7).count_params() == convs + flat * 7 + 7 == 268_871
    # fine-tune variant: + BatchNorm (4 params per channel, half of them moving statistics)
    ft = build_multicnn(128, 7, 7, finetune=True)
    bn = 4 * (32 + 64 + 128 + 64)
    assert ft.count_params() == expected + bn == 270_983
    assert sum(int(np.prod(w.shape)) for w in ft.non_trainable_weights) == bn // 2
    assert ft.get_layer("dropout").rate == 0.5


def test_multicnn_branches_are_wired_as_the_paper_says(tmp_path):
    from helpers import assert_keras_roundtrip

    from mmfusion.papers.ft_multicnn.model import build_multicnn

    model = build_multicnn(32, 7, 7, finetune=True)
    assert [layer.name for layer in model.layers if layer.name.startswith("conv")] == ["conv1", "conv2",
                                                                                       "conv3"]
    assert [model.get_layer(f"conv{i}").filters for i in (1, 2, 3)] == [32, 64, 128]
    concat = model.get_layer("concat")
    assert concat.output.shape[-1] == 128 * 2 * 2 + 64   # 32 px: 30 15 13 6 4 2
    rng = np.random.default_rng(0)
    x = {"image": rng.uniform(0, 255, (3, 32, 32, 3)).astype("float32"),
         "metadata": rng.uniform(0, 1, (3, 7)).astype("float32")}
    probs = np.asarray(model(x, training=False))
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    # the metadata branch matters: changing only the metadata changes the output
    assert not np.allclose(probs, np.asarray(model({**x, "metadata": x["metadata"] + 1}, training=False)))
    assert_keras_roundtrip(model, x, tmp_path)


def test_backbone_variant_is_flat_and_records_its_backbone():
    from mmfusion.models.classifier import backbone_layer_names
    from mmfusion.papers.ft_multicnn.model import build_multicnn

    with pytest.raises(ValueError, match="fine-tune variant"):
        build_multicnn(32, 7, 7, backbone="resnet50")
    model = build_multicnn(32, 7, 7, finetune=True, backbone="resnet50", weights=None)
    names = backbone_layer_names(model)
    assert "conv5_block3_out" in names and model.get_layer("conv5_block3_out") is not None
    assert model.output_shape == (None, 7)


# ----------------------------------------------------------------------------- heatmaps
def test_minmax_matches_cv2_normalize():
    rng = np.random.default_rng(1)
    maps = rng.normal(size=(4, 9, 7)) * [[[1.0]], [[3.0]], [[0.1]], [[50.0]]]
    ours = H.minmax_uint8(maps)
    for m, o in zip(maps, ours):
        ref = cv2.normalize(m, None, 0, 255, cv2.NORM_MINMAX, cv2.CV_8U)
        assert np.abs(ref.astype(int) - o.astype(int)).max() <= 1   # cv2 rounds half-way cases its own way
        assert o.min() == 0 and o.max() == 255
    assert (H.minmax_uint8(np.full((1, 3, 3), 2.0)) == 0).all()


def test_colorize_is_cv2_jet_flipped_to_rgb():
    maps = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    rgb = H.colorize(maps)
    bgr = cv2.applyColorMap(maps[0], cv2.COLORMAP_JET)
    np.testing.assert_array_equal(rgb[0], bgr[..., ::-1])
    np.testing.assert_array_equal(rgb[0], cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    # JET by hand: 0 is dark blue, 255 dark red (in RGB order)
    assert rgb[0, 0, 0].tolist() == [0, 0, 128]
    assert rgb[0, -1, -1].tolist() == [128, 0, 0]
    with pytest.raises(ValueError, match="uint8"):
        H.colorize(maps.astype(float))


def test_overlay_is_the_weighted_sum():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (2, 5, 5, 3), dtype=np.uint8)
    heat = rng.integers(0, 256, (2, 5, 5, 3), dtype=np.uint8)
    out = H.overlay(img, heat, 0.4)
    expected = np.clip(np.rint(0.6 * img + 0.4 * heat), 0, 255)
    assert np.abs(out.astype(int) - expected).max() <= 1
    maps = rng.integers(0, 256, (2, 5, 5), dtype=np.uint8)
    np.testing.assert_array_equal(H.model_inputs("raw", img, None), img)
    np.testing.assert_array_equal(H.model_inputs("heatmap", img, maps), H.colorize(maps))
    np.testing.assert_array_equal(H.model_inputs("overlay", img, maps, 0.4),
                                  H.overlay(img, H.colorize(maps), 0.4))
    with pytest.raises(ValueError, match="raw, heatmap or overlay"):
        H.model_inputs("mask", img, maps)


def test_cam_cache_is_keyed_by_the_model(tmp_path):
    from mmfusion.papers.ft_multicnn.model import CAM_LAYER, build_cnn
    from mmfusion.xai import GradCAM

    images = np.random.default_rng(3).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    model = build_cnn(32, 7)
    maps, info = H.cam_maps(model, images, CAM_LAYER, cache_dir=tmp_path)
    assert info["hit"] is False and maps.shape == (5, 32, 32) and maps.dtype == np.uint8
    direct = GradCAM(model, layer_name=CAM_LAYER)(images.astype("float32"))
    np.testing.assert_array_equal(maps, H.minmax_uint8(direct))
    again, info2 = H.cam_maps(model, images, CAM_LAYER, cache_dir=tmp_path)
    assert info2["hit"] is True and info2["key"] == info["key"]
    np.testing.assert_array_equal(again, maps)
    # one changed weight -> another key, recomputed
    kernel = model.get_layer("classifier").kernel
    kernel.assign(kernel.numpy() + 1e-3)
    _, info3 = H.cam_maps(model, images, CAM_LAYER, cache_dir=tmp_path)
    assert info3["key"] != info["key"] and info3["hit"] is False
    # same seed-free architecture, other weights -> other key; other images -> other key
    assert H.model_key(build_cnn(32, 7)) != H.model_key(build_cnn(32, 7))
    assert H.model_key(model, "conv3") != H.model_key(model, "conv2")
    assert H.images_key(images) != H.images_key(images[::-1])
    assert len(list(tmp_path.glob("ft-multicnn-cams/*.npz"))) == 2


# ----------------------------------------------------------------------------- augmentation
def test_augmentation_in_tf_data_equals_albumentations():
    import tensorflow as tf

    from mmfusion.papers.ft_multicnn.preprocess import paper_augment, paper_transforms, seed_int

    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (6, 24, 24, 3), dtype=np.uint8)
    seeds = np.array([[7, i] for i in range(6)], np.int64)
    ds = tf.data.Dataset.from_tensor_slices((images, seeds)).map(paper_augment, num_parallel_calls=4,
                                                                 deterministic=True)
    out = np.stack([x.numpy() for x in ds])
    assert out.dtype == np.float32 and out.shape == images.shape
    reference = paper_transforms()
    for img, s, got in zip(images, seeds, out):
        reference.set_random_seed(seed_int(s))
        np.testing.assert_array_equal(got, reference(image=img)["image"].astype(np.float32))
    assert not np.array_equal(out, images.astype(np.float32))   # something was applied
    names = [type(t).__name__ for t in reference.transforms]
    assert names == ["Transpose", "VerticalFlip", "HorizontalFlip", "Rotate", "RandomBrightnessContrast",
                     "RandomBrightnessContrast", "GaussianBlur", "ShiftScaleRotate"]
    ssr = reference.transforms[-1]
    assert ssr.p == 0.85 and ssr.border_mode == 0
    assert [t.p for t in reference.transforms[:7]] == [0.5] * 6 + [0.25]


def test_paper_normalize_is_albumentations_normalize_on_half_the_images():
    import albumentations as A

    from mmfusion.papers.ft_multicnn.preprocess import augment_array, paper_transforms

    compose = paper_transforms(normalize=True)
    names = [type(t).__name__ for t in compose.transforms]
    assert names[7] == "Normalize" and compose.transforms[7].p == 0.5
    assert compose.transforms[7].max_pixel_value == 255.0
    # a normalised image has values of a few units, an untouched one stays near 200: about half each
    img = np.full((8, 8, 3), 200, np.uint8)
    normalised = [np.abs(augment_array(img, np.array([3, i]), normalize=True)).max() < 10 for i in range(200)]
    assert 0.35 < np.mean(normalised) < 0.65
    ref = A.Normalize(max_pixel_value=255.0, p=1.0)(image=img)["image"]
    np.testing.assert_allclose(ref[0, 0],
                               (200 / 255 - np.array([0.485, 0.456, 0.406]))
                               / np.array([0.229, 0.224, 0.225]),
                               rtol=1e-5)


def test_model_rescale_follows_the_normalize_setting():
    from mmfusion.experiment.config import resolve
    from mmfusion.papers.ft_multicnn.model import build_model
    from mmfusion.registry import ReproduceOptions

    paper = resolve(cfg.FtMultiCnnConfig, ReproduceOptions("ft-multicnn"), "ft-multicnn")
    assert paper.normalize == "paper"
    ours = build_model("cnn", 32, 7, 7, rescale=True)
    faithful = build_model("cnn", 32, 7, 7, rescale=False)
    assert "rescale" in [layer.name for layer in ours.layers]
    assert "rescale" not in [layer.name for layer in faithful.layers]


# ----------------------------------------------------------------------------- config
def test_config_table_and_overrides():
    from mmfusion.experiment.config import resolve
    from mmfusion.registry import ReproduceOptions

    def get(quick=False, **extra):
        return resolve(cfg.FtMultiCnnConfig, ReproduceOptions("ft-multicnn", quick=quick, extra=extra),
                       "ft-multicnn")

    full, quick = get(), get(quick=True)
    assert (full.image_size, full.epochs, full.batch_size, full.metadata) == (128, 50, 32, "seven")
    assert quick.folds == 2 and quick.epochs == 1 and 32 <= quick.image_size <= 64
    assert [r.row for r in full.selected_rows()][:3] == ["CNN", "ResNet50", "InceptionV3"]
    assert {r.key for r in quick.selected_rows()} == {"cnn", "ft_multicnn"}
    assert [r.key
            for r in get(quick=True, rows="ft_multicnn_heatmap").selected_rows()] == ["ft_multicnn_heatmap"]
    hp = get(input="heatmap", folds="3", protocols="lesion", augment="false")
    assert (hp.input, hp.folds, hp.protocols, hp.augment) == ("heatmap", 3, ("lesion",), False)
    with pytest.raises(ValueError, match="unknown ft-multicnn option 'imput'"):
        get(imput="raw")
    with pytest.raises(ValueError, match="option input='mask': expected one of"):
        get(input="mask")
    with pytest.raises(ValueError, match="option rows=.*expected some of"):
        get(rows="cnn,vgg")
    with pytest.raises(ValueError, match="option folds=1"):
        get(folds=1)


# ----------------------------------------------------------------------------- real metadata
def test_real_ham10000_grouped_folds_keep_lesions_and_image_folds_leak(shared_samples):
    """Why the issue asks for the lesion-grouped split: on the real metadata an image-level
    stratified 5-fold puts images of one lesion on both sides of most folds."""
    from sklearn.model_selection import StratifiedKFold

    from mmfusion.data.skin import read_ham10000_metadata
    from mmfusion.data.splits import kfold_splits
    from mmfusion.papers.ft_multicnn.preprocess import encode_seven

    frame = read_ham10000_metadata(shared_samples / "ham10000")
    assert len(frame) == 10_015 and frame["group_id"].nunique() == 7_470
    seven = encode_seven(frame)
    assert seven.shape == (10_015, 7)
    y, groups = frame["label"].to_numpy(), frame["group_id"].to_numpy()
    for train, test in kfold_splits(y, groups, k=5, seed=0):
        assert not set(groups[train]) & set(groups[test])
    leaked = [len(set(groups[tr]) & set(groups[te]))
              for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y)]
    assert min(leaked) > 300   # hundreds of lesions straddle train and test in every image-level fold
