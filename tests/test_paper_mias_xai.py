"""mias-xai preprocessing and augmentation against hand-made images and hand-computed numbers."""
import cv2
import numpy as np
import pytest

from mmfusion.papers.mias_xai import preprocess as P


def coordinate_image(size=224):
    """R = column, G = row: every pixel says where it came from."""
    yy, xx = np.mgrid[0:size, 0:size]
    return np.stack([xx, yy, np.zeros_like(xx)], -1).astype(np.uint8)


def test_scale_coordinates_flips_y():
    # MIAS y counts from the bottom pixel row; pixel centres scale as (i + 0.5) * s: continuous
    # coordinates (pixel i spans [i, i + 1)) are then (i + 0.5) * s on the 224 grid
    s = 224 / 1024
    assert P.scale_coordinates(512, 512, 100) == pytest.approx((512.5 * s, 511.5 * s, 21.875))
    assert P.scale_coordinates(0, 0, 8) == pytest.approx((0.5 * s, 1023.5 * s, 1.75))
    assert P.scale_coordinates(1023, 1023, 0) == pytest.approx((1023.5 * s, 0.5 * s, 0.0))


def test_one_y_flip_for_lesion_masks_and_crops():
    from mmfusion.data.mias import lesion_mask, to_pixels

    # a lesion at MIAS (x, y) = (10, 1013) lies at row 10 of the film: pixel centres 10
    assert to_pixels(10, 1013, 3) == pytest.approx((10.0, 10.0, 3.0))
    mask = lesion_mask([{"x": 10, "y": 1013, "radius": 3}], (1024, 1024))
    rows, cols = np.nonzero(mask)
    assert (rows.mean(), cols.mean()) == pytest.approx((10.0, 10.0))
    # the crop's continuous centre is the same point plus half a pixel
    assert P.scale_coordinates(10, 1013, 3, size=1024) == pytest.approx((10.5, 10.5, 3.0))


def test_crop_roi_window_and_circle():
    image = coordinate_image()
    crop = P.crop_roi(image, 100.0, 60.0, 20.0, out_size=40)     # no resize: side 2r = 40
    assert crop.window == (80, 40, 120, 80)
    assert tuple(crop.image[0, 0, :2]) == (80, 40)
    assert tuple(crop.image[-1, -1, :2]) == (119, 79)
    assert crop.circle == pytest.approx((20.0, 20.0, 20.0))
    # clipped at the left border: circle centre moves with the window and scales with the resize
    crop = P.crop_roi(image, 10.0, 60.0, 20.0, out_size=60)
    assert crop.window == (0, 40, 30, 80)
    assert crop.circle == pytest.approx((10 * 2.0, 20 * 1.5, 20 * 1.75))


def film_with_lesion(col, row, value=250):
    """1024 px film: black background, a grey breast disk on the left, a bright lesion, a film label."""
    film = np.zeros((1024, 1024), np.uint8)
    cv2.circle(film, (250, 512), 450, 110, -1)
    rng = np.random.default_rng(0)
    film = np.where(film > 0, np.clip(film + rng.normal(0, 8, film.shape), 1, 255), 0).astype(np.uint8)
    cv2.circle(film, (col, row), 40, value, -1)
    cv2.rectangle(film, (900, 60), (990, 120), 255, -1)           # the label the noise removal drops
    return film


def test_preprocess_film_crops_the_lesion_with_the_y_flip():
    film = film_with_lesion(col=300, row=1024 - 700)              # MIAS y = 700 from the bottom
    crop = P.preprocess_film(film, roi=(300, 700, 80), out_size=64)
    gray = crop.image[..., 0].astype(float)
    yy, xx = np.mgrid[0:64, 0:64]
    lesion = P.lesion_mask(crop, 64)
    # r = 80 * 224/1024 = 17.5 px; window side 2 * round(17.5) = 36 px resized to 64
    assert lesion.sum() == pytest.approx(np.pi * (17.5 * 64 / 36) ** 2, rel=0.02)
    inside = lesion & ((xx - 32) ** 2 + (yy - 32) ** 2 <= 12 ** 2)
    assert gray[inside].mean() > gray[~lesion].mean() + 40
    # without the flip the crop lands on plain breast tissue: no bright centre
    wrong = P.preprocess_film(film, roi=(300, 1024 - 700, 80), out_size=64)
    assert wrong.image[..., 0][inside].mean() < gray[inside].mean() - 40


def test_noise_removal_drops_the_film_label_and_keeps_the_breast():
    film = cv2.resize(film_with_lesion(300, 324), (224, 224), interpolation=cv2.INTER_AREA)
    clean = P.remove_noise(film)
    assert not clean[14:26, 198:216].any()                        # label at 900-990, 60-120 of 1024
    assert np.array_equal(clean[112, 40:80], P.to_rgb(film)[112, 40:80])


def test_normal_crop_shifts_diagonally_towards_tissue():
    image = np.zeros((224, 224, 3), np.uint8)
    tissue = np.zeros((224, 224), bool)
    tissue[130:, 140:] = True                                      # bottom-right: direction (+1, +1)
    crop = P.crop_normal(image, tissue, out_size=56)
    assert crop.window == (112, 112, 168, 168)                     # centre moved 28 px to (140, 140)
    tissue = np.zeros((224, 224), bool)
    tissue[150:, :80] = True                                       # bottom-left: direction (-1, +1)
    assert P.crop_normal(image, tissue, out_size=56).window == (46, 122, 102, 178)
    tissue = np.zeros((224, 224), bool)
    tissue[:5, 210:] = True                                        # out of reach before the border
    assert P.crop_normal(image, tissue, out_size=56) is None


def test_normal_crop_keeps_the_centre_when_it_is_tissue():
    image = coordinate_image()
    crop = P.crop_normal(image, np.ones((224, 224), bool), out_size=56)
    assert crop.window == (84, 84, 140, 140) and crop.circle is None
    assert tuple(crop.image[0, 0, :2]) == (84, 84)


def test_all_black_film_is_dropped():
    assert P.preprocess_film(np.zeros((1024, 1024), np.uint8), roi=None) is None
    assert P.preprocess_film(np.zeros((1024, 1024), np.uint8), roi=(500, 500, 30)) is None


def test_to_rgb_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        P.to_rgb(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="shape"):
        P.to_rgb(np.zeros((4, 4, 2), np.uint8))


def test_dihedral_views_hand_computed():
    views = P.dihedral_views(np.array([[1, 2], [3, 4]]))
    expected = [[[1, 2], [3, 4]], [[2, 4], [1, 3]], [[4, 3], [2, 1]], [[3, 1], [4, 2]],
                [[3, 4], [1, 2]], [[1, 3], [2, 4]], [[2, 1], [4, 3]], [[4, 2], [3, 1]]]
    assert [v.tolist() for v in views] == expected


def test_brightness_contrast_hand_computed():
    out = P.brightness_contrast(np.array([100, 200, 10], np.uint8), 1.5, -10)
    assert out.tolist() == [140, 255, 5]
    assert P.brightness_contrast(np.array([10], np.uint8), 0.5, -15).tolist() == [0]


def test_augment_x16_count_order_and_jitter_ranges():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    out, labels, source = P.augment_x16(images, np.array([0, 1, 2]), seed=3)
    assert out.shape == (48, 8, 8, 3) and out.dtype == np.uint8
    assert labels.tolist() == [0] * 8 + [1] * 8 + [2] * 8 + [0] * 8 + [1] * 8 + [2] * 8
    assert np.array_equal(out[9], np.rot90(images[1], 1))
    assert np.array_equal(out[13], np.flipud(np.rot90(images[1], 1)))
    for view, jit in zip(out[:24], out[24:]):                      # jit = clip(a * view + b)
        x, y = view.reshape(-1).astype(float), jit.reshape(-1).astype(float)
        ok = (y > 0) & (y < 255)
        a, b = np.polyfit(x[ok], y[ok], 1)
        assert 0.49 <= a <= 1.51 and -15.6 <= b <= 15.6


def test_md5_dedupe_keeps_first_and_counts():
    a, b, c = (np.full((2, 2, 3), v, np.uint8) for v in (1, 2, 3))
    images = np.stack([a, b, a, c, b])
    out, labels, removed = P.md5_dedupe(images, np.array([0, 1, 2, 3, 4]))
    assert removed == 2 and labels.tolist() == [0, 1, 3]
    assert [int(im[0, 0, 0]) for im in out] == [1, 2, 3]


def test_symmetric_image_views_collapse_under_dedupe():
    flat = np.full((1, 6, 6, 3), 77, np.uint8)                     # all 8 dihedral views identical
    out, labels, _ = P.augment_x16(flat, np.array([2]), seed=0)
    views, _, removed = P.md5_dedupe(out[:8], labels[:8])
    assert len(views) == 1 and removed == 7


def test_undersample_to_minority():
    labels = np.array([0] * 10 + [1] * 4 + [2] * 6)
    keep = P.undersample(labels, seed=0)
    assert np.bincount(labels[keep]).tolist() == [4, 4, 4]
    assert set(np.flatnonzero(labels == 1)) <= set(keep.tolist())
    assert len(set(keep.tolist())) == 12


def test_augment_training_set_counts():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    images[4] = 50                                                 # flat: 7 duplicate views
    labels = np.array([0, 0, 0, 1, 1])
    out, out_labels, counts = P.augment_training_set(images, labels, seed=0)
    assert counts["augmented"] == 80 and counts["duplicates_removed"] >= 7
    minority = min(np.bincount(P.md5_dedupe(*P.augment_x16(images, labels, 0)[:2])[1]))
    assert counts["per_class"] == {0: minority, 1: minority} and len(out) == 2 * minority


@pytest.mark.realdata
def test_real_mias_samples_crops_and_counts(shared_samples, tmp_path):
    from mmfusion.data import load_dataset

    frame = load_dataset("mias", shared_samples / "mias", label_rule="first")
    crops = P.cached_crops(frame, 32, tmp_path)
    # mdb059 (B) and mdb216 (M) have no coordinates; mdb144's first row is benign
    assert crops.skipped == {"abnormal_without_coordinates": ["mdb059", "mdb216"], "dropped_crop": []}
    assert crops.sample_ids.tolist() == ["mdb001", "mdb003", "mdb004", "mdb005", "mdb023", "mdb144",
                                         "mdb178", "mdb226"]
    assert crops.labels.tolist() == [1, 0, 0, 1, 2, 1, 2, 1]
    assert crops.images.shape == (8, 32, 32, 3) and crops.images.dtype == np.uint8
    assert not crops.lesions[crops.labels == 0].any() and crops.lesions[crops.labels > 0].any(axis=(1,
                                                                                                    2)).all()
    again = P.cached_crops(frame, 32, tmp_path)                    # read back from the .npz cache
    assert np.array_equal(again.images, crops.images) and again.skipped == crops.skipped
    assert len(list(tmp_path.glob("mias-xai-crops/*.npz"))) == 1


@pytest.mark.realdata
def test_authors_split_counts_on_the_real_label_file(shared_samples):
    """The authors keep 316 crops (322 films - 4 abnormal without coordinates - their two deleted
    'black' crops mdb212, mdb214): their two-step split then gives the paper's test 31/9/8 and
    validation 31/9/7. Only labels are needed, so the real Info.txt settles it."""
    import warnings

    from mmfusion.data.mias import per_image, read_info
    from mmfusion.papers.mias_xai.config import MiasConfig
    from mmfusion.papers.mias_xai.preprocess import paper_two_step_split

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        films = per_image(read_info(shared_samples / "mias" / "Info.txt"), "first")
    keep = ~((films["label"] > 0)
             & films["x"].isna()) & ~films["sample_id"].isin(MiasConfig.paper().authors_excluded)
    labels = films.loc[keep, "label"].to_numpy(int)
    assert len(labels) == 316 and np.bincount(labels).tolist() == [207, 61, 48]
    split = paper_two_step_split(labels, 0.3, 44)
    assert np.bincount(labels[split["test"]]).tolist() == [31, 9, 8]
    assert np.bincount(labels[split["val"]]).tolist() == [31, 9, 7]
    # without the authors' two deletions: 318 films and a 48/48 split, not the paper's 48/47
    labels_318 = films.loc[~((films["label"] > 0) & films["x"].isna()), "label"].to_numpy(int)
    split_318 = paper_two_step_split(labels_318, 0.3, 44)
    assert (len(split_318["val"]), len(split_318["test"])) == (48, 48)


def test_paper_two_step_split_is_the_authors_code():
    from sklearn.model_selection import train_test_split

    from mmfusion.papers.mias_xai.preprocess import paper_two_step_split

    labels = np.random.default_rng(0).choice(3, size=300, p=[0.6, 0.25, 0.15])
    out = paper_two_step_split(labels)
    idx = np.arange(len(labels))
    x_train, x_tmp, _, y_tmp = train_test_split(idx, labels, test_size=0.3, stratify=labels, random_state=44)
    x_val, x_test = train_test_split(x_tmp, test_size=0.5, stratify=y_tmp, random_state=44)
    for side, ref in (("train", x_train), ("val", x_val), ("test", x_test)):
        np.testing.assert_array_equal(out[side], ref)
