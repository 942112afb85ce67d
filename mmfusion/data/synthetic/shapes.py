"""Drawing helpers shared by the twins: tissue texture and label-dependent lesions.
A benign lesion is a smooth, round, faint blob; a malignant one an irregular, spiculated, denser
and larger mass (learnable by a CNN and by a linear model on downsampled pixels). All randomness
comes from the Generator passed in: a twin is a pure function of its seed."""
import numpy as np
from PIL import Image

BENIGN, MALIGNANT = 0, 1


def smooth_noise(rng: np.random.Generator, shape, cells: int = 8) -> np.ndarray:
    """Low-frequency texture in [0, 1]: a coarse random grid upsampled bicubically."""
    coarse = rng.random((cells, cells)).astype(np.float32)
    arr = np.asarray(Image.fromarray(coarse, "F").resize((shape[1], shape[0]), Image.BICUBIC))
    span = arr.max() - arr.min()
    return (arr - arr.min()) / span if span > 0 else np.zeros(shape, np.float32)


def tissue(rng: np.random.Generator, shape, base: float = 0.3, contrast: float = 0.12,
           grain: float = 0.03) -> np.ndarray:
    """Background tissue (float32 in [0, 1]): smooth blotches plus fine grain."""
    arr = (base + contrast * (smooth_noise(rng, shape, 6) - 0.5)
           + contrast * 0.5 * (smooth_noise(rng, shape, 16) - 0.5)
           + grain * rng.standard_normal(shape).astype(np.float32))
    return np.clip(arr, 0, 1).astype(np.float32)


def lesion_radius(rng: np.random.Generator, label: int, side: int) -> float:
    """Malignant lesions are larger on average (a learnable, clinically plausible cue)."""
    low, high = (0.06, 0.10) if label == BENIGN else (0.10, 0.15)
    return float(rng.uniform(low, high) * side)


def lesion(rng: np.random.Generator, shape, cx: float, cy: float, r: float, label: int):
    """Intensity and bool mask of a lesion at (cx, cy): a soft ellipse, or spiculated (malignant)."""
    h, w = shape
    rows, cols = np.mgrid[:h, :w].astype(np.float32)
    dx, dy = cols - cx, rows - cy
    dist = np.hypot(dx, dy)
    theta = np.arctan2(dy, dx)
    if label == BENIGN:
        ratio, angle = rng.uniform(0.8, 1.0), rng.uniform(0, np.pi)
        u = dx * np.cos(angle) + dy * np.sin(angle)
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        rel = np.hypot(u, v / ratio) / r
        intensity = 0.7 * np.clip(1.0 - rel ** 2, 0, 1) ** 0.35
        mask = rel <= 1.0
    else:
        outline = np.ones_like(theta)
        for k in (3, 5, 7, 11):
            outline += rng.uniform(0.05, 0.18) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        rel = dist / (r * outline)
        mask = rel <= 1.0
        intensity = np.where(mask, 0.85 - 0.15 * rel, 0.0)
        for angle in rng.uniform(0, 2 * np.pi, rng.integers(8, 15)):
            length = r * rng.uniform(1.4, 2.2)
            along = dx * np.cos(angle) + dy * np.sin(angle)
            across = np.abs(-dx * np.sin(angle) + dy * np.cos(angle))
            width = max(1.0, r * 0.06)
            spicule = (along > 0) & (along < length) & (across < width * (1 - along / length) + 0.5)
            intensity = np.maximum(intensity, np.where(spicule, 0.7, 0.0))
        mask = mask | (intensity > 0)
    return intensity.astype(np.float32), mask


def place_lesion(rng: np.random.Generator, shape, label: int, margin: float = 0.2, radius=None):
    """Random centre inside the central region; returns ``(cx, cy, r)`` in pixel coordinates."""
    h, w = shape
    r = lesion_radius(rng, label, min(h, w)) if radius is None else radius
    cx = rng.uniform(margin * w + r, (1 - margin) * w - r) if (1 - 2 * margin) * w > 2 * r else w / 2
    cy = rng.uniform(margin * h + r, (1 - margin) * h - r) if (1 - 2 * margin) * h > 2 * r else h / 2
    return float(cx), float(cy), float(r)


def to_uint8(arr: np.ndarray) -> np.ndarray:
    return np.clip(np.round(arr * 255.0), 0, 255).astype(np.uint8)


def lesion_image(rng: np.random.Generator, shape, label, background=None):
    """``(image uint8 (H, W), mask bool (H, W), (cx, cy, r) or None)`` for ``label`` (None = normal)."""
    bg = tissue(rng, shape) if background is None else background
    if label is None:
        return to_uint8(bg), np.zeros(shape, bool), None
    cx, cy, r = place_lesion(rng, shape, label)
    intensity, mask = lesion(rng, shape, cx, cy, r, label)
    return to_uint8(np.maximum(bg, intensity)), mask, (cx, cy, r)   # the denser wins
