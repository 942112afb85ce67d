"""CBIS-DDSM: the real CSVs (counts, leaks, clinical vector) and the twin in both layouts."""
import numpy as np
import pandas as pd
import pytest

from mmfusion.data import load_dataset
from mmfusion.data.cbis_ddsm import (
    clinical_matrix,
    patients_across_split,
    read_case_descriptions,
    split_official,
)
from mmfusion.data.clinical import CLINICAL_GROUPS
from mmfusion.data.common import DatasetError
from mmfusion.data.images import read_image, read_mask
from mmfusion.data.lesion_crop import crop_lesion
from mmfusion.data.synthetic import cbis_ddsm as twin


@pytest.fixture(scope="module")
def real(shared_samples):
    return read_case_descriptions(shared_samples / "cbis-ddsm")


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    out = tmp_path_factory.mktemp("cbis")
    kaggle = twin.write(out, 60, seed=0)
    return {"kaggle": kaggle, "tcia": out / "tcia"}


def test_real_csv_counts(real):
    g = real.groupby(["abnormality_type", "split"])
    assert g.size().to_dict() == {("calc", "test"): 326, ("calc", "train"): 1546,
                                  ("mass", "test"): 378, ("mass", "train"): 1318}
    assert g["full_image_id"].nunique().to_dict() == {("calc", "test"): 284, ("calc", "train"): 1227,
                                                      ("mass", "test"): 361, ("mass", "train"): 1231}
    assert g["patient_id"].nunique().to_dict() == {("calc", "test"): 151, ("calc", "train"): 602,
                                                   ("mass", "test"): 201, ("mass", "train"): 691}
    assert real["sample_id"].is_unique
    assert not real["roi_mask_file_path"].str.contains("\n").any()


def test_real_patients_across_the_official_split(real):
    leaks = patients_across_split(real)
    assert (len(leaks["mass_train_calc_test"]), len(leaks["calc_train_mass_test"])) == (13, 18)
    assert len(leaks["mass_and_calc"]) == 79 and len(leaks["train_and_test"]) == 31


def test_real_clinical_vector_against_the_raw_csv(real, shared_samples):
    x = clinical_matrix(real)
    assert x.shape == (3568, 36)
    raw = pd.read_csv(shared_samples / "cbis-ddsm/csv/mass_case_description_train_set.csv",
                      dtype=str, keep_default_na=False)
    mass = x[(real["abnormality_type"] == "mass").to_numpy()]
    # independent count: token occurrences of SPICULATED in the raw column (margins slot 14)
    assert mass[:1318, 14].sum() == raw["mass margins"].str.split("-").apply(
        lambda t: "SPICULATED" in t).sum()
    assert x[(real["abnormality_type"] == "mass").to_numpy(), 17:].sum() == 0
    assert x[(real["abnormality_type"] == "calc").to_numpy(), 4:17].sum() == 0
    assert (x[:, CLINICAL_GROUPS["breast_density"]].sum(1) == 0).sum() == 2   # the density-0 rows
    assert (real["label_binary"] == (real["pathology"] == "MALIGNANT")).all()


def test_real_csvs_without_images_are_all_counted(shared_samples):
    with pytest.warns(UserWarning, match="every row was skipped"):
        frame = load_dataset("cbis-ddsm", shared_samples / "cbis-ddsm")
    assert len(frame) == 0 and frame.attrs["report"]["skipped"] == {"image missing": 3568}


def test_unknown_token_names_file_and_row(tmp_path, twins):
    path = twins["tcia"] / "mass_case_description_train_set.csv"
    text = path.read_bytes().decode()
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in twins["tcia"].glob("*.csv"):
        (bad / f.name).write_bytes(f.read_bytes())
    lines = text.split("\r\n")
    fields = lines[2].split(",")
    fields[6] = "ROUND-BLOBBY"
    lines[2] = ",".join(fields)
    (bad / path.name).write_bytes("\r\n".join(lines).encode())
    with pytest.raises(DatasetError, match=r"mass_case_description_train_set\.csv, row 2: unknown "
                                           r"mass_shape token 'BLOBBY'"):
        read_case_descriptions(bad)


@pytest.mark.parametrize("layout", ["kaggle", "tcia"])
def test_twin_loads_in_both_layouts(twins, layout):
    frame = load_dataset("cbis-ddsm", twins[layout])
    report = frame.attrs["report"]
    assert len(frame) == 60 and report["n_skipped"] == 0
    assert set(frame["layout"]) == {layout}
    assert any("both the official train and test" in w for w in report["warnings"])
    row = frame.iloc[2]
    # Stored values (float): each 16-bit DICOM would otherwise be windowed by its own min..max.
    image = read_image(row["image_path"], "gray", dtype=np.float32)
    mask = read_mask(row["mask_paths"], shape=image.shape)   # JPEG (Kaggle) or DICOM (TCIA)
    assert 0 < mask.mean() < 0.3                          # the mask file really is the mask
    crop = read_image(row["crop_path"], "gray", dtype=np.float32)
    expected = crop_lesion(image, mask)
    assert crop.shape == expected.shape
    scale = 255.0 / (image.max() - image.min())
    assert np.abs(crop - expected).mean() * scale < 4   # JPEG rounding, in 8-bit grey levels


def test_twin_layouts_agree_and_four_class_labels(twins):
    a = load_dataset("cbis-ddsm", twins["kaggle"], labels="4class")
    b = load_dataset("cbis-ddsm", twins["tcia"], labels="4class")
    assert list(a["sample_id"]) == list(b["sample_id"])
    np.testing.assert_array_equal(clinical_matrix(a), clinical_matrix(b))
    expected = np.where(a["abnormality_type"] == "mass", 0, 2) + (a["pathology"] == "MALIGNANT")
    np.testing.assert_array_equal(a["label"], expected)


def test_split_official_keeps_patients_on_one_side(twins):
    frame = load_dataset("cbis-ddsm", twins["kaggle"])
    parts = split_official(frame, val_fraction=0.25, seed=0, drop_leaking_patients=True)
    pid = frame["patient_id"].to_numpy()
    assert set(pid[parts["train"]]).isdisjoint(pid[parts["val"]])
    assert set(pid[parts["train"]]).isdisjoint(pid[parts["test"]])
    assert (frame["split"].to_numpy()[parts["test"]] == "test").all()
    assert len(parts["val"]) > 0


def test_twin_is_learnable_from_pixels_and_from_clinical(twins):
    from sklearn.linear_model import LogisticRegression

    frame = load_dataset("cbis-ddsm", twins["kaggle"])
    big = twin.write(twins["kaggle"].parent.parent / "big", 160, seed=1, layout="kaggle")
    test = load_dataset("cbis-ddsm", big)
    y, y_test = frame["label"].to_numpy(), test["label"].to_numpy()

    def pixels(f):
        return np.stack([read_image(p, "gray", size=32).ravel() / 255.0 for p in f["crop_path"]])

    clinical = LogisticRegression(max_iter=2000).fit(clinical_matrix(frame), y)
    clinical_acc = clinical.score(clinical_matrix(test), y_test)
    image = LogisticRegression(max_iter=2000, C=0.1).fit(pixels(frame), y)
    image_acc = image.score(pixels(test), y_test)
    assert clinical_acc > 0.65 and image_acc > 0.6
    # Each modality is noisy on its own (synthetic.cbis_ddsm.NOISE), so late fusion beats both.
    p = (clinical.predict_proba(clinical_matrix(test))[:, 1] + image.predict_proba(pixels(test))[:, 1]) / 2
    fused_acc = np.mean((p > 0.5) == y_test)
    assert fused_acc > max(clinical_acc, image_acc), (clinical_acc, image_acc, fused_acc)
