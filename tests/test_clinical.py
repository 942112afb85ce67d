"""The 36-d CBIS-DDSM clinical vector and the lesion crop, checked against hand-built references."""
import numpy as np
import pytest

from mmfusion.data.clinical import CLINICAL_FEATURE_NAMES, CLINICAL_GROUPS, encode_clinical_row, group_mask
from mmfusion.data.common import DatasetError
from mmfusion.data.lesion_crop import crop_lesion, square_box


def hot(*names):
    v = np.zeros(36, np.float32)
    for name in names:
        v[CLINICAL_FEATURE_NAMES.index(name)] = 1
    return v


def test_group_slices_are_the_documented_ones():
    assert {k: (s.start, s.stop) for k, s in CLINICAL_GROUPS.items()} == {
        "breast_density": (0, 4), "mass_shape": (4, 12), "mass_margins": (12, 17),
        "calc_type": (17, 31), "calc_distribution": (31, 36)}
    # spot-check the order by absolute index
    assert CLINICAL_FEATURE_NAMES[4] == "mass_shape=ROUND"
    assert CLINICAL_FEATURE_NAMES[11] == "mass_shape=FOCAL_ASYMMETRIC_DENSITY"
    assert CLINICAL_FEATURE_NAMES[30] == "calc_type=LUCENT_CENTERED"
    assert CLINICAL_FEATURE_NAMES[34] == "calc_distribution=DIFFUSELY_SCATTERED"


def test_mass_row_with_combined_tokens():
    v = encode_clinical_row("mass", "3", "IRREGULAR-ARCHITECTURAL_DISTORTION",
                            "OBSCURED-ILL_DEFINED-SPICULATED", calc_type="PLEOMORPHIC")
    expected = np.zeros(36, np.float32)
    expected[[2, 6, 8, 12, 14, 16]] = 1    # density 3; IRREGULAR, ARCH_DIST; ILL_DEF, SPIC, OBSC
    np.testing.assert_array_equal(v, expected)   # calc fields ignored on a mass row


def test_calc_row_na_and_duplicate_tokens():
    v = encode_clinical_row("calcification", "1", mass_shape="ROUND", calc_type="N/A",
                            calc_distribution="REGIONAL-REGIONAL")
    np.testing.assert_array_equal(v, hot("breast_density=1", "calc_distribution=REGIONAL"))
    assert encode_clinical_row("calc", "NA", calc_type="NA", calc_distribution="").sum() == 0


def test_density_zero_is_an_empty_block():
    v = encode_clinical_row("calc", "0", calc_type="AMORPHOUS", calc_distribution="CLUSTERED")
    np.testing.assert_array_equal(v, hot("calc_type=AMORPHOUS", "calc_distribution=CLUSTERED"))


def test_unknown_token_names_file_row_and_token():
    with pytest.raises(DatasetError, match=r"x\.csv, row 7: unknown mass_margins token 'FUZZY'"):
        encode_clinical_row("mass", "2", "OVAL", "CIRCUMSCRIBED-FUZZY", path="x.csv", row=7)
    with pytest.raises(DatasetError, match="breast_density token '5'"):
        encode_clinical_row("mass", "5", "OVAL", "CIRCUMSCRIBED")


def test_group_mask_zeroes_named_groups():
    keep = group_mask(["mass_margins", "breast_density"])
    assert keep.sum() == 36 - 5 - 4 and keep[:4].sum() == 0 and keep[12:17].sum() == 0


def test_square_box_and_crop_by_hand():
    image = np.arange(100, dtype=np.int32).reshape(10, 10) + 1
    mask = np.zeros((10, 10), bool)
    mask[2:4, 3:7] = True                    # box rows 2..3, cols 3..6: h=2, w=4 -> side 4
    assert square_box(mask) == (1, 3, 4)
    np.testing.assert_array_equal(crop_lesion(image, mask), image[1:5, 3:7])


def test_crop_pads_with_zeros_at_the_border():
    image = np.ones((6, 6, 3), np.uint8) * 9
    mask = np.zeros((6, 6), bool)
    mask[0:1, 0:3] = True                    # h=1, w=3 -> side 3, top = 0 - 1 = -1
    assert square_box(mask) == (-1, 0, 3)
    crop = crop_lesion(image, mask)
    assert crop.shape == (3, 3, 3)
    np.testing.assert_array_equal(crop[0], 0)
    np.testing.assert_array_equal(crop[1:], 9)


def test_crop_rejects_empty_and_mismatched_masks():
    with pytest.raises(ValueError, match="empty"):
        crop_lesion(np.zeros((4, 4)), np.zeros((4, 4), bool))
    with pytest.raises(ValueError, match="differs"):
        crop_lesion(np.zeros((4, 4)), np.ones((5, 4), bool))
