"""The authors' CNN: parameter count pinned at 224 px, layer sizes by hand, .keras round trip."""
import numpy as np
from helpers import assert_keras_roundtrip

from mmfusion.papers.mias_xai.model import LAST_CONV, PAPER_PARAMS, build_mias_cnn


def test_parameter_count_is_pinned_at_224():
    model = build_mias_cnn(224)
    assert model.count_params() == PAPER_PARAMS == 1_386_177
    # by hand: 220->110, 106->53, 53 (same)->26->13; Flatten 13*13*14 = 2366
    assert model.get_layer("flatten").output.shape[-1] == 2366
    convs = [(5 * 5 * 3 + 1) * 16, (5 * 5 * 16 + 1) * 16, (3 * 3 * 16 + 1) * 14]
    dense = [(2366 + 1) * 512, (512 + 1) * 256, (256 + 1) * 128, (128 + 1) * 3]
    assert sum(convs) + sum(dense) == model.count_params()
    assert model.get_layer(LAST_CONV).output.shape[1:] == (53, 53, 14)


def test_he_uniform_limits_and_seeded_init():
    a, b = build_mias_cnn(64, seed=5), build_mias_cnn(64, seed=5)
    kernel = a.get_layer("dense1").kernel.numpy()
    limit = np.sqrt(6.0 / kernel.shape[0])                       # He-uniform: sqrt(6 / fan_in)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_small_input_and_roundtrip(tmp_path):
    model = build_mias_cnn(64, seed=0)
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    probs = np.asarray(model(x, training=False))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert_keras_roundtrip(model, x, tmp_path)
