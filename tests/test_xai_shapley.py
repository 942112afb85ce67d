"""Shapley values against hand-computed games, KernelSHAP against exact enumeration."""
import numpy as np
import pytest

from mmfusion.xai import (
    exact_shapley,
    explain_tabular,
    global_importance,
    group_attributions,
    image_kernel_shap,
    kernel_shap,
    tabular_model_fn,
)

RNG = np.random.default_rng(0)


def test_exact_linear_game_by_hand():
    w = np.array([1.5, -2.0, 0.5, 3.0])
    X = RNG.normal(size=(3, 4))
    background = RNG.normal(size=(7, 4))
    phi, info = exact_shapley(lambda a: a @ w + 1.0, X, background, return_info=True)
    np.testing.assert_allclose(phi, w * (X - background.mean(0)), atol=1e-10)
    assert info["expected_value"] == pytest.approx(background.mean(0) @ w + 1.0)
    assert info["seconds_per_image"] > 0
    # Two outputs -> (N, M, C).
    W = np.stack([w, -w], axis=1)
    multi = exact_shapley(lambda a: a @ W, X, background)
    assert multi.shape == (3, 4, 2)
    np.testing.assert_allclose(multi[..., 1], -phi, atol=1e-10)


def test_exact_interaction_split_equally():
    # f = x0 * x1 with background 0: the interaction is shared equally (phi = x0 x1 / 2 each).
    x = np.array([[2.0, 3.0, 5.0]])
    phi = exact_shapley(lambda a: a[:, 0] * a[:, 1], x, np.zeros((1, 3)))
    np.testing.assert_allclose(phi, [[3.0, 3.0, 0.0]])


def nonlinear(a):
    return np.tanh(a[:, 0] * a[:, 1]) + a[:, 2] ** 2 - 0.5 * np.maximum(a[:, 3], 0) * a[:, 4]


def test_kernel_shap_equals_exact_and_is_efficient():
    X = RNG.normal(size=(3, 5))
    background = RNG.normal(size=(10, 5))
    exact = exact_shapley(nonlinear, X, background)
    approx, info = kernel_shap(nonlinear, X, background, return_info=True)
    # 2^5 coalitions fit in nsamples, so shap enumerates them: equal up to round-off.
    np.testing.assert_allclose(approx, exact, atol=1e-6)
    fx = nonlinear(X)
    ef = nonlinear(background).mean()
    np.testing.assert_allclose(approx.sum(1), fx - ef, atol=1e-6)
    assert info["expected_value"] == pytest.approx(ef)


def test_kernel_shap_sampled_is_close_on_ten_features():
    X = RNG.normal(size=(2, 10))
    background = RNG.normal(size=(5, 10))
    w = np.linspace(-1, 1, 10)

    def f(a):
        return a @ w + np.sin(a[:, 0] * a[:, 9])
    exact = exact_shapley(f, X, background)
    approx = kernel_shap(f, X, background, nsamples=600, seed=1)
    np.testing.assert_allclose(approx.sum(1), f(X) - f(background).mean(), atol=1e-6)
    assert np.abs(approx - exact).max() < 0.15


def test_groups_game_and_grouped_sums():
    groups = {"a": [0, 1], "b": [2], "c": [3, 4]}
    X = RNG.normal(size=(2, 5))
    background = RNG.normal(size=(6, 5))
    exact = exact_shapley(nonlinear, X, background, groups=groups)
    approx = kernel_shap(nonlinear, X, background, groups=groups)
    np.testing.assert_allclose(approx, exact, atol=1e-6)
    np.testing.assert_allclose(exact.sum(1), nonlinear(X) - nonlinear(background).mean(),
                               atol=1e-9)
    # A linear model's group game equals the sum of its per-column values.
    w = np.arange(1.0, 6.0)
    lin = exact_shapley(lambda a: a @ w, X, background, groups=groups)
    np.testing.assert_allclose(
        lin, group_attributions(exact_shapley(lambda a: a @ w, X, background), groups),
        atol=1e-10)
    np.testing.assert_allclose(global_importance([[1, -2], [-3, 4]]), [2, 3])
    with pytest.raises(ValueError, match="overlap"):
        group_attributions(np.zeros((1, 5)), [[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="capped at 3"):
        exact_shapley(nonlinear, X, background, max_players=3)


def test_tabular_input_of_a_two_input_keras_model():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    img = keras.Input((8, 8, 1), name="image")
    vec = keras.Input((4,), name="clinical")
    x = keras.layers.Concatenate()([keras.layers.GlobalAveragePooling2D()(img),
                                    keras.layers.Dense(6, activation="tanh")(vec)])
    model = keras.Model({"image": img, "clinical": vec},
                        keras.layers.Dense(2, activation="softmax")(x))
    inputs = {"image": RNG.uniform(size=(2, 8, 8, 1)).astype("float32"),
              "clinical": RNG.normal(size=(2, 4)).astype("float32")}
    background = RNG.normal(size=(5, 4)).astype("float32")
    phi = explain_tabular(model, inputs, "clinical", background)
    exact = explain_tabular(model, inputs, "clinical", background, method="exact")
    assert phi.shape == (2, 4, 2)
    np.testing.assert_allclose(phi, exact, atol=1e-5)
    fn = tabular_model_fn(model, {"image": inputs["image"][1:]}, "clinical")
    full = np.asarray(model(inputs, training=False))[1]
    np.testing.assert_allclose(phi[1].sum(0), full - fn(background).mean(0), atol=1e-5)


def test_image_kernel_shap_on_a_region_mean_model():
    # f(image) = mean intensity over region R (rows 0..3, all columns) of an 8x8 image.
    image = RNG.uniform(0.2, 1.0, size=(1, 8, 8, 1)).astype("float32")
    segments = np.zeros((1, 8, 8), int)
    segments[0, :, 4:] = 1
    segments[0, 4:, :] += 2  # four quadrants: 0 TL, 1 TR, 2 BL, 3 BR

    def f(batch):
        return batch[:, :4, :, 0].mean(axis=(1, 2))
    maps, phis = image_kernel_shap(f, image, targets=[0], segments=segments, fill=0.0)
    # The game is linear: a quadrant's value is its share of the region's sum; BL/BR give 0.
    want = [image[0, :4, :4].sum() / 32, image[0, :4, 4:].sum() / 32, 0, 0]
    np.testing.assert_allclose(phis[0], want, atol=1e-6)
    assert maps.shape == (1, 8, 8) and maps[0, 0, 0] == pytest.approx(want[0], abs=1e-6)
