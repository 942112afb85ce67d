"""Quality metrics on hand-computable cases."""
import numpy as np
import pytest

from mmfusion.xai import deletion_auc, energy_in_mask, insertion_auc, pointing_game, sparsity

# Model: mean intensity inside the region R = top-left 4x4 block of an 8x8 image (16 pixels).
REGION = np.zeros((8, 8), bool)
REGION[:4, :4] = True


def region_mean(batch):
    return batch[:, :4, :4, 0].mean(axis=(1, 2))


IMAGE = np.ones((1, 8, 8, 1), np.float32)
GOOD = REGION[None].astype(float)  # salient exactly on R


def test_deletion_and_insertion_auc_by_hand():
    # 64 steps of one pixel: deleting R first, the score falls (16 - k)/16 for k <= 16, then 0.
    # Trapezoid area = (1/64) * (sum_{k=0}^{16} (16-k)/16 - 1/2) = 8/64.
    auc, curve = deletion_auc(region_mean, IMAGE, GOOD, steps=64, return_curves=True)
    assert auc[0] == pytest.approx(8 / 64)
    np.testing.assert_allclose(curve[0, :17], (16 - np.arange(17)) / 16)
    # Inserting into a zero canvas: k/16 up to k = 16 (area 8), then 1 over 48 steps.
    assert insertion_auc(region_mean, IMAGE, GOOD, steps=64, baseline=0.0)[0] == pytest.approx(
        56 / 64)
    # Saliency on the complement: R goes last -> deletion area (48 + 8)/64.
    worst = deletion_auc(region_mean, IMAGE, 1 - GOOD, steps=64)
    assert worst[0] == pytest.approx(56 / 64)
    # Multi-class output picks the target column.
    two = deletion_auc(lambda b: np.stack([1 - region_mean(b), region_mean(b)], 1), IMAGE, GOOD,
                       targets=[1], steps=64)
    assert two[0] == pytest.approx(8 / 64)
    with pytest.raises(ValueError, match="baseline must be"):
        deletion_auc(region_mean, IMAGE, GOOD, baseline="noise")


def test_blur_substrate_keeps_a_constant_image():
    # A blurred constant image is the image: insertion then changes nothing (score 1 throughout).
    assert insertion_auc(region_mean, IMAGE, GOOD, steps=8)[0] == pytest.approx(1.0)


def test_pointing_game_energy_sparsity_by_hand():
    masks = np.zeros((3, 8, 8), bool)
    masks[:, 2:4, 2:4] = True
    maps = np.zeros((3, 8, 8))
    maps[0, 3, 3] = 1.0          # max inside
    maps[1, 7, 7] = 1.0          # max far away
    maps[2, 2, 5] = 1.0          # max 2 px right of the mask
    maps[2, 3, 3] = 0.5
    np.testing.assert_array_equal(pointing_game(maps, masks), [True, False, False])
    np.testing.assert_array_equal(pointing_game(maps, masks, tolerance=2), [True, False, True])
    np.testing.assert_allclose(energy_in_mask(maps, masks), [1.0, 0.0, 0.5 / 1.5])
    # Gini: uniform 0; one hot pixel 1 - 1/n; [0, 0, 1, 3] -> mean-difference formula 20/32.
    assert sparsity(np.ones((1, 4, 4)))[0] == pytest.approx(0.0)
    assert sparsity(maps[:1])[0] == pytest.approx(1 - 1 / 64)
    assert sparsity(np.array([[[0, 0], [1, 3]]]))[0] == pytest.approx(20 / 32)
    empty = masks.copy()
    empty[1] = False
    with pytest.raises(ValueError, match=r"masks \[1\] are empty"):
        pointing_game(maps, empty)
