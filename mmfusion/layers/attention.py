"""Token attention between an image and a clinical modality (arXiv:2508.16000, eqs. 5-15).

Both layers take ``[image_tokens, clinical_tokens]`` (B, ne, d) and (B, nc, d) of the model width
``dim`` (:mod:`mmfusion.layers.tokens`); single head, scaled dot-product."""
import keras
from keras import ops

DIRECTIONS = ("image<-clinical", "clinical<-image")


def _check_tokens(layer, input_shape, dim):
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
        raise ValueError(f"{layer}: expected [image_tokens, clinical_tokens], got {input_shape}")
    for name, shape in zip(("image_tokens", "clinical_tokens"), input_shape):
        if len(shape) != 3 or shape[-1] != dim:
            raise ValueError(f"{layer}: {name} must have shape (batch, tokens, {dim}), got {tuple(shape)}")


@keras.saving.register_keras_serializable(package="mmfusion")
class CrossAttention(keras.layers.Layer):
    """Queries from one modality, keys/values from the other (eqs. 10-15); returns the updated
    query tokens. ``direction="image<-clinical"``: ``E' = LayerNorm(E + softmax((E Wq)(C Wk)^T /
    sqrt(d)) (C Wv) Wo)``; "clinical<-image" swaps the roles. ``uniform=True``: every query takes
    the plain mean of the value tokens (no Wq, Wk)."""

    def __init__(self, dim, direction="image<-clinical", epsilon=1e-6, uniform=False, **kwargs):
        super().__init__(**kwargs)
        if direction not in DIRECTIONS:
            raise ValueError(f"CrossAttention direction must be one of {DIRECTIONS}, got {direction!r}")
        self.dim = int(dim)
        self.direction = direction
        self.epsilon = float(epsilon)
        self.uniform = bool(uniform)
        self.query = None if self.uniform else keras.layers.Dense(self.dim, name="query")
        self.key = None if self.uniform else keras.layers.Dense(self.dim, name="key")
        self.value = keras.layers.Dense(self.dim, name="value")
        self.output_dense = keras.layers.Dense(self.dim, name="output")
        self.norm = keras.layers.LayerNormalization(epsilon=self.epsilon, name="norm")

    def _split(self, inputs):
        image, clinical = inputs
        return (image, clinical) if self.direction == "image<-clinical" else (clinical, image)

    def build(self, input_shape):
        _check_tokens(self.name, input_shape, self.dim)
        q_shape, kv_shape = self._split(input_shape)
        if not self.uniform:
            self.query.build(q_shape)
            self.key.build(kv_shape)
        self.value.build(kv_shape)
        self.output_dense.build(q_shape)
        self.norm.build(q_shape)

    def call(self, inputs):
        q_in, kv_in = self._split(inputs)
        values = self.value(kv_in)
        if self.uniform:   # (B, nq, d): each query gets the mean value token
            attended = ops.mean(values, axis=1, keepdims=True) + ops.zeros_like(q_in[..., :1])
        else:
            scores = ops.matmul(self.query(q_in), ops.transpose(self.key(kv_in), (0, 2, 1)))
            attended = ops.matmul(ops.softmax(scores / (self.dim ** 0.5), axis=-1), values)
        return self.norm(q_in + self.output_dense(attended))

    def compute_output_shape(self, input_shape):
        return tuple(self._split(input_shape)[0])

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "direction": self.direction,
                "epsilon": self.epsilon, "uniform": self.uniform}


AFFINITIES = ("separate", "shared")


@keras.saving.register_keras_serializable(package="mmfusion")
class CoAttention(keras.layers.Layer):
    """Bidirectional attention (eqs. 5-9). Returns ``[E', C']``.

    ``affinity="separate"`` (the paper): two affinity matrices with their own projections,
    ``S_ec = (E Wq_e)(C Wk_c)^T / sqrt(d)`` (ne x nc) and ``S_ce = (C Wq_c)(E Wk_e)^T / sqrt(d)``
    (nc x ne), each row-softmaxed: ``E' = LN_e(E + softmax(S_ec) (C Wv_c) Wo_e)``,
    ``C' = LN_c(C + softmax(S_ce) (E Wv_e) Wo_c)``. ``affinity="shared"`` (ours, Lu et al.'s
    co-attention): one matrix S_ec, and the clinical side attends with the row softmax of S_ec^T
    (no Wq_c, Wk_e)."""

    def __init__(self, dim, epsilon=1e-6, affinity="separate", **kwargs):
        super().__init__(**kwargs)
        if affinity not in AFFINITIES:
            raise ValueError(f"CoAttention affinity must be one of {AFFINITIES}, got {affinity!r}")
        self.dim = int(dim)
        self.epsilon = float(epsilon)
        self.affinity = affinity
        separate = affinity == "separate"
        self.image_query = keras.layers.Dense(self.dim, name="image_query")
        self.clinical_key = keras.layers.Dense(self.dim, name="clinical_key")
        self.clinical_query = keras.layers.Dense(self.dim, name="clinical_query") if separate else None
        self.image_key = keras.layers.Dense(self.dim, name="image_key") if separate else None
        self.clinical_value = keras.layers.Dense(self.dim, name="clinical_value")
        self.image_value = keras.layers.Dense(self.dim, name="image_value")
        self.image_output = keras.layers.Dense(self.dim, name="image_output")
        self.clinical_output = keras.layers.Dense(self.dim, name="clinical_output")
        self.image_norm = keras.layers.LayerNormalization(epsilon=self.epsilon, name="image_norm")
        self.clinical_norm = keras.layers.LayerNormalization(epsilon=self.epsilon, name="clinical_norm")

    def build(self, input_shape):
        _check_tokens(self.name, input_shape, self.dim)
        for side, shape in zip(("image", "clinical"), input_shape):
            for part in ("query", "key", "value", "output", "norm"):
                if getattr(self, f"{side}_{part}") is not None:
                    getattr(self, f"{side}_{part}").build(shape)

    def call(self, inputs):
        e, c = inputs
        scale = self.dim ** 0.5
        s_ec = ops.matmul(self.image_query(e), ops.transpose(self.clinical_key(c), (0, 2, 1))) / scale
        if self.affinity == "separate":
            s_ce = ops.matmul(self.clinical_query(c), ops.transpose(self.image_key(e), (0, 2, 1))) / scale
        else:
            s_ce = ops.transpose(s_ec, (0, 2, 1))
        e_att = ops.matmul(ops.softmax(s_ec, axis=-1), self.clinical_value(c))
        c_att = ops.matmul(ops.softmax(s_ce, axis=-1), self.image_value(e))
        return [self.image_norm(e + self.image_output(e_att)),
                self.clinical_norm(c + self.clinical_output(c_att))]

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape[0]), tuple(input_shape[1])]

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "epsilon": self.epsilon, "affinity": self.affinity}
