"""The one tf.data pipeline: arrays or dicts of arrays (or an element Dataset) -> batched Dataset.

Training streams (``repeat=True``) of in-memory arrays are *epoch-indexed*: epoch e's order is a
stateless permutation of (seed, e) and each sample's augmentation seed is (seed, e, index). A run
resumed at epoch e therefore sees exactly the batches an uninterrupted run would have seen.

Every path gathers and augments whole batches (one map call per batch, run in parallel and
prefetched): per-element maps cost more in call overhead than the augmentation itself.
Images that hold whole numbers in 0..255 are kept as uint8 in memory and cast per batch.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def _apply_augment(augment, x, seeds):
    """``augment`` on a batch with per-sample ``seeds`` (n, 2); per-image functions via map_fn."""
    if augment is None:
        return x
    if isinstance(x, dict) and "image" not in x:
        raise ValueError(f"augment needs an 'image' key in dict inputs, got keys {sorted(x)}")
    if isinstance(x, dict):
        return {**x, "image": _apply_augment(augment, x["image"], seeds)}
    if getattr(augment, "batched", False):
        return augment(x, seeds)
    return tf.map_fn(lambda a: augment(a[0], a[1]), (x, seeds), fn_output_signature=tf.float32)


def _pack(x, y, w):
    if y is None:
        return x
    return (x, y) if w is None else (x, y, w)


def _length(x) -> int:
    arrays = list(x.values()) if isinstance(x, dict) else [x]
    sizes = {len(a) for a in arrays}
    if len(sizes) != 1:
        raise ValueError(f"inputs have different numbers of samples: "
                         f"{ {k: len(v) for k, v in x.items()} if isinstance(x, dict) else sizes}")
    return sizes.pop()


def steps_per_epoch(n: int, batch_size: int, drop_remainder: bool = False) -> int:
    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


def _as_tensor(a):
    """(tensor, dtype to cast back to or None): float images of whole numbers in 0..255 are held
    as uint8 (4x less memory to copy and gather); the batch is cast back, so values are unchanged."""
    if a is None:
        return None, None
    a = np.asarray(a)
    if a.ndim >= 3 and a.dtype in (np.float32, np.float64) and a.size \
            and np.array_equal(a[:1].astype(np.uint8), a[:1]):   # first image decides cheaply
        small = a.astype(np.uint8)
        if np.array_equal(small, a):
            return tf.convert_to_tensor(small), tf.as_dtype(a.dtype)
    return tf.convert_to_tensor(a), None


class _Held:
    """x (array or dict of arrays), y and sample_weight as tensors named "x" / "x/<key>", "y", "w";
    images of whole numbers 0..255 held as uint8 and cast back per batch (``_as_tensor``)."""

    def __init__(self, x, y=None, sample_weight=None):
        n = _length(x)
        if y is not None and len(y) != n:
            raise ValueError(f"x has {n} samples but y has {len(y)}")
        if sample_weight is not None and len(sample_weight) != n:
            raise ValueError(f"x has {n} samples but sample_weight has {len(sample_weight)}")
        if n == 0:
            raise ValueError("make_dataset got no samples")
        self.n, self.keys = n, (sorted(x) if isinstance(x, dict) else None)
        parts = {f"x/{k}": x[k] for k in self.keys} if self.keys else {"x": x}
        parts.update({name: a for name, a in (("y", y), ("w", sample_weight)) if a is not None})
        held = {name: _as_tensor(a) for name, a in parts.items()}
        self.tensors = {name: t for name, (t, _) in held.items()}
        self.casts = {name: dtype for name, (_, dtype) in held.items()}

    def gather(self, i):
        """(x, y, w) of the samples ``i``, cast back to their dtypes."""
        def take(name):
            out, dtype = tf.gather(self.tensors[name], i), self.casts[name]
            return out if dtype is None else tf.cast(out, dtype)
        x = {k: take(f"x/{k}") for k in self.keys} if self.keys else take("x")
        return x, take("y") if "y" in self.tensors else None, take("w") if "w" in self.tensors else None


def _epoch_batch(g, n, steps, batch_size: int, shuffle: bool, seed):
    """Positions and per-sample augmentation seeds of batch ``g`` of the epoch-indexed stream:
    epoch g // steps in the stateless order of (seed, epoch), seeds (seed * 1 000 003 + epoch, position)."""
    epoch, k = g // steps, g % steps
    pos = tf.range(k * batch_size, tf.minimum((k + 1) * batch_size, n))
    if shuffle:
        key = tf.stack([tf.convert_to_tensor(seed, tf.int64), epoch])
        pos = tf.random.experimental.index_shuffle(pos, key, tf.convert_to_tensor(n - 1, tf.int64))
    seeds = tf.stack([tf.fill(tf.shape(pos), tf.convert_to_tensor(seed, tf.int64) * 1_000_003 + epoch), pos],
                     axis=1)
    return pos, seeds


def make_dataset(x, y=None, sample_weight=None, batch_size: int = 32, shuffle: bool = False,
                 seed: int = 0, augment=None, cache: bool = True, repeat: bool = False,
                 drop_remainder: bool = False, start_epoch: int = 0):
    """Batched, prefetched Dataset of ``x`` / ``(x, y)`` / ``(x, y, sample_weight)``.

    ``x``: array, dict of arrays (multi-input models; ``augment`` touches ``x["image"]`` only) or a
    Dataset of elements. ``augment(image, seed)`` comes from mmfusion.data.augment (a plain
    per-image function works too, mapped over the batch).
    ``repeat=True`` with arrays: an endless epoch-indexed stream starting at ``start_epoch``
    (use ``steps_per_epoch`` batches per epoch).
    """
    if isinstance(x, tf.data.Dataset):
        return _from_elements(x, batch_size, shuffle, seed, augment, cache, repeat, drop_remainder)
    held = _Held(x, y, sample_weight)

    def batch(i, seeds=None):
        xi, yi, wi = held.gather(i)
        return _pack(_apply_augment(augment, xi, seeds), yi, wi)

    if repeat:
        steps = steps_per_epoch(held.n, batch_size, drop_remainder)
        if steps == 0:
            raise ValueError(f"{held.n} samples make no full batch of {batch_size} (drop_remainder)")
        # one flat stream of batch numbers (no per-epoch flat_map: its map restarts every epoch)
        ds = tf.data.Dataset.range(start_epoch * steps, 2**62).map(
            lambda g: _epoch_batch(g, held.n, steps, batch_size, shuffle, seed))
    else:
        idx = tf.data.Dataset.range(held.n)
        if shuffle:
            idx = idx.shuffle(held.n, seed=seed, reshuffle_each_iteration=True)
        if augment is not None:
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            idx = tf.data.Dataset.zip(idx, seeds)
        ds = idx.batch(batch_size, drop_remainder=drop_remainder)
    return ds.map(batch, num_parallel_calls=AUTOTUNE, deterministic=True).prefetch(AUTOTUNE)


def _float_images(x):
    """uint8 images (as cached from files) -> float32 0..255, the dtype models are fed."""
    if isinstance(x, dict):
        return {k: _float_images(v) if k == "image" else v for k, v in x.items()}
    return tf.cast(x, tf.float32) if x.dtype == tf.uint8 else x


def _from_elements(ds, batch_size, shuffle, seed, augment, cache, repeat, drop_remainder):
    """Element Dataset (e.g. decoded from files): cache before the random parts, then batch; each
    batch's uint8 images become float32 and are augmented with their elements' seeds."""
    if cache:
        ds = ds.cache()
    if shuffle:
        size = int(ds.cardinality())
        ds = ds.shuffle(size if size > 0 else 10_000, seed=seed, reshuffle_each_iteration=True)
    if augment is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def finish(element, seeds=None):
        x, rest = (element[0], element[1:]) if isinstance(element, tuple) else (element, None)
        x = _apply_augment(augment, _float_images(x), seeds)
        return x if rest is None else (x,) + rest
    if augment is None:   # map unpacks tuple elements into arguments: pack them back
        fn = lambda *e: finish(e if len(e) > 1 else e[0])   # noqa: E731
    else:
        fn = finish
    return ds.map(fn, num_parallel_calls=AUTOTUNE, deterministic=True).prefetch(AUTOTUNE)
