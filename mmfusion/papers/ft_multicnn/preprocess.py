"""Model inputs of ft-multicnn: the §3.2.3 albumentations augmentation (seeded from the pipeline's
per-sample seed, so a resumed run replays the same images) and the §3.3 CAM inputs (Grad-CAM of a
trained CNN, min-max to 0..255, OpenCV JET; cached by model weights, CAM layer and images)."""
import hashlib
import json
import threading
import warnings

import cv2
import numpy as np
import tensorflow as tf

from mmfusion.data.cache import cached_arrays
from mmfusion.data.metadata import age_columns, norm_value
from mmfusion.xai import GradCAM

COLORMAP = cv2.COLORMAP_JET
_local = threading.local()     # one Compose per pipeline thread and setting: reseeding is then race-free


def paper_transforms(normalize: bool = False):
    """The §3.2.3 list (albumentations 2.x names for the paper's RandomBrightness/RandomContrast);
    ``normalize`` adds its ``Normalize(max_pixel_value=255.0, p=0.5)`` (library default mean/std)."""
    import albumentations as A

    with warnings.catch_warnings():
        # ShiftScaleRotate is deprecated in favour of Affine (warned from its validator); the paper names it
        warnings.filterwarnings("ignore", message="ShiftScaleRotate is a special case", category=UserWarning)
        shift_scale_rotate = A.ShiftScaleRotate(shift_limit=0.1, scale_limit=0.1, rotate_limit=15,
                                                border_mode=0, p=0.85)
    normalize_step = [A.Normalize(max_pixel_value=255.0, p=0.5)] if normalize else []
    return A.Compose([
        A.Transpose(p=0.5), A.VerticalFlip(p=0.5), A.HorizontalFlip(p=0.5),
        A.Rotate(p=0.5),                                   # default limit ±90°, border 0
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.0, p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0.0, contrast_limit=0.2, p=0.5),
        A.GaussianBlur(blur_limit=5, p=0.25), *normalize_step, shift_scale_rotate])


def seed_int(seed) -> int:
    """One 32-bit albumentations seed from the pipeline's int64 [2] seed."""
    return int(np.random.SeedSequence([int(s) & 0xFFFFFFFFFFFFFFFF
                                       for s in np.ravel(seed)]).generate_state(1)[0])


def augment_array(image: np.ndarray, seed, normalize: bool = False) -> np.ndarray:
    """Augment one (H, W, 3) uint8 image with the paper's transforms, deterministically in ``seed``."""
    composes = _local.__dict__.setdefault("composes", {})
    if normalize not in composes:
        composes[normalize] = paper_transforms(normalize)
    composes[normalize].set_random_seed(seed_int(seed))
    return composes[normalize](image=np.ascontiguousarray(image, np.uint8))["image"]


def paper_augment(image, seed, normalize: bool = False):
    """``augment(image, seed)`` for TrainConfig: float32 out (0..255, or normalised for the share
    that the paper's Normalize(p=0.5) hits), shape kept."""
    def run(img, s):
        return augment_array(np.clip(img, 0, 255).astype(np.uint8), s, normalize).astype(np.float32)

    out = tf.numpy_function(run, [image, seed], tf.float32, stateful=False)
    out.set_shape(image.shape)
    return out


def paper_augment_normalized(image, seed):
    """``paper_augment`` with the paper's Normalize(max_pixel_value=255.0, p=0.5)."""
    return paper_augment(image, seed, normalize=True)


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
    """Grad-CAM (predicted class) of ``images`` as (N, H, W) uint8 in 0..255 -> ``(maps, info)``;
    ``info`` has the cache ``key``, whether it was a ``hit`` and the seconds per image."""
    key = f"{model_key(model, layer_name or '')}-{images_key(images)}"
    seconds = {}

    def build():
        explainer = GradCAM(model, layer_name=layer_name, batch_size=batch_size)
        maps = minmax_uint8(explainer(np.asarray(images, np.float32)))
        seconds["per_image"] = explainer.last_seconds_per_image
        return {"maps": maps}

    maps = cached_arrays("ft-multicnn-cams", key, build, cache_dir)["maps"]
    return maps, {"key": key, "hit": not seconds, "seconds_per_image": seconds.get("per_image")}


def model_inputs(kind: str, images, maps_u8, alpha: float = 0.4) -> np.ndarray:
    """The image the classifier sees: ``raw`` images, the RGB ``heatmap`` or the ``overlay``."""
    if kind == "raw":
        return np.asarray(images, np.uint8)
    if kind not in ("heatmap", "overlay"):
        raise ValueError(f"input must be raw, heatmap or overlay, got {kind!r}")
    heat = colorize(maps_u8)
    return heat if kind == "heatmap" else overlay(images, heat, alpha)


_REGION_SITES = {   # HAM10000 localization, then ISIC 2019 anatom_site_general
    "head_neck": ("scalp", "face", "ear", "neck", "head/neck"),
    "trunk": ("back", "trunk", "chest", "abdomen", "genital", "anterior torso", "posterior torso",
              "lateral torso", "oral/genital"),
    "extremity": ("upper extremity", "lower extremity", "hand", "foot", "acral", "palms/soles"),
}
SITE_REGIONS = {site: region for region, sites in _REGION_SITES.items() for site in sites}


def encode_seven(frame) -> np.ndarray:
    """The paper feeds "7 features (age, sex, localization, ...)" without listing them; ours, float32 (N, 7):
    age, age missing, male, female, head/neck, trunk, extremity; an 'unknown' sex or site leaves its
    slots 0; sites map to the three body regions by ``SITE_REGIONS``."""
    out = np.zeros((len(frame), 7), np.float32)
    out[:, :2] = age_columns(frame, 100.0)
    sex = [norm_value(s) for s in frame["sex"]]
    out[:, 2] = [s == "male" for s in sex]
    out[:, 3] = [s == "female" for s in sex]
    regions = [SITE_REGIONS.get(norm_value(site)) for site in frame["site"]]
    for j, region in enumerate(_REGION_SITES):      # head_neck, trunk, extremity
        out[:, 4 + j] = [r == region for r in regions]
    return out
