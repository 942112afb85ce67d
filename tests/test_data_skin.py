"""HAM10000 / ISIC 2019 loaders, metadata encoders and the skin twins."""
import numpy as np
import pandas as pd
import pytest

from mmfusion.data import load_dataset
from mmfusion.data.common import DatasetError
from mmfusion.data.images import read_image
from mmfusion.data.metadata import MetadataEncoder
from mmfusion.data.skin import HAM_CLASSES, read_ham10000_metadata
from mmfusion.data.synthetic import write_twin
from mmfusion.papers.ft_multicnn.preprocess import encode_seven


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    out = tmp_path_factory.mktemp("skin")
    return {name: write_twin(name, out, seed=0) for name in ("ham10000", "isic2019")}


def test_real_ham10000_metadata(shared_samples):
    frame = read_ham10000_metadata(shared_samples / "ham10000")
    raw = pd.read_csv(shared_samples / "ham10000/HAM10000_metadata.csv")
    assert len(frame) == 10015 and frame["group_id"].nunique() == 7470
    assert frame.attrs["notes"]["age_missing"] == 57 == raw["age"].isna().sum()
    np.testing.assert_array_equal(frame["label"], [HAM_CLASSES.index(d) for d in raw["dx"]])
    assert frame["site"].nunique() == 15


def test_ham_twin_quirks(roots):
    frame = load_dataset("ham10000", roots["ham10000"])
    notes, report = frame.attrs["notes"], frame.attrs["report"]
    raw = pd.read_csv(roots["ham10000"] / "HAM10000_metadata.csv", dtype=str)
    assert len(frame) == len(raw) == 140 and report["n_skipped"] == 0
    assert raw["image_id"].str.endswith(".jpg").any() and not frame["sample_id"].str.endswith(".jpg").any()
    assert notes["duplicate_image_copies_ignored"] == 70     # the lower-case part_1 copy
    assert not frame["image_path"].str.contains("ham10000_images_part_1").any()
    assert notes["age_missing"] == raw["age"].isna().sum() > 0
    assert frame.groupby("group_id")["label"].nunique().max() == 1
    assert frame["group_id"].nunique() < len(frame)


def test_missing_image_is_counted_or_fatal(roots, tmp_path):
    import shutil
    root = tmp_path / "ham"
    shutil.copytree(roots["ham10000"], root)
    victim = load_dataset("ham10000", root)["image_path"].iloc[1]
    for copy in root.rglob(victim.rsplit("/", 1)[1]):
        copy.unlink()
    frame = load_dataset("ham10000", root)
    assert len(frame) == 139 and frame.attrs["report"]["skipped"] == {"image missing": 1}
    with pytest.raises(DatasetError, match="listed but absent"):
        load_dataset("ham10000", root, missing="error")


def test_unknown_dx_names_file_and_row(tmp_path):
    (tmp_path / "HAM10000_metadata.csv").write_text(
        "lesion_id,image_id,dx,dx_type,age,sex,localization\nHAM_1,ISIC_1,nv,histo,40,male,back\n"
        "HAM_2,ISIC_2,xyz,histo,,female,face\n")
    with pytest.raises(DatasetError, match=r"HAM10000_metadata\.csv, row 2: dx 'xyz'"):
        read_ham10000_metadata(tmp_path)


def test_isic_twin_labels_and_metadata(roots):
    frame = load_dataset("isic2019", roots["isic2019"])
    truth = pd.read_csv(roots["isic2019"] / "ISIC_2019_Training_GroundTruth.csv")
    meta = pd.read_csv(roots["isic2019"] / "ISIC_2019_Training_Metadata.csv")
    classes = list(truth.columns[1:9])
    expected = truth.set_index("image")[classes].to_numpy().argmax(1)
    np.testing.assert_array_equal(frame["label"], expected)
    assert frame["sample_id"].str.endswith("_downsampled").any()
    assert not frame["isic_id"].str.contains("_downsampled").any()
    assert frame.attrs["notes"]["lesion_id_missing_used_image_id"] == meta["lesion_id"].isna().sum() > 0
    assert frame.attrs["notes"]["age_missing"] == meta["age_approx"].isna().sum()


def test_isic_gender_alias_and_bad_onehot(roots, tmp_path):
    import shutil
    root = tmp_path / "isic"
    shutil.copytree(roots["isic2019"], root)
    meta_path = root / "ISIC_2019_Training_Metadata.csv"
    meta_path.write_text(meta_path.read_text().replace(",sex\n", ",gender\n", 1))
    frame = load_dataset("isic2019", root)
    assert set(frame["sex"]) <= {"male", "female", "unknown"} and (frame["sex"] == "male").any()
    truth = root / "ISIC_2019_Training_GroundTruth.csv"
    lines = truth.read_text().splitlines()
    lines[3] = lines[3].split(",")[0] + ",1.0" * 9
    truth.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match="row 3: labels .* not one-hot"):
        load_dataset("isic2019", root)


def test_metadata_encoders_by_hand():
    frame = pd.DataFrame({"age": [40.0, np.nan, 80.0], "sex": ["male", "unknown", "female"],
                          "site": ["back", "face", "palms/soles"]})
    enc = MetadataEncoder().fit(frame.iloc[:2])
    assert enc.feature_names == ["age", "age_missing", "sex=male", "site=back", "site=face"]
    np.testing.assert_allclose(enc.transform(frame), [[0.4, 0, 1, 1, 0], [0, 1, 0, 0, 1],
                                                      [0.8, 0, 0, 0, 0]])
    assert enc.unseen == {"sex=female": 1, "site=palms/soles": 1}
    assert MetadataEncoder.from_config(enc.get_config()).feature_names == enc.feature_names
    np.testing.assert_allclose(encode_seven(frame), [[0.4, 0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 1, 0, 0],
                                                     [0.8, 0, 0, 1, 0, 0, 1]])


@pytest.mark.parametrize("name", ["ham10000", "isic2019"])
def test_skin_twin_is_learnable(roots, tmp_path, name):
    from sklearn.linear_model import LogisticRegression

    train = load_dataset(name, roots[name])
    test = load_dataset(name, write_twin(name, tmp_path, n=140, seed=7))

    def pixels(f):
        return np.stack([read_image(p, "rgb", size=16).ravel() / 255.0 for p in f["image_path"]])

    chance = test["label"].value_counts(normalize=True).max()
    model = LogisticRegression(max_iter=3000).fit(pixels(train), train["label"])
    assert model.score(pixels(test), test["label"]) > chance + 0.2
    meta = LogisticRegression(max_iter=3000).fit(encode_seven(train), train["label"])
    assert meta.score(encode_seven(test), test["label"]) > chance + 0.1
