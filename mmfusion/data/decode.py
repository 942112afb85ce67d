"""Files listed in a loader's frame -> images decoded by ``images.read_image`` (in parallel, inside
``tf.numpy_function``) -> the one tf.data pipeline, which caches them as uint8 before shuffling."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mmfusion.data.images import _hw, read_image


def _mode(channels: int) -> str:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    return "gray" if channels == 1 else "rgb"


def decode_one(path, image_size, channels: int = 3) -> np.ndarray:
    """``(H, W, channels)`` uint8 for one file."""
    arr = read_image(path, mode=_mode(channels), size=image_size)
    return arr[..., None] if channels == 1 else arr


def decode_images(paths, image_size, channels: int = 3, workers: int = 4) -> np.ndarray:
    """All ``paths`` decoded into one ``(N, H, W, channels)`` uint8 array (threads: PIL releases the GIL)."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        arrays = list(pool.map(lambda p: decode_one(p, image_size, channels), list(paths)))
    return np.stack(arrays) if arrays else np.zeros((0, *_hw(image_size), channels), np.uint8)


def _column(frame, name) -> np.ndarray:
    if name not in frame.columns:
        raise KeyError(f"frame has no column {name!r}; columns are {list(frame.columns)}")
    return np.asarray(frame[name].to_list(), np.float32)   # numbers, or equal-length vectors stacked


def frame_to_dataset(frame, image_size, channels: int = 3, label_col: str | None = "label", extra_inputs=(),
                     batch_size: int = 32, shuffle: bool = False, seed: int = 0, augment=None,
                     num_classes: int | None = None, repeat: bool = False):
    """Batched ``(x, y)`` of ``frame['image_path']``: ``x`` float32 0..255 (a dict ``{"image", <column>}``
    with ``extra_inputs``), ``y`` the label, one-hot given ``num_classes``."""
    import tensorflow as tf

    from mmfusion.data.pipeline import make_dataset

    h, w = _hw(image_size)
    _mode(channels)
    paths = frame["image_path"].astype(str).to_list()
    if not paths:
        raise ValueError("frame_to_dataset got an empty frame")

    def load(path):
        img = tf.numpy_function(lambda p: decode_one(p.decode(), (h, w), channels), [path], tf.uint8,
                                stateful=False)
        img.set_shape((h, w, channels))
        return img

    x = tf.data.Dataset.from_tensor_slices(paths).map(load, num_parallel_calls=tf.data.AUTOTUNE,
                                                       deterministic=True)
    if extra_inputs:
        extras = tf.data.Dataset.from_tensor_slices({c: _column(frame, c) for c in extra_inputs})
        x = tf.data.Dataset.zip(x, extras).map(lambda img, ex: {"image": img, **ex})
    if label_col is not None:
        labels = frame[label_col].to_numpy().astype(np.int32)
        y = np.eye(num_classes, dtype=np.float32)[labels] if num_classes else labels
        x = tf.data.Dataset.zip(x, tf.data.Dataset.from_tensor_slices(y))
    return make_dataset(x, batch_size=batch_size, shuffle=shuffle, seed=seed, augment=augment, repeat=repeat)
