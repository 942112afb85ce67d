"""Files listed in a loader's frame -> decoded image tensors -> the one tf.data pipeline.

Decoding goes through ``images.read_image`` (so PGM, 1-bit PNG, 16-bit DICOM and JPEG all decode
the same way as everywhere else) inside ``tf.numpy_function``, in parallel; the decoded tensors are
cached (as uint8, a quarter of float32's memory) by ``pipeline.make_dataset`` before shuffling;
batches are cast to float32 and augmented there.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mmfusion.data.images import read_image


def _mode(channels: int) -> str:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    return "gray" if channels == 1 else "rgb"


def _hw(image_size):
    return (int(image_size), int(image_size)) if np.isscalar(image_size) else tuple(map(int, image_size))


def decode_one(path, image_size, channels: int = 3) -> np.ndarray:
    """``(H, W, channels)`` uint8 for one file."""
    arr = read_image(path, mode=_mode(channels), size=_hw(image_size))
    return arr[..., None] if channels == 1 else arr


def decode_images(paths, image_size, channels: int = 3, workers: int = 4) -> np.ndarray:
    """All ``paths`` decoded into one ``(N, H, W, channels)`` uint8 array (threads: PIL releases the GIL)."""
    paths = list(paths)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        arrays = list(pool.map(lambda p: decode_one(p, image_size, channels), paths))
    h, w = _hw(image_size)
    return np.stack(arrays) if arrays else np.zeros((0, h, w, channels), np.uint8)


def _column(frame, name) -> np.ndarray:
    if name not in frame.columns:
        raise KeyError(f"frame has no column {name!r}; columns are {list(frame.columns)}")
    values = frame[name].to_list()
    return np.stack([np.asarray(v, np.float32) for v in values]) if values and np.ndim(values[0]) else \
        np.asarray(values, np.float32)


def frame_to_dataset(frame, image_size, channels: int = 3, label_col: str | None = "label", extra_inputs=(),
                     batch_size: int = 32, shuffle: bool = False, seed: int = 0, augment=None,
                     num_classes: int | None = None, cache: bool = True, repeat: bool = False,
                     drop_remainder: bool = False):
    """Batched ``tf.data.Dataset`` of the images in ``frame['image_path']``.

    Elements are ``(x, y)`` (``x`` only when ``label_col`` is None). ``x`` is the float32 image
    ``(H, W, channels)`` in 0..255 (models normalise), or, with ``extra_inputs`` (frame columns
    holding numbers or vectors, e.g. a clinical vector), a dict ``{"image": ..., <column>: ...}``.
    ``y`` is the integer label, or one-hot when ``num_classes`` is given.
    """
    import tensorflow as tf

    from mmfusion.data.pipeline import make_dataset

    h, w = _hw(image_size)
    mode = _mode(channels)
    paths = frame["image_path"].astype(str).to_list()
    if not paths:
        raise ValueError("frame_to_dataset got an empty frame")

    def decode(path):
        arr = read_image(path.decode(), mode=mode, size=(h, w))
        return arr[..., None] if channels == 1 else arr

    def load(path):
        img = tf.numpy_function(decode, [path], tf.uint8, stateful=False)
        img.set_shape((h, w, channels))
        return img

    images = tf.data.Dataset.from_tensor_slices(paths).map(load, num_parallel_calls=tf.data.AUTOTUNE,
                                                            deterministic=True)
    if extra_inputs:
        extras = tf.data.Dataset.from_tensor_slices({c: _column(frame, c) for c in extra_inputs})
        x = tf.data.Dataset.zip(images, extras).map(lambda img, ex: {"image": img, **ex})
    else:
        x = images
    if label_col is not None:
        labels = frame[label_col].to_numpy().astype(np.int32)
        y = np.eye(num_classes, dtype=np.float32)[labels] if num_classes else labels
        elements = tf.data.Dataset.zip(x, tf.data.Dataset.from_tensor_slices(y))
    else:
        elements = x
    return make_dataset(elements, batch_size=batch_size, shuffle=shuffle, seed=seed, augment=augment,
                        cache=cache, repeat=repeat, drop_remainder=drop_remainder)
