"""The one tf.data pipeline: arrays or dicts of arrays (or an element Dataset) -> batched Dataset.

Training streams (``repeat=True``) of in-memory arrays are *epoch-indexed*: epoch e's order is a
stateless permutation of (seed, e) and each sample's augmentation seed is (seed, e, index). A run
resumed at epoch e therefore sees exactly the batches an uninterrupted run would have seen.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def _apply_augment(augment, x, seed):
    if augment is None:
        return x
    if isinstance(x, dict):
        if "image" not in x:
            raise ValueError(f"augment needs an 'image' key in dict inputs, got keys {sorted(x)}")
        return {**x, "image": augment(x["image"], seed)}
    return augment(x, seed)


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


def make_dataset(x, y=None, sample_weight=None, batch_size: int = 32, shuffle: bool = False,
                 seed: int = 0, augment=None, cache: bool = True, repeat: bool = False,
                 drop_remainder: bool = False, start_epoch: int = 0):
    """Batched, prefetched Dataset of ``x`` / ``(x, y)`` / ``(x, y, sample_weight)``.

    ``x``: array, dict of arrays (multi-input models; ``augment`` touches ``x["image"]`` only) or a
    Dataset of elements. ``augment(image, seed)`` comes from mmfusion.data.augment.
    ``repeat=True`` with arrays: an endless epoch-indexed stream starting at ``start_epoch``
    (use ``steps_per_epoch`` batches per epoch).
    """
    if isinstance(x, tf.data.Dataset):
        return _from_elements(x, batch_size, shuffle, seed, augment, cache, repeat, drop_remainder)
    n = _length(x)
    if y is not None and len(y) != n:
        raise ValueError(f"x has {n} samples but y has {len(y)}")
    if sample_weight is not None and len(sample_weight) != n:
        raise ValueError(f"x has {n} samples but sample_weight has {len(sample_weight)}")
    if n == 0:
        raise ValueError("make_dataset got no samples")
    conv = (lambda a: None if a is None else tf.convert_to_tensor(np.asarray(a)))
    tx = {k: conv(v) for k, v in x.items()} if isinstance(x, dict) else conv(x)
    ty, tw = conv(y), conv(sample_weight)

    def element(i, aug_seed):
        xi = tf.nest.map_structure(lambda t: tf.gather(t, i), tx)
        xi = _apply_augment(augment, xi, aug_seed)
        return _pack(xi, None if ty is None else tf.gather(ty, i), None if tw is None else tf.gather(tw, i))

    if repeat:
        def one_epoch(epoch):
            idx = tf.data.Dataset.range(n)
            if shuffle:
                key = tf.stack([tf.constant(seed, tf.int64), epoch])
                idx = idx.map(lambda j: tf.random.experimental.index_shuffle(
                    j, key, tf.constant(n - 1, tf.int64)))
            idx = idx.map(lambda i: element(i, tf.stack([seed * 1_000_003 + epoch, i])),
                          num_parallel_calls=AUTOTUNE, deterministic=True)
            return idx.batch(batch_size, drop_remainder=drop_remainder)
        ds = tf.data.Dataset.range(start_epoch, 2**62).flat_map(one_epoch)
        return ds.prefetch(AUTOTUNE)

    idx = tf.data.Dataset.range(n)
    if shuffle:
        idx = idx.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip(idx, seeds).map(element, num_parallel_calls=AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def _from_elements(ds, batch_size, shuffle, seed, augment, cache, repeat, drop_remainder):
    """Element Dataset (e.g. decoded from files): cache before the random parts, then batch."""
    if cache:
        ds = ds.cache()
    if shuffle:
        size = int(ds.cardinality())
        ds = ds.shuffle(size if size > 0 else 10_000, seed=seed, reshuffle_each_iteration=True)
    if augment is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

        def aug(element, aug_seed):
            if isinstance(element, tuple):
                return (_apply_augment(augment, element[0], aug_seed),) + element[1:]
            return _apply_augment(augment, element, aug_seed)
        ds = tf.data.Dataset.zip(ds, seeds).map(aug, num_parallel_calls=AUTOTUNE, deterministic=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)
