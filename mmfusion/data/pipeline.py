"""The one tf.data pipeline: arrays or dicts of arrays (or an element Dataset) -> batched Dataset.
Training streams of arrays are epoch-indexed (order and augmentation seeds are stateless in (seed,
epoch, index)), so a resumed run sees the same batches. Whole batches are gathered and augmented:
per-element maps cost more in call overhead than the augmentation itself."""
import math

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def _apply_augment(augment, x, seeds):
    """``augment`` on a batch with per-sample ``seeds`` (n, 2); per-image functions via map_fn."""
    if augment is None:
        return x
    if isinstance(x, dict):
        if "image" not in x:
            raise ValueError(f"augment needs an 'image' key in dict inputs, got keys {sorted(x)}")
        return {**x, "image": _apply_augment(augment, x["image"], seeds)}
    if getattr(augment, "batched", False):
        return augment(x, seeds)
    return tf.map_fn(lambda a: augment(a[0], a[1]), (x, seeds), fn_output_signature=tf.float32)


def steps_per_epoch(n: int, batch_size: int, drop_remainder: bool = False) -> int:
    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


def _as_tensor(a):
    """(tensor, dtype to cast back to or None): float images of whole numbers in 0..255 held as uint8."""
    a = np.asarray(a)
    if a.ndim >= 3 and a.dtype in (np.float32, np.float64) and a.size \
            and np.array_equal(a[:1].astype(np.uint8), a[:1]):   # first image decides cheaply
        small = a.astype(np.uint8)
        if np.array_equal(small, a):
            return tf.convert_to_tensor(small), tf.as_dtype(a.dtype)
    return tf.convert_to_tensor(a), None


def _epoch_batch(g, n, steps, batch_size: int, shuffle: bool, seed):
    """Positions and per-sample seeds ``(seed * 1 000 003 + epoch, position)`` of batch ``g``."""
    epoch, k = g // steps, g % steps
    seed = tf.convert_to_tensor(seed, tf.int64)
    pos = tf.range(k * batch_size, tf.minimum((k + 1) * batch_size, n))
    if shuffle:
        pos = tf.random.experimental.index_shuffle(pos, tf.stack([seed, epoch]), tf.constant(n - 1, tf.int64))
    return pos, tf.stack([tf.fill(tf.shape(pos), seed * 1_000_003 + epoch), pos], axis=1)


def make_dataset(x, y=None, sample_weight=None, batch_size: int = 32, shuffle: bool = False,
                 seed: int = 0, augment=None, repeat: bool = False, start_epoch: int = 0):
    """Batched, prefetched Dataset of ``x`` / ``(x, y)`` / ``(x, y, sample_weight)`` (``x`` an array, a
    dict of arrays or a Dataset); ``repeat``: an endless epoch-indexed stream from ``start_epoch``."""
    if isinstance(x, tf.data.Dataset):
        return _from_elements(x, batch_size, shuffle, seed, augment, repeat)
    keys = sorted(x) if isinstance(x, dict) else None
    parts = {f"x/{k}": x[k] for k in keys} if keys is not None else {"x": x}
    sizes = {len(a) for a in parts.values()}
    if len(sizes) != 1:
        raise ValueError(f"inputs have different numbers of samples: { {k: len(v) for k, v in x.items()} }")
    n = sizes.pop()
    for name, a in (("y", y), ("sample_weight", sample_weight)):
        if a is not None and len(a) != n:
            raise ValueError(f"x has {n} samples but {name} has {len(a)}")
    if n == 0:
        raise ValueError("make_dataset got no samples")
    parts.update({name: a for name, a in (("y", y), ("w", sample_weight)) if a is not None})
    held = {name: _as_tensor(a) for name, a in parts.items()}   # (tensor, dtype to cast back to)

    def batch(i, seeds=None):
        def take(name):
            out, dtype = tf.gather(held[name][0], i), held[name][1]
            return out if dtype is None else tf.cast(out, dtype)
        xi = _apply_augment(augment, {k: take(f"x/{k}") for k in keys} if keys else take("x"), seeds)
        return xi if "y" not in held else (xi, take("y")) if "w" not in held else (xi, take("y"), take("w"))

    if repeat:
        steps = steps_per_epoch(n, batch_size)
        # one flat stream of batch numbers (no per-epoch flat_map: its map restarts every epoch)
        ds = tf.data.Dataset.range(start_epoch * steps, 2**62).map(
            lambda g: _epoch_batch(g, n, steps, batch_size, shuffle, seed))
    else:
        idx = tf.data.Dataset.range(n)
        if shuffle:
            idx = idx.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        if augment is not None:
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            idx = tf.data.Dataset.zip(idx, seeds)
        ds = idx.batch(batch_size)
    return ds.map(batch, num_parallel_calls=AUTOTUNE, deterministic=True).prefetch(AUTOTUNE)


def _float_images(x):
    """uint8 images (as cached from files) -> float32 0..255, the dtype models are fed."""
    if isinstance(x, dict):
        return {k: _float_images(v) if k == "image" else v for k, v in x.items()}
    return tf.cast(x, tf.float32) if x.dtype == tf.uint8 else x


def _from_elements(ds, batch_size, shuffle, seed, augment, repeat):
    """Element Dataset: cached before the random parts, batched, uint8 images cast to float32, augmented."""
    ds = ds.cache()
    if shuffle:
        size = int(ds.cardinality())
        ds = ds.shuffle(size if size > 0 else 10_000, seed=seed, reshuffle_each_iteration=True)
    if augment is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size)

    def finish(*element):
        seeds = None
        if augment is not None:   # (element, seeds); without them map unpacks a tuple element
            element, seeds = element
        x, rest = (element[0], element[1:]) if isinstance(element, tuple) else (element, ())
        x = _apply_augment(augment, _float_images(x), seeds)
        return (x,) + rest if rest else x
    return ds.map(finish, num_parallel_calls=AUTOTUNE, deterministic=True).prefetch(AUTOTUNE)
