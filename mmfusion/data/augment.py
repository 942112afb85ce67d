"""In-graph image augmentation with stateless random ops.

Every op is ``op(image, seed) -> image`` where ``image`` is float (h, w, c) in 0..255 and ``seed``
an int64 tensor of shape [2]. The same seed gives the same result, so a pipeline that derives seeds
from (run seed, epoch, sample index) replays exactly after a resume.
"""
from __future__ import annotations

import math

import tensorflow as tf


def _float(image):
    return tf.cast(image, tf.float32)


def random_flip(horizontal: bool = True, vertical: bool = False):
    def op(image, seed):
        image = _float(image)
        seeds = tf.random.experimental.stateless_split(seed, 2)
        if horizontal:
            image = tf.image.stateless_random_flip_left_right(image, seeds[0])
        if vertical:
            image = tf.image.stateless_random_flip_up_down(image, seeds[1])
        return image
    return op


def random_rot90():
    """Rotate by 0, 90, 180 or 270 degrees (square images keep their shape)."""
    def op(image, seed):
        k = tf.random.stateless_uniform([], seed, minval=0, maxval=4, dtype=tf.int32)
        return tf.image.rot90(_float(image), k)
    return op


def random_rotation(max_degrees: float = 15.0, fill_value: float = 0.0):
    """Rotate about the centre by an angle uniform in [-max_degrees, max_degrees] (bilinear)."""
    def op(image, seed):
        image = _float(image)
        angle = tf.random.stateless_uniform([], seed, -max_degrees, max_degrees) * (math.pi / 180.0)
        h = tf.cast(tf.shape(image)[0], tf.float32)
        w = tf.cast(tf.shape(image)[1], tf.float32)
        cos, sin = tf.cos(angle), tf.sin(angle)
        # output pixel (x, y) samples input at R^-1 about the centre
        cx, cy = (w - 1) / 2, (h - 1) / 2
        transform = tf.stack([cos, -sin, cx - cos * cx + sin * cy,
                              sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0])
        out = tf.raw_ops.ImageProjectiveTransformV3(
            images=image[None], transforms=transform[None], output_shape=tf.shape(image)[:2],
            fill_value=fill_value, interpolation="BILINEAR", fill_mode="CONSTANT")
        return out[0]
    return op


def random_crop_resize(scale=(0.8, 1.0)):
    """Crop a random square-scaled window (side fraction uniform in ``scale``), resize back."""
    low, high = scale

    def op(image, seed):
        image = _float(image)
        seeds = tf.random.experimental.stateless_split(seed, 2)
        shape = tf.shape(image)
        frac = tf.random.stateless_uniform([], seeds[0], low, high)
        size = tf.stack([tf.maximum(1, tf.cast(tf.cast(shape[0], tf.float32) * frac, tf.int32)),
                         tf.maximum(1, tf.cast(tf.cast(shape[1], tf.float32) * frac, tf.int32)),
                         shape[2]])
        crop = tf.image.stateless_random_crop(image, size, seeds[1])
        return tf.image.resize(crop, shape[:2])
    return op


def random_brightness(max_delta: float = 0.1):
    """Add a value uniform in ±max_delta of the 0..255 range, clipped to 0..255."""
    def op(image, seed):
        out = tf.image.stateless_random_brightness(_float(image), max_delta * 255.0, seed)
        return tf.clip_by_value(out, 0.0, 255.0)
    return op


def random_contrast(lower: float = 0.9, upper: float = 1.1):
    """Scale each channel's deviation from its mean by a factor uniform in [lower, upper]."""
    def op(image, seed):
        out = tf.image.stateless_random_contrast(_float(image), lower, upper, seed)
        return tf.clip_by_value(out, 0.0, 255.0)
    return op


def compose(*ops):
    """Apply ``ops`` in order, each with its own seed split from the one given."""
    def op(image, seed):
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), max(1, len(ops)))
        image = _float(image)
        for i, fn in enumerate(ops):
            image = fn(image, seeds[i])
        return image
    return op
