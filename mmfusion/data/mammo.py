"""Film clean-up of the MIAS papers (Balve & Hendrix 2024; hmcnet's ``preprocessing="mias-xai"``):
a largest-bright-object breast mask removes film labels and scanner noise, then CLAHE."""
import cv2
import numpy as np


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Grayscale or RGB uint8 -> 3-channel uint8 (the authors loaded 3-channel)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    image = image[..., None] if image.ndim == 2 else image
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"expected an (H, W), (H, W, 1) or (H, W, 3) image, got shape {image.shape}")
    return image if image.shape[-1] == 3 else np.repeat(image, 3, axis=-1)


def remove_noise(image: np.ndarray) -> np.ndarray:
    """Keep only the (dilated) breast region: film labels and scanner noise become black."""
    image = to_rgb(image)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    small = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, small)
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, small)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return np.zeros_like(image)
    mask = np.zeros_like(gray)
    cv2.drawContours(mask, [max(contours, key=cv2.contourArea)], -1, 255, thickness=cv2.FILLED)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (55, 55)))
    return cv2.bitwise_and(image, image, mask=mask)


def apply_clahe(image: np.ndarray, clip: float = 2.0, tiles: int = 8) -> np.ndarray:
    gray = cv2.cvtColor(to_rgb(image), cv2.COLOR_RGB2GRAY)
    return to_rgb(cv2.createCLAHE(clipLimit=clip, tileGridSize=(tiles, tiles)).apply(gray))


def enhance(image: np.ndarray, size: int = 224) -> tuple[np.ndarray, np.ndarray]:
    """Resize, remove noise, CLAHE: (image, tissue), ``tissue`` the pixels not black before CLAHE."""
    image = cv2.resize(to_rgb(image), (size, size), interpolation=cv2.INTER_AREA)
    clean = remove_noise(image)
    return apply_clahe(clean), clean.any(axis=-1)
