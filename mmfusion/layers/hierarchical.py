"""Hierarchical self-attention and multi-scale cross-attention over CNN stage feature maps (HMC-Net).

Our reading of the HMC-Net abstract (Fatima et al. 2026; only the abstract is public):

* ``HierarchicalSelfAttention`` (intra-layer): per backbone stage, a 1x1 projection to ``width``,
  optional average pooling to at most ``max_grid`` x ``max_grid`` tokens, an optional learned
  position embedding, multi-head self-attention over the spatial tokens, then residual + LayerNorm.
* ``MultiScaleCrossAttention`` (inter-layer): the deepest map's tokens query each shallower map
  (average-pooled to at most ``kv_grid`` x ``kv_grid`` tokens) in its own cross-attention, each
  with residual + LayerNorm; the deep and attended tokens are fused (``"concat"`` then a dense
  projection, or ``"sum"``) into one (B, H_deep, W_deep, width) map. Maps whose channel count
  differs from ``width`` are projected by a 1x1 first."""
import keras
from keras import layers, ops

FUSIONS = ("concat", "sum")


def _pool_size(size: int, grid: int | None) -> int:
    """Pooling window that brings ``size`` down to about ``grid`` cells (1 = keep)."""
    return 1 if not grid or size <= grid else size // grid


class _SelfAttentionConfig(layers.Layer):
    """The arguments (and config) SpatialSelfAttention and HierarchicalSelfAttention share."""

    def __init__(self, width=256, num_heads=8, key_dim=None, max_grid=None, position_embedding=True,
                 dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.width = int(width)
        self.num_heads = int(num_heads)
        self.key_dim = key_dim
        self.max_grid = max_grid
        self.position_embedding = bool(position_embedding)
        self.dropout = float(dropout)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "num_heads": self.num_heads,
                "key_dim": self.key_dim, "max_grid": self.max_grid,
                "position_embedding": self.position_embedding, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="mmfusion")
class SpatialSelfAttention(_SelfAttentionConfig):
    """1x1 projection -> (pool) -> tokens (+ position) -> MHSA -> residual + LayerNorm -> map."""

    def build(self, input_shape):
        _, h, w, c = input_shape
        if h is None or w is None:
            raise ValueError(f"{self.name}: spatial size must be static, got input shape {input_shape}")
        self.pool = _pool_size(max(h, w), self.max_grid)
        self.grid = (h // self.pool, w // self.pool)
        self.proj = layers.Dense(self.width, name="proj")
        self.proj.build((None, h, w, c))
        if self.pool > 1:
            self.pooling = layers.AveragePooling2D(self.pool, name="pool")
        if self.position_embedding:
            self.pos = self.add_weight(name="pos", shape=(self.grid[0] * self.grid[1], self.width),
                                       initializer=keras.initializers.RandomNormal(stddev=0.02))
        key_dim = self.key_dim or max(1, self.width // self.num_heads)
        self.mha = layers.MultiHeadAttention(self.num_heads, key_dim, dropout=self.dropout, name="mha")
        n = self.grid[0] * self.grid[1]
        self.mha.build((None, n, self.width), (None, n, self.width))
        self.norm = layers.LayerNormalization(epsilon=1e-6, name="norm")
        self.norm.build((None, n, self.width))

    def call(self, x, training=None):
        x = self.proj(x)
        if self.pool > 1:
            x = self.pooling(x)
        tokens = ops.reshape(x, (-1, self.grid[0] * self.grid[1], self.width))
        if self.position_embedding:
            tokens = tokens + self.pos
        attended = self.mha(tokens, tokens, training=training)
        out = self.norm(tokens + attended)
        return ops.reshape(out, (-1, self.grid[0], self.grid[1], self.width))

    def compute_output_shape(self, input_shape):
        pool = _pool_size(max(input_shape[1], input_shape[2]), self.max_grid)
        return (input_shape[0], input_shape[1] // pool, input_shape[2] // pool, self.width)


@keras.saving.register_keras_serializable(package="mmfusion")
class HierarchicalSelfAttention(_SelfAttentionConfig):
    """One ``SpatialSelfAttention`` per stage map (shallow to deep); list in, list out."""

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"{self.name} expects a list of feature maps, got shape {input_shape}")
        self.stages = [SpatialSelfAttention(self.width, self.num_heads, self.key_dim, self.max_grid,
                                            self.position_embedding, self.dropout, name=f"stage{i}")
                       for i in range(len(input_shape))]
        for stage, shape in zip(self.stages, input_shape):
            stage.build(tuple(shape))

    def call(self, maps, training=None):
        return [stage(x, training=training) for stage, x in zip(self.stages, maps)]

    def compute_output_shape(self, input_shape):
        return [SpatialSelfAttention(self.width, max_grid=self.max_grid).compute_output_shape(tuple(s))
                for s in input_shape]


@keras.saving.register_keras_serializable(package="mmfusion")
class MultiScaleCrossAttention(layers.Layer):
    """Deepest-map queries attend to each (pooled) shallower map; fused into one deep-grid map."""

    def __init__(self, width=256, num_heads=8, key_dim=None, kv_grid=7, fusion="concat", dropout=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        self.width = int(width)
        self.num_heads = int(num_heads)
        self.key_dim = key_dim
        self.kv_grid = kv_grid
        self.fusion = fusion
        self.dropout = float(dropout)

    def build(self, input_shape):
        if (not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2
                or not isinstance(input_shape[0], (list, tuple))):
            raise ValueError(f"{self.name} expects a list of >= 2 feature maps (shallow..deep), "
                             f"got shape {input_shape}")
        shapes = [tuple(s) for s in input_shape]
        key_dim = self.key_dim or max(1, self.width // self.num_heads)
        self.query_grid = tuple(shapes[-1][1:3])
        nq = self.query_grid[0] * self.query_grid[1]
        self.projs, self.poolings, self.grids, self.mhas, self.norms = [], [], [], [], []
        for i, (_, h, w, c) in enumerate(shapes):
            proj = layers.Dense(self.width, name=f"proj{i}") if c != self.width else None
            if proj is not None:   # common width needed for the residual and the fusion
                proj.build((None, h, w, c))
            self.projs.append(proj)
        for i, (_, h, w, _) in enumerate(shapes[:-1]):
            pool = _pool_size(max(h, w), self.kv_grid)
            self.poolings.append(layers.AveragePooling2D(pool, name=f"pool{i}") if pool > 1 else None)
            self.grids.append((h // pool, w // pool))
            nk = self.grids[-1][0] * self.grids[-1][1]
            mha = layers.MultiHeadAttention(self.num_heads, key_dim, dropout=self.dropout, name=f"mha{i}")
            mha.build((None, nq, self.width), (None, nk, self.width))
            norm = layers.LayerNormalization(epsilon=1e-6, name=f"norm{i}")
            norm.build((None, nq, self.width))
            self.mhas.append(mha)
            self.norms.append(norm)
        if self.fusion == "concat":
            self.fuse = layers.Dense(self.width, name="fuse")
            self.fuse.build((None, nq, self.width * len(shapes)))

    def call(self, maps, training=None):
        maps = [p(x) if p is not None else x for p, x in zip(self.projs, maps)]
        query = ops.reshape(maps[-1], (-1, self.query_grid[0] * self.query_grid[1], self.width))
        outs = [query]
        for x, pooling, grid, mha, norm in zip(maps[:-1], self.poolings, self.grids, self.mhas, self.norms):
            if pooling is not None:
                x = pooling(x)
            kv = ops.reshape(x, (-1, grid[0] * grid[1], self.width))
            outs.append(norm(query + mha(query, kv, training=training)))
        fused = (self.fuse(ops.concatenate(outs, axis=-1)) if self.fusion == "concat"
                 else sum(outs[1:], outs[0]))
        return ops.reshape(fused, (-1, self.query_grid[0], self.query_grid[1], self.width))

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[-1])[:3], self.width)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "num_heads": self.num_heads,
                "key_dim": self.key_dim, "kv_grid": self.kv_grid, "fusion": self.fusion,
                "dropout": self.dropout}
