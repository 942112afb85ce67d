"""tf.data pipeline element values and in-graph augmentation against numpy references."""
import numpy as np
import pytest
import tensorflow as tf

from mmfusion.data import augment as A
from mmfusion.data.pipeline import make_dataset, steps_per_epoch

RNG = np.random.default_rng(0)
X = RNG.integers(0, 256, (10, 6, 6, 3)).astype("uint8")
Y = np.arange(10)


def _take(ds, n):
    it = iter(ds)
    return [next(it) for _ in range(n)]


def test_plain_dataset_yields_inputs_in_order_with_weights_and_dicts():
    w = np.linspace(0.5, 1.5, 10).astype("float32")
    batches = list(make_dataset(X, Y, w, batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X)
    np.testing.assert_array_equal(np.concatenate([b[2] for b in batches]), w)
    clinical = RNG.normal(size=(10, 3)).astype("float32")
    batches = list(make_dataset({"image": X, "clinical": clinical}, Y, batch_size=3))
    np.testing.assert_array_equal(np.concatenate([b[0]["clinical"] for b in batches]), clinical)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), Y)
    assert steps_per_epoch(10, 4) == 3 and steps_per_epoch(10, 4, drop_remainder=True) == 2


def test_epoch_indexed_stream_permutes_each_epoch_and_resumes_exactly():
    aug = A.compose(A.random_flip(), A.random_brightness(0.2))
    ds = make_dataset(X, Y, batch_size=5, shuffle=True, seed=3, augment=aug, repeat=True)
    batches = _take(ds, 6)                      # 3 epochs of 2 batches
    epochs = [np.concatenate([b[1] for b in batches[i:i + 2]]) for i in (0, 2, 4)]
    for order in epochs:
        assert sorted(order) == list(range(10))
    assert not np.array_equal(epochs[0], epochs[1])
    resumed = _take(make_dataset(X, Y, batch_size=5, shuffle=True, seed=3, augment=aug, repeat=True,
                                 start_epoch=1), 2)
    for a, b in zip(resumed, batches[2:4]):
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[0], b[0])


def test_augment_touches_only_the_image_of_dict_inputs():
    clinical = np.arange(10, dtype="float32")[:, None]
    ds = make_dataset({"image": X, "clinical": clinical}, Y, batch_size=10,
                      augment=lambda img, seed: 255.0 - tf.cast(img, tf.float32))
    (x, y), = list(ds)
    np.testing.assert_array_equal(x["image"], 255.0 - X)
    np.testing.assert_array_equal(x["clinical"], clinical)
    with pytest.raises(ValueError, match="'image' key"):
        make_dataset({"img": X}, Y, augment=A.random_flip())


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="10 samples but y has 9"):
        make_dataset(X, Y[:9])


def _seed(i):
    return tf.constant([7, i], tf.int64)


def test_flip_and_rot90_give_one_of_the_numpy_results():
    img = X[0].astype("float32")
    seen_flip, seen_rot = set(), set()
    for i in range(12):
        out = A.random_flip(horizontal=True, vertical=True)(img, _seed(i)).numpy()
        options = {"id": img, "h": img[:, ::-1], "v": img[::-1], "hv": img[::-1, ::-1]}
        seen_flip.add(next(k for k, v in options.items() if np.array_equal(out, v)))
        out = A.random_rot90()(img, _seed(i)).numpy()
        seen_rot.add(next(k for k in range(4) if np.array_equal(out, np.rot90(img, k))))
    assert len(seen_flip) >= 3 and len(seen_rot) >= 3
    np.testing.assert_array_equal(A.random_flip()(img, _seed(1)), A.random_flip()(img, _seed(1)))


def test_brightness_and_contrast_follow_their_formulas():
    img = np.full((4, 4, 3), 100.0, "float32")
    img[0, 0] = 50.0
    out = A.random_brightness(0.1)(img, _seed(0)).numpy()
    delta = out - img
    assert np.allclose(delta, delta.flat[0]) and abs(delta.flat[0]) <= 25.5 + 1e-4
    out = A.random_contrast(0.5, 1.5)(img, _seed(1)).numpy()
    mean = img.mean(axis=(0, 1))
    factor = (out[0, 0, 0] - mean[0]) / (img[0, 0, 0] - mean[0])
    assert 0.5 <= factor <= 1.5
    np.testing.assert_allclose(out, (img - mean) * factor + mean, rtol=1e-5)
    bright = A.random_brightness(1.0)(np.full((2, 2, 1), 250.0, "float32"), _seed(2)).numpy()
    assert bright.min() >= 0 and bright.max() <= 255


def test_rotation_and_crop_identities_and_rotation_invariance():
    img = X[1].astype("float32")
    np.testing.assert_allclose(A.random_rotation(0.0)(img, _seed(0)), img, atol=1e-4)
    np.testing.assert_allclose(A.random_crop_resize((1.0, 1.0))(img, _seed(0)), img, atol=1e-4)
    # geometry against scipy: same angle (re-drawn from the same stateless seed), bilinear
    from scipy import ndimage

    square = np.zeros((33, 33, 1), "float32")
    square[8:25, 12:21] = 255
    angle = float(tf.random.stateless_uniform([], _seed(5), -30.0, 30.0))
    ours = A.random_rotation(30.0)(square, _seed(5)).numpy()[..., 0]
    best = min(np.abs(ours - ndimage.rotate(square[..., 0], sign * angle, reshape=False, order=1)).mean()
               for sign in (1, -1))
    assert abs(angle) > 5 and best < 1.0
    assert np.abs(ours - square[..., 0]).mean() > 10.0
    crop = A.random_crop_resize((0.5, 0.5))(img, _seed(3)).numpy()
    assert crop.shape == img.shape


ALL_OPS = [A.random_flip(horizontal=True, vertical=True), A.random_rot90(), A.random_rotation(20.0),
           A.random_crop_resize((0.6, 1.0)), A.random_brightness(0.2), A.random_contrast(0.5, 1.5)]


@pytest.mark.parametrize("op", ALL_OPS + [A.compose(*ALL_OPS)], ids=lambda op: op.__name__)
def test_batched_ops_equal_per_image_ops_for_the_same_seeds(op):
    images = RNG.integers(0, 256, (7, 9, 9, 3)).astype("float32")
    seeds = tf.constant([[5, i * 3] for i in range(7)], tf.int64)
    assert op.batched
    batch = op(images, seeds).numpy()
    for i in range(7):
        np.testing.assert_array_equal(batch[i], op(images[i], seeds[i]).numpy())
    np.testing.assert_array_equal(op(images[:3], seeds[:3]), batch[:3])   # batch size is irrelevant


def test_stream_augments_batches_like_the_per_image_op_and_per_image_functions_still_work():
    aug = A.compose(A.random_flip(), A.random_rotation(15.0), A.random_brightness(0.1))
    per_image = lambda img, seed: aug(img, seed)     # noqa: E731  (no `batched`: per-element path)
    kw = dict(batch_size=4, shuffle=True, seed=2, repeat=True, start_epoch=1)
    fast, slow = _take(make_dataset(X, Y, augment=aug, **kw),
                       3), _take(make_dataset(X, Y, augment=per_image, **kw), 3)
    for f, s in zip(fast, slow):                     # 3 batches of 4, 4, 2: all of epoch 1
        np.testing.assert_array_equal(f[0], s[0])
        np.testing.assert_array_equal(f[1], s[1])
        for img, i in zip(f[0].numpy(), f[1].numpy()):
            np.testing.assert_array_equal(img, aug(X[i], tf.constant([2 * 1_000_003 + 1, i], tf.int64)))
    elements = tf.data.Dataset.from_tensor_slices((X.astype("float32"), Y))
    (a, ya), = list(make_dataset(elements, batch_size=10, seed=4, augment=aug))
    (b, yb), = list(make_dataset(elements, batch_size=10, seed=4, augment=per_image))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, Y)
    assert not np.array_equal(a, X)


def test_crop_resize_equals_tf_crop_then_resize():
    img = RNG.integers(0, 256, (13, 11, 3)).astype("float32")
    for i in range(6):
        seeds = tf.random.experimental.stateless_split(_seed(i), 2)
        frac = tf.random.stateless_uniform([], seeds[0], 0.5, 1.0)
        size = [max(1, int(13 * float(frac))), max(1, int(11 * float(frac))), 3]
        ref = tf.image.resize(tf.image.stateless_random_crop(img, size, seeds[1]), (13, 11))
        np.testing.assert_allclose(A.random_crop_resize((0.5, 1.0))(img, _seed(i)), ref, atol=1e-3)


def test_whole_number_float_images_are_held_as_uint8_but_come_out_unchanged():
    from mmfusion.data.pipeline import _as_tensor

    floats = X.astype("float32")
    held, back = _as_tensor(floats)
    assert held.dtype == tf.uint8 and back == tf.float32
    (x, y), = list(make_dataset(floats, Y, batch_size=10))
    assert x.dtype == tf.float32
    np.testing.assert_array_equal(x, floats)
    fractional = floats / 255.0                      # not whole numbers: kept as they are
    assert _as_tensor(fractional)[0].dtype == tf.float32 and _as_tensor(fractional)[1] is None
    (x, _), = list(make_dataset(fractional, Y, batch_size=10))
    np.testing.assert_array_equal(x, fractional)


def test_augmentation_keys_tell_computations_apart():
    assert A.random_rotation(15).key == A.random_rotation(15.0).key != A.random_rotation(10).key
    flip_then_rotate = A.compose(A.random_flip(), A.random_rotation(15)).key
    assert flip_then_rotate == A.compose(A.random_flip(), A.random_rotation(15.0)).key
    assert flip_then_rotate != A.compose(A.random_rotation(15), A.random_flip()).key
    assert A.random_flip().key != A.random_flip(vertical=True).key
