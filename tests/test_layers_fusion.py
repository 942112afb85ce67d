"""Fusion / attention / token layers: NumPy references of their equations and .keras round trips."""
import numpy as np
import pytest
from helpers import assert_keras_roundtrip

keras = pytest.importorskip("keras")

from mmfusion.layers.attention import CoAttention, CrossAttention  # noqa: E402
from mmfusion.layers.fusion import GMU, MFB, TFN, CoAttentionGate, CrossModalGate, GatedHead, ModalityDropout  # noqa: E402
from mmfusion.layers.tokens import ClinicalTokens, ImageTokens  # noqa: E402

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype("float32")


def dense(layer, x):
    k, b = (w.numpy() for w in layer.weights[:2]) if layer.use_bias else (layer.weights[0].numpy(), 0)
    return x @ k + b


def softmax(x):
    z = np.exp(x - x.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def layer_norm(x, eps=1e-6):   # gamma = 1, beta = 0 at initialisation
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


E, C = rand(3, 4, 8), rand(3, 5, 8)


def test_cross_attention_matches_numpy_both_directions():
    for direction, (q, kv) in {"image<-clinical": (E, C), "clinical<-image": (C, E)}.items():
        layer = CrossAttention(8, direction=direction)
        out = np.asarray(layer([E, C]))
        w = softmax(dense(layer.query, q) @ dense(layer.key, kv).transpose(0, 2, 1) / np.sqrt(8))
        ref = layer_norm(q + dense(layer.output_dense, w @ dense(layer.value, kv)))
        np.testing.assert_allclose(out, ref, atol=1e-4)
        assert out.shape == q.shape


def test_co_attention_matches_numpy_eqs_5_to_9_with_two_affinity_matrices():
    layer = CoAttention(8)                                   # the paper's default: affinity="separate"
    e_out, c_out = (np.asarray(t) for t in layer([E, C]))
    s_ec = dense(layer.image_query, E) @ dense(layer.clinical_key, C).transpose(0, 2,
                                                                                1) / np.sqrt(8)   # eq. 5
    s_ce = dense(layer.clinical_query, C) @ dense(layer.image_key, E).transpose(0, 2,
                                                                                1) / np.sqrt(8)   # eq. 6
    e_ref = layer_norm(E + dense(layer.image_output, softmax(s_ec) @ dense(layer.clinical_value, C)))  # 7, 9
    c_ref = layer_norm(C + dense(layer.clinical_output, softmax(s_ce) @ dense(layer.image_value, E)))  # 8, 9
    np.testing.assert_allclose(e_out, e_ref, atol=1e-4)
    np.testing.assert_allclose(c_out, c_ref, atol=1e-4)
    assert s_ce.shape == (3, 5, 4) and len(layer.weights) == 8 * 2 + 2 * 2   # 8 projections, 2 LayerNorms
    # the clinical side no longer follows S_ec^T: a different matrix gives different C'
    shared = layer_norm(C + dense(layer.clinical_output,
                                  softmax(s_ec.transpose(0, 2, 1)) @ dense(layer.image_value, E)))
    assert not np.allclose(c_out, shared, atol=1e-3)
    with pytest.raises(ValueError, match="affinity"):
        CoAttention(8, affinity="both")


def test_cross_attention_uniform_takes_the_mean_value_token():
    layer = CrossAttention(8, uniform=True)
    out = np.asarray(layer([E, C]))
    ref = layer_norm(E
                     + dense(layer.output_dense,
                             np.repeat(dense(layer.value, C).mean(1, keepdims=True), 4, 1)))
    np.testing.assert_allclose(out, ref, atol=1e-4)
    assert layer.query is None and len(layer.weights) == 2 * 2 + 2


def test_feature_mask_zeroes_the_masked_columns():
    from mmfusion.layers.fusion import FeatureMask

    x = rand(3, 5)
    np.testing.assert_allclose(np.asarray(FeatureMask([1, 0, 1, 0, 0])(x)), x * [1, 0, 1, 0, 0], atol=1e-7)


def test_co_attention_shares_one_affinity_matrix():
    layer = CoAttention(8, affinity="shared")
    e_out, c_out = (np.asarray(t) for t in layer([E, C]))
    s = dense(layer.image_query, E) @ dense(layer.clinical_key, C).transpose(0, 2, 1) / np.sqrt(8)
    e_ref = layer_norm(E + dense(layer.image_output, softmax(s) @ dense(layer.clinical_value, C)))
    c_ref = layer_norm(C + dense(layer.clinical_output,
                                 softmax(s.transpose(0, 2, 1)) @ dense(layer.image_value, E)))
    np.testing.assert_allclose(e_out, e_ref, atol=1e-4)
    np.testing.assert_allclose(c_out, c_ref, atol=1e-4)


def test_attention_rejects_tokens_of_wrong_width():
    with pytest.raises(ValueError, match="clinical_tokens must have shape"):
        CoAttention(8)([E, rand(3, 5, 7)])
    with pytest.raises(ValueError, match="direction"):
        CrossAttention(8, direction="both")


def test_tokens_match_numpy():
    fmap = rand(2, 3, 3, 6)
    layer = ImageTokens(4)
    out = np.asarray(layer(fmap))
    np.testing.assert_allclose(out, dense(layer.projection, fmap.reshape(2, 9, 6)), atol=1e-5)
    pooled = np.asarray(layer(fmap.mean((1, 2))))
    assert pooled.shape == (2, 1, 4)
    x = (RNG.random((2, 10)) > 0.5).astype("float32")
    groups = [[0, 4], [4, 10]]
    tok = ClinicalTokens(4, groups=groups)
    out = np.asarray(tok(x))
    for g, (a, b) in enumerate(groups):
        np.testing.assert_allclose(out[:, g], dense(tok.projections[g], x[:, a:b]), atol=1e-5)
    assert np.asarray(ClinicalTokens(4)(x)).shape == (2, 1, 4)
    with pytest.raises(ValueError, match="outside the 10 features"):
        ClinicalTokens(4, groups=[[0, 11]])(x)


e2, c2 = rand(4, 6), rand(4, 5)


def test_gates_match_numpy():
    co = CoAttentionGate()
    ge, gc = (np.asarray(t) for t in co([e2, c2]))
    joint = np.concatenate([e2, c2], -1)
    np.testing.assert_allclose(ge, e2 * sigmoid(dense(co.image_gate, joint)), atol=1e-5)
    np.testing.assert_allclose(gc, c2 * sigmoid(dense(co.clinical_gate, joint)), atol=1e-5)
    cross = CrossModalGate()
    ge, gc = (np.asarray(t) for t in cross([e2, c2]))
    np.testing.assert_allclose(ge, e2 * sigmoid(dense(cross.image_gate, c2)), atol=1e-5)
    np.testing.assert_allclose(gc, c2 * sigmoid(dense(cross.clinical_gate, e2)), atol=1e-5)


def test_gated_head_gmu_mfb_tfn_match_numpy():
    z = rand(4, 11)
    head = GatedHead(3, hidden=7)
    out = np.asarray(head(z, training=False))
    h = np.maximum(dense(head.fc1, z), 0) * sigmoid(dense(head.gate1, z))
    ref = dense(head.fc2, h) * sigmoid(dense(head.gate2, h))
    np.testing.assert_allclose(out, ref, atol=1e-5)
    assert len(head.losses) == 4        # L2 on every dense kernel

    gmu = GMU(3)
    out = np.asarray(gmu([e2, c2]))
    zg = sigmoid(np.concatenate([e2, c2], -1) @ gmu.gate.weights[0].numpy())
    ref = zg * np.tanh(e2 @ gmu.image_proj.weights[0].numpy()) + \
        (1 - zg) * np.tanh(c2 @ gmu.clinical_proj.weights[0].numpy())
    np.testing.assert_allclose(out, ref, atol=1e-5)

    mfb = MFB(3, factor=2)
    out = np.asarray(mfb([e2, c2], training=False))
    joint = (dense(mfb.image_proj, e2) * dense(mfb.clinical_proj, c2)).reshape(4, 3, 2).sum(-1)
    joint = np.sign(joint) * np.sqrt(np.abs(joint))
    np.testing.assert_allclose(out, joint / np.linalg.norm(joint, axis=-1, keepdims=True), atol=1e-4)

    tfn = np.asarray(TFN()([e2, c2]))
    ref = np.einsum("bi,bj->bij", np.c_[e2, np.ones(4)], np.c_[c2, np.ones(4)]).reshape(4, -1)
    np.testing.assert_allclose(tfn, ref, atol=1e-5)
    assert tfn.shape == (4, 7 * 6)


def test_modality_dropout_rate_and_identity():
    e, c = np.ones((4000, 3), "float32"), np.ones((4000, 2), "float32")
    layer = ModalityDropout(0.3, seed=1)
    te, tc = (np.asarray(t) for t in layer([e, c], training=True))
    no_image, no_clinical = te.sum(1) == 0, tc.sum(1) == 0
    assert not np.any(no_image & no_clinical)
    assert (no_image | no_clinical).mean() == pytest.approx(0.3, abs=0.03)
    assert no_image.mean() == pytest.approx(0.15, abs=0.025)
    assert set(np.unique(te)) <= {0.0, 1.0}          # no rescaling of kept samples
    ie, ic = layer([e, c], training=False)
    np.testing.assert_array_equal(np.asarray(ie), e)
    np.testing.assert_array_equal(np.asarray(ic), c)
    with pytest.raises(ValueError, match="rate"):
        ModalityDropout(1.5)
    # token sequences (B, n, d): a sample's tokens are dropped together
    te, tc = (np.asarray(t) for t in layer([np.ones((500, 4, 3), "float32"),
                                             np.ones((500, 5, 3), "float32")], training=True))
    assert set(np.unique(te.reshape(500, -1).mean(1))) <= {0.0, 1.0}
    assert 0 < (tc.reshape(500, -1).sum(1) == 0).mean() < 0.3


@pytest.mark.parametrize("make, inputs", [
    (lambda: CoAttention(8), [E, C]),
    (lambda: CoAttention(8, affinity="shared"), [E, C]),
    (lambda: CrossAttention(8, uniform=True), [E, C]),
    (lambda: CrossAttention(8, direction="clinical<-image"), [E, C]),
    (lambda: ImageTokens(8), rand(2, 3, 3, 6)),
    (lambda: ClinicalTokens(8, groups=[[0, 2], [2, 5]]), rand(2, 5)),
    (lambda: CoAttentionGate(), [e2, c2]),
    (lambda: CrossModalGate(), [e2, c2]),
    (lambda: GatedHead(2, hidden=6), rand(4, 11)),
    (lambda: GMU(3), [e2, c2]),
    (lambda: MFB(3, factor=2), [e2, c2]),
    (lambda: TFN(), [e2, c2]),
    (lambda: ModalityDropout(0.3, seed=2), [e2, c2]),
])
def test_keras_roundtrip(make, inputs, tmp_path):
    loaded = assert_keras_roundtrip(make(), inputs, tmp_path)
    assert loaded is not None
