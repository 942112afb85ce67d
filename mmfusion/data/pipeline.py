"""The one tf.data pipeline: arrays or dicts of arrays (or an element Dataset) -> batched Dataset.

Training streams (``repeat=True``) of in-memory arrays are *epoch-indexed*: epoch e's order is a
stateless permutation of (seed, e) and each sample's augmentation seed is (seed, e, index). A run
resumed at epoch e therefore sees exactly the batches an uninterrupted run would have seen.

Every path gathers and augments whole batches (one map call per batch, run in parallel and
prefetched): per-element maps cost more in call overhead than the augmentation itself.
Images that hold whole numbers in 0..255 are kept as uint8 in memory and cast per batch.
``augment=in_step(op)`` moves the augmentation (and the cast) into the train step: the feed then
yields each batch as ``((x, seeds), y[, w])`` with the images as held, and the step computes
``augment_batch(op, x, seeds)`` — the values the feed would have made.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


class InStep:
    """``make_dataset(..., augment=in_step(op))``: the feed draws no augmentation; each batch
    carries its per-sample seeds, ``((x, seeds), y[, w])``, for the train step to augment
    (``training.loop.augment_in_step``). Only mmfusion.data.augment's batched ops: their values
    do not depend on the input dtype (they cast to float32 first), so uint8 can travel as is."""

    def __init__(self, augment):
        if not steppable(augment):
            raise ValueError(f"augmenting in the train step needs an op from mmfusion.data.augment, "
                             f"got {augment!r} (per-image functions run in the feed)")
        self.augment = augment

    def __repr__(self):
        return f"in_step({self.augment!r})"


def steppable(augment) -> bool:
    """Can ``augment`` run in the train step: a batched op of mmfusion.data.augment, with its key."""
    return getattr(augment, "batched", False) and isinstance(getattr(augment, "key", None), tuple)


def in_step(augment) -> InStep:
    return InStep(augment)


def augment_batch(augment, x, seeds, draw_device=None):
    """The feed's augmentation of one batch ``x`` (array, or dict: only ``x["image"]``) with its
    per-sample ``seeds``, as a train step computes it (``draw_device``: see augment._Op)."""
    if isinstance(x, dict):
        return {**x, "image": augment_batch(augment, x["image"], seeds, draw_device)}
    return augment(x, seeds, draw_device=draw_device)


def _apply_augment(augment, x, seeds):
    """``augment`` on a batch with per-sample ``seeds`` (n, 2); per-image functions via map_fn."""
    if augment is None:
        return x
    if isinstance(x, dict) and "image" not in x:
        raise ValueError(f"augment needs an 'image' key in dict inputs, got keys {sorted(x)}")
    if isinstance(augment, InStep):   # the step augments: the images travel as held, with seeds
        return x, seeds
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


def make_dataset(x, y=None, sample_weight=None, batch_size: int = 32, shuffle: bool = False,
                 seed: int = 0, augment=None, cache: bool = True, repeat: bool = False,
                 drop_remainder: bool = False, start_epoch: int = 0):
    """Batched, prefetched Dataset of ``x`` / ``(x, y)`` / ``(x, y, sample_weight)``.

    ``x``: array, dict of arrays (multi-input models; ``augment`` touches ``x["image"]`` only) or a
    Dataset of elements. ``augment(image, seed)`` comes from mmfusion.data.augment (a plain
    per-image function works too, mapped over the batch); ``in_step(op)`` leaves it to the train
    step (batches ``((x, seeds), y[, w])``, images uncast).
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
    tx = {k: _as_tensor(v) for k, v in x.items()} if isinstance(x, dict) else _as_tensor(x)
    (ty, _), (tw, _) = _as_tensor(y), _as_tensor(sample_weight)

    step = isinstance(augment, InStep)

    def take(pair, i, held=False):
        t, dtype = pair
        out = tf.gather(t, i)
        return out if dtype is None or held else tf.cast(out, dtype)

    def batch(i, seeds=None):   # in_step: the images stay as held (uint8), the step casts them
        xi = ({k: take(v, i, step and k == "image") for k, v in tx.items()} if isinstance(tx, dict)
              else take(tx, i, step))
        xi = _apply_augment(augment, xi, seeds)
        return _pack(xi, None if ty is None else tf.gather(ty, i), None if tw is None else tf.gather(tw, i))

    if repeat:
        steps = steps_per_epoch(n, batch_size, drop_remainder)
        if steps == 0:
            raise ValueError(f"{n} samples make no full batch of {batch_size} (drop_remainder)")

        def indices(g):
            epoch, k = g // steps, g % steps
            pos = tf.range(k * batch_size, tf.minimum((k + 1) * batch_size, n))
            if shuffle:
                key = tf.stack([tf.constant(seed, tf.int64), epoch])
                pos = tf.random.experimental.index_shuffle(pos, key, tf.constant(n - 1, tf.int64))
            seeds = tf.stack([tf.fill(tf.shape(pos), seed * 1_000_003 + epoch), pos], axis=1)
            return pos, seeds
        # one flat stream of batch numbers (no per-epoch flat_map: its map restarts every epoch)
        ds = tf.data.Dataset.range(start_epoch * steps, 2**62).map(indices)
    else:
        idx = tf.data.Dataset.range(n)
        if shuffle:
            idx = idx.shuffle(n, seed=seed, reshuffle_each_iteration=True)
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
        x = _apply_augment(augment, x if isinstance(augment, InStep) else _float_images(x), seeds)
        return x if rest is None else (x,) + rest
    if augment is None:   # map unpacks tuple elements into arguments: pack them back
        fn = lambda *e: finish(e if len(e) > 1 else e[0])   # noqa: E731
    else:
        fn = finish
    return ds.map(fn, num_parallel_calls=AUTOTUNE, deterministic=True).prefetch(AUTOTUNE)
