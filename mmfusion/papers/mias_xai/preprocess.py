"""The authors' MIAS preprocessing, their offline augmentation, and the cached crops.

Per film: resize to 224, noise removal and CLAHE (``data.mammo.enhance``), then the lesion square
(side 2r) or, for normal films, a central h//4 square shifted diagonally onto tissue. Training
set: 8 dihedral views plus one brightness / contrast copy each (x16), MD5 dedupe, undersampling."""
import dataclasses
import hashlib
import json

import cv2
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mmfusion.data.cache import cached
from mmfusion.data.images import circle_mask, read_image
from mmfusion.data.mammo import enhance, remove_noise, to_rgb  # noqa: F401
from mmfusion.data.mias import to_pixels
from mmfusion.data.splits import check_leakage, require_enough, train_val_test_split, two_step_minimum

PAPER_SIZE = 224      # the authors resize every film to this before anything else


@dataclasses.dataclass(frozen=True)
class Crop:
    """A crop of the preprocessed image and where the lesion circle lies in crop pixels."""

    image: np.ndarray                    # (out, out, 3) uint8
    window: tuple[int, int, int, int]    # x0, y0, x1, y1 on the PAPER_SIZE image (x1, y1 exclusive)
    circle: tuple[float, float, float] | None   # cx, cy, r in output pixels (None: normal image)


def scale_coordinates(x, y, r, size=PAPER_SIZE):
    """Info.txt (x, y, radius) -> continuous (column, row, radius) on the resized image:
    ``data.mias.to_pixels`` (the one y-flip) plus half a pixel (pixel i spans [i, i + 1))."""
    col, row, radius = to_pixels(x, y, r, (size, size))
    return col + 0.5, row + 0.5, radius


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
    image = cv2.resize(image[y0:y1, x0:x1], (out_size, out_size), interpolation=cv2.INTER_LINEAR)
    return Crop(image, (x0, y0, x1, y1), circle)


def crop_normal(image: np.ndarray, tissue: np.ndarray | None = None, out_size=PAPER_SIZE) -> Crop | None:
    """Central square of side h//4, shifted diagonally towards the half with more tissue (in x and
    in y) while its centre is black. ``tissue``: bool HxW of non-black pixels (default: image != 0).
    Returns None when the crop would leave the image before its centre reaches tissue."""
    h, w = image.shape[:2]
    side = h // 4
    tissue = np.asarray(image).reshape(h, w, -1).any(axis=-1) if tissue is None else np.asarray(tissue, bool)
    dx = 1 if tissue[:, w // 2:].sum() > tissue[:, : w // 2].sum() else -1
    dy = 1 if tissue[h // 2:].sum() > tissue[: h // 2].sum() else -1
    cx, cy = w // 2, h // 2
    while not tissue[cy, cx]:
        cx, cy = cx + dx, cy + dy
        if not (side // 2 <= cx <= w - side + side // 2 and side // 2 <= cy <= h - side + side // 2):
            return None
    x0, y0 = cx - side // 2, cy - side // 2
    x1, y1 = x0 + side, y0 + side
    image = cv2.resize(image[y0:y1, x0:x1], (out_size, out_size), interpolation=cv2.INTER_LINEAR)
    return Crop(image, (x0, y0, x1, y1), None)


def preprocess_film(film: np.ndarray, roi=None, out_size: int = PAPER_SIZE):
    """One MIAS film -> its Crop. ``roi`` = (x, y, radius) from Info.txt, None for normal films.
    None for all-black crops (the authors drop them) and normal films the tissue search missed."""
    image, tissue = enhance(film, PAPER_SIZE)
    crop = crop_normal(image, tissue, out_size) if roi is None else crop_roi(
        image, *scale_coordinates(*roi), out_size)
    if crop is None:
        return None
    x0, y0, x1, y1 = crop.window
    return crop if crop.image.any() and tissue[y0:y1, x0:x1].any() else None


def lesion_mask(crop: Crop, out_size: int) -> np.ndarray:
    """Boolean (out_size, out_size) mask of the crop's lesion circle (all False for normal crops); the
    half-pixel shift: ``circle_mask`` puts pixel centres on integers, ``Crop.circle`` does not."""
    if crop.circle is None:
        return np.zeros((out_size, out_size), bool)
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
    Returns (images, labels, source), ``source`` the index of the original image."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"expected uint8 images of shape (N, H, W, C), got {images.dtype} {images.shape}")
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"rotations need square images, got {images.shape[1]}x{images.shape[2]}")
    rng = np.random.default_rng(seed)
    views = np.asarray([dihedral_views(im) for im in images], np.uint8).reshape(-1, *images.shape[1:])
    alpha = rng.uniform(*CONTRAST, size=(len(views), 1, 1, 1))
    beta = rng.uniform(-BRIGHTNESS, BRIGHTNESS, size=(len(views), 1, 1, 1))
    jittered = brightness_contrast(views, alpha, beta)
    source = np.repeat(np.arange(len(images)), 8)
    return (np.concatenate([views, jittered]), np.concatenate([labels[source], labels[source]]),
            np.concatenate([source, source]))


def md5_dedupe(images: np.ndarray, *arrays):
    """Drop exact pixel duplicates (first occurrence kept). Returns (images, *arrays, n_removed)."""
    digests = [hashlib.md5(np.ascontiguousarray(image).tobytes()).hexdigest() for image in images]
    keep = np.sort(np.unique(np.asarray(digests, str), return_index=True)[1]).astype(int)
    return (images[keep], *(np.asarray(a)[keep] for a in arrays), len(images) - len(keep))


def undersample(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices of a random undersampling of every class to the minority count (imblearn)."""
    from imblearn.under_sampling import RandomUnderSampler

    sampler = RandomUnderSampler(random_state=seed)
    sampler.fit_resample(np.arange(len(labels)).reshape(-1, 1), np.asarray(labels))
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
CROP_ARRAYS = ("images", "labels", "sample_ids", "groups", "lesions")   # the Crops fields a cache entry holds


@dataclasses.dataclass
class Crops:
    """One row per kept image, in the order of the loader's frame."""

    images: np.ndarray          # (N, S, S, 3) uint8
    labels: np.ndarray          # (N,) int
    sample_ids: np.ndarray      # (N,) str
    groups: np.ndarray          # (N,) str: patient id (left/right breast of one woman)
    lesions: np.ndarray         # (N, S, S) bool; all False for normal images
    skipped: dict               # reason -> [sample ids]

    def counts(self, idx=slice(None)) -> dict:
        return {name: int((self.labels[idx] == c).sum()) for c, name in enumerate(CLASS_NAMES)}

    def without(self, sample_ids) -> tuple["Crops", list]:
        """These crops minus ``sample_ids`` (those present), and the ids actually removed."""
        drop = np.isin(self.sample_ids, list(sample_ids))
        kept = {f: getattr(self, f)[~drop] for f in CROP_ARRAYS}
        return dataclasses.replace(self, **kept), self.sample_ids[drop].tolist()


def make_crops(frame: pd.DataFrame, out_size: int = PAPER_SIZE) -> Crops:
    """Run the authors' preprocessing on every image of a ``load_dataset('mias', label_rule='first')``
    frame. Abnormal images without coordinates and dropped crops are counted in ``skipped``."""
    from mmfusion.utils.progress import tqdm
    skipped = {"abnormal_without_coordinates": [], "dropped_crop": []}
    kept = []
    for row in tqdm(frame.to_dict("records"), desc="mias-xai preprocessing"):
        if row["label"] != 0 and pd.isna(row["x"]):
            skipped["abnormal_without_coordinates"].append(row["sample_id"])
            continue
        film = read_image(row["image_path"], mode="gray")
        roi = None if row["label"] == 0 else (float(row["x"]), float(row["y"]), float(row["radius"]))
        crop = preprocess_film(film, roi, out_size=out_size)   # coordinates: 1024 frame
        if crop is None:
            skipped["dropped_crop"].append(row["sample_id"])
            continue
        kept.append((crop.image, int(row["label"]), str(row["sample_id"]), str(row["group_id"]),
                     lesion_mask(crop, out_size)))
    if not kept:
        raise ValueError(f"no MIAS image survived preprocessing (skipped: "
                         f"{ {k: len(v) for k, v in skipped.items()} })")
    images, labels, ids, groups, lesions = zip(*kept)
    return Crops(np.stack(images), np.asarray(labels), np.asarray(ids), np.asarray(groups),
                 np.stack(lesions), skipped)


CROPS_VERSION = 2   # bump when make_crops changes what it produces


def cached_crops(frame: pd.DataFrame, out_size: int, cache_dir=None) -> Crops:
    """``make_crops`` once per (file contents, labels, coordinates, size); later calls read the
    core cache (a replaced film with the same size and mtime is a new key)."""
    def build():
        c = make_crops(frame, out_size)
        return {**{f: getattr(c, f) for f in CROP_ARRAYS}, "skipped": np.asarray(json.dumps(c.skipped))}

    rows = frame[["sample_id", "label", "x", "y", "radius"]].astype(str).values.tolist()
    z = cached("mias-xai-crops", frame["image_path"], build, cache_dir, rows=rows, out_size=out_size,
               version=CROPS_VERSION)
    return Crops(**{f: z[f] for f in CROP_ARRAYS}, skipped=json.loads(str(z["skipped"])))


def splits(crops: Crops, seed: int = 44) -> dict:
    """{"stratified": the authors' two-step split (random_state 44), "patient": patient-grouped}."""
    return {"stratified": paper_two_step_split(crops.labels, first_holdout=0.3, random_state=seed),
            "patient": train_val_test_split(crops.labels, groups=crops.groups, ratios=(0.7, 0.15, 0.15),
                                            seed=seed)}


def paper_two_step_split(labels, first_holdout: float = 0.3, random_state: int = 44) -> dict:
    """The authors' two-step 70/15/15 split: train_test_split(test_size=0.3, stratify=y), then the
    held-out 30 % halved the same way (random_state 44). Indices are positions in the given order;
    not grouped: the authors split images, so both breasts of a patient can straddle sides."""
    labels = np.asarray(labels)
    require_enough(labels, "the two-step 70/15/15 split", 2,
                   two_step_minimum(labels, first_holdout, 0.5, "test"))
    train, tmp = train_test_split(np.arange(len(labels)), test_size=first_holdout, stratify=labels,
                                  random_state=random_state)
    val, test = train_test_split(tmp, test_size=0.5, stratify=labels[tmp], random_state=random_state)
    out = {"train": train, "val": val, "test": test}
    check_leakage(out)
    return out
