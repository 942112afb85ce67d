"""Token builders for the attention fusion layers: a feature map (B, H, W, C) -> H*W tokens or a
vector (B, C) -> one token; a clinical vector -> one token per feature group (column slices of
the multi-hot vector, e.g. CBIS-DDSM's density | mass shape | ...), or one token of it all."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mmfusion")
class ImageTokens(keras.layers.Layer):
    """(B, H, W, C) -> (B, H*W, dim), or (B, C) -> (B, 1, dim); one shared linear projection."""

    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.projection = keras.layers.Dense(self.dim, name="projection")

    def build(self, input_shape):
        if len(input_shape) not in (2, 4):
            raise ValueError(f"{self.name}: expected a feature map (B, H, W, C) or a vector (B, C), "
                             f"got {tuple(input_shape)}")
        self.projection.build((None, input_shape[-1]))

    def call(self, x):
        x = (ops.reshape(x, (-1, x.shape[1] * x.shape[2], x.shape[3])) if len(x.shape) == 4
             else ops.expand_dims(x, 1))
        return self.projection(x)

    def compute_output_shape(self, input_shape):
        n = input_shape[1] * input_shape[2] if len(input_shape) == 4 else 1
        return (input_shape[0], n, self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


@keras.saving.register_keras_serializable(package="mmfusion")
class ClinicalTokens(keras.layers.Layer):
    """(B, F) -> (B, G, dim): token g = slice g of the vector through its own Dense(dim).

    ``groups``: a list of ``[start, stop)`` column ranges; ``None``: one token of the whole vector.
    A zero slice (feature group missing) gives the bias as its token (an embedding of "absent")."""

    def __init__(self, dim, groups=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.groups = None if groups is None else [[int(a), int(b)] for a, b in groups]
        n = 1 if self.groups is None else len(self.groups)
        self.projections = [keras.layers.Dense(self.dim, name=f"group_{i}") for i in range(n)]

    def _ranges(self, width):
        return [[0, width]] if self.groups is None else self.groups

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{self.name}: expected a clinical vector (B, F), got {tuple(input_shape)}")
        width = input_shape[-1]
        for (a, b), dense in zip(self._ranges(width), self.projections):
            if not 0 <= a < b <= width:
                raise ValueError(f"{self.name}: feature group [{a}, {b}) is outside the {width} features")
            dense.build((None, b - a))

    def call(self, x):
        tokens = [dense(x[:, a:b]) for (a, b), dense in zip(self._ranges(x.shape[-1]), self.projections)]
        return ops.stack(tokens, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.projections), self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "groups": self.groups}
