"""§3.3 CAM-heatmap inputs: Grad-CAM of each image from a trained CNN, min-max to 0..255,
colour-mapped (OpenCV JET), BGR→RGB; the model then sees the raw image, the heatmap or the overlay.

The 0..255 maps are cached on disk as ``cam-<key>.npz``; the key hashes the model that made them
(architecture config + every weight), the CAM layer and the images, so a retrained or different
model never reuses another model's heatmaps.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np

from mmfusion.utils.io import atomic_save

COLORMAP = cv2.COLORMAP_JET


def minmax_uint8(maps) -> np.ndarray:
    """Per-map min-max to 0..255 (uint8, rounded); a constant map becomes 0."""
    maps = np.asarray(maps, dtype=np.float64)
    lo = maps.min(axis=(-2, -1), keepdims=True)
    span = maps.max(axis=(-2, -1), keepdims=True) - lo
    scaled = np.where(span > 0, (maps - lo) / np.where(span > 0, span, 1.0), 0.0)
    return np.rint(scaled * 255.0).astype(np.uint8)


def colorize(maps_u8) -> np.ndarray:
    """(N, H, W) uint8 maps → (N, H, W, 3) RGB heatmaps (cv2 colour map is BGR; flipped to RGB)."""
    maps_u8 = np.asarray(maps_u8)
    if maps_u8.dtype != np.uint8 or maps_u8.ndim != 3:
        raise ValueError(f"colorize expects (N, H, W) uint8 maps, got {maps_u8.dtype} {maps_u8.shape}")
    return np.stack([cv2.cvtColor(cv2.applyColorMap(m, COLORMAP), cv2.COLOR_BGR2RGB) for m in maps_u8]) \
        if len(maps_u8) else np.zeros(maps_u8.shape + (3,), np.uint8)


def overlay(images, heatmaps_rgb, alpha: float = 0.4) -> np.ndarray:
    """``(1 - alpha) * image + alpha * heatmap`` per pixel (cv2.addWeighted, uint8, saturated)."""
    images, heatmaps_rgb = np.asarray(images, np.uint8), np.asarray(heatmaps_rgb, np.uint8)
    if images.shape != heatmaps_rgb.shape:
        raise ValueError(f"images {images.shape} and heatmaps {heatmaps_rgb.shape} differ in shape")
    return np.stack([cv2.addWeighted(i, 1.0 - alpha, h, alpha, 0.0) for i, h in zip(images, heatmaps_rgb)]) \
        if len(images) else images.copy()


def model_key(model, layer_name: str = "") -> str:
    """sha256 (16 hex) over the model's config, its weights (names, shapes, bytes) and ``layer_name``."""
    digest = hashlib.sha256()
    digest.update(json.dumps(model.get_config(), sort_keys=True, default=str).encode())
    digest.update(layer_name.encode())
    for w in model.weights:
        value = np.ascontiguousarray(np.asarray(w.numpy()))
        digest.update(f"{w.path}|{value.shape}|{value.dtype}\n".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()[:16]


def images_key(images) -> str:
    images = np.ascontiguousarray(images)
    digest = hashlib.sha256(f"{images.shape}|{images.dtype}".encode())
    digest.update(images.tobytes())
    return digest.hexdigest()[:16]


def cam_maps(model, images, layer_name: str | None = None, cache_dir=None, batch_size: int = 64):
    """Grad-CAM (predicted class) of ``images`` from ``model`` as (N, H, W) uint8 in 0..255.

    Returns ``(maps, info)``; ``info`` has the cache ``key``, ``path`` and whether it was a ``hit``.
    """
    from mmfusion.xai import GradCAM

    key = f"{model_key(model, layer_name or '')}-{images_key(images)}"
    path = Path(cache_dir) / f"cam-{key}.npz" if cache_dir is not None else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return z["maps"], {"key": key, "path": str(path), "hit": True}
    explainer = GradCAM(model, layer_name=layer_name, batch_size=batch_size)
    maps = minmax_uint8(explainer(np.asarray(images, np.float32)))
    if path is not None:
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez_compressed(f, maps=maps)
        atomic_save(path, write)
    return maps, {"key": key, "path": None if path is None else str(path), "hit": False,
                  "seconds_per_image": explainer.last_seconds_per_image}


def model_inputs(kind: str, images, maps_u8, alpha: float = 0.4) -> np.ndarray:
    """The image the classifier sees: ``raw`` images, the RGB ``heatmap`` or the ``overlay``."""
    if kind == "raw":
        return np.asarray(images, np.uint8)
    heat = colorize(maps_u8)
    if kind == "heatmap":
        return heat
    if kind == "overlay":
        return overlay(images, heat, alpha)
    raise ValueError(f"input must be raw, heatmap or overlay, got {kind!r}")
