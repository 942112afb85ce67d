"""effnetv2-smote: SMOTE wrapper vs imblearn, ROI by hand, SMOTE only on training images,
the pinned model size, the settings table and its cells against the claims file."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mmfusion.data.resample import smote_images
from mmfusion.papers.effnetv2_smote import config as cfg
from mmfusion.papers.effnetv2_smote.preprocess import load_images, roi_image


def _imbalanced(seed=0, n0=13, n1=7, shape=(6, 5, 3)):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n0 + n1,) + shape, dtype=np.uint8)
    return x, np.array([0] * n0 + [1] * n1)


def test_smote_images_equals_imblearn_on_flattened_pixels():
    from imblearn.over_sampling import SMOTE

    x, y = _imbalanced()
    xr, yr = smote_images(x, y, k=5, seed=3)
    # the reference: imblearn itself, fed int16 (exact pixel differences) as smote_images does
    flat, y_ref = SMOTE(k_neighbors=5, random_state=3).fit_resample(x.reshape(len(x), -1).astype(np.int16), y)
    assert xr.dtype == np.uint8 and xr.shape == (26, 6, 5, 3)
    np.testing.assert_array_equal(xr.reshape(len(xr), -1), flat)
    np.testing.assert_array_equal(yr, y_ref)
    np.testing.assert_array_equal(xr[:20], x)          # originals first, untouched
    assert np.bincount(yr).tolist() == [13, 13]
    # every synthetic image lies between two real minority images (SMOTE interpolates)
    lo, hi = x[y == 1].min(axis=0), x[y == 1].max(axis=0)
    assert (xr[20:] >= lo).all() and (xr[20:] <= hi).all()


def test_plain_uint8_into_imblearn_wraps_around_which_smote_images_avoids():
    from imblearn.over_sampling import SMOTE

    x = np.array([[10], [200], [20], [30], [12], [11], [13], [14], [15], [100]], np.uint8)
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    wrapped, _ = SMOTE(k_neighbors=2, random_state=0).fit_resample(x, y)
    ours, _ = smote_images(x.reshape(10, 1, 1), y, k=2, seed=0)
    exact, _ = SMOTE(k_neighbors=2, random_state=0).fit_resample(x.astype(np.int16), y)
    np.testing.assert_array_equal(ours.reshape(-1, 1), exact)
    assert ours[len(x):].min() >= 10 and ours[len(x):].max() <= 200
    assert not np.array_equal(wrapped[len(x):], ours.reshape(-1, 1)[len(x):])  # uint8 input differs: it wraps


def test_smote_images_rejects_bad_input_clearly():
    x, y = _imbalanced(n1=5)
    with pytest.raises(ValueError, match=r"k=5 needs more than 5 images per class; classes \{1: 5\}"):
        smote_images(x, y, k=5)
    with pytest.raises(ValueError, match="uint8"):
        smote_images(x.astype(np.float32), y, k=3)
    with pytest.raises(ValueError, match="18 images but 17 labels"):
        smote_images(x, y[:-1], k=3)


def _write(path, array, mode=None):
    Image.fromarray(array, mode).save(path)
    return str(path)


def test_roi_image_is_image_times_merged_mask_by_hand(tmp_path):
    img = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3) * 2 + 1
    m1 = np.zeros((4, 6), np.uint8)
    m1[0:2, 0:2] = 255
    m2 = np.zeros((4, 6), np.uint8)
    m2[3, 5] = 255
    image = _write(tmp_path / "b (1).png", img)
    masks = [_write(tmp_path / "b (1)_mask.png", m1), _write(tmp_path / "b (1)_mask_1.png", m2)]
    roi = roi_image(image, masks, (4, 6))
    expected = np.zeros_like(img)
    expected[0:2, 0:2] = img[0:2, 0:2]
    expected[3, 5] = img[3, 5]
    np.testing.assert_array_equal(roi, expected)
    # resizing happens after masking: the bilinear resize of the hand-made product
    resized = roi_image(image, masks, 3)
    ref = np.asarray(Image.fromarray(expected).resize((3, 3), Image.BILINEAR))
    np.testing.assert_array_equal(resized, ref)


def test_roi_of_a_normal_image_is_black_and_missing_masks_raise(tmp_path):
    img = np.full((8, 8, 3), 200, np.uint8)
    image = _write(tmp_path / "normal (1).png", img)
    empty = _write(tmp_path / "normal (1)_mask.png", np.zeros((8, 8), np.uint8))
    frame = pd.DataFrame({"image_path": [image, image], "mask_paths": [[empty], [empty]]})
    assert load_images(frame, 4, roi=True).max() == 0
    np.testing.assert_array_equal(load_images(frame, 4, roi=False), np.full((2, 4, 4, 3), 200, np.uint8))
    with pytest.raises(ValueError, match=r"row 1 .*normal \(1\)\.png.*no mask file"):
        load_images(frame.assign(mask_paths=[[empty], []]), 4, roi=True)


def test_experiment_table_full_quick_and_overrides():
    full = cfg.experiment_for(False)
    assert (full.input_size, full.epochs, full.batch_size, full.learning_rate, full.smote_k) == (299, 22, 32, 1e-4, 5)
    assert full.ratios == (0.7, 0.15, 0.15) and full.datasets() == ("busi", "breast-mri")
    quick = cfg.experiment_for(True, epochs=2, extra={"settings": "mri", "ratios": "0.6,0.2,0.2"})
    assert quick.settings == ("mri",) and quick.epochs == 2 and quick.ratios == (0.6, 0.2, 0.2)
    assert quick.datasets() == ("breast-mri",)
    with pytest.raises(ValueError, match="unknown effnetv2-smote option 'lr'"):
        cfg.experiment_for(True, extra={"lr": "1"})
    with pytest.raises(ValueError, match="unknown effnetv2-smote settings"):
        cfg.experiment_for(True, extra={"settings": "busi_bm,oops"})
    # Table 6 is the 2 x 2 of ROI x normal, all with SMOTE; Table 7 differs only in SMOTE
    t6 = {(s.roi, s.normal) for s in cfg.SETTINGS.values() if any(t == "Table 6" for t, _ in s.cells)}
    assert t6 == {(True, True), (True, False), (False, True), (False, False)}
    a, b = cfg.SETTINGS["busi_bm"], cfg.SETTINGS["busi_bm_nosmote"]
    assert (a.roi, a.normal, a.smote) == (b.roi, b.normal, not b.smote)


def test_reproduced_cells_match_the_claims_keys():
    from mmfusion.evaluation import load_claims
    from mmfusion.papers.effnetv2_smote.run import setting_cells

    metric = dict.fromkeys(("accuracy", "precision", "recall", "f1", "specificity", "auc"), 0.5)
    fake = {"macro": metric, "classes": ["benign", "malignant"],
            "counts": {"train": 452, "val": 98, "test": 97, "train_after_smote": 610,
                       "per_class": {"train": [306, 146], "val": [65, 33], "test": [66, 31]}},
            "timings": {"training_s": 1.0, "evaluation_s": 2.0, "inference_s_per_image": 0.1}}
    cells = setting_cells("busi_bm", fake) + setting_cells("mri", fake)
    keys = {(c["table"], c["row"], c["column"]) for c in cells}
    claims = load_claims("effnetv2-smote")
    claimed = {(c.table, c.row, c.column) for c in claims.claims}
    # every claim the busi_bm and mri settings can fill is filled under the same key
    fillable = {k for k in claimed if k[1] in ("BUSI B-M", "BUSI B-M test", "BUSI B-M after SMOTE",
                                               "MRI (per class)", "ROI, normal excluded", "BUSI", "MRI")}
    assert fillable <= keys
    by_key = {(c["table"], c["row"], c["column"]): c for c in cells}
    assert by_key[("Table 2", "BUSI B-M test", "malignant")]["values"] == [31]
    assert by_key[("Table 5", "BUSI B-M", "sensitivity")]["note"] == "macro average over classes"


def test_model_parameter_count_pinned_by_hand():
    from mmfusion.papers.effnetv2_smote.model import BACKBONE_PARAMS, LAST_CONV_LAYER, build_model, expected_params

    assert expected_params(2) == 5_919_312 + 1280 * 2 + 2 == 5_921_874
    model = build_model(299, 2, weights=None)
    assert model.count_params() == expected_params(2)
    assert model.get_layer(LAST_CONV_LAYER).output.shape[1:] == (10, 10, 1280)
    assert model.get_layer("head_out").get_config()["activation"] == "softmax"
    assert BACKBONE_PARAMS == model.count_params() - model.get_layer("head_out").count_params()
    small = build_model(32, 3, weights=None)   # the quick size builds; parameters don't depend on it
    assert small.count_params() == expected_params(3) and small.output_shape == (None, 3)


def test_smote_only_touches_training_images(tmp_path, monkeypatch, twin_cache):
    """run_setting with a stand-in fit: validation / test arrays are the real images of their split."""
    import keras

    import mmfusion.training.loop as loop
    from mmfusion.data.synthetic import ensure_twin
    from mmfusion.papers.effnetv2_smote import run as mod
    from mmfusion.registry import ReproduceOptions
    from mmfusion.training import RunDir

    seen = {}

    def fake_fit(build, train, val, config, run=None, **kw):
        seen.update(train=train, val=val, config=config)
        inp = keras.Input((16, 16, 3))
        out = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inp))
        return loop.FitResult(keras.Model(inp, out), {"epoch": [0], "loss": [1.0]})

    monkeypatch.setattr(loop, "fit", fake_fit)
    exp = cfg.experiment_for(True, extra={"input_size": "16", "busi_twin_n": "60"})
    options = ReproduceOptions(paper="effnetv2-smote", quick=True, cache_dir=str(twin_cache))
    root = ensure_twin("busi", twin_cache, seed=0, n=60)
    frame, dup = mod.load_frame("busi", root, exp)
    assert dup["duplicate_images"] == 1          # the twin plants one exact copy
    source = {"frame": frame, "images": {}, "synthetic": True}
    out = mod.run_setting("busi_bm", source, exp, None, options, RunDir(tmp_path), headline=False, explain=False)
    counts = out["metrics"]["counts"]
    bm = frame[frame["label"] != 2].reset_index(drop=True)
    x_real = load_images(bm, 16, roi=True)
    from mmfusion.data.splits import train_val_test_split

    idx = train_val_test_split(bm["label"].to_numpy(int), groups=bm["group_id"].to_numpy(), seed=0)
    np.testing.assert_array_equal(seen["val"][0], x_real[idx["val"]])
    np.testing.assert_array_equal(seen["val"][1], bm["label"].to_numpy()[idx["val"]])
    xt, yt = seen["train"]
    assert len(xt) == counts["train_after_smote"] > counts["train"] == len(idx["train"])
    np.testing.assert_array_equal(xt[:len(idx["train"])], x_real[idx["train"]])
    assert np.bincount(yt).tolist() == [max(np.bincount(bm["label"].to_numpy()[idx["train"]]))] * 2
    pred = pd.read_csv(tmp_path / "busi_bm" / "predictions.csv")
    assert set(pred.loc[pred.split == "test", "sample_id"]) == set(bm["sample_id"].to_numpy()[idx["test"]])
    assert counts["per_class"]["test"] == np.bincount(bm["label"].to_numpy()[idx["test"]]).tolist()
    assert seen["config"].optimizer == "nadam" and seen["config"].loss == "sparse_categorical_crossentropy"
