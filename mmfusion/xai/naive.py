"""The per-call explanation style of typical notebooks (and of the mias-xai authors), kept only as
a cost baseline: the benchmarks and the mias-xai explanation table time it beside mmfusion's
batched path. Per image, ``keras.Model(model.inputs, [layer.output, model.output])`` is rebuilt
and run eagerly under a GradientTape (the Keras Grad-CAM tutorial); Score-CAM makes one model
call per channel. It scores the model's output as is (post-softmax), like the tutorial.
"""
from __future__ import annotations

import numpy as np


def _grad_model(model, layer_name):
    import keras

    return keras.Model(model.inputs, [model.get_layer(layer_name).output, model.output])


def naive_gradcam(model, images, layer_name, plus_plus=False, targets=None):
    import tensorflow as tf

    maps = []
    for i, img in enumerate(images):
        grad_model = _grad_model(model, layer_name)   # rebuilt per image, as in the tutorial
        x = tf.constant(img[None])
        with tf.GradientTape() as tape:
            act, preds = grad_model(x)
            target = int(tf.argmax(preds[0])) if targets is None else int(targets[i])
            score = preds[:, target]
        g = tape.gradient(score, act)[0]
        a = act[0]
        if plus_plus:
            g2, g3 = g ** 2, g ** 3
            denom = 2 * g2 + tf.reduce_sum(a, axis=(0, 1)) * g3
            alpha = tf.where(g != 0, g2 / tf.where(denom != 0, denom, 1.0), 0.0)
            w = tf.reduce_sum(alpha * tf.nn.relu(g), axis=(0, 1))
        else:
            w = tf.reduce_mean(g, axis=(0, 1))
        cam = tf.nn.relu(tf.reduce_sum(a * w, axis=-1))
        maps.append(tf.image.resize(cam[..., None], img.shape[:2])[..., 0].numpy())
    return np.stack(maps)


def naive_scorecam(model, images, layer_name):
    import tensorflow as tf

    maps = []
    for img in images:
        sub = _grad_model(model, layer_name)
        act, preds = sub(tf.constant(img[None]))
        target = int(tf.argmax(preds[0]))
        up = tf.image.resize(act, img.shape[:2])[0]
        weights = []
        for k in range(up.shape[-1]):   # one forward pass per channel
            m = up[..., k]
            m = (m - tf.reduce_min(m)) / (tf.reduce_max(m) - tf.reduce_min(m) + 1e-7)
            weights.append(float(model(img[None] * m[None, ..., None], training=False)[0, target]))
        maps.append(tf.nn.relu(tf.reduce_sum(act[0] * np.asarray(weights, np.float32), -1)).numpy())
    return np.stack(maps)
