"""Class-activation maps: Grad-CAM, Grad-CAM++ and Score-CAM on any Keras classifier, nested and
multi-input models included (non-image inputs held fixed); maps are upsampled (bilinear) and
min-max normalised to [0, 1].

Scores: the gradient methods use the pre-softmax score of the target class (Selvaraju et al.;
multimodal-fusion eq. 16). A single-unit sigmoid output is read as two classes with scores
(-z, z). Score-CAM uses the target probability (softmax of the logits; sigmoid for one unit)."""
import time

import numpy as np
import tensorflow as tf

from mmfusion import _keras_compat as compat
from mmfusion.xai import _graph


class BaseCAM:
    """``Explainer(model, layer_name=None, input_name=None)(inputs, targets=None) -> (N, H, W)``.

    ``layer_name`` defaults to the last convolution layer; ``targets`` None explains the predicted
    class. ``last_seconds_per_image``: the last call's wall time per image. ``eager=True`` skips
    tf.function (tracing a big backbone costs more than it saves for a few small images)."""

    def __init__(self, model, layer_name=None, input_name=None, batch_size=32, eager=False):
        self.model = model
        self.eager = bool(eager)
        self.batch_size = int(batch_size)
        self.layer = _graph.find_layer(model, layer_name) if layer_name else _graph.last_conv_layer(model)
        self.image_index = _graph.image_input_index(model, input_name)
        self.input_names = _graph.input_names(model)
        self.explain_model, self.output_kind = _graph.build_explain_model(model, self.layer)
        self._dict_input = isinstance(compat.inputs_struct(_graph.as_functional(model)), dict)
        # autograph=False: its cache is keyed by object id, which a freed explainer's successor reuses
        self._traced = self._function(self._maps_graph)
        self.last_seconds_per_image = None

    def _function(self, fn):
        return fn if self.eager else tf.function(fn, reduce_retracing=True, autograph=False)

    def _structure(self, flat):
        if self._dict_input:
            return dict(zip(self.input_names, flat))
        return list(flat) if len(flat) > 1 else flat[0]

    def _class_logits(self, logits):
        """(N, C) class scores; a single sigmoid/linear unit z becomes the two classes (-z, z)."""
        return tf.concat([-logits, logits], axis=-1) if logits.shape[-1] == 1 else logits

    def _probabilities(self, logits):
        if self.output_kind == "sigmoid" and logits.shape[-1] > 1:
            return tf.sigmoid(logits)  # multi-label: each unit on its own
        return tf.nn.softmax(self._class_logits(logits), axis=-1)  # 1 unit: softmax(-z,z)=sigmoid

    def _resolve(self, scores, targets):  # targets < 0: the predicted class
        return tf.where(targets < 0, tf.argmax(scores, axis=-1, output_type=tf.int32), targets)

    @staticmethod
    def _finish(cam, size):
        """ReLU, bilinear upsampling to the image size, per-image min-max to [0, 1]."""
        cam = tf.nn.relu(cam)[..., None]
        if tuple(cam.shape[1:3]) != tuple(size):
            cam = tf.image.resize(cam, size, method="bilinear")
        cam = cam[..., 0]
        lo = tf.reduce_min(cam, axis=(1, 2), keepdims=True)
        span = tf.reduce_max(cam, axis=(1, 2), keepdims=True) - lo
        return tf.where(span > 0, (cam - lo) / tf.where(span > 0, span, 1.0), 0.0)

    def _maps_graph(self, flat, targets):
        image = flat[self.image_index]
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(image)
            act, logits = self.explain_model(self._structure(flat), training=False)
            scores = self._class_logits(tf.cast(logits, tf.float32))
            targets = self._resolve(scores, targets)
            score = tf.reduce_sum(tf.gather(scores, targets, axis=1, batch_dims=1))
        grads = tf.cast(tape.gradient(score, act), tf.float32)
        cam = self.combine(tf.cast(act, tf.float32), grads)
        return self._finish(cam, image.shape[1:3]), targets

    def combine(self, activations, gradients):
        """(N, h, w, K) activations and gradients -> (N, h, w) map before ReLU."""
        raise NotImplementedError

    def _explain_batch(self, flat, targets):
        maps, _ = self._traced([tf.convert_to_tensor(x) for x in flat],
                               tf.convert_to_tensor(targets, tf.int32))
        return maps.numpy()

    def __call__(self, inputs, targets=None):
        flat = _graph.flatten_inputs(self.model, inputs)
        # float64 would retrace; integer images (uint8) would have no gradient path at all.
        flat = [x.astype(np.float32) if x.dtype == np.float64 or (x.ndim == 4 and not
                np.issubdtype(x.dtype, np.floating)) else x for x in flat]
        n = len(flat[0])
        targets = np.asarray(np.full(n, -1) if targets is None else targets, dtype=np.int32).reshape(-1)
        if len(targets) != n:
            raise ValueError(f"got {len(targets)} targets for {n} inputs; pass one class per input")
        start = time.perf_counter()
        maps = [self._explain_batch([x[i:i + self.batch_size] for x in flat], targets[i:i + self.batch_size])
                for i in range(0, n, self.batch_size)]
        self.last_seconds_per_image = (time.perf_counter() - start) / max(n, 1)
        return np.concatenate(maps, axis=0).astype(np.float32)


class GradCAM(BaseCAM):
    """Grad-CAM (Selvaraju et al., ICCV 2017, eq. 1-2): alpha_k = mean_ij dS/dA_ij^k,
    L = ReLU(sum_k alpha_k A^k)."""

    def combine(self, activations, gradients):
        weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
        return tf.reduce_sum(weights * activations, axis=-1)


class GradCAMPlusPlus(BaseCAM):
    """Grad-CAM++ (Chattopadhay et al., WACV 2018, eq. 19 with the exponential score):

    alpha_ij^k = g^2 / (2 g^2 + sum_ab A_ab^k g^3), g = dS/dA_ij^k (0 where g = 0),
    w_k = sum_ij alpha_ij^k ReLU(g_ij^k); L = ReLU(sum_k w_k A^k). (exp(S) cancels per image.)
    tf-keras-vis additionally divides the alphas by their spatial sum per channel; we keep eq. 19
    as printed (the two coincide where the gradients are constant over space, a GAP head)."""

    def combine(self, activations, gradients):
        g2 = gradients ** 2
        total = tf.reduce_sum(activations, axis=(1, 2), keepdims=True)
        denom = 2.0 * g2 + total * (g2 * gradients)
        alpha = tf.where(gradients != 0, g2 / tf.where(denom != 0, denom, 1.0), 0.0)
        weights = tf.reduce_sum(alpha * tf.nn.relu(gradients), axis=(1, 2), keepdims=True)
        return tf.reduce_sum(weights * activations, axis=-1)


class ScoreCAM(BaseCAM):
    """Score-CAM (Wang et al., CVPR-W 2020, eq. 6-8): each activation map is upsampled to the
    image size and min-max normalised to H_k; alpha_k = P(target | image * H_k) (softmax of the
    logits, no baseline subtraction); L = ReLU(sum_k alpha_k A^k). ``max_channels`` keeps the
    channels with the largest spatial std (Faster Score-CAM, tf-keras-vis ``max_N``); None: all."""

    def __init__(self, model, layer_name=None, input_name=None, batch_size=32,
                 max_channels=None, eager=False):
        super().__init__(model, layer_name, input_name, batch_size, eager)
        self.max_channels = max_channels
        self._forward = self._function(self._forward_graph)
        self._masked = self._function(self._masked_graph)

    def _forward_graph(self, flat, targets):
        act, logits = self.explain_model(self._structure(flat), training=False)
        targets = self._resolve(self._class_logits(tf.cast(logits, tf.float32)), targets)
        return tf.cast(act, tf.float32), targets

    def _masked_graph(self, flat_one, masks, target):
        """Target probability for one sample's image times each of ``masks`` (k, H, W)."""
        k = tf.shape(masks)[0]
        batch = [x * tf.cast(masks[..., None], x.dtype) if i == self.image_index
                 else tf.repeat(x, k, axis=0) for i, x in enumerate(flat_one)]
        logits = self.explain_model(self._structure(batch), training=False)[1]
        return self._probabilities(tf.cast(logits, tf.float32))[:, target]

    def _explain_batch(self, flat, targets):
        tensors = [tf.convert_to_tensor(x) for x in flat]
        act, targets = self._forward(tensors, tf.convert_to_tensor(targets, tf.int32))
        size = flat[self.image_index].shape[1:3]
        maps = []
        for i in range(act.shape[0]):
            a = act[i:i + 1]
            if self.max_channels and self.max_channels < a.shape[-1]:
                keep = tf.math.top_k(tf.math.reduce_std(a[0], axis=(0, 1)), self.max_channels)[1]
                a = tf.gather(a, tf.sort(keep), axis=-1)
            up = a if tuple(a.shape[1:3]) == tuple(size) else tf.image.resize(a, size, method="bilinear")
            lo = tf.reduce_min(up, axis=(1, 2), keepdims=True)
            hi = tf.reduce_max(up, axis=(1, 2), keepdims=True)
            norm = (up - lo) / (hi - lo + 1e-7)  # 1e-7 = keras epsilon, as tf-keras-vis
            masks = tf.transpose(norm[0], (2, 0, 1))  # (K, H, W)
            one = [t[i:i + 1] for t in tensors]
            weights = tf.concat([self._masked(one, masks[j:j + self.batch_size], targets[i])
                                 for j in range(0, masks.shape[0], self.batch_size)], axis=0)
            maps.append(tf.reduce_sum(a * weights, axis=-1))
        return self._finish(tf.concat(maps, axis=0), size).numpy()
