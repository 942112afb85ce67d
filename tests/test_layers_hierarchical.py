"""HMC-Net attention layers: numeric checks against a hand-written NumPy reference, and .keras round-trips."""
import numpy as np
import pytest
from helpers import assert_keras_roundtrip

keras = pytest.importorskip("keras")
from mmfusion.layers.hierarchical import (  # noqa: E402
    HierarchicalSelfAttention,
    MultiScaleCrossAttention,
    SpatialSelfAttention,
)


# ---- NumPy reference of the maths (independent of Keras) ----
def np_dense(x, kernel, bias):
    return x @ kernel + bias


def np_layernorm(x, gamma, beta, eps=1e-6):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def np_softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_avgpool(x, p):
    b, h, w, c = x.shape
    ho, wo = h // p, w // p
    return x[:, :ho * p, :wo * p].reshape(b, ho, p, wo, p, c).mean(axis=(2, 4))


def np_mha(q_in, kv_in, mha):
    """softmax(Q K^T / sqrt(d_k)) V per head, then the output projection."""
    w = lambda v: np.asarray(v)  # noqa: E731
    q = np.einsum("bnd,dhk->bnhk", q_in, w(mha.query_dense.kernel)) + w(mha.query_dense.bias)
    k = np.einsum("bnd,dhk->bnhk", kv_in, w(mha.key_dense.kernel)) + w(mha.key_dense.bias)
    v = np.einsum("bnd,dhk->bnhk", kv_in, w(mha.value_dense.kernel)) + w(mha.value_dense.bias)
    scores = np.einsum("bqhk,bthk->bhqt", q, k) / np.sqrt(q.shape[-1])
    attn = np_softmax(scores)
    ctx = np.einsum("bhqt,bthk->bqhk", attn, v)
    return np.einsum("bqhk,hkd->bqd", ctx, w(mha.output_dense.kernel)) + w(mha.output_dense.bias)


def np_spatial_self_attention(x, layer):
    x = np_dense(x, np.asarray(layer.proj.kernel), np.asarray(layer.proj.bias))
    if layer.pool > 1:
        x = np_avgpool(x, layer.pool)
    b, h, w, d = x.shape
    t = x.reshape(b, h * w, d)
    if layer.position_embedding:
        t = t + np.asarray(layer.pos)
    out = np_layernorm(t + np_mha(t, t, layer.mha), np.asarray(layer.norm.gamma), np.asarray(layer.norm.beta))
    return out.reshape(b, h, w, d)


def np_cross(maps, layer):
    maps = [np_dense(x, np.asarray(p.kernel), np.asarray(p.bias)) if p is not None else x
            for p, x in zip(layer.projs, maps)]
    b, hq, wq, d = maps[-1].shape
    q = maps[-1].reshape(b, hq * wq, d)
    outs = [q]
    for x, pooling, mha, norm in zip(maps[:-1], layer.poolings, layer.mhas, layer.norms):
        if pooling is not None:
            x = np_avgpool(x, pooling.pool_size[0])
        kv = x.reshape(b, -1, d)
        outs.append(np_layernorm(q + np_mha(q, kv, mha), np.asarray(norm.gamma), np.asarray(norm.beta)))
    if layer.fusion == "concat":
        fused = np_dense(np.concatenate(outs, -1), np.asarray(layer.fuse.kernel), np.asarray(layer.fuse.bias))
    else:
        fused = sum(outs)
    return fused.reshape(b, hq, wq, d)


def _randomise(layer, rng):
    """Non-trivial LayerNorm / bias values so a wrong formula cannot hide behind 1s and 0s."""
    for v in layer.weights:
        v.assign(rng.normal(0, 0.3, v.shape).astype("float32"))


@pytest.fixture
def maps():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(2, 8, 8, 6)).astype("float32"),
            rng.normal(size=(2, 4, 4, 10)).astype("float32"),
            rng.normal(size=(2, 2, 2, 12)).astype("float32")]


@pytest.mark.parametrize("max_grid,position", [(None, True), (4, False)])
def test_spatial_self_attention_matches_numpy(maps, max_grid, position):
    layer = SpatialSelfAttention(width=8, num_heads=2, max_grid=max_grid, position_embedding=position)
    layer.build(maps[0].shape)
    _randomise(layer, np.random.default_rng(1))
    got = np.asarray(layer(maps[0]))
    want = np_spatial_self_attention(maps[0], layer)
    expected_grid = 8 if max_grid is None else 4
    assert got.shape == (2, expected_grid, expected_grid, 8)
    np.testing.assert_allclose(got, want, atol=2e-5, rtol=1e-4)


def test_hierarchical_self_attention_matches_numpy_per_stage(maps):
    layer = HierarchicalSelfAttention(width=8, num_heads=2, key_dim=3)
    outs = layer(maps)
    _randomise(layer, np.random.default_rng(2))
    outs = [np.asarray(o) for o in layer(maps)]
    assert len(outs) == 3 and len(layer.stages) == 3
    for stage, x, got in zip(layer.stages, maps, outs):
        assert stage.mha.query_dense.kernel.shape == (8, 2, 3)
        np.testing.assert_allclose(got, np_spatial_self_attention(x, stage), atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("fusion,kv_grid", [("concat", 2), ("sum", None)])
def test_multiscale_cross_attention_matches_numpy(maps, fusion, kv_grid):
    layer = MultiScaleCrossAttention(width=8, num_heads=2, kv_grid=kv_grid, fusion=fusion)
    layer(maps)
    _randomise(layer, np.random.default_rng(3))
    got = np.asarray(layer(maps))
    assert got.shape == (2, 2, 2, 8)
    if kv_grid == 2:   # 8x8 and 4x4 pooled down to 2x2 key/value tokens
        assert [g for g in layer.grids] == [(2, 2), (2, 2)]
    np.testing.assert_allclose(got, np_cross(maps, layer), atol=2e-5, rtol=1e-4)


def test_cross_attention_depends_on_shallow_maps(maps):
    """Changing a shallow map must change the output (the queries really read it)."""
    layer = MultiScaleCrossAttention(width=8, num_heads=2, kv_grid=4)
    a = np.asarray(layer(maps))
    changed = [maps[0] + 1.0, maps[1], maps[2]]
    assert np.abs(np.asarray(layer(changed)) - a).max() > 1e-4


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="fusion must be one of"):
        MultiScaleCrossAttention(fusion="gated")
    with pytest.raises(ValueError, match="list of >= 2 feature maps"):
        MultiScaleCrossAttention()(np.zeros((1, 2, 2, 4), "float32"))


def test_roundtrip_hierarchical_then_cross(maps, tmp_path):
    inputs = [keras.Input(m.shape[1:]) for m in maps]
    h = HierarchicalSelfAttention(width=8, num_heads=2, max_grid=4, name="hsa")(inputs)
    y = MultiScaleCrossAttention(width=8, num_heads=2, kv_grid=2, name="msca")(h)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(y))
    loaded = assert_keras_roundtrip(model, maps, tmp_path)
    assert loaded.get_layer("msca").get_config()["kv_grid"] == 2
    assert loaded.get_layer("hsa").get_config()["max_grid"] == 4


def test_roundtrip_single_layers(maps, tmp_path):
    assert_keras_roundtrip(SpatialSelfAttention(width=8, num_heads=2, name="ssa"), maps[1], tmp_path)
    assert_keras_roundtrip(MultiScaleCrossAttention(width=12, num_heads=3, fusion="sum", name="ms"),
                           maps, tmp_path)
