"""Explanation figures (PNG, written atomically into the run directory)."""
import numpy as np

from mmfusion.utils.plotting import pyplot, save_figure


def _minmax(a):
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def _as_rgb(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return _minmax(image)


def overlay(image, heatmap, alpha=0.4, cmap="jet"):
    """The image (min-max scaled, grey repeated to RGB) blended with the colour-mapped heatmap
    (scaled to [0, 1]): (H, W, 3) float array in [0, 1]."""
    import matplotlib

    heat = np.asarray(heatmap, dtype=np.float64)
    if heat.shape != np.shape(image)[:2]:
        raise ValueError(f"heatmap {heat.shape} does not match image {np.shape(image)[:2]}")
    colours = matplotlib.colormaps[cmap](_minmax(heat))[..., :3]
    return (1 - alpha) * _as_rgb(image) + alpha * colours


def explanation_grid(path, images, maps, titles=None, alpha=0.4):
    """One row per sample: the image, then each map of ``maps`` (method name -> (N, H, W))
    overlaid; ``titles``: a row label per sample. Returns the PNG's path."""
    plt = pyplot()
    images = np.asarray(images)
    names = list(maps)
    for name in names:
        if len(maps[name]) != len(images):
            raise ValueError(f"maps[{name!r}] has {len(maps[name])} maps for {len(images)} images")
    rows, cols = len(images), len(names) + 1
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.2 * rows), squeeze=False)
    for r in range(rows):
        axes[r, 0].imshow(_as_rgb(images[r]))
        axes[r, 0].set_ylabel(titles[r] if titles is not None else f"sample {r}", fontsize=8)
        for c, name in enumerate(names, start=1):
            axes[r, c].imshow(overlay(images[r], maps[name][r], alpha=alpha))
    for ax, title in zip(axes[0], ["image", *names]):
        ax.set_title(title, fontsize=9)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    return save_figure(fig, path, dpi=100)


def shap_bar(path, phi, feature_names, title="mean |SHAP value|"):
    """Bar chart of mean |phi| per feature over the rows of ``phi`` (N, F)."""
    plt = pyplot()
    phi = np.asarray(phi)
    if phi.ndim != 2 or phi.shape[1] != len(feature_names):
        raise ValueError(f"phi must be (N, {len(feature_names)}) for the feature names; got {phi.shape}")
    importance = np.abs(phi).mean(axis=0)
    order = np.argsort(importance)
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(order) + 1))
    ax.barh(np.array(feature_names)[order], importance[order], color="#1E88E5")
    ax.set_xlabel(title)
    return save_figure(fig, path, dpi=100)


def shap_beeswarm(path, phi, X, feature_names, max_display=20):
    """``shap.summary_plot`` (beeswarm) as a PNG."""
    import shap

    plt = pyplot()
    phi, X = np.asarray(phi), np.asarray(X)
    if phi.shape != X.shape or phi.shape[1] != len(feature_names):
        raise ValueError(f"phi {phi.shape} and X {X.shape} must both be (N, {len(feature_names)})")
    shap.summary_plot(phi, X, feature_names=list(feature_names), max_display=max_display, show=False)
    return save_figure(plt.gcf(), path, dpi=100)
