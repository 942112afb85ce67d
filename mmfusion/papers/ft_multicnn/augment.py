"""§3.2.3 training augmentation with albumentations, run inside the tf.data pipeline.

The paper names albumentations transforms, so we run albumentations itself (through
``tf.numpy_function``) rather than re-implementing each op in TensorFlow: the ops stay exactly the
library's. Each call is seeded from the pipeline's per-sample seed (run seed, epoch, index), so a
resumed run replays the same augmentations. Training only: it is passed as ``TrainConfig.augment``,
which the core applies to the training stream and never to validation or test data.
"""
from __future__ import annotations

import threading
import warnings

import numpy as np

_local = threading.local()     # one Compose per pipeline thread: reseeding is then race-free


def paper_transforms():
    """The §3.2.3 list (albumentations 2.x names for the paper's RandomBrightness/RandomContrast)."""
    import albumentations as A

    # ShiftScaleRotate is deprecated in favour of Affine (warned from its validator); the paper names it
    warnings.filterwarnings("ignore", message="ShiftScaleRotate is a special case", category=UserWarning)
    return A.Compose([
        A.Transpose(p=0.5),
        A.VerticalFlip(p=0.5),
        A.HorizontalFlip(p=0.5),
        A.Rotate(p=0.5),                                   # default limit ±90°, border 0
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.0, p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0.0, contrast_limit=0.2, p=0.5),
        A.GaussianBlur(blur_limit=5, p=0.25),
        A.ShiftScaleRotate(shift_limit=0.1, scale_limit=0.1, rotate_limit=15, border_mode=0, p=0.85),
    ])


def seed_int(seed) -> int:
    """One 32-bit albumentations seed from the pipeline's int64 [2] seed."""
    return int(np.random.SeedSequence([int(s) & 0xFFFFFFFFFFFFFFFF for s in np.ravel(seed)]).generate_state(1)[0])


def augment_array(image: np.ndarray, seed) -> np.ndarray:
    """Augment one (H, W, 3) uint8 image with the paper's transforms, deterministically in ``seed``."""
    compose = getattr(_local, "compose", None)
    if compose is None:
        compose = _local.compose = paper_transforms()
    compose.set_random_seed(seed_int(seed))
    return compose(image=np.ascontiguousarray(image, np.uint8))["image"]


def paper_augment(image, seed):
    """``augment(image, seed)`` for TrainConfig: float32 0..255 out, shape kept."""
    import tensorflow as tf

    def run(img, s):
        return augment_array(np.clip(img, 0, 255).astype(np.uint8), s).astype(np.float32)

    out = tf.numpy_function(run, [image, seed], tf.float32, stateful=False)
    out.set_shape(image.shape)
    return out
