"""The authors' per-image MIAS preprocessing (OpenCV on numpy uint8 arrays).

Resize to 224 first, remove labels/noise outside the breast (Otsu, 5x5 close/open, largest
contour, 55x55 dilation), CLAHE, then crop: the lesion square (side 2r) for abnormal images, a
central h//4 square shifted diagonally onto tissue for normal ones. MIAS coordinates have their
origin at the bottom-left of the 1024 px film, hence the y flip.
"""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

PAPER_SIZE = 224      # the authors resize every film to this before anything else
MIAS_SIZE = 1024      # the films' side in pixels; Info.txt coordinates are on this grid


@dataclasses.dataclass(frozen=True)
class Crop:
    """A crop of the preprocessed image and where the lesion circle lies in crop pixels."""

    image: np.ndarray                    # (out, out, 3) uint8
    window: tuple[int, int, int, int]    # x0, y0, x1, y1 on the PAPER_SIZE image (x1, y1 exclusive)
    circle: tuple[float, float, float] | None   # cx, cy, r in output pixels (None: normal image)


def scale_coordinates(x, y, r, size=PAPER_SIZE, original=MIAS_SIZE):
    """Info.txt (x, y, radius) -> (column, row, radius) on the resized image (y flipped)."""
    s = size / original
    return x * s, size - y * s, r * s


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Grayscale or RGB uint8 -> 3-channel uint8 (the authors loaded 3-channel)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=-1)
    if image.ndim == 3 and image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    if image.ndim == 3 and image.shape[-1] == 3:
        return image
    raise ValueError(f"expected an (H, W), (H, W, 1) or (H, W, 3) image, got shape {image.shape}")


def breast_mask(image: np.ndarray, dilate: int = 55) -> np.ndarray:
    """Mask (uint8 0/255) of the largest bright object after Otsu + 5x5 close/open, dilated."""
    gray = cv2.cvtColor(to_rgb(image), cv2.COLOR_RGB2GRAY)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    small = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, small)
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, small)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    mask = np.zeros_like(gray)
    if not contours:
        return mask
    largest = max(contours, key=cv2.contourArea)
    cv2.drawContours(mask, [largest], -1, 255, thickness=cv2.FILLED)
    big = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (dilate, dilate))
    return cv2.dilate(mask, big)


def remove_noise(image: np.ndarray) -> np.ndarray:
    """Keep only the (dilated) breast region: film labels and scanner noise become black."""
    image = to_rgb(image)
    return cv2.bitwise_and(image, image, mask=breast_mask(image))


def apply_clahe(image: np.ndarray, clip: float = 2.0, tiles: int = 8) -> np.ndarray:
    gray = cv2.cvtColor(to_rgb(image), cv2.COLOR_RGB2GRAY)
    out = cv2.createCLAHE(clipLimit=clip, tileGridSize=(tiles, tiles)).apply(gray)
    return to_rgb(out)


def enhance(image: np.ndarray, size: int = PAPER_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Full-film steps: resize to ``size`` (3-channel), remove noise, CLAHE.

    Returns (image, tissue): ``tissue`` marks the pixels that are not black after noise removal.
    "Black" is judged there because CLAHE lifts a black background to 2-3 grey levels.
    """
    image = cv2.resize(to_rgb(image), (size, size), interpolation=cv2.INTER_AREA)
    clean = remove_noise(image)
    return apply_clahe(clean), clean.any(axis=-1)


def _resize(image, out_size):
    return cv2.resize(image, (out_size, out_size), interpolation=cv2.INTER_LINEAR)


def crop_roi(image: np.ndarray, cx: float, cy: float, r: float, out_size: int = PAPER_SIZE) -> Crop:
    """Square of side 2r around (cx, cy) (clipped to the image), resized to ``out_size``."""
    h, w = image.shape[:2]
    half = max(1, int(round(r)))
    x0, y0 = max(0, int(round(cx)) - half), max(0, int(round(cy)) - half)
    x1, y1 = min(w, int(round(cx)) + half), min(h, int(round(cy)) + half)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"lesion ({cx:.1f}, {cy:.1f}, r={r:.1f}) lies outside the {w}x{h} image")
    sx, sy = out_size / (x1 - x0), out_size / (y1 - y0)
    circle = ((cx - x0) * sx, (cy - y0) * sy, r * (sx + sy) / 2)
    return Crop(_resize(image[y0:y1, x0:x1], out_size), (x0, y0, x1, y1), circle)


def tissue_direction(tissue: np.ndarray) -> tuple[int, int]:
    """Diagonal (dx, dy) in {-1, 1}^2 pointing to the half with more tissue in x and in y."""
    tissue = np.asarray(tissue, bool)
    h, w = tissue.shape
    dx = 1 if tissue[:, w // 2:].sum() > tissue[:, : w // 2].sum() else -1
    dy = 1 if tissue[h // 2:].sum() > tissue[: h // 2].sum() else -1
    return dx, dy


def crop_normal(image: np.ndarray, tissue: np.ndarray | None = None, out_size: int = PAPER_SIZE,
                step: int = 1) -> Crop | None:
    """Central square of side h//4, shifted diagonally (towards the tissue) while its centre is black.

    ``tissue`` (bool HxW) says which pixels are not black; default: ``image`` is not zero.
    Returns None when the crop would leave the image before its centre reaches tissue.
    """
    h, w = image.shape[:2]
    side = h // 4
    tissue = np.asarray(image).reshape(h, w, -1).any(axis=-1) if tissue is None else np.asarray(tissue, bool)
    dx, dy = tissue_direction(tissue)
    cx, cy = w // 2, h // 2
    while not tissue[cy, cx]:
        cx, cy = cx + dx * step, cy + dy * step
        if not (side // 2 <= cx <= w - side + side // 2 and side // 2 <= cy <= h - side + side // 2):
            return None
    x0, y0 = cx - side // 2, cy - side // 2
    return Crop(_resize(image[y0:y0 + side, x0:x0 + side], out_size), (x0, y0, x0 + side, y0 + side), None)


def is_all_black(image: np.ndarray) -> bool:
    return not np.asarray(image).any()


def preprocess_film(film: np.ndarray, roi=None, out_size: int = PAPER_SIZE,
                    size: int = PAPER_SIZE, original: int = MIAS_SIZE) -> Crop | None:
    """One MIAS film -> its crop. ``roi`` = (x, y, radius) from Info.txt, None for normal films.

    Returns None for crops that are all black (the authors drop them) or normal films whose
    tissue the diagonal search never reached; the caller counts them.
    """
    image, tissue = enhance(film, size)
    if roi is None:
        crop = crop_normal(image, tissue, out_size)
    else:
        cx, cy, r = scale_coordinates(*roi, size=size, original=original)
        crop = crop_roi(image, cx, cy, r, out_size)
    if crop is None:
        return None
    x0, y0, x1, y1 = crop.window
    if is_all_black(crop.image) or not tissue[y0:y1, x0:x1].any():
        return None
    return crop


def lesion_mask(crop: Crop, out_size: int) -> np.ndarray | None:
    """Boolean (out_size, out_size) mask of the crop's lesion circle (None for normal crops).

    ``Crop.circle`` is in continuous pixel coordinates (pixel i spans [i, i+1)); the data core's
    ``circle_mask`` puts pixel centres on integers, hence the half-pixel shift.
    """
    from mmfusion.data.images import circle_mask

    if crop.circle is None:
        return None
    cx, cy, r = crop.circle
    return circle_mask((out_size, out_size), cx - 0.5, cy - 0.5, r)
