"""HMC-Net experiment table and task relabelling (pure; no TensorFlow needed)."""
import pandas as pd
import pytest

from mmfusion.papers.hmcnet.config import FULL, QUICK, Experiment, experiment_for, task_frame


def mias_like():
    # 5 normal, 3 benign, 2 malignant (labels as the MIAS loader writes them)
    labels = [0] * 5 + [1] * 3 + [2] * 2
    frame = pd.DataFrame({"sample_id": [f"mdb{i:03d}" for i in range(10)], "label": labels,
                          "label_name": [("normal", "benign", "malignant")[v] for v in labels],
                          "group_id": [f"p{i // 2}" for i in range(10)]})
    frame.attrs["report"] = {"rows_read": 10}
    return frame


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


def test_full_follows_the_paper_and_quick_is_small():
    assert (FULL.folds, FULL.input_size) == (5, 224)
    assert set(FULL.tasks) == {"normal_vs_abnormal", "benign_vs_malignant"}
    assert {"hmcnet", "resnet50_hsa", "resnet50_msca", "resnet50", "vgg16", "vgg19", "vit"} == set(FULL.models)
    assert (QUICK.folds, QUICK.epochs) == (2, 1) and QUICK.input_size <= 64
    assert set(QUICK.models) < set(FULL.models)


def test_overrides_from_cli_strings():
    exp = experiment_for(True, epochs=3, extra={"models": "hmcnet,vgg16", "folds": "3",
                                                "learning_rate": "0.001", "attention": '{"width": 8}'})
    assert exp.epochs == 3 and exp.folds == 3 and exp.learning_rate == pytest.approx(1e-3)
    assert exp.models == ("hmcnet", "vgg16") and exp.attention == {"width": 8}
    with pytest.raises(ValueError, match="unknown hmcnet option 'foldz'"):
        experiment_for(False, extra={"foldz": 3})
    with pytest.raises(ValueError, match="unknown hmcnet models \\['resnet'\\]"):
        Experiment(models=("resnet",))
    with pytest.raises(ValueError, match="at least 2 folds"):
        experiment_for(False, extra={"folds": 1})


def test_images_read_once_with_either_preprocessing(twin_cache):
    import numpy as np

    from mmfusion.data import load_dataset
    from mmfusion.data.images import read_image
    from mmfusion.data.synthetic import ensure_twin
    from mmfusion.papers.hmcnet.run import load_images
    from mmfusion.papers.mias_xai.preprocess import apply_clahe, remove_noise

    frame = load_dataset("mias", ensure_twin("mias", twin_cache)).head(3)
    plain = load_images(frame, 48, "resize")
    enhanced = load_images(frame, 48, "mias-xai")
    assert plain.shape == enhanced.shape == (3, 48, 48, 3) and plain.dtype == enhanced.dtype == np.uint8
    np.testing.assert_array_equal(plain[0], read_image(frame["image_path"].iloc[0], "rgb", size=(48, 48)))
    # the mias-xai option is that paper's noise removal + CLAHE on the resized film
    import cv2
    film = cv2.resize(np.repeat(read_image(frame["image_path"].iloc[1], "gray")[..., None], 3, -1), (48, 48),
                      interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(enhanced[1], apply_clahe(remove_noise(film)))
