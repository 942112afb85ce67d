"""The authors' Sequential CNN (1,386,177 parameters at 224 px, 3 classes), He-uniform init.

A functional keras.Model of the same layers: Grad-CAM needs ``model.input``, which an uncalled
keras.Sequential lacks. Inputs are 0..255; the Rescaling layer does the authors' ``/ 255``."""
PAPER_INPUT = 224
PAPER_PARAMS = 1_386_177
LAST_CONV = "conv3"


def build_mias_cnn(input_size: int = PAPER_INPUT, num_classes: int = 3, seed: int | None = None):
    import keras
    from keras import layers

    def init(i):
        return keras.initializers.HeUniform(seed=None if seed is None else seed + i)

    stack = [
        layers.Rescaling(1.0 / 255, name="rescale"),
        layers.Conv2D(16, 5, activation="relu", kernel_initializer=init(0), name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(16, 5, activation="relu", kernel_initializer=init(1), name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Conv2D(14, 3, padding="same", activation="relu", kernel_initializer=init(2), name=LAST_CONV),
        layers.MaxPooling2D(2, name="pool3"),
        layers.MaxPooling2D(2, name="pool4"),
        layers.Flatten(name="flatten"),
        layers.Dense(512, activation="relu", kernel_initializer=init(3), name="dense1"),
        layers.Dense(256, activation="relu", kernel_initializer=init(4), name="dense2"),
        layers.Dense(128, activation="relu", kernel_initializer=init(5), name="dense3"),
        layers.Dropout(0.5, name="dropout"),
        layers.Dense(num_classes, activation="softmax", kernel_initializer=init(6), name="probs"),
    ]
    inputs = x = keras.Input((input_size, input_size, 3), name="image")
    for layer in stack:
        x = layer(x)
    return keras.Model(inputs, x, name="mias_cnn")
