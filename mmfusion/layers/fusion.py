"""Vector fusion of an image embedding e (B, De) and a clinical embedding c (B, Dc).

Gated variants follow Vo et al. 2021's public code; GMU (Arevalo et al. 2017), MFB (Yu et al. 2017)
and TFN (Zadeh et al. 2017) are the other fusion rows of the ablation."""
import keras
from keras import ops


def _pair(layer, input_shape):
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or \
            any(len(s) != 2 for s in input_shape):
        raise ValueError(f"{layer}: expected [image (B, De), clinical (B, Dc)], got {input_shape}")
    return input_shape


class _Gates(keras.layers.Layer):
    """A sigmoid gate per modality, fed [e; c] (``joint``) or the other modality; no arguments."""

    joint = True

    def build(self, input_shape):
        e_shape, c_shape = _pair(self.name, input_shape)
        joint = (None, e_shape[-1] + c_shape[-1])
        self.image_gate = keras.layers.Dense(e_shape[-1], activation="sigmoid", name="image_gate")
        self.clinical_gate = keras.layers.Dense(c_shape[-1], activation="sigmoid", name="clinical_gate")
        self.image_gate.build(joint if self.joint else c_shape)
        self.clinical_gate.build(joint if self.joint else e_shape)

    def compute_output_shape(self, input_shape):
        return [tuple(s) for s in input_shape]


@keras.saving.register_keras_serializable(package="mmfusion")
class CoAttentionGate(_Gates):
    """Vo et al.'s gated co-attention: ``e * sigmoid(We [e; c])``, ``c * sigmoid(Wc [e; c])``."""

    def call(self, inputs):
        e, c = inputs
        joint = ops.concatenate([e, c], axis=-1)
        return [e * self.image_gate(joint), c * self.clinical_gate(joint)]


@keras.saving.register_keras_serializable(package="mmfusion")
class CrossModalGate(_Gates):
    """Vo et al.'s gated cross-attention: ``e * sigmoid(W1 c)``, ``c * sigmoid(W2 e)``."""

    joint = False

    def call(self, inputs):
        e, c = inputs
        return [e * self.image_gate(c), c * self.clinical_gate(e)]


@keras.saving.register_keras_serializable(package="mmfusion")
class GatedHead(keras.layers.Layer):
    """Vo et al.'s fused head: ``h = relu(W1 z) * sigmoid(G1 z)``, dropout, ``(W2 h) * sigmoid(G2 h)``:
    class logits (B, num_classes); He-normal kernels with L2 ``l2`` on the dense weights."""

    def __init__(self, num_classes, hidden=200, dropout=0.5, l2=1e-4, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.hidden = int(hidden)
        self.dropout = float(dropout)
        self.l2 = float(l2)
        reg = keras.regularizers.L2(self.l2) if self.l2 else None

        def dense(units, activation, name):
            return keras.layers.Dense(units, activation=activation, kernel_initializer="he_normal",
                                      kernel_regularizer=reg, name=name)
        self.fc1 = dense(self.hidden, "relu", "fc1")
        self.gate1 = dense(self.hidden, "sigmoid", "gate1")
        self.drop = keras.layers.Dropout(self.dropout)
        self.fc2 = dense(self.num_classes, None, "fc2")
        self.gate2 = dense(self.num_classes, "sigmoid", "gate2")

    def build(self, input_shape):
        self.fc1.build(input_shape)
        self.gate1.build(input_shape)
        self.fc2.build((None, self.hidden))
        self.gate2.build((None, self.hidden))

    def call(self, z, training=None):
        h = self.fc1(z) * self.gate1(z)
        h = self.drop(h, training=training)
        return self.fc2(h) * self.gate2(h)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "hidden": self.hidden,
                "dropout": self.dropout, "l2": self.l2}


@keras.saving.register_keras_serializable(package="mmfusion")
class GMU(keras.layers.Layer):
    """Gated multimodal unit: ``z = sigmoid(Wz [e; c])``, ``h = z*tanh(We e) + (1-z)*tanh(Wc c)``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.image_proj = keras.layers.Dense(self.units, activation="tanh", use_bias=False, name="image_proj")
        self.clinical_proj = keras.layers.Dense(self.units, activation="tanh", use_bias=False,
                                                name="clinical_proj")
        self.gate = keras.layers.Dense(self.units, activation="sigmoid", use_bias=False, name="gate")

    def build(self, input_shape):
        e_shape, c_shape = _pair(self.name, input_shape)
        self.image_proj.build(e_shape)
        self.clinical_proj.build(c_shape)
        self.gate.build((None, e_shape[-1] + c_shape[-1]))

    def call(self, inputs):
        e, c = inputs
        z = self.gate(ops.concatenate([e, c], axis=-1))
        return z * self.image_proj(e) + (1.0 - z) * self.clinical_proj(c)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="mmfusion")
class MFB(keras.layers.Layer):
    """Multi-modal factorized bilinear pooling: sum-pool over ``factor`` of (U e) * (V c), then
    power normalisation sign(z) sqrt(|z|) and L2 normalisation. Output (B, units)."""

    def __init__(self, units, factor=5, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.factor = int(factor)
        self.dropout = float(dropout)
        self.image_proj = keras.layers.Dense(self.units * self.factor, name="image_proj")
        self.clinical_proj = keras.layers.Dense(self.units * self.factor, name="clinical_proj")
        self.drop = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        e_shape, c_shape = _pair(self.name, input_shape)
        self.image_proj.build(e_shape)
        self.clinical_proj.build(c_shape)

    def call(self, inputs, training=None):
        e, c = inputs
        joint = self.drop(self.image_proj(e) * self.clinical_proj(c), training=training)
        z = ops.sum(ops.reshape(joint, (-1, self.units, self.factor)), axis=-1)
        z = ops.sign(z) * ops.sqrt(ops.abs(z) + 1e-12)
        return z / ops.sqrt(ops.sum(z * z, axis=-1, keepdims=True) + 1e-12)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "factor": self.factor, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="mmfusion")
class TFN(keras.layers.Layer):
    """Tensor fusion: the flattened outer product ``[e; 1] x [c; 1]`` -> (B, (De+1)(Dc+1)); the
    appended 1 keeps both unimodal embeddings alongside their bimodal products. No weights."""

    def call(self, inputs):
        e, c = inputs
        one = ops.ones_like(e[:, :1])
        e1 = ops.concatenate([e, one], axis=-1)
        c1 = ops.concatenate([c, one], axis=-1)
        outer = ops.expand_dims(e1, 2) * ops.expand_dims(c1, 1)
        return ops.reshape(outer, (-1, e1.shape[-1] * c1.shape[-1]))

    def compute_output_shape(self, input_shape):
        (b, de), (_, dc) = input_shape
        return (b, (de + 1) * (dc + 1))


@keras.saving.register_keras_serializable(package="mmfusion")
class ModalityDropout(keras.layers.Layer):
    """During training, with probability ``rate`` per sample zero one modality's embedding or
    token sequence (image or clinical with equal chance, never both); identity at inference. No
    rescaling: the model must cope with an absent modality, as at test time."""

    def __init__(self, rate=0.3, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"ModalityDropout rate must be in [0, 1], got {rate}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        e, c = inputs
        if not training or self.rate == 0.0:
            return [e, c]
        u = keras.random.uniform((ops.shape(e)[0], 2), seed=self.seed_generator)
        drop = ops.cast(u[:, 0] < self.rate, e.dtype)
        image_side = ops.cast(u[:, 1] < 0.5, e.dtype)

        def per_sample(keep, x):   # (B,) -> (B, 1, ..., 1): vectors and token sequences alike
            return x * ops.reshape(keep, (-1,) + (1,) * (len(x.shape) - 1))
        return [per_sample(1.0 - drop * image_side, e), per_sample(1.0 - drop * (1.0 - image_side), c)]

    def compute_output_shape(self, input_shape):
        return [tuple(s) for s in input_shape]

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="mmfusion")
class FeatureMask(keras.layers.Layer):
    """Multiplies the last axis by a fixed 0/1 ``mask``: the columns set to 0 never reach the
    network (a model fed only some of its input's features, with the input's width kept)."""

    def __init__(self, mask, **kwargs):
        super().__init__(**kwargs)
        self.mask = [float(m) for m in mask]

    def call(self, x):
        return x * ops.convert_to_tensor(self.mask, dtype=x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask": self.mask}
