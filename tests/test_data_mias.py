"""MIAS loader: the real Info.txt counts, quirks, masks from circles, bad input."""
import shutil

import numpy as np
import pytest

from mmfusion.data import DatasetError, load_dataset, mias
from mmfusion.data.synthetic import ensure_twin


def test_real_info_counts(shared_samples):
    rows = mias.read_info(shared_samples / "mias" / "Info.txt")
    assert len(rows) == 330
    for rule, expected in (("any", [207, 63, 52]), ("first", [207, 64, 51])):
        frame = mias.per_image(rows, rule)
        assert len(frame) == 322
        assert np.bincount(frame["label"]).tolist() == expected
    frame = mias.per_image(rows)
    by_id = frame.set_index("sample_id")
    assert sorted(by_id.index[by_id["missing_coordinates"]]) == ["mdb059", "mdb216", "mdb233", "mdb245"]
    assert by_id.loc["mdb226", "n_abnormalities"] == 3 and by_id.loc["mdb144", "label_name"] == "malignant"
    assert by_id.loc["mdb001", "group_id"] == by_id.loc["mdb002", "group_id"] != by_id.loc["mdb003",
                                                                                           "group_id"]
    assert frame["group_id"].nunique() == 161
    # y origin bottom-left: mdb001 "535 425 197" -> row 1024 - 425
    assert (by_id.loc["mdb001", "cx"], by_id.loc["mdb001", "cy"]) == (535, 599)


def test_real_images_missing_counted_or_fatal(shared_samples):
    frame = load_dataset("mias", shared_samples / "mias")
    assert len(frame) == 10 and frame.attrs["report"]["skipped"] == {"image_missing": 312}
    assert frame.set_index("sample_id").loc["mdb144", "label"] == 2
    with pytest.raises(DatasetError, match="mdb002 is listed"):
        load_dataset("mias", shared_samples / "mias", missing="error")


def test_real_lesion_mask_is_the_circle_and_brighter(shared_samples):
    from mmfusion.data.images import read_image

    row = load_dataset("mias", shared_samples / "mias").set_index("sample_id").loc["mdb001"]
    mask = mias.lesion_mask(row["abnormalities"], (256, 256))
    rows, cols = np.nonzero(mask)
    assert abs(cols.mean() - 535 / 4) < 1 and abs(rows.mean() - 599 / 4) < 1
    assert mask.sum() == pytest.approx(np.pi * (197 / 4) ** 2, rel=0.03)
    img = read_image(row["image_path"], mode="gray", size=(256, 256))
    assert img[mask].mean() > img[~mask & (img > 20)].mean()  # the benign mass is denser than tissue


def test_short_file_names_are_accepted(tmp_path, twin_cache):
    root = ensure_twin("mias", twin_cache)
    copy = tmp_path / "mias"
    shutil.copytree(root, copy)
    (copy / "all-mias" / "mdb001.pgm").rename(copy / "all-mias" / "mdb1.pgm")
    frame = load_dataset("mias", copy)
    assert frame.loc[frame["sample_id"] == "mdb001", "image_path"].item().endswith("mdb1.pgm")
    assert frame.attrs["report"]["n_skipped"] == 0


@pytest.mark.parametrize("text, match", [
    ("REFNUM BG CLASS X Y RADIUS\nmdb001 G NORM \n", "expected header"),
    ("REFNUM BG CLASS SEVERITY X Y RADIUS \nmdb001 G CIRC B 535 425\n", r"row 2.*got 6"),
    ("REFNUM BG CLASS SEVERITY X Y RADIUS \nmdb001 G BLOB B 1 2 3\n",
     r"row 2.*unknown BG 'G' or CLASS 'BLOB'"),
    ("REFNUM BG CLASS SEVERITY X Y RADIUS \nmdb001 G CIRC B 1 two 3\n", r"row 2.*must be numbers"),
    ("REFNUM BG CLASS SEVERITY X Y RADIUS \nmdb001 G CIRC X 1 2 3\n", r"row 2.*SEVERITY 'X'"),
])
def test_bad_info_rows_name_file_and_row(tmp_path, text, match):
    (tmp_path / "Info.txt").write_text(text)
    with pytest.raises(DatasetError, match=match) as err:
        load_dataset("mias", tmp_path)
    assert "Info.txt" in str(err.value)


def test_missing_label_file(tmp_path):
    (tmp_path / "all-mias").mkdir()
    with pytest.raises(DatasetError, match="Info.txt not found"):
        load_dataset("mias", tmp_path)


def test_twin_has_the_quirks_and_its_circles_are_lesions(twin_cache):
    from mmfusion.data.images import read_image

    root = ensure_twin("mias", twin_cache)
    lines = (root / "Info.txt").read_text().split("\n")
    assert lines[0] == "REFNUM BG CLASS SEVERITY X Y RADIUS "
    assert not (root / "Info.txt").read_text().endswith("\n")
    assert (root / "all-mias" / "mdb001.pgm").read_bytes().startswith(b"P5\n256 256\n255\n")
    any_rule = load_dataset("mias", root)
    first_rule = load_dataset("mias", root, label_rule="first")
    assert len(any_rule) == mias_twin_n() and any_rule.attrs["report"]["n_skipped"] == 0
    assert any_rule["missing_coordinates"].sum() == 1 and (any_rule["n_abnormalities"] > 1).sum() >= 2
    assert (any_rule["label"] != first_rule["label"]).sum() == 1     # the benign-then-malignant image
    for _, row in any_rule[(any_rule["label"] > 0) & ~any_rule["missing_coordinates"]].iterrows():
        img = read_image(row["image_path"], mode="gray")
        mask = mias.lesion_mask(row["abnormalities"], img.shape)
        assert img[mask].mean() > img[~mask & (img > 10)].mean() + 20, row["sample_id"]


def mias_twin_n():
    from mmfusion.data.synthetic import mias as twin
    return twin.DEFAULT_N


def test_load_dataset_warns_with_the_skip_counts(shared_samples):
    from mmfusion.data import load_dataset

    with pytest.warns(UserWarning, match=r"kept 10 samples .* skipped 312 \(312 image_missing\)"):
        frame = load_dataset("mias", shared_samples / "mias", missing="skip")
    assert len(frame) == 10 and frame.attrs["report"]["n_skipped"] == 312
