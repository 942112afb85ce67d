"""A small Vision Transformer built from Keras layers (no pretrained weights). Its tokens are
reshaped into a (h, w, dim) map ``vit_feature_map`` that CAM methods and the classifier head treat
like a CNN feature map."""
import keras
from keras import layers

from mmfusion.models.preprocessing import ImagenetPreprocess


@keras.saving.register_keras_serializable(package="mmfusion")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding per token position to a (batch, tokens, dim) input."""

    def __init__(self, num_tokens: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tokens = num_tokens
        self.dim = dim

    def build(self, input_shape):
        self.embedding = self.add_weight(name="embedding", shape=(1, self.num_tokens, self.dim),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, x):
        return x + keras.ops.cast(self.embedding, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "dim": self.dim}


def build_vit(input_shape=(224, 224, 3), patch_size: int = 16, dim: int = 192, depth: int = 6,
              heads: int = 3, mlp_dim: int | None = None, dropout: float = 0.0, name: str = "vit"):
    """Return ``(model, stage_names)``: model maps 0..255 images to a (h/patch, w/patch, dim) map."""
    h, w = input_shape[0] // patch_size, input_shape[1] // patch_size
    if h < 1 or w < 1 or input_shape[0] % patch_size or input_shape[1] % patch_size:
        raise ValueError(f"ViT input {input_shape[:2]} must be a positive multiple of patch_size "
                         f"{patch_size}")
    mlp_dim = mlp_dim or 2 * dim
    inputs = keras.Input(shape=input_shape, name="image")
    x = ImagenetPreprocess("tf", name="preprocess")(inputs)
    x = layers.Conv2D(dim, patch_size, strides=patch_size, name="patch_embed")(x)
    x = layers.Reshape((h * w, dim), name="tokens")(x)
    x = PositionEmbedding(h * w, dim, name="pos_embed")(x)
    for i in range(depth):
        y = layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln1")(x)
        y = layers.MultiHeadAttention(heads, dim // heads, dropout=dropout, name=f"block{i}_attn")(y, y)
        x = layers.Add(name=f"block{i}_add1")([x, y])
        y = layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln2")(x)
        y = layers.Dense(mlp_dim, activation="gelu", name=f"block{i}_mlp1")(y)
        if dropout:
            y = layers.Dropout(dropout, name=f"block{i}_drop")(y)
        y = layers.Dense(dim, name=f"block{i}_mlp2")(y)
        x = layers.Add(name=f"block{i}_out")([x, y])
    x = layers.LayerNormalization(epsilon=1e-6, name="final_ln")(x)
    x = layers.Reshape((h, w, dim), name="vit_feature_map")(x)
    return keras.Model(inputs, x, name=name), {f"block{i}": f"block{i}_out" for i in range(depth)}
