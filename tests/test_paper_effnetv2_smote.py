"""effnetv2-smote: SMOTE wrapper vs imblearn, ROI by hand, the config and its messages, each
printed cell's averaging against the paper's one confusion matrix and sklearn, the pinned model
size, SMOTE only on training images, and a BUSI-only folder (the MRI settings skipped, counted)."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mmfusion.data.resample import smote_images
from mmfusion.papers.effnetv2_smote import config as C
from mmfusion.papers.effnetv2_smote import pipeline as P
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


def _resolve(quick=True, **extra):
    from mmfusion.experiment.config import resolve
    from mmfusion.registry import ReproduceOptions

    epochs = extra.pop("epochs", None)
    options = ReproduceOptions("effnetv2-smote", quick=quick, epochs=epochs, extra=extra)
    return resolve(C.EffnetConfig, options, "effnetv2-smote")


def test_config_paper_quick_overrides_and_messages():
    full = _resolve(quick=False)
    assert (full.input_size, full.epochs, full.batch_size, full.learning_rate, full.smote_k) == (299, 22, 32,
                                                                                                 1e-4, 5)
    assert full.ratios == (0.7, 0.15, 0.15) and full.datasets() == ("busi", "breast-mri")
    quick = _resolve(epochs=2, settings="mri", ratios="0.6,0.2,0.2", mri_dir="/data/mri", twin_n="30")
    assert quick.settings == ("mri",) and quick.epochs == 2 and quick.ratios == (0.6, 0.2, 0.2)
    assert quick.datasets() == ("breast-mri",) and quick.data_dir("breast-mri") == "/data/mri"
    assert quick.data_dir("busi") is None
    assert (quick.twin_size("busi"), quick.twin_size("breast-mri")) == (60,
                                                                        30)   # busi_twin_n wins over twin_n
    for extra, message in (({"lr": "1"}, "no setting 'lr'"),
                           ({"settings": "busi_bm,oops"},
                            r"option settings=\['busi_bm', 'oops'\]: expected some of busi_bm, .*"
                            r" \(unknown: oops\)"),
                           ({"input_size": "8"}, "option input_size=8: EfficientNetV2B0 needs >= 32 px"),
                           ({"smote_k": "0"}, "option smote_k=0"),
                           ({"ratios": "0.5,0.5"},
                            "option ratios=0.5,0.5: expected three positive fractions"),
                           ({"epochs": 0}, "option epochs=0")):
        with pytest.raises(ValueError, match=message):
            _resolve(**extra)
    # Table 6 is the 2 x 2 of ROI x normal, all with SMOTE; Table 7 differs only in SMOTE
    t6 = {(s.roi, s.normal) for s in C.SETTINGS.values() if any(t == "Table 6" for t, _ in s.cells)}
    assert t6 == {(True, True), (True, False), (False, True), (False, False)}
    a, b = C.SETTINGS["busi_bm"], C.SETTINGS["busi_bm_nosmote"]
    assert (a.roi, a.normal, a.smote) == (b.roi, b.normal, not b.smote)


def test_fidelity_rows_state_the_paper_config():
    from mmfusion.experiment import fidelity

    assert fidelity.check(C.EffnetConfig.paper(), C.FIDELITY) == []
    k = [r for r in C.FIDELITY if r.field == "smote_k"][0]
    assert k.ours.startswith("ours") and "not stated" in k.paper


def _papers_matrix():
    """BUSI B-M test set (66 benign, 31 malignant): benign->benign 65, benign->malignant 1, 31 right."""
    y = np.array([0] * 66 + [1] * 31)
    pred = np.array([0] * 65 + [1] + [1] * 31)
    probs = np.stack([1.0 - pred, pred], axis=1).astype(float)
    probs[:, 1] = np.where(pred == 1, 0.9, 0.1) + np.linspace(0, 0.05, len(y))   # ranks for the AUC
    probs[:, 0] = 1 - probs[:, 1]
    return y, pred, probs


def test_each_column_uses_the_averaging_the_printed_numbers_imply():
    from sklearn import metrics as skm

    y, pred, probs = _papers_matrix()
    m = {**P.evaluate(y, probs, ["benign", "malignant"]), "classes": ["benign", "malignant"]}
    assert m["confusion_matrix"] == [[65, 1], [0, 31]]
    got = {c: P.value(m, c) for c in ("accuracy", "f1", "sensitivity", "specificity", "precision", "auc")}
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred)) == pytest.approx(96 / 97)
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert got["sensitivity"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert got["specificity"] == pytest.approx(skm.recall_score(y, pred, pos_label=0)) == pytest.approx(65
                                                                                                        / 66)
    assert got["auc"] == pytest.approx(skm.roc_auc_score(y, probs[:, 1]))
    # rounded to the paper's two decimals these are its Table 5 B-M / Table 7 "with SMOTE" cells
    printed = {"accuracy": 98.97, "f1": 98.82, "sensitivity": 99.24, "specificity": 98.48, "precision": 98.44}
    assert {c: round(100 * got[c], 2) for c in printed} == printed
    # a macro specificity would equal the macro recall, which the paper's 98.48 rules out
    assert m["macro"]["specificity"] == pytest.approx(m["macro"]["recall"])
    # three classes (B-M-N): binary columns fall back to macro
    assert P.averaging("specificity", 3) == "macro" and P.averaging("specificity", 2) == "binary"


class _Cells:
    def __init__(self):
        self.cells = []

    def cell(self, table, row, column, values, note="", **extra):
        self.cells.append({"table": table, "row": row, "column": column, "values": values, "note": note,
                           **extra})


def test_cells_keys_notes_and_the_claims_they_meet():
    from mmfusion.evaluation import load_claims

    y, _, probs = _papers_matrix()
    m = {**P.evaluate(y, probs, ["benign", "malignant"]), "classes": ["benign", "malignant"],
         "counts": {"train": 452, "val": 98, "test": 97, "train_after_smote": 610,
                    "per_class": {"train": [305, 147], "val": [66, 32], "test": [66, 31]}}}
    t = {"training_s": 1.0, "evaluation_s": 2.0, "inference_s_per_image": 0.1}
    ctx = _Cells()
    P.setting_cells(ctx, "busi_bm", m, t)
    P.setting_cells(ctx, "mri", {**m, "classes": ["healthy", "sick"]}, t)
    by_key = {(c["table"], c["row"], c["column"]): c for c in ctx.cells}
    claimed = {(c.table, c.row, c.column) for c in load_claims("effnetv2-smote").claims}
    # every cell meets a printed number under the same key (BUSI's split is Table 1, MRI's Table 2)
    assert set(by_key) <= claimed
    assert ("§4 Results text", "BUSI", "auc") in by_key and ("§4 Results text", "MRI", "auc") in by_key
    spec = by_key[("Table 5", "BUSI B-M", "specificity")]
    assert spec["values"] == pytest.approx(65 / 66) and spec["note"].startswith("binary")
    assert by_key[("Table 5", "BUSI B-M", "sensitivity")]["note"] == "macro average over classes"
    assert by_key[("Table 5", "BUSI B-M", "accuracy")]["n_test"] == 97
    assert by_key[("Table 1", "Malignant", "Test Set")]["values"] == 31
    assert by_key[("Table 1", "Total", "Images")]["values"] == 647           # 452 + 98 + 97, as printed
    assert by_key[("§3 Data Preprocessing text", "BUSI training set after SMOTE", "images")]["values"] == 610
    assert by_key[("Timings", "BUSI", "training time")]["bounds"] == [0, None]


def test_model_parameter_count_pinned_by_hand():
    from mmfusion.papers.effnetv2_smote.model import (
        BACKBONE_PARAMS,
        LAST_CONV_LAYER,
        build_model,
        expected_params,
    )

    assert expected_params(2) == 5_919_312 + 1280 * 2 + 2 == 5_921_874
    model = build_model(299, 2, weights=None)
    assert model.count_params() == expected_params(2)
    assert model.get_layer(LAST_CONV_LAYER).output.shape[1:] == (10, 10, 1280)
    assert model.get_layer("head_out").get_config()["activation"] == "softmax"
    assert BACKBONE_PARAMS == model.count_params() - model.get_layer("head_out").count_params()
    small = build_model(32, 3, weights=None)   # the quick size builds; parameters don't depend on it
    assert small.count_params() == expected_params(3) and small.output_shape == (None, 3)


@pytest.fixture
def fake_fit(monkeypatch):
    """training.fit replaced by a stand-in that records what it was given (a GAP + Dense model)."""
    import keras

    import mmfusion.training as training
    from mmfusion.training.loop import FitResult

    seen = []

    def fit(build, train, val, config, run=None, **kw):
        seen.append({"train": train, "val": val, "config": config, "run": run})
        inp = keras.Input(train[0].shape[1:])
        out = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inp))
        return FitResult(keras.Model(inp, out), {"epoch": [0], "loss": [1.0]})

    monkeypatch.setattr(training, "fit", fit)
    return seen


def _run(tmp_path, twin_cache, **kw):
    from mmfusion.experiment import reproduce_paper
    from mmfusion.registry import ReproduceOptions

    extra = {"cam_images": 0, **kw.pop("extra", {})}
    options = ReproduceOptions("effnetv2-smote", quick=True, out=str(tmp_path / "runs"),
                               cache_dir=str(twin_cache), extra=extra, **kw)
    return reproduce_paper("effnetv2-smote", options)


def test_smote_only_touches_training_images(tmp_path, twin_cache, fake_fit):
    """The validation / test arrays are the real images of their split; SMOTE balances training only."""
    import json

    from mmfusion.data import load_dataset
    from mmfusion.data.splits import train_val_test_split
    from mmfusion.data.synthetic import ensure_twin

    run = _run(tmp_path, twin_cache, extra={"settings": "busi_bm"})
    root = ensure_twin("busi", twin_cache / "twins", seed=0, n=60)
    frame = load_dataset("busi", root, include_normal=True, duplicates=True)
    bm = frame[frame["label"] != 2].reset_index(drop=True)
    x_real = load_images(bm, 32, roi=True)
    idx = train_val_test_split(bm["label"].to_numpy(int), groups=bm["group_id"].to_numpy(), seed=0)
    seen = fake_fit[0]
    np.testing.assert_array_equal(seen["val"][0], x_real[idx["val"]])
    np.testing.assert_array_equal(seen["val"][1], bm["label"].to_numpy()[idx["val"]])
    xt, yt = seen["train"]
    counts = json.loads((run / "metrics.json").read_text())["settings"]["busi_bm"]["counts"]
    assert len(xt) == counts["train_after_smote"] > counts["train"] == len(idx["train"])
    np.testing.assert_array_equal(xt[:len(idx["train"])], x_real[idx["train"]])
    assert np.bincount(yt).tolist() == [max(np.bincount(bm["label"].to_numpy()[idx["train"]]))] * 2
    pred = pd.read_csv(run / "busi_bm" / "predictions.csv")
    assert set(pred.loc[pred.split == "test", "sample_id"]) == set(bm["sample_id"].to_numpy()[idx["test"]])
    assert counts["per_class"]["test"] == np.bincount(bm["label"].to_numpy()[idx["test"]]).tolist()
    assert seen["config"].optimizer == "nadam" and seen["config"].loss == "sparse_categorical_crossentropy"
    assert (seen["config"].learning_rate, seen["config"].seed) == (1e-4, 0)
    assert seen["run"].path == run / "busi_bm"


def test_busi_only_folder_runs_busi_and_skips_mri_naming_the_key(tmp_path, twin_cache, fake_fit, capsys):
    """The README's own example: --data-dir at BUSI alone (issue 16)."""
    import json

    from mmfusion.data import DatasetError
    from mmfusion.data.synthetic import write_twin

    busi = write_twin("busi", tmp_path / "busi", n=60)
    run = _run(tmp_path, twin_cache, data_dir=str(busi), extra={"settings": "busi_bm,mri"})
    err = capsys.readouterr().err
    assert "breast-mri not found" in err and "--set mri_dir=PATH" in err and "skipping mri" in err
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["skipped"]["settings"]["details"] == {"breast-mri": ["mri"]}
    assert sum(v for k, v in manifest["skipped"]["settings"].items() if k != "details") == 1
    metrics = json.loads((run / "metrics.json").read_text())
    assert list(metrics["settings"]) == ["busi_bm"] and len(fake_fit) == 1
    assert any("kept 1 of 2" in n for n in metrics["notes"])
    # a folder with neither dataset still stops, naming both
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="none of the datasets was found.*BUSI.*breast MRI"):
        _run(tmp_path, twin_cache, data_dir=str(tmp_path / "empty"), extra={"settings": "busi_bm,mri"})
