"""Oversampling of image sets: SMOTE (imblearn) on flattened uint8 pixels.

Only ever applied to the training side of a split: validation and test images stay real.
SMOTE interpolates between an image and one of its ``k`` nearest same-class neighbours in pixel
space and casts the synthetic rows back to the input dtype. It must NOT be fed uint8 itself:
imblearn computes ``neighbour - image`` in the input dtype, so negative differences wrap around
(10 and 200 give 168, not a value between them). We feed int16 (exact differences, half the
memory of float32) and cast the result, always within 0..255, back to uint8.
"""
from __future__ import annotations

import numpy as np


def smote_images(x_uint8, y, k: int = 5, seed: int = 0, sampling_strategy="auto"):
    """``(x_resampled, y_resampled)``: the original images first, then the synthetic ones.

    ``x_uint8``: ``(N, H, W[, C])`` uint8; ``y``: ``(N,)`` integer labels. With the default
    ``sampling_strategy="auto"`` every minority class is raised to the majority's count.
    Raises ValueError when a class has ``k`` or fewer images (SMOTE needs ``k`` neighbours).
    """
    from imblearn.over_sampling import SMOTE

    x = np.asarray(x_uint8)
    y = np.asarray(y).astype(int).ravel()
    if x.dtype != np.uint8:
        raise ValueError(f"smote_images expects uint8 images, got {x.dtype} (convert before, not after)")
    if len(x) != len(y):
        raise ValueError(f"smote_images: {len(x)} images but {len(y)} labels")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"smote_images needs at least two classes, got {classes.tolist()}")
    if counts.min() <= k:
        small = {int(c): int(n) for c, n in zip(classes, counts) if n <= k}
        raise ValueError(f"SMOTE with k={k} needs more than {k} images per class; classes {small} "
                         f"(class: count) have too few. Lower k or skip SMOTE.")
    sampler = SMOTE(k_neighbors=k, random_state=seed, sampling_strategy=sampling_strategy)
    flat, y_res = sampler.fit_resample(x.reshape(len(x), -1).astype(np.int16), y)
    return flat.reshape((len(flat),) + x.shape[1:]).astype(np.uint8), np.asarray(y_res)
