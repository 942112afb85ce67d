"""Explanation-quality metrics for any heatmap (Quantus and Xplique do not run on Keras 3).

- deletion / insertion AUC: Petsiuk, Das & Saenko, "RISE", BMVC 2018, sec. 4.1;
- pointing game: Zhang et al., "Top-down neural attention by excitation backprop", IJCV 2018;
- energy in mask: Wang et al., "Score-CAM", CVPR-W 2020, sec. 5.2 (energy-based pointing game);
- sparsity: Gini index of the attribution (Chalasani et al., ICML 2020; Quantus "Sparseness");
- model randomisation: Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018.

``model_fn`` maps an (n, H, W, ch) batch to (n, C) probabilities, or (n,) for one score."""
import numpy as np


def _substrate(image, baseline):
    if isinstance(baseline, str):
        if baseline == "blur":  # RISE's insertion canvas: Gaussian blur (kernel 11, sigma 5)
            from scipy.ndimage import gaussian_filter
            return gaussian_filter(image, sigma=(5, 5, 0), truncate=1.0)
        if baseline == "mean":
            return np.broadcast_to(image.mean(axis=(0, 1)), image.shape)
        raise ValueError(f"baseline must be a number, an array, 'blur' or 'mean'; got {baseline!r}")
    return np.broadcast_to(np.asarray(baseline, dtype=image.dtype), image.shape)


def _curve_auc(model_fn, images, heatmaps, targets, steps, baseline, batch_size, insert, return_curves):
    images = np.asarray(images, dtype=np.float32)
    heatmaps = np.asarray(heatmaps, dtype=np.float64)
    if images.shape[:3] != heatmaps.shape:
        raise ValueError(f"heatmaps {heatmaps.shape} must be (N, H, W) of images {images.shape}")
    n, h, w = heatmaps.shape
    counts = np.round(np.linspace(0, h * w, steps + 1)).astype(int)
    aucs, curves = np.zeros(n), np.zeros((n, steps + 1))
    for i, image in enumerate(images):
        other = _substrate(image, baseline).astype(np.float32)
        start, end = (other, image) if insert else (image, other)
        # Most salient first; ties keep raster order (stable sort) so results are reproducible.
        rank = np.empty(h * w, dtype=int)
        rank[np.argsort(-heatmaps[i].ravel(), kind="stable")] = np.arange(h * w)
        changed = rank[None, :] < counts[:, None]  # (steps+1, HW): pixels changed at each step
        batch = np.where(changed.reshape(-1, h, w, 1), end[None], start[None])
        target = targets[i] if targets is not None else int(
            np.argmax(np.asarray(model_fn(image[None])).reshape(-1)))
        out = np.concatenate([np.asarray(model_fn(batch[j:j + batch_size]), dtype=np.float64)
                              for j in range(0, len(batch), batch_size)], axis=0)
        curves[i] = out if out.ndim == 1 else out[:, target]
        aucs[i] = np.trapezoid(curves[i], dx=1.0 / steps)
    return (aucs, curves) if return_curves else aucs


def deletion_auc(model_fn, images, heatmaps, targets=None, steps=50, baseline=0.0,
                 batch_size=128, return_curves=False):
    """Area under the target score as the most salient pixels are deleted (set to ``baseline``)
    in ``steps`` equal steps, x in [0, 1] (Petsiuk et al. 2018). Lower is better."""
    return _curve_auc(model_fn, images, heatmaps, targets, steps, baseline, batch_size, False, return_curves)


def insertion_auc(model_fn, images, heatmaps, targets=None, steps=50, baseline="blur",
                  batch_size=128, return_curves=False):
    """Area under the target score as the most salient pixels are inserted into the
    ``baseline`` canvas (default the blurred image, as RISE). Higher is better."""
    return _curve_auc(model_fn, images, heatmaps, targets, steps, baseline, batch_size, True, return_curves)


def _check_masks(heatmaps, masks):
    heatmaps = np.asarray(heatmaps, dtype=np.float64)
    masks = np.asarray(masks).astype(bool)
    if masks.ndim == 4:
        masks = masks[..., 0]
    if heatmaps.shape != masks.shape:
        raise ValueError(f"heatmaps {heatmaps.shape} and masks {masks.shape} differ in shape")
    empty = np.flatnonzero(~masks.reshape(len(masks), -1).any(axis=1))
    if len(empty):
        raise ValueError(f"masks {empty.tolist()} are empty: no lesion to point at")
    return heatmaps, masks


def pointing_game(heatmaps, masks, tolerance=0):
    """Hit (True) when the heatmap's maximum lies in the mask or within ``tolerance`` pixels of
    it (Zhang et al. use 15 px). Ties: the first maximum in raster order."""
    from scipy.ndimage import distance_transform_edt

    heatmaps, masks = _check_masks(heatmaps, masks)
    hits = np.zeros(len(heatmaps), dtype=bool)
    for i, (h, m) in enumerate(zip(heatmaps, masks)):
        y, x = np.unravel_index(np.argmax(h), h.shape)
        hits[i] = m[y, x] if tolerance <= 0 else distance_transform_edt(~m)[y, x] <= tolerance
    return hits


def energy_in_mask(heatmaps, masks):
    """Share of the (non-negative) heatmap's energy inside the mask, sum(h m) / sum(h); 0 for an
    all-zero heatmap."""
    heatmaps, masks = _check_masks(heatmaps, masks)
    h = np.clip(heatmaps, 0, None).reshape(len(heatmaps), -1)
    total = h.sum(axis=1)
    inside = (h * masks.reshape(len(masks), -1)).sum(axis=1)
    return np.where(total > 0, inside / np.where(total > 0, total, 1), 0.0)


def sparsity(heatmaps):
    """Gini index of |h| per map: 0 for a uniform map, 1 - 1/n for a single hot pixel."""
    a = np.sort(np.abs(np.asarray(heatmaps, dtype=np.float64)).reshape(len(heatmaps), -1), axis=1)
    n = a.shape[1]
    k = np.arange(1, n + 1)
    total = a.sum(axis=1)
    gini = ((2 * k - n - 1) * a).sum(axis=1) / (n * np.where(total > 0, total, 1))
    return np.where(total > 0, gini, 0.0)


def reinitialized_copy(model, seed=0):
    """The same architecture with freshly initialised weights (Adebayo's full randomisation);
    seeds Keras' global RNG with ``seed``."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.models.clone_model(model)


def randomization_check(make_explainer, model, inputs, targets=None, randomize=None, seed=0):
    """Model-randomisation sanity check (Adebayo et al. 2018): {"spearman": (N,), "ssim": (N,)}
    between the maps of ``make_explainer(model)`` (e.g. ``GradCAM``) and of ``make_explainer`` of
    ``randomize(model)`` (default ``reinitialized_copy``), for the same targets. High similarity
    fails. A constant map has no ranking: Spearman 1 against an equal map, else 0."""
    from scipy.stats import spearmanr
    from skimage.metrics import structural_similarity

    maps = np.asarray(make_explainer(model)(inputs, targets))
    if targets is None:
        probs = np.asarray(model(inputs, training=False))
        targets = (probs[:, 0] > 0.5).astype(int) if probs.shape[-1] == 1 else probs.argmax(-1)
    other = (randomize or (lambda m: reinitialized_copy(m, seed)))(model)
    random_maps = np.asarray(make_explainer(other)(inputs, targets))
    rho, ssim = np.zeros(len(maps)), np.zeros(len(maps))
    for i, (a, b) in enumerate(zip(maps, random_maps)):
        constant = np.ptp(a) == 0 or np.ptp(b) == 0
        rho[i] = float(np.allclose(a, b)) if constant else spearmanr(a.ravel(), b.ravel())[0]
        ssim[i] = structural_similarity(a, b, data_range=1.0)
    return {"spearman": rho, "ssim": ssim}
