"""Issue 16, section 3: bad inputs stop with a message naming the file / row / option, and nothing
is silently lost or mixed (two copies of a dataset, identical images, skips, progress bars)."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmfusion.data import FULL_SIZES, DatasetError, load_dataset
from mmfusion.data.splits import kfold_splits, train_val_test_split
from mmfusion.data.synthetic import write_twin


@pytest.fixture
def mias(tmp_path):
    return Path(write_twin("mias", tmp_path / "mias", n=12, seed=0))


@pytest.fixture
def ham(tmp_path):
    return Path(write_twin("ham10000", tmp_path / "ham", n=20, seed=0))


def _edit_info(root, fn):
    info = root / "Info.txt"
    info.write_text(fn(info.read_text()))
    return info


def test_two_copies_of_a_dataset_are_refused_naming_both(tmp_path, mias, ham):
    both = tmp_path / "both"
    shutil.copytree(mias, both / "a")
    shutil.copytree(mias, both / "b")
    _edit_info(both / "b", lambda t: t.replace("mdb002 F NORM", "mdb002 G NORM"))
    with pytest.raises(DatasetError,
                       match=r"2 copies of the MIAS label file Info\.txt.*a/Info\.txt.*b/Info\.txt"):
        load_dataset("mias", both)
    # images-only copy a/ beside b/ with the CSV and images: labels would pair with a/'s images
    two = tmp_path / "two"
    images = next(p for p in ham.rglob("*.jpg")).parent
    shutil.copytree(images, two / "a" / images.name)
    shutil.copytree(ham, two / "b")
    with pytest.raises(DatasetError, match=r"two copies of the dataset: .*a/.* and .*b/"):
        load_dataset("ham10000", two)


def test_identical_images_share_a_group_on_every_split(mias):
    imgs = sorted((mias / "all-mias").glob("*.pgm")) or sorted(mias.glob("*.pgm"))
    shutil.copy(imgs[0], imgs[5])          # mdb006 := mdb001 (another patient)
    shutil.copy(imgs[0], imgs[7])
    with pytest.warns(UserWarning, match=r"2 byte-identical image copies in 1 sets"):
        frame = load_dataset("mias", mias)
    assert frame.attrs["report"]["identical_images"]["sets"] == [["mdb001", "mdb006", "mdb008"]]
    g = frame.set_index("sample_id")["group_id"]
    assert g["mdb001"] == g["mdb006"] == g["mdb008"] == g["mdb002"]   # merged with mdb001's patient
    sides = [set(frame["sample_id"].iloc[te]) for _,
             te in kfold_splits(frame["label"], frame["group_id"], k=2)]
    assert any({"mdb001", "mdb006", "mdb008"} <= s for s in sides)


def test_header_only_info_txt(mias):
    info = _edit_info(mias, lambda t: t.splitlines()[0] + "\n")
    with pytest.raises(DatasetError, match=rf"{info}, row 2: has the header but no data rows"):
        load_dataset("mias", mias)


def test_non_utf8_bytes_name_file_line_and_encodings(mias, ham):
    info = mias / "Info.txt"
    lines = info.read_bytes().split(b"\n")
    lines[3] = lines[3] + b" \xe9"
    info.write_bytes(b"\n".join(lines))
    with pytest.raises(DatasetError, match=rf"{info}, row 4: byte 0xe9 .*tried utf-8, utf-8 with BOM"):
        load_dataset("mias", mias)
    csv = ham / "HAM10000_metadata.csv"
    rows = csv.read_bytes().split(b"\n")
    rows[2] = rows[2].replace(b"face", b"f\xff") if b"face" in rows[2] else rows[2] + b"\xff"
    csv.write_bytes(b"\n".join(rows))
    with pytest.raises(DatasetError, match=r"HAM10000_metadata\.csv, row 3: byte 0xff .*not UTF-8"):
        load_dataset("ham10000", ham)


def test_coordinates_outside_the_image(mias):
    info = mias / "Info.txt"
    lines = info.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if len(line.split()) == 7 and k > 0)
    ref, bg, cls, sev, *_ = lines[i].split()
    lines[i] = f"{ref} {bg} {cls} {sev} 2000 597 93"
    info.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=rf"{info}, row {i + 1}: {ref}: X 2000 Y 597 .*1024 x 1024 frame"
                                           r".*the image is \d+ x \d+ pixels"):
        load_dataset("mias", mias)


def test_duplicate_image_id_names_csv_and_row(ham):
    csv = ham / "HAM10000_metadata.csv"
    rows = csv.read_text().splitlines()
    first_id = rows[1].split(",")[1]
    rows[4] = ",".join([rows[4].split(",")[0], first_id, *rows[4].split(",")[2:]])
    csv.write_text("\n".join(rows) + "\n")
    with pytest.raises(DatasetError,
                       match=rf"{csv}, row 4: duplicate image_id '{first_id}' \(first in row 1\)"):
        load_dataset("ham10000", ham)


def test_too_few_images_for_a_split_names_classes_counts_and_minimum():
    with pytest.raises(DatasetError, match=r"too few images for 5-fold.*4 images, classes \{0: 3, 1: 1\}"
                                           r".*at least 5 images in all"):
        kfold_splits(np.array([0, 0, 0, 1]), k=5)
    with pytest.raises(DatasetError, match=r"train/val/test.*classes \{0: 6, 1: 1\}.*at least 2 images of "
                                           r"every class, at least 8 images in all"):
        train_val_test_split(np.array([0] * 6 + [1]))


@pytest.mark.parametrize("c", [2, 3, 7])
def test_split_minimum_is_exactly_what_sklearn_accepts(c):
    from sklearn.model_selection import train_test_split

    from mmfusion.data.splits import two_step_minimum

    def works(n, first, second, again):
        y, i = np.arange(n) % c, np.arange(n)
        try:
            rest, test = train_test_split(i, test_size=first, stratify=y, random_state=0)
            part = test if again == "test" else rest
            train_test_split(part, test_size=second, stratify=y[part], random_state=0)
            return True
        except ValueError:
            return False
    for args in ((0.3, 0.5, "test"), (0.15, 0.15 / 0.85, "rest")):
        m = two_step_minimum(np.arange(c), *args)
        assert works(m, *args) and not works(m - 1, *args)


def test_skips_only_in_the_manifest_reach_the_console(tmp_path, ham):
    images = next(p for p in ham.rglob("*.jpg")).parent
    shutil.copytree(images, images.parent / images.name.lower().replace("ham", "HAM").swapcase())
    with pytest.warns(UserWarning, match=r"\d+ duplicate image copies ignored"):
        frame = load_dataset("ham10000", ham)
    assert frame.attrs["notes"]["duplicate_image_copies_ignored"] > 0


def test_no_progress_silences_bars_a_caller_turned_on(monkeypatch):
    from mmfusion.utils.progress import tqdm
    monkeypatch.setenv("MMFUSION_NO_PROGRESS", "1")
    assert tqdm(range(3), disable=False).disable


def test_full_sizes_are_the_documented_counts():
    assert FULL_SIZES["mias"] == 322 and FULL_SIZES["ham10000"] == 10015
    assert FULL_SIZES["busi"] == 437 + 210 + 133
    assert FULL_SIZES["cbis-ddsm"] == 1318 + 378 + 1546 + 326


def test_weights_file_not_hdf5_or_not_fitting_names_file_and_keras_name(tmp_path):
    from mmfusion.models import WeightsError, build_backbone
    page = tmp_path / "resnet.h5"
    page.write_text("<html>rate limited</html>")
    with pytest.raises(WeightsError,
                       match=rf"not an HDF5 file: "
                             rf"{page}.*resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5"):
        build_backbone("resnet50", (32, 32, 3), weights=str(page))
    small = build_backbone("vit", (16, 16, 3), weights=None, patch_size=8, dim=8, depth=1, heads=2)
    path = tmp_path / "vit.weights.h5"
    small.model.save_weights(path)
    with pytest.raises(WeightsError, match=rf"weights file {path} does not fit the vit backbone"):
        build_backbone("vit", (16, 16, 3), weights=str(path), patch_size=8, dim=16, depth=1, heads=2)
