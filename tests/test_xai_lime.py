"""LIME helpers: the explained feature / region is the one the model truly uses."""
import numpy as np

from mmfusion.xai import lime_image, lime_tabular
from mmfusion.xai.lime_helpers import quickshift_segments

RNG = np.random.default_rng(0)


def test_lime_tabular_ranks_true_weights_and_groups_one_hot():
    # Columns: 0, 1 continuous; 2..4 one-hot "shape" group. Only x0 and the shape matter.
    n = 200
    cont = RNG.normal(size=(n, 2))
    shape = np.eye(3)[RNG.integers(0, 3, n)]
    train = np.concatenate([cont, shape], axis=1)

    def model(a):
        z = 2.5 * a[:, 0] + 2.0 * a[:, 3] - 0.0 * a[:, 1]
        return 1 / (1 + np.exp(-z))
    calls = []

    def counted(a):
        calls.append(len(a))
        return model(a)
    weights, names, info = lime_tabular(
        counted, train[:3], train, feature_names=["age", "noise", "oval", "round", "lobular"],
        groups={"shape": [2, 3, 4]}, targets=[1, 1, 1], num_samples=500, return_info=True)
    assert names == ["age", "noise", "shape"]
    assert weights.shape == (3, 3)
    # The irrelevant feature gets the smallest |weight| in every row.
    assert (np.abs(weights[:, 1]) < np.abs(weights[:, 0])).all()
    assert (np.abs(weights[:, 1]) < np.abs(weights[:, 2])).all()
    assert max(calls) == 500  # one batched model call per explanation
    assert info["seconds_per_image"] > 0


def blocks_image():
    image = np.full((32, 32, 3), 0.1, np.float32)
    image[:16, :16] = [0.9, 0.2, 0.2]
    image[16:, 16:] = [0.2, 0.2, 0.9]
    image[:16, 16:] = [0.2, 0.9, 0.2]
    return image


def test_lime_image_finds_the_region_the_model_reads():
    image = blocks_image()
    segments = quickshift_segments(image)
    assert segments.shape == (32, 32) and segments.max() >= 1

    def model(batch):  # probability rises with the red block's brightness (top-left)
        p = np.clip(batch[:, :16, :16, 0].mean(axis=(1, 2)), 0, 1)
        return np.stack([1 - p, p], axis=1)
    calls = []

    def counted(b):
        calls.append(len(b))
        return model(b)
    maps = lime_image(counted, image[None], targets=[1], num_samples=200, hide_color=0)
    assert maps.shape == (1, 32, 32)
    inside = maps[0, :16, :16].mean()
    outside = maps[0, 16:, 16:].mean()
    assert inside > 0 and inside > abs(outside) * 5
    # LIME's 200 samples (the first is the unperturbed image) in calls of 64 (its own default: 10)
    assert calls == [64, 64, 64, 8]


def test_lime_image_one_channel_model():
    gray = blocks_image()[..., :1]

    def model(batch):
        assert batch.shape[-1] == 1
        p = batch[:, :16, :16, 0].mean(axis=(1, 2))
        return np.stack([1 - p, p], axis=1)
    maps = lime_image(model, gray[None], num_samples=50, hide_color=0)
    assert maps.shape == (1, 32, 32) and np.isfinite(maps).all()
