"""In-graph augmentation with stateless random ops: ``op(image, seed) -> image`` on one float
image (h, w, c) in 0..255 with an int64 seed [2], or a batch with seeds [n, 2] (``batched = True``).
A sample's result depends only on its own seed, so a resumed run replays exactly."""
import math

import tensorflow as tf


class _Op:
    """``draw(seed, shape)`` per sample (never batch-size dependent), then ``apply`` on the whole batch."""
    batched = True

    def __init__(self, draw, apply, spec, key):
        self.__qualname__ = self.__name__ = key[0]
        self.draw, self.apply, self.spec = draw, apply, spec
        self.key = key   # (name, parameters): equal keys, equal computation (a reused trace)

    def __call__(self, image, seed):
        image, seed = tf.cast(image, tf.float32), tf.cast(seed, tf.int64)
        if image.shape.rank == 3:
            return self(image[None], seed[None])[0]
        shape = tf.shape(image)[1:]
        out = self.apply(image, tf.map_fn(lambda s: self.draw(s, shape), seed, fn_output_signature=self.spec))
        out.set_shape(image.shape)   # every op keeps it; the gathers lose it (Keras 3.8's Flatten needs it)
        return out

    def __repr__(self):
        return self.__name__


def _per_sample(values):
    return tf.reshape(values, [-1, 1, 1, 1])   # (n,) -> (n, 1, 1, 1): one value per image of a batch


def random_flip(horizontal: bool = True, vertical: bool = False):
    def draw(seed, shape):
        seeds = tf.random.experimental.stateless_split(seed, 2)
        # the draws of tf.image.stateless_random_flip_*: flip when uniform [0, 1) < 0.5
        return tf.stack([tf.random.stateless_uniform([], seeds[i], 0, 1.0) < 0.5 for i in (0, 1)])

    def apply(images, flips):
        # a per-sample index gather: one pass, where tf.where over a reversed copy takes three
        for on, axis in ((horizontal, 2), (vertical, 1)):
            if on:
                size = tf.shape(images)[axis]
                ahead = tf.range(size)[None]
                index = tf.where(flips[:, 2 - axis, None], size - 1 - ahead, ahead)
                images = tf.gather(images, index, axis=axis, batch_dims=1)
        return images
    return _Op(draw, apply, tf.TensorSpec([2], tf.bool), ("random_flip", horizontal, vertical))


def random_rot90():
    """Rotate by 0, 90, 180 or 270 degrees (square images only: the shape is kept)."""
    def draw(seed, shape):
        return tf.random.stateless_uniform([], seed, minval=0, maxval=4, dtype=tf.int32)

    def apply(images, k):
        if images.shape[1] is not None and images.shape[1] != images.shape[2]:
            raise ValueError(f"random_rot90 needs square images, got {images.shape[1:3]}")
        out, k = images, _per_sample(k)
        for turns in (1, 2, 3):
            out = tf.where(k == turns, tf.image.rot90(images, turns), out)
        return out
    return _Op(draw, apply, tf.TensorSpec([], tf.int32), ("random_rot90",))


def random_rotation(max_degrees: float = 15.0, fill_value: float = 0.0):
    """Rotate about the centre by an angle uniform in [-max_degrees, max_degrees] (bilinear)."""
    def draw(seed, shape):
        angle = tf.random.stateless_uniform([], seed, -max_degrees, max_degrees) * (math.pi / 180.0)
        h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
        cos, sin = tf.cos(angle), tf.sin(angle)
        # output pixel (x, y) samples input at R^-1 about the centre
        cx, cy = (w - 1) / 2, (h - 1) / 2
        return tf.stack([cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0])

    def apply(images, transforms):
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
            fill_value=fill_value, interpolation="BILINEAR", fill_mode="CONSTANT")
    return _Op(draw, apply, tf.TensorSpec([8], tf.float32),
               ("random_rotation", float(max_degrees), float(fill_value)))


def random_crop_resize(scale=(0.8, 1.0)):
    """Crop a random window (each side a fraction uniform in ``scale``), resize it back (bilinear)."""
    low, high = scale

    def draw(seed, shape):
        seeds = tf.random.experimental.stateless_split(seed, 2)
        frac = tf.random.stateless_uniform([], seeds[0], low, high)
        hw = tf.maximum(1, tf.cast(tf.cast(shape[:2], tf.float32) * frac, tf.int32))
        size = tf.concat([hw, shape[2:]], 0)
        # the offset draw of tf.image.stateless_random_crop
        offset = tf.random.stateless_uniform([3], seeds[1], 0, tf.int32.max,
                                             dtype=tf.int32) % (shape - size + 1)
        return tf.concat([offset[:2], size[:2]], 0)

    def apply(images, window):
        # tf.image.resize's half-pixel bilinear of each window, as per-sample gathers (the same
        # taps and lerp formula), clamped to the window's edges
        shape = tf.shape(images)

        def taps(axis):
            start, size = window[:, axis:axis + 1], window[:, axis + 2:axis + 3]
            scale = tf.cast(size, tf.float32) / tf.cast(shape[axis + 1], tf.float32)
            pos = (tf.cast(tf.range(shape[axis + 1]), tf.float32)[None] + 0.5) * scale - 0.5
            lower = tf.floor(pos)
            low_i = tf.maximum(tf.cast(lower, tf.int32), 0) + start
            high_i = tf.minimum(tf.cast(tf.math.ceil(pos), tf.int32), size - 1) + start
            return low_i, high_i, pos - lower

        (y0, y1, wy), (x0, x1, wx) = taps(0), taps(1)
        rows = [tf.gather(images, y, axis=1, batch_dims=1) for y in (y0, y1)]
        tl, tr, bl, br = [tf.gather(r, x, axis=2, batch_dims=1) for r in rows for x in (x0, x1)]
        wx, wy = wx[:, None, :, None], wy[:, :, None, None]
        top, bottom = tl + (tr - tl) * wx, bl + (br - bl) * wx
        return top + (bottom - top) * wy

    return _Op(draw, apply, tf.TensorSpec([4], tf.int32), ("random_crop_resize", float(low), float(high)))


def random_brightness(max_delta: float = 0.1):
    """Add a value uniform in ±max_delta of the 0..255 range, clipped to 0..255."""
    def draw(seed, shape):
        return tf.random.stateless_uniform([], seed, -max_delta * 255.0, max_delta * 255.0)

    def apply(images, delta):
        return tf.clip_by_value(images + _per_sample(delta), 0.0, 255.0)
    return _Op(draw, apply, tf.TensorSpec([], tf.float32), ("random_brightness", float(max_delta)))


def random_contrast(lower: float = 0.9, upper: float = 1.1):
    """Scale each channel's deviation from its mean by a factor uniform in [lower, upper]."""
    def draw(seed, shape):
        return tf.random.stateless_uniform([], seed, lower, upper)

    def apply(images, factor):
        mean = tf.reduce_mean(images, axis=[1, 2], keepdims=True)
        return tf.clip_by_value((images - mean) * _per_sample(factor) + mean, 0.0, 255.0)
    return _Op(draw, apply, tf.TensorSpec([], tf.float32), ("random_contrast", float(lower), float(upper)))


def compose(*ops):
    """``ops`` in order, each with its own seed split from the one given (batched if all are ours)."""
    count = max(1, len(ops))
    if all(isinstance(op, _Op) for op in ops):
        def draw(seed, shape):
            seeds = tf.random.experimental.stateless_split(seed, count)
            return tuple(op.draw(seeds[i], shape) for i, op in enumerate(ops)) or (tf.zeros([]),)

        def apply(images, params):
            for op, p in zip(ops, params):
                images = op.apply(images, p)
            return images
        spec = tuple(op.spec for op in ops) or (tf.TensorSpec([], tf.float32),)
        return _Op(draw, apply, spec, ("compose",) + tuple(op.key for op in ops))

    def op(image, seed):
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), count)
        image = tf.cast(image, tf.float32)
        for i, fn in enumerate(ops):
            image = fn(image, seeds[i])
        return image
    return op
