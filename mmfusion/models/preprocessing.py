"""Backbone input preprocessing as a Keras layer (saved inside the model): float RGB images in
0..255 to what the backbone was trained on."""
import keras
from keras import ops

# keras.applications conventions ("caffe": BGR minus ImageNet mean; "tf": -1..1; "torch": mean/std)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
MODES = ("caffe", "tf", "torch", "none")


@keras.saving.register_keras_serializable(package="mmfusion")
class ImagenetPreprocess(keras.layers.Layer):
    """``mode``: caffe (ResNet50, VGG), tf (InceptionV3, ViT), torch, none (EfficientNetV2 has its own)."""

    def __init__(self, mode: str = "caffe", **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"ImagenetPreprocess mode must be one of {MODES}, got {mode!r}")
        self.mode = mode

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        if self.mode == "caffe":
            x = ops.flip(x, axis=-1)   # RGB -> BGR
            return x - ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=x.dtype)
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, dtype=x.dtype)
            std = ops.convert_to_tensor(_TORCH_STD, dtype=x.dtype)
            return (x / 255.0 - mean) / std
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
