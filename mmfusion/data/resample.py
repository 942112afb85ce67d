"""SMOTE (imblearn) on flattened uint8 pixels, for the training side of a split only. SMOTE takes
``neighbour - image`` in the input dtype, where uint8 wraps around: it is fed int16 instead."""
import numpy as np


def smote_images(x_uint8, y, k: int = 5, seed: int = 0, sampling_strategy="auto"):
    """``(x, y)`` resampled: the ``(N, H, W[, C])`` uint8 originals first, then the synthetic ones."""
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
