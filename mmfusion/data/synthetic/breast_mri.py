"""Breast-MRI twin: ``Breast Cancer Patients MRI's/{train,validation}/{Healthy,Sick}/*.jpg``.
Gray RGB 128 x 128 JPEGs of two breast ovals; Sick slices carry a bright irregular lesion. About
75 % train / 25 % validation, classes balanced; file names repeat across classes, as in the real data."""
from pathlib import Path

import numpy as np
from PIL import Image

from mmfusion.data.synthetic import shapes

DEFAULT_N = 40
FOLDER = "Breast Cancer Patients MRI's"
SIDE = 128


def _slice(rng, sick: bool) -> np.ndarray:
    rows, cols = np.mgrid[:SIDE, :SIDE]
    inside = np.zeros((SIDE, SIDE), bool)
    for cx in (0.3 * SIDE, 0.7 * SIDE):
        inside |= ((cols - cx) / (0.2 * SIDE)) ** 2 + ((rows - 0.45 * SIDE) / (0.28 * SIDE)) ** 2 <= 1
    img = np.where(inside, shapes.tissue(rng, (SIDE, SIDE), base=0.3), 0.0).astype(np.float32)
    if sick:
        cx = (0.3 if rng.integers(2) == 0 else 0.7) * SIDE + rng.uniform(-6, 6)
        cy = 0.45 * SIDE + rng.uniform(-10, 10)
        intensity, _ = shapes.lesion(rng, (SIDE, SIDE), cx, cy, rng.uniform(7, 11), shapes.MALIGNANT)
        img = np.maximum(img, intensity * inside)
    return shapes.to_uint8(img)


def write(out_dir, n: int = DEFAULT_N, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    root = Path(out_dir)
    n_val = max(4, n // 4)
    for split, count in (("train", n - n_val), ("validation", n_val)):
        for cls_index, cls in enumerate(("Healthy", "Sick")):
            folder = root / FOLDER / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            k = count // 2 + (count % 2 if cls_index else 0)
            # file numbers restart per class, so "1.jpg" exists in Healthy and Sick
            for i in range(1, k + 1):
                gray = _slice(rng, sick=bool(cls_index))
                Image.fromarray(np.dstack([gray] * 3), "RGB").save(folder / f"{i}.jpg", quality=90)
    return root
