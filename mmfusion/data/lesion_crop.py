"""Lesion crop from an ROI mask: the mask's bounding box, squared (side = max(h, w)), zero-padded."""
import numpy as np


def square_box(mask: np.ndarray, margin: float = 0.0) -> tuple[int, int, int]:
    """``(top, left, side)`` of the square on the mask's bounding box, enlarged by ``margin``."""
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (H, W), got shape {mask.shape}")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("the ROI mask is empty: no lesion to crop")
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    side = int(round(max(bottom - top, right - left) * (1.0 + margin)))
    return int(top - (side - (bottom - top)) // 2), int(left - (side - (right - left)) // 2), side


def crop_lesion(image: np.ndarray, mask: np.ndarray, margin: float = 0.0, pad_value=0) -> np.ndarray:
    """The square lesion crop of ``image`` ((H, W) or (H, W, C)); outside the image = ``pad_value``."""
    image = np.asarray(image)
    if image.shape[:2] != np.shape(mask):
        raise ValueError(f"mask shape {np.shape(mask)} differs from image shape {image.shape[:2]}; "
                         "read the mask with read_mask(paths, shape=image.shape[:2])")
    top, left, side = square_box(mask, margin)
    out = np.full((side, side) + image.shape[2:], pad_value, dtype=image.dtype)
    h, w = image.shape[:2]
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + side, h), min(left + side, w)
    out[r0 - top:r1 - top, c0 - left:c1 - left] = image[r0:r1, c0:c1]
    return out
