"""hmcnet config, validation messages, task relabelling and the cached film reader (no training)."""
import pandas as pd
import pytest

from mmfusion.experiment.config import resolve
from mmfusion.papers.hmcnet.config import HmcConfig
from mmfusion.papers.hmcnet.preprocess import task_frame
from mmfusion.registry import ReproduceOptions


def mias_like():
    # 5 normal, 3 benign, 2 malignant (labels as the MIAS loader writes them)
    labels = [0] * 5 + [1] * 3 + [2] * 2
    frame = pd.DataFrame({"sample_id": [f"mdb{i:03d}" for i in range(10)], "label": labels,
                          "label_name": [("normal", "benign", "malignant")[v] for v in labels],
                          "group_id": [f"p{i // 2}" for i in range(10)]})
    frame.attrs["report"] = {"rows_read": 10}
    return frame


def resolved(quick=False, **extra):
    return resolve(HmcConfig, ReproduceOptions("hmcnet", quick=quick, extra=extra), "hmcnet")


def test_normal_vs_abnormal_keeps_everything():
    out, dropped = task_frame(mias_like(), "normal_vs_abnormal")
    assert dropped == 0
    assert out["label"].tolist() == [0] * 5 + [1] * 5
    assert out["label_name"].value_counts().to_dict() == {"normal": 5, "abnormal": 5}
    assert out.attrs["report"] == {"rows_read": 10}


def test_benign_vs_malignant_drops_and_counts_the_normals():
    out, dropped = task_frame(mias_like(), "benign_vs_malignant")
    assert dropped == 5
    assert out["sample_id"].tolist() == ["mdb005", "mdb006", "mdb007", "mdb008", "mdb009"]
    assert out["label"].tolist() == [0, 0, 0, 1, 1]
    assert set(out["label_name"]) == {"benign", "malignant"}


def test_unexpected_labels_are_rejected():
    frame = mias_like()
    frame.loc[0, "label"] = 7
    with pytest.raises(ValueError, match="got \\[7\\]"):
        task_frame(frame, "normal_vs_abnormal")


def test_paper_follows_the_abstract_and_quick_is_small():
    full, quick = HmcConfig.paper(), HmcConfig.quick()
    assert (full.folds, full.input_size, full.epochs, full.batch_size) == (5, 224, 50, 16)
    assert set(full.tasks) == {"normal_vs_abnormal", "benign_vs_malignant"}
    assert {"hmcnet", "resnet50_hsa", "resnet50_msca", "resnet50", "vgg16", "vgg19",
            "vit"} == set(full.models)
    assert (quick.folds, quick.epochs) == (2, 1) and quick.input_size <= 64
    assert set(quick.models) < set(full.models) and quick.eager_cams and not full.eager_cams
    full.validate()
    quick.validate()


def test_fidelity_rows_name_paper_values():
    from mmfusion.experiment.fidelity import check
    from mmfusion.papers.hmcnet.config import FIDELITY

    assert check(HmcConfig.paper(), FIDELITY) == []
    assert {"backbone", "optimiser", "split", "statistics", "XAI methods"} <= {r.detail for r in FIDELITY}


def test_overrides_from_cli_strings():
    cfg = resolve(HmcConfig, ReproduceOptions("hmcnet", quick=True, epochs=3, extra={
        "models": "hmcnet,vgg16", "folds": "3", "learning_rate": "0.001", "attention": '{"width": 8}'}),
                  "hmcnet")
    assert cfg.epochs == 3 and cfg.folds == 3 and cfg.learning_rate == pytest.approx(1e-3)
    assert cfg.models == ("hmcnet", "vgg16") and cfg.attention == {"width": 8}
    with pytest.raises(ValueError, match="no setting 'foldz'"):
        resolved(foldz=3)


@pytest.mark.parametrize("extra, message", [
    ({"folds": 1}, "option folds=1: cross-validation needs at least 2 folds"),
    ({"models": "resnet"}, r"option models=\['resnet'\]: expected some of hmcnet, .* \(unknown: resnet\)"),
    ({"tasks": "normal_vs_benign"},
     r"option tasks=\['normal_vs_benign'\]: expected some of normal_vs_abnormal"),
    ({"input_size": 8}, "option input_size=8: ResNet50 and VGG need >= 32 px"),
    ({"preprocessing": "clahe"}, "option preprocessing='clahe': expected one of resize, mias-xai"),
    ({"friedman_metric": "loss"}, "option friedman_metric='loss': expected one of accuracy"),
    ({"optimizer": "rmsprop"}, "option optimizer='rmsprop': expected one of adam, nadam, sgd"),
    ({"val_fraction": 1.5}, "option val_fraction=1.5: must lie strictly between 0 and 1"),
    ({"epochs": 0}, "option epochs=0: must be a whole number >= 1"),
    ({"attention": "{heads: 4}"}, r"option attention=\{'heads': 4\}: unknown HMC-Net attention options"),
    ({"input_size": 40}, "input_size 40 must be a multiple of the ViT patch_size 16"),
])
def test_bad_values_name_the_option_and_what_is_allowed(extra, message):
    with pytest.raises(ValueError, match=message):
        resolved(**extra)


def test_films_read_once_with_either_preprocessing(twin_cache, tmp_path):
    import cv2
    import numpy as np

    from mmfusion.data import load_dataset
    from mmfusion.data.images import read_image
    from mmfusion.data.mammo import apply_clahe, remove_noise
    from mmfusion.data.synthetic import ensure_twin
    from mmfusion.papers.hmcnet.preprocess import film_images

    frame = load_dataset("mias", ensure_twin("mias", twin_cache)).head(3)
    plain = film_images(frame, 48, "resize", tmp_path)
    enhanced = film_images(frame, 48, "mias-xai", tmp_path)
    assert plain.shape == enhanced.shape == (3, 48, 48, 3) and plain.dtype == enhanced.dtype == np.uint8
    np.testing.assert_array_equal(plain[0], read_image(frame["image_path"].iloc[0], "rgb", size=(48, 48)))
    # the mias-xai option is the core's film clean-up (noise removal + CLAHE) on the resized film
    film = cv2.resize(np.repeat(read_image(frame["image_path"].iloc[1], "gray")[..., None], 3, -1), (48, 48),
                      interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(enhanced[1], apply_clahe(remove_noise(film)))
    # cached by content and parameters: one entry per preprocessing, reread unchanged, order kept
    assert len(list((tmp_path / "hmcnet-films").glob("*.npz"))) == 2
    np.testing.assert_array_equal(film_images(frame, 48, "resize", tmp_path), plain)
    np.testing.assert_array_equal(film_images(frame.iloc[::-1], 48, "resize", tmp_path), plain[::-1])
