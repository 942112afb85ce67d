"""The explanation comparison (ours: the authors' explanation code is not public).

LIME (positive weights), Grad-CAM (last conv) and Kernel SHAP over LIME's superpixels on test
images of the first model: cost (batched, and the authors' per-call style), deletion / insertion
AUC, pointing game and energy in the lesion circle, agreement between methods, figure grids;
beside them random maps (3 seeds), a centred blob and a re-initialised model (Adebayo et al. 2018)."""
import itertools
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from scipy.stats import spearmanr

import mmfusion.xai as xai
from mmfusion.papers.mias_xai.model import LAST_CONV
from mmfusion.papers.mias_xai.preprocess import CLASS_NAMES
from mmfusion.xai.metrics import reinitialized_copy

METHODS = ("LIME", "Grad-CAM", "Kernel SHAP")


def model_call(model, predict=False):
    """The classifier for shap and lime: a direct model call (model.predict is far slower per call),
    or with ``predict`` the authors' style, Keras ``model.predict`` on every call."""
    if predict:
        return lambda x: model.predict(np.asarray(x, np.float32), verbose=0)
    return lambda x: np.asarray(model(np.asarray(x, np.float32), training=False))


def _timed(times: list, fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    times.append(time.perf_counter() - start)
    return out


def explain_timed(model, images, targets, cfg, seed, per_call=False):
    """{method: maps (N, H, W)}, {method: seconds per image (list)} via our fast paths; with
    ``per_call`` only the seconds, in the authors' style: the Keras-tutorial Grad-CAM
    (``naive_gradcam``), LIME with its default batch of 10 and Kernel SHAP, both through model.predict."""
    fn, batch = model_call(model, predict=per_call), {"batch_size": 10} if per_call else {}
    maps, seconds, lime, shap = {}, {m: [] for m in METHODS}, [], []
    if not per_call:
        cam = xai.GradCAM(model, layer_name=LAST_CONV)
        cam(images[:1], targets[:1])                # trace once; the timing is of the warm path
        maps["Grad-CAM"] = cam(images, targets)
        seconds["Grad-CAM"] = [cam.last_seconds_per_image]
    for i in range(len(images)):                    # one call per image: per-image times
        one, target = images[i:i + 1], targets[i:i + 1]
        if per_call:
            _timed(seconds["Grad-CAM"], naive_gradcam, model, one, LAST_CONV, targets=target)
        lime.append(_timed(seconds["LIME"], xai.lime_image, fn, one, target, num_samples=cfg.lime_samples,
                           seed=seed, **batch)[0])
        shap.append(_timed(seconds["Kernel SHAP"], xai.image_kernel_shap, fn, one, target,
                           nsamples=cfg.shap_samples, seed=seed, **batch)[0][0])
    if not per_call:
        maps["LIME"] = np.maximum(np.stack(lime), 0)     # the paper shows LIME's positive-only mask
        maps["Kernel SHAP"] = np.stack(shap)
    return maps, seconds


def top_region(heatmap, fraction=0.10):
    """Boolean mask of the ``fraction`` highest pixels (ties in raster order)."""
    flat = np.asarray(heatmap, np.float64).ravel()
    k = max(1, int(np.ceil(fraction * flat.size)))
    mask = np.zeros(flat.size, bool)
    mask[np.argsort(-flat, kind="stable")[:k]] = True
    return mask.reshape(np.shape(heatmap))


def agreement(a, b) -> dict:
    """Per image: Spearman rank correlation over pixels and IoU of the top-10 % regions."""
    rho, iou = [], []
    for x, y in zip(a, b):
        constant = np.ptp(x) == 0 or np.ptp(y) == 0       # a constant map has no ranking
        rho.append(0.0 if constant else float(spearmanr(x.ravel(), y.ravel()).statistic))
        tx, ty = top_region(x), top_region(y)
        iou.append(float((tx & ty).sum() / (tx | ty).sum()))
    return {"spearman": rho, "iou_top10": iou}


def quality(model, images, targets, maps, lesions, steps) -> dict:
    """{method: {metric: per-image values}}; lesion metrics on abnormal images only."""
    fn = model_call(model)
    lesion = xai.lesion_scores(maps, lesions)
    return {method: {"deletion_auc": xai.deletion_auc(fn, images, m, targets, steps=steps).tolist(),
                     "insertion_auc": xai.insertion_auc(fn, images, m, targets, steps=steps).tolist(),
                     **lesion.get(method, {})}
            for method, m in maps.items()}


def compare(ctx, model, crops, test_idx) -> None:
    """The comparison on test images: xai.json, figures and the "Table XAI (ours)" cells."""
    cfg, seed = ctx.cfg, ctx.options.seed
    chosen = np.asarray(test_idx)[xai.examples_per_class(crops.labels[test_idx], total=cfg.explain_images)]
    images = crops.images[chosen].astype(np.float32)
    targets = np.asarray(model(images, training=False)).argmax(axis=1)   # explain the prediction
    maps, seconds = explain_timed(model, images, targets, cfg, seed)
    k = min(cfg.per_call_images, len(images))
    _, per_call = explain_timed(model, images[:k], targets[:k], cfg, seed, per_call=True)
    lesions = crops.lesions[chosen]
    scores = quality(model, images, targets, maps, lesions, cfg.curve_steps)
    # the rows no explanation would beat: random (mean of 3 seeds), blob, and each method's maps of a
    # re-initialised copy of ``model`` (same targets)
    random_model, _ = explain_timed(reinitialized_copy(model, seed + 1), images, targets, cfg, seed)
    baselines = xai.baseline_scores(lambda m: quality(model, images, targets, m, lesions, cfg.curve_steps),
                                    len(images), images.shape[1:3], seed, random_model)
    pairs = {f"{a} vs {b}": agreement(maps[a], maps[b]) for a, b in itertools.combinations(METHODS, 2)}
    figs = []
    for c, name in enumerate(CLASS_NAMES):       # one grid per class: image, then each method's overlay
        idx = np.flatnonzero(crops.labels[chosen] == c)[:4]
        if len(idx):
            figs.append(xai.explanation_grid(ctx.run.figures_dir / f"xai_{name}.png",
                                             crops.images[chosen][idx], {m: maps[m][idx] for m in METHODS},
                                             titles=[f"{name}{ctx.tag}"] * len(idx)))
    ctx.run.write_json("xai.json", {
        "synthetic": ctx.synthetic, "sample_ids": crops.sample_ids[chosen].tolist(),
        "targets": targets.tolist(), "seconds_batched": seconds, "seconds_per_call": per_call,
        "quality": scores, "baselines": baselines, "agreement": pairs, "figures": [str(p) for p in figs]})
    ctx.metrics["xai"] = {"n_images": len(images), "quality": scores, "baselines": baselines}

    def cell(row, column, values, extra=""):
        if len(values):
            ctx.cell("Table XAI (ours)", row, column, values, "ours (no paper numbers)" + extra)

    for m in METHODS:
        per_batch = "; batch time / N" if m == "Grad-CAM" else ""
        cell(m, "seconds per explanation (batched)", seconds[m],
             f"; median {statistics.median(seconds[m]):.4g} s{per_batch}")
        cell(m, "seconds per explanation (authors' per-call style)", per_call[m],
             f"; median {statistics.median(per_call[m]):.4g} s over {k} images")
    for row, values in {**scores, **baselines}.items():
        for metric, v in values.items():
            cell(row, metric.replace("_", " "), v,
                 "" if row in METHODS else "; baseline: what no explanation scores")
    for pair, values in pairs.items():
        cell(pair, "spearman", values["spearman"])
        cell(pair, "iou top 10%", values["iou_top10"])


# ---- the per-call style of typical notebooks (and of the authors), a cost baseline for the table and
# the benchmarks: the Keras tutorial's gradient sub-model rebuilt per image, run eagerly, post-softmax.


def _grad_model(model, layer_name):
    return keras.Model(model.inputs, [model.get_layer(layer_name).output, model.output])


def naive_gradcam(model, images, layer_name, plus_plus=False, targets=None):
    maps = []
    for i, img in enumerate(images):
        grad_model = _grad_model(model, layer_name)   # rebuilt per image, as in the tutorial
        with tf.GradientTape() as tape:
            act, preds = grad_model(tf.constant(img[None]))
            target = int(tf.argmax(preds[0])) if targets is None else int(targets[i])
            score = preds[:, target]
        g, a = tape.gradient(score, act)[0], act[0]
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
    maps = []
    for img in images:
        act, preds = _grad_model(model, layer_name)(tf.constant(img[None]))
        target = int(tf.argmax(preds[0]))
        up = tf.image.resize(act, img.shape[:2])[0]
        weights = []
        for k in range(up.shape[-1]):   # one forward pass per channel
            m = up[..., k]
            m = (m - tf.reduce_min(m)) / (tf.reduce_max(m) - tf.reduce_min(m) + 1e-7)
            weights.append(float(model(img[None] * m[None, ..., None], training=False)[0, target]))
        maps.append(tf.nn.relu(tf.reduce_sum(act[0] * np.asarray(weights, np.float32), -1)).numpy())
    return np.stack(maps)
