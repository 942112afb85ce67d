"""The authors' MIAS preprocessing, their offline augmentation, and the cached crops.

Per film (OpenCV on uint8): resize to 224 first, remove labels/noise outside the breast (Otsu,
5x5 close/open, largest contour, 55x55 dilation), CLAHE, then crop: the lesion square (side 2r)
for abnormal films, a central h//4 square shifted diagonally onto tissue for normal ones (MIAS
coordinates through ``data.mias.to_pixels``: the one y-flip). Training set: rotations 0/90/180/270
and a vertical flip of each (8 views), one brightness (+-15) / contrast (0.5-1.5) copy of each
(x16), MD5 dedupe, random undersampling to the minority class. The crops of a file list and size
are computed once and cached by content (``data.cache``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

import cv2
import numpy as np
import pandas as pd

from mmfusion.data.mammo import apply_clahe, breast_mask, enhance, remove_noise, to_rgb  # noqa: F401

PAPER_SIZE = 224      # the authors resize every film to this before anything else
MIAS_SIZE = 1024      # the films' side in pixels; Info.txt coordinates are on this grid


@dataclasses.dataclass(frozen=True)
class Crop:
    """A crop of the preprocessed image and where the lesion circle lies in crop pixels."""

    image: np.ndarray                    # (out, out, 3) uint8
    window: tuple[int, int, int, int]    # x0, y0, x1, y1 on the PAPER_SIZE image (x1, y1 exclusive)
    circle: tuple[float, float, float] | None   # cx, cy, r in output pixels (None: normal image)


def scale_coordinates(x, y, r, size=PAPER_SIZE, original=MIAS_SIZE):
    """Info.txt (x, y, radius) -> continuous (column, row, radius) on the resized image: the data
    core's one y-flip (``data.mias.to_pixels``, pixel centres) plus half a pixel, since crops
    work in continuous coordinates (pixel i spans [i, i + 1))."""
    from mmfusion.data.mias import to_pixels

    col, row, radius = to_pixels(x, y, r, (size, size))
    return col + 0.5, row + 0.5, radius


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


# ---------------------------------------------------------------- training-set augmentation
BRIGHTNESS = 15
CONTRAST = (0.5, 1.5)


def dihedral_views(image: np.ndarray) -> list[np.ndarray]:
    """The 4 rotations and their vertical flips, in that order (8 views)."""
    rotations = [np.rot90(image, k, axes=(0, 1)) for k in range(4)]
    return rotations + [np.flipud(r) for r in rotations]


def brightness_contrast(image: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """alpha * image + beta, clipped to uint8 (contrast then brightness, as cv2.convertScaleAbs)."""
    return np.clip(np.rint(image.astype(np.float32) * alpha + beta), 0, 255).astype(np.uint8)


def augment_x16(images: np.ndarray, labels: np.ndarray, seed: int = 0):
    """(N, H, W, C) uint8 -> (16N, H, W, C): 8 dihedral views plus one brightness/contrast copy each.

    Returns (images, labels, source) where ``source`` is the index of the original image.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"expected uint8 images of shape (N, H, W, C), got {images.dtype} {images.shape}")
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"rotations need square images, got {images.shape[1]}x{images.shape[2]}")
    rng = np.random.default_rng(seed)
    views = [np.stack(dihedral_views(im)) for im in images]              # N x (8, H, W, C)
    views = np.concatenate(views) if views else images[:0]
    alpha = rng.uniform(*CONTRAST, size=len(views))
    beta = rng.uniform(-BRIGHTNESS, BRIGHTNESS, size=len(views))
    jittered = np.stack([brightness_contrast(v, a, b) for v, a, b in zip(views, alpha, beta)]) \
        if len(views) else views
    source = np.repeat(np.arange(len(images)), 8)
    return (np.concatenate([views, jittered]), np.concatenate([labels[source], labels[source]]),
            np.concatenate([source, source]))


def md5_dedupe(images: np.ndarray, *arrays):
    """Drop exact pixel duplicates (first occurrence kept). Returns (images, *arrays, n_removed)."""
    seen, keep = set(), []
    for i, image in enumerate(images):
        digest = hashlib.md5(np.ascontiguousarray(image).tobytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            keep.append(i)
    keep = np.asarray(keep, dtype=int)
    return (images[keep], *(np.asarray(a)[keep] for a in arrays), len(images) - len(keep))


def undersample(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices of a random undersampling of every class to the minority count (imblearn)."""
    from imblearn.under_sampling import RandomUnderSampler

    labels = np.asarray(labels)
    index = np.arange(len(labels)).reshape(-1, 1)
    sampler = RandomUnderSampler(random_state=seed)
    sampler.fit_resample(index, labels)
    return np.sort(sampler.sample_indices_)


def augment_training_set(images: np.ndarray, labels: np.ndarray, seed: int = 0):
    """The whole authors' recipe. Returns (images, labels, counts) with counts of every step."""
    aug, aug_labels, _ = augment_x16(images, labels, seed)
    aug, aug_labels, removed = md5_dedupe(aug, aug_labels)
    keep = undersample(aug_labels, seed)
    counts = {"original": int(len(images)), "augmented": int(len(aug) + removed),
              "duplicates_removed": int(removed), "after_undersampling": int(len(keep)),
              "per_class": {int(c): int(n) for c, n in zip(*np.unique(aug_labels[keep], return_counts=True))}}
    return aug[keep], aug_labels[keep], counts


# ---------------------------------------------------------------- cached crops and splits
CLASS_NAMES = ("normal", "benign", "malignant")


@dataclasses.dataclass
class Crops:
    """One row per kept image, in the order of the loader's frame."""

    images: np.ndarray          # (N, S, S, 3) uint8
    labels: np.ndarray          # (N,) int
    sample_ids: np.ndarray      # (N,) str
    groups: np.ndarray          # (N,) str: patient id (left/right breast of one woman)
    lesions: np.ndarray         # (N, S, S) bool; all False for normal images
    skipped: dict               # reason -> [sample ids]

    def __len__(self):
        return len(self.labels)

    def counts(self) -> dict:
        return {CLASS_NAMES[c]: int((self.labels == c).sum()) for c in range(len(CLASS_NAMES))}

    def without(self, sample_ids) -> tuple["Crops", list]:
        """These crops minus ``sample_ids`` (those present), and the ids actually removed."""
        drop = np.isin(self.sample_ids, list(sample_ids))
        keep = ~drop
        return (Crops(self.images[keep], self.labels[keep], self.sample_ids[keep], self.groups[keep],
                      self.lesions[keep], self.skipped), self.sample_ids[drop].tolist())


def _roi(row):
    if row["label"] == 0:
        return None
    return float(row["x"]), float(row["y"]), float(row["radius"])


def make_crops(frame: pd.DataFrame, out_size: int = PAPER_SIZE, progress: bool = True) -> Crops:
    """Run the authors' preprocessing on every image of a ``load_dataset('mias', label_rule='first')``
    frame. Abnormal images without coordinates and dropped crops are counted in ``skipped``."""
    from mmfusion.data.images import read_image
    from mmfusion.utils.progress import tqdm

    skipped = {"abnormal_without_coordinates": [], "dropped_crop": []}
    images, labels, ids, groups, lesions = [], [], [], [], []
    rows = frame.to_dict("records")
    for row in tqdm(rows, desc="mias-xai preprocessing", disable=not progress):
        if row["label"] != 0 and (row["x"] is None or pd.isna(row["x"])):
            skipped["abnormal_without_coordinates"].append(row["sample_id"])
            continue
        film = read_image(row["image_path"], mode="gray")
        crop = preprocess_film(film, _roi(row), out_size=out_size)   # coordinates: 1024 frame
        if crop is None:
            skipped["dropped_crop"].append(row["sample_id"])
            continue
        mask = lesion_mask(crop, out_size)
        images.append(crop.image)
        labels.append(int(row["label"]))
        ids.append(str(row["sample_id"]))
        groups.append(str(row["group_id"]))
        lesions.append(np.zeros((out_size, out_size), bool) if mask is None else mask)
    if not images:
        raise ValueError(f"no MIAS image survived preprocessing (skipped: "
                         f"{ {k: len(v) for k, v in skipped.items()} })")
    return Crops(np.stack(images), np.asarray(labels), np.asarray(ids), np.asarray(groups),
                 np.stack(lesions), skipped)


CROPS_VERSION = 2   # bump when make_crops changes what it produces


def cached_crops(frame: pd.DataFrame, out_size: int, cache_dir=None) -> Crops:
    """``make_crops`` once per (file contents, labels, coordinates, size); later calls read the
    core cache (a replaced film with the same size and mtime is a new key)."""
    from mmfusion.data.cache import cached


    def build():
        c = make_crops(frame, out_size)
        return {"images": c.images, "labels": c.labels, "sample_ids": c.sample_ids.astype(str),
                "groups": c.groups.astype(str), "lesions": c.lesions,
                "skipped": np.asarray(json.dumps(c.skipped))}

    rows = frame[["sample_id", "label", "x", "y", "radius"]].astype(str).values.tolist()
    z = cached("mias-xai-crops", frame["image_path"], build, cache_dir, rows=rows, out_size=out_size,
               version=CROPS_VERSION)
    return Crops(z["images"], z["labels"], z["sample_ids"], z["groups"], z["lesions"],
                 json.loads(str(z["skipped"])))


def splits(crops: Crops, seed: int = 44) -> dict:
    """{"stratified": the authors' two-step split (random_state 44), "patient": patient-grouped}."""
    from mmfusion.data.splits import train_val_test_split

    return {"stratified": paper_two_step_split(crops.labels, first_holdout=0.3, random_state=seed),
            "patient": train_val_test_split(crops.labels, groups=crops.groups, ratios=(0.7, 0.15, 0.15),
                                            seed=seed)}


def paper_two_step_split(labels, first_holdout: float = 0.3, random_state: int = 44) -> dict:
    """The two-step 70/15/15 split as the mias-xai authors coded it:

        X_train, X_tmp, y_train, y_tmp = train_test_split(X, y, test_size=0.3, stratify=y, random_state=44)
        X_val, X_test, y_val, y_test = train_test_split(X_tmp, y_tmp, test_size=0.5, stratify=y_tmp,
                                                        random_state=44)

    Indices are positions in the order the samples were given (for MIAS: Info.txt order). Not
    grouped: the authors split images, so left/right breasts of one patient can straddle sides.
    """
    from sklearn.model_selection import train_test_split

    from mmfusion.data.splits import check_leakage, require_enough, two_step_minimum

    labels = np.asarray(labels)
    require_enough(labels, "the two-step 70/15/15 split", 2,
                   two_step_minimum(labels, first_holdout, 0.5, "test"))
    idx = np.arange(len(labels))
    train, tmp = train_test_split(idx, test_size=first_holdout, stratify=labels, random_state=random_state)
    val, test = train_test_split(tmp, test_size=0.5, stratify=labels[tmp], random_state=random_state)
    out = {"train": train, "val": val, "test": test}
    check_leakage(out)
    return out
