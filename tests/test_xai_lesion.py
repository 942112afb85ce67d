"""The baseline rows every explanation table carries, checked against a hand computation."""
import numpy as np

from mmfusion.xai import lesion


def test_baseline_scores_by_hand():
    masks = np.zeros((2, 8, 8), bool)
    masks[:, 3:5, 3:5] = True                                 # a central lesion: the blob points at it
    rows = lesion.baseline_scores(lambda maps: lesion.lesion_scores(maps, masks), 2, (8, 8), seed=4,
                                  randomized={"X": np.ones((2, 8, 8))})
    energy = [[(m * masks[i]).sum() / m.sum() for i, m in enumerate(lesion.random_maps(2, (8, 8), s))]
              for s in (4, 5, 6)]
    np.testing.assert_allclose(rows[lesion.RANDOM_ROW]["energy_in_mask"], np.mean(energy, axis=0))
    assert rows[lesion.BLOB_ROW]["pointing_game"] == [1.0, 1.0]
    np.testing.assert_allclose(rows["X of a re-initialised model"]["energy_in_mask"], [4 / 64] * 2)
    assert lesion.baseline_scores(lambda maps: lesion.lesion_scores(maps, np.zeros((2, 8, 8), bool)),
                                  2, (8, 8), seed=0) == {}
