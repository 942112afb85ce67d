"""The authors' offline training-set augmentation (x16), MD5 dedupe and random undersampling.

Per image: rotations 0/90/180/270, a vertical flip of each (8 views), then one copy of every view
with a random brightness shift (+-15) and contrast factor (0.5-1.5): 16 images. Exact duplicates
(symmetric crops, all-flat crops) are removed by MD5 of the pixel bytes; classes are then
undersampled at random to the minority count. Works on uint8 (N, H, W, C) arrays.
"""
from __future__ import annotations

import hashlib

import numpy as np

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
