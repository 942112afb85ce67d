"""Explanation quality against a known lesion region, with the baselines that give it meaning:
a random map, a centred Gaussian blob (lesions are often central in a crop) and the map of a
re-initialised model (Adebayo et al. 2018's sanity check)."""
import numpy as np

from mmfusion.xai.metrics import energy_in_mask, pointing_game

RANDOM_ROW = "random map (mean of 3 seeds)"
BLOB_ROW = "centred Gaussian blob"


def lesion_scores(maps: dict, masks) -> dict:
    """{method: {"pointing_game": [...], "energy_in_mask": [...]}} over the images whose mask
    is not empty; {} when no image has one."""
    masks = np.asarray(masks, bool)
    keep = masks.reshape(len(masks), -1).any(axis=1)
    if not keep.any():
        return {}
    return {method: {"pointing_game": pointing_game(np.asarray(m)[keep], masks[keep]).astype(float).tolist(),
                     "energy_in_mask": energy_in_mask(np.asarray(m)[keep], masks[keep]).tolist()}
            for method, m in maps.items()}


def random_maps(n: int, shape, seed: int) -> np.ndarray:
    """Uniform noise maps in [0, 1]: the chance level of every map metric."""
    return np.random.default_rng(seed).random((n, *shape))


def gaussian_blob_maps(n: int, shape, sigma_fraction: float = 0.25) -> np.ndarray:
    """The same centred Gaussian (sigma = ``sigma_fraction`` of the side) for every image."""
    h, w = shape
    rows, cols = np.mgrid[:h, :w]
    blob = np.exp(-(((rows - (h - 1) / 2) / (sigma_fraction * h)) ** 2
                    + ((cols - (w - 1) / 2) / (sigma_fraction * w)) ** 2) / 2)
    return np.repeat((blob / blob.max())[None], n, axis=0)


def baseline_scores(score, n: int, shape, seed: int, randomized: dict | None = None) -> dict:
    """Baseline rows scored by ``score`` (maps dict -> {row: {metric: per-image values}}): random
    maps averaged per image over seeds seed..seed+2, the centred blob, and ``randomized`` ({method:
    maps of a re-initialised model}) when given. {} when ``score`` scores nothing (no lesion)."""
    seeds = (seed, seed + 1, seed + 2)
    random = score({s: random_maps(n, shape, s) for s in seeds})
    if not random:
        return {}
    out = {RANDOM_ROW: {m: np.mean([random[s][m] for s in seeds], axis=0).tolist() for m in random[seed]},
           BLOB_ROW: score({BLOB_ROW: gaussian_blob_maps(n, shape)})[BLOB_ROW]}
    if randomized:
        out.update(score({f"{m} of a re-initialised model": v for m, v in randomized.items()}))
    return out
