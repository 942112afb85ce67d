"""The explanation comparison (ours: the authors' explanation code is not public).

LIME (library defaults, positive weights only), Grad-CAM (last conv layer) and Kernel SHAP over
the same quickshift superpixels, all from mmfusion.xai, on test images of the first model:
seconds per explanation (our batched path, and the authors' per-call style on a few images),
deletion / insertion AUC, pointing game and energy-in-mask against the MIAS lesion circle
(abnormal images), agreement between methods (Spearman, IoU of the top 10 %), figure grids.
"""
from __future__ import annotations

import itertools
import statistics
import time

import numpy as np

from mmfusion.papers.mias_xai.data import CLASS_NAMES
from mmfusion.papers.mias_xai.model import LAST_CONV

METHODS = ("LIME", "Grad-CAM", "Kernel SHAP")
TOP_FRACTION = 0.10


def plain_call(model):
    """What shap and lime should get: a direct model call (model.predict is ~8x slower)."""
    return lambda x: np.asarray(model(np.asarray(x, np.float32), training=False))


def predict_call(model):
    """The authors' style: Keras ``model.predict`` on every classifier call."""
    return lambda x: model.predict(np.asarray(x, np.float32), verbose=0)


def pick_images(labels, n):
    """Up to ``n`` positions, classes interleaved (so a small n still covers every class)."""
    by_class = [list(np.flatnonzero(labels == c)) for c in range(len(CLASS_NAMES))]
    order = [i for group in itertools.zip_longest(*by_class) for i in group if i is not None]
    return np.asarray(order[:n] if n is not None else order, dtype=int)


def explain_batched(model, images, targets, cfg, seed):
    """{method: maps (N, H, W)}, {method: seconds per image (list)} via our fast paths."""
    from mmfusion.xai import GradCAM, image_kernel_shap, lime_image

    fn = plain_call(model)
    maps, seconds = {}, {}
    cam = GradCAM(model, layer_name=LAST_CONV)
    cam(images[:1], targets[:1])                    # trace once; the timing is of the warm path
    maps["Grad-CAM"] = cam(images, targets)
    seconds["Grad-CAM"] = [cam.last_seconds_per_image]
    lime, shap = [], []
    seconds["LIME"], seconds["Kernel SHAP"] = [], []
    for i in range(len(images)):                    # one call per image: per-image times
        start = time.perf_counter()
        lime.append(lime_image(fn, images[i:i + 1], targets[i:i + 1], num_samples=cfg.lime_samples,
                               seed=seed)[0])
        seconds["LIME"].append(time.perf_counter() - start)
        start = time.perf_counter()
        shap.append(image_kernel_shap(fn, images[i:i + 1], targets[i:i + 1], nsamples=cfg.shap_samples,
                                      seed=seed)[0][0])
        seconds["Kernel SHAP"].append(time.perf_counter() - start)
    maps["LIME"] = np.maximum(np.stack(lime), 0)     # the paper shows LIME's positive-only mask
    maps["Kernel SHAP"] = np.stack(shap)
    return maps, seconds


def time_per_call(model, images, targets, cfg, seed) -> dict:
    """The authors' style on a few images: the Keras-tutorial Grad-CAM (gradient sub-model rebuilt
    per image, mmfusion.xai.naive), LIME with its default batch of 10 and Kernel SHAP, both
    through model.predict."""
    from mmfusion.xai import image_kernel_shap, lime_image
    from mmfusion.xai.naive import naive_gradcam

    fn = predict_call(model)
    seconds = {m: [] for m in METHODS}
    for i in range(len(images)):
        one, target = images[i:i + 1], targets[i:i + 1]
        start = time.perf_counter()
        naive_gradcam(model, one, LAST_CONV, targets=target)
        seconds["Grad-CAM"].append(time.perf_counter() - start)
        start = time.perf_counter()
        lime_image(fn, one, target, num_samples=cfg.lime_samples, batch_size=10, seed=seed)
        seconds["LIME"].append(time.perf_counter() - start)
        start = time.perf_counter()
        image_kernel_shap(fn, one, target, nsamples=cfg.shap_samples, seed=seed, batch_size=10)
        seconds["Kernel SHAP"].append(time.perf_counter() - start)
    return seconds


def top_region(heatmap, fraction=TOP_FRACTION):
    """Boolean mask of the ``fraction`` highest pixels (ties in raster order)."""
    flat = np.asarray(heatmap, np.float64).ravel()
    k = max(1, int(np.ceil(fraction * flat.size)))
    mask = np.zeros(flat.size, bool)
    mask[np.argsort(-flat, kind="stable")[:k]] = True
    return mask.reshape(np.shape(heatmap))


def agreement(a, b) -> dict:
    """Per image: Spearman rank correlation over pixels and IoU of the top-10 % regions."""
    from scipy.stats import spearmanr

    rho, iou = [], []
    for x, y in zip(a, b):
        if np.ptp(x) == 0 or np.ptp(y) == 0:       # a constant map has no ranking
            rho.append(0.0)
        else:
            rho.append(float(spearmanr(x.ravel(), y.ravel()).statistic))
        tx, ty = top_region(x), top_region(y)
        iou.append(float((tx & ty).sum() / (tx | ty).sum()))
    return {"spearman": rho, "iou_top10": iou}


def quality(model, images, targets, maps, lesions, steps) -> dict:
    """{method: {metric: per-image values}}; lesion metrics on abnormal images only."""
    from mmfusion.xai import deletion_auc, energy_in_mask, insertion_auc, pointing_game

    fn = plain_call(model)
    has_lesion = lesions.reshape(len(lesions), -1).any(axis=1)
    out = {}
    for method, m in maps.items():
        out[method] = {"deletion_auc": deletion_auc(fn, images, m, targets, steps=steps).tolist(),
                       "insertion_auc": insertion_auc(fn, images, m, targets, steps=steps).tolist()}
        if has_lesion.any():
            out[method]["pointing_game"] = pointing_game(m[has_lesion], lesions[has_lesion]).astype(float).tolist()
            out[method]["energy_in_mask"] = energy_in_mask(m[has_lesion], lesions[has_lesion]).tolist()
    return out


def figures(run, images, labels, maps, synthetic, per_class=4):
    """One grid per class (image, then each method's overlay)."""
    from mmfusion.xai import explanation_grid

    paths = []
    for c, name in enumerate(CLASS_NAMES):
        idx = np.flatnonzero(labels == c)[:per_class]
        if not len(idx):
            continue
        tag = " (SYNTHETIC TWIN)" if synthetic else ""
        paths.append(explanation_grid(run.figures_dir / f"xai_{name}.png", images[idx],
                                      {m: maps[m][idx] for m in METHODS},
                                      titles=[f"{name}{tag}" for _ in idx]))
    return paths


def compare(model, crops, test_idx, cfg, run, synthetic, seed=0) -> list:
    """Run the comparison on test images; writes xai.json and figures; returns reproduced cells."""
    chosen = np.asarray(test_idx)[pick_images(crops.labels[test_idx], cfg.explain_images)]
    images = crops.images[chosen].astype(np.float32)
    targets = np.asarray(model(images, training=False)).argmax(axis=1)   # explain the prediction
    maps, seconds = explain_batched(model, images, targets, cfg, seed)
    k = min(cfg.per_call_images, len(images))
    per_call = time_per_call(model, images[:k], targets[:k], cfg, seed)
    scores = quality(model, images, targets, maps, crops.lesions[chosen], cfg.curve_steps)
    pairs = {f"{a} vs {b}": agreement(maps[a], maps[b]) for a, b in itertools.combinations(METHODS, 2)}
    figs = figures(run, crops.images[chosen], crops.labels[chosen], maps, synthetic)
    run.write_json("xai.json", {"synthetic": synthetic, "sample_ids": crops.sample_ids[chosen].tolist(),
                                "targets": targets.tolist(), "seconds_batched": seconds,
                                "seconds_per_call": per_call, "quality": scores, "agreement": pairs,
                                "figures": [str(p) for p in figs]})
    note = "ours (no paper numbers)" + ("; SYNTHETIC TWIN" if synthetic else "")
    cells = []

    def cell(row, column, values, extra=""):
        if len(values):
            cells.append({"table": "Table XAI", "row": row, "column": column,
                          "values": [float(v) for v in values], "note": f"{note}{extra}"})

    for m in METHODS:
        cell(m, "seconds per explanation (batched)", seconds[m],
             f"; median {statistics.median(seconds[m]):.4g} s" + ("; batch time / N" if m == "Grad-CAM" else ""))
        cell(m, "seconds per explanation (authors' per-call style)", per_call[m],
             f"; median {statistics.median(per_call[m]):.4g} s over {k} images")
        for metric, values in scores[m].items():
            cell(m, metric.replace("_", " "), values)
    for pair, values in pairs.items():
        cell(pair, "spearman", values["spearman"])
        cell(pair, "iou top 10%", values["iou_top10"])
    return cells
