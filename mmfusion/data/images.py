"""Images and masks as the datasets ship them: PGM, PNG (RGB, L, 1-bit, RGBA), JPEG, DICOM.
Sizes are ``(height, width)`` or one int; an undecodable file raises ``DatasetError`` naming it."""
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from mmfusion.data.common import DatasetError

DICOM_SUFFIXES = (".dcm", ".dicom")
FLOAT_MODES = ("I;16", "I;16B", "I;16L", "I", "F")   # 16-bit PGM / PNG: values kept as float
ALPHA_MODES = ("RGBA", "LA", "P", "PA")


def _hw(size):
    h, w = (size, size) if np.isscalar(size) else size
    return int(h), int(w)


def is_dicom(path) -> bool:
    """By suffix, or by the ``DICM`` magic at byte 128 (NBIA files always carry the preamble)."""
    if Path(path).suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with open(path, "rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def _open_pil(path, decode: bool = True) -> Image.Image:
    """The opened image, decoded now (PIL decodes lazily) so that truncation shows up here."""
    try:
        img = Image.open(path)
        if decode:
            img.load()
    except FileNotFoundError:
        raise DatasetError("image file not found", path=path) from None
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as err:
        raise DatasetError(f"cannot decode image ({err}); the file is corrupt, truncated or not an image"
                           if decode else f"cannot read image header ({err})", path=path) from None
    return img


def read_dicom(path) -> np.ndarray:
    """Pixel data as float32 after RescaleSlope/Intercept; MONOCHROME1 is inverted so bright = dense."""
    import pydicom

    try:
        ds = pydicom.dcmread(str(path))
        arr = ds.pixel_array.astype(np.float32)
    except FileNotFoundError:
        raise DatasetError("DICOM file not found", path=path) from None
    except Exception as err:  # pydicom raises many types for broken files
        raise DatasetError(f"cannot decode DICOM ({type(err).__name__}: {err})", path=path) from None
    arr = arr * float(getattr(ds, "RescaleSlope", 1) or 1) + float(getattr(ds, "RescaleIntercept", 0) or 0)
    if str(getattr(ds, "PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        arr = arr.max() - arr + arr.min()
    return arr


def read_dicom_header(path, read):
    """``read(header)`` of a DICOM file read without its pixels; errors name the file."""
    import pydicom

    try:
        return read(pydicom.dcmread(str(path), stop_before_pixels=True))
    except Exception as err:  # pydicom raises many types for broken files
        raise DatasetError(f"cannot read DICOM header ({err})", path=path) from None


def window_to_uint8(arr: np.ndarray, window=None) -> np.ndarray:
    """Linear map of ``window=(low, high)`` to 0..255, clipped. Default window: the image's min..max."""
    arr = np.asarray(arr, np.float32)
    low, high = (float(arr.min()), float(arr.max())) if window is None else map(float, window)
    if high <= low:
        return np.zeros(arr.shape, np.uint8)
    return np.clip(np.round((arr - low) * (255.0 / (high - low))), 0, 255).astype(np.uint8)


def _resize(arr: np.ndarray, size, resample) -> np.ndarray:
    h, w = size
    if arr.shape[:2] == (h, w):
        return arr
    if arr.dtype == np.uint8:
        return np.asarray(Image.fromarray(arr).resize((w, h), resample))
    chans = [arr] if arr.ndim == 2 else [arr[..., c] for c in range(arr.shape[-1])]
    out = [np.asarray(Image.fromarray(c.astype(np.float32), "F").resize((w, h), resample)) for c in chans]
    return out[0] if arr.ndim == 2 else np.stack(out, axis=-1)


def read_image(path, mode: str = "rgb", size=None, dtype=np.uint8) -> np.ndarray:
    """``(H, W, 3)`` ("rgb") or ``(H, W)`` ("gray"), resized bilinearly; uint8 maps 16-bit files min..max."""
    if mode not in ("rgb", "gray"):
        raise ValueError(f"mode must be 'rgb' or 'gray', got {mode!r}")
    img = None if is_dicom(path) else _open_pil(path)
    if img is None or img.mode in FLOAT_MODES:
        arr = read_dicom(path) if img is None else np.asarray(img, dtype=np.float32)
        if arr.ndim == 3 and arr.shape[-1] == 3 and mode == "gray":
            arr = arr.mean(axis=-1)
        elif arr.ndim == 2 and mode == "rgb":
            arr = np.repeat(arr[..., None], 3, axis=-1)
    else:
        if img.mode in ALPHA_MODES and mode == "rgb":   # transparent = black
            img = Image.alpha_composite(Image.new("RGBA", img.size, (0, 0, 0, 255)), img.convert("RGBA"))
        arr = np.asarray(img.convert("RGB" if mode == "rgb" else "L"))
    if np.dtype(dtype) == np.uint8 and arr.dtype != np.uint8:
        arr = window_to_uint8(arr)
    if size is not None:
        arr = _resize(arr, _hw(size), Image.BILINEAR)
    return arr.astype(dtype, copy=False)


def image_size(path) -> tuple[int, int]:
    """``(height, width)`` from the header only (cheap; used to check masks against images)."""
    if is_dicom(path):
        return read_dicom_header(path, lambda ds: (int(ds.Rows), int(ds.Columns)))
    with _open_pil(path, decode=False) as img:
        return img.size[1], img.size[0]


def binarise_mask(img: Image.Image) -> np.ndarray:
    """Foreground = any colour channel lit above half the value range (transparent = background)."""
    if img.mode in FLOAT_MODES:
        arr = np.asarray(img, dtype=np.float32)
        return arr > (0 if arr.max() <= 1 else arr.max() / 2)
    if img.mode in ALPHA_MODES:
        rgba = np.asarray(img.convert("RGBA"))
        value = np.where(rgba[..., 3] > 127, rgba[..., :3].max(axis=-1), 0)
    else:
        value = np.asarray(img.convert("RGB")).max(axis=-1)
    return value > (0 if value.max() <= 1 else 127)


def read_mask(paths, shape=None, report=None) -> np.ndarray:
    """The OR of the mask files as bool ``(H, W)``; one of another ``shape`` is resized, with a warning."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths and shape is None:
        raise DatasetError("read_mask needs at least one mask file or a shape")
    target = None if shape is None else _hw(shape)
    merged = None if target is None else np.zeros(target, bool)
    for path in paths:
        # CBIS-DDSM TCIA ROI masks are 16-bit DICOM with values 0 / max
        mask = window_to_uint8(read_dicom(path)) > 127 if is_dicom(path) else binarise_mask(_open_pil(path))
        target = target or mask.shape
        if mask.shape != target:
            message = (f"{path}: mask size {mask.shape[1]}x{mask.shape[0]} differs from image size "
                       f"{target[1]}x{target[0]}; resized nearest-neighbour")
            if report is not None:
                report.warn(message)
            else:
                warnings.warn(message, stacklevel=2)
            mask = _resize(mask.astype(np.uint8), target, Image.NEAREST).astype(bool)
        merged = mask if merged is None else merged | mask
    return merged


def circle_mask(shape, x: float, y: float, r: float) -> np.ndarray:
    """Bool ``(H, W)`` disc of radius ``r`` centred on column ``x``, row ``y`` (image coordinates)."""
    h, w = _hw(shape)
    rows, cols = np.ogrid[:h, :w]
    return (cols - x) ** 2 + (rows - y) ** 2 <= r ** 2
