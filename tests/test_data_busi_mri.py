"""BUSI and breast-MRI loaders: real samples, twin quirks, bad input."""
import shutil

import numpy as np
import pytest
from PIL import Image

from mmfusion.data import DatasetError, load_dataset
from mmfusion.data.images import read_mask
from mmfusion.data.synthetic import ensure_twin


def test_busi_real_samples(shared_samples):
    frame = load_dataset("busi", shared_samples / "busi").set_index("sample_id")
    assert len(frame) == 8 and frame.attrs["report"]["n_skipped"] == 0
    assert np.bincount(frame["label"]).tolist() == [3, 3, 2]
    masks = frame.loc["benign (25)", "mask_paths"]
    assert [m.rsplit("/", 1)[1] for m in masks] == ["benign (25)_mask.png", "benign (25)_mask_1.png"]
    merged = read_mask(masks)
    first, second = read_mask(masks[0]), read_mask(masks[1])
    assert merged.sum() == (first | second).sum() > max(first.sum(), second.sum())
    for name in ("normal (20)", "normal (21)"):   # RGB masks, all zero
        assert not read_mask(frame.loc[name, "mask_paths"]).any()
    binary = load_dataset("busi", shared_samples / "busi", include_normal=False)
    assert len(binary) == 6 and binary.attrs["report"]["skipped"] == {"normal_excluded": 1}


def test_busi_twin_duplicate_masks_and_groups(twin_cache):
    root = ensure_twin("busi", twin_cache)
    with pytest.warns(UserWarning, match="1 duplicate images in 1 groups"):
        frame = load_dataset("busi", root, duplicates=True)
    dup = frame[frame["duplicate_group"].notna()]
    assert len(dup) == 2 and dup["group_id"].nunique() == 1
    assert frame["group_id"].nunique() == len(frame) - 1
    assert sum(len(m) > 1 for m in frame["mask_paths"]) == 1
    modes = {Image.open(m).mode for ms in frame["mask_paths"] for m in ms}
    assert {"1", "L", "RGB", "RGBA"} <= modes
    for _, row in frame.iterrows():
        mask = read_mask(row["mask_paths"])
        assert mask.any() == (row["label_name"] != "normal"), row["sample_id"]
    rgb = np.asarray(Image.open(frame["image_path"][0]))
    assert rgb.ndim == 3 and (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    # splitting on group_id keeps the planted copies on one side
    from mmfusion.data.splits import train_val_test_split
    sides = train_val_test_split(frame["label"], frame["group_id"], seed=0)
    side_of = {i: s for s, idx in sides.items() for i in idx}
    assert len({side_of[i] for i in dup.index}) == 1


def test_busi_bad_input(tmp_path, twin_cache):
    root = tmp_path / "busi"
    shutil.copytree(ensure_twin("busi", twin_cache), root)
    folder = root / "Dataset_BUSI_with_GT"
    # mask of another size: warned and counted, resized nearest when read
    mask = folder / "benign" / "benign (3)_mask.png"
    Image.open(mask).resize((20, 10), Image.NEAREST).save(mask)
    with pytest.warns(UserWarning, match="differs from image size"):
        frame = load_dataset("busi", root)
    assert sum("differs from image size" in w for w in frame.attrs["report"]["warnings"]) == 1
    # orphan mask and a stray file are counted, not silently dropped
    shutil.copy(mask, folder / "malignant" / "malignant (99)_mask.png")
    (folder / "malignant" / "Thumbs.db").write_bytes(b"x")
    report = load_dataset("busi", root).attrs["report"]
    assert report["skipped"] == {"mask_without_image": 1, "not_an_image": 1}
    # truncated image -> error naming the file when decoded
    from mmfusion.data.images import read_image
    img = folder / "benign" / "benign (4).png"
    img.write_bytes(img.read_bytes()[:200])
    with pytest.raises(DatasetError, match=r"benign \(4\)\.png"):
        read_image(img)
    # class with no samples; class folder missing
    for p in (folder / "normal").iterdir():
        p.unlink()
    with pytest.raises(DatasetError, match="class 'normal' has no images"):
        load_dataset("busi", root)
    (folder / "normal").rmdir()
    with pytest.raises(DatasetError, match="normal/ is missing"):
        load_dataset("busi", root)
    with pytest.raises(DatasetError, match="BUSI folders not found"):
        load_dataset("busi", tmp_path / "busi" / "Dataset_BUSI_with_GT" / "benign")


def test_breast_mri_twin_ids_and_bad_input(tmp_path, twin_cache):
    root = ensure_twin("breast-mri", twin_cache)
    frame = load_dataset("breast-mri", root)
    assert set(frame["original_split"]) == {"train", "validation"}
    assert {"train/Healthy/1", "train/Sick/1"} <= set(frame["sample_id"])   # same file name, both classes
    assert (frame["label"] == (frame["label_name"] == "Sick")).all()
    assert frame["sample_id"].is_unique and frame.attrs["report"]["n_skipped"] == 0
    copy = tmp_path / "mri"
    shutil.copytree(root, copy)
    sick = copy / "Breast Cancer Patients MRI's" / "validation" / "Sick"
    for p in sick.iterdir():
        p.unlink()
    with pytest.raises(DatasetError, match="class 'Sick' has no images in validation"):
        load_dataset("breast-mri", copy)
    sick.rmdir()
    with pytest.raises(DatasetError, match="validation/Sick/ is missing"):
        load_dataset("breast-mri", copy)
    assert len(load_dataset("breast-mri", copy,
                            splits=("train",))) == (frame["original_split"] == "train").sum()
