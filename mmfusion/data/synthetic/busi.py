"""BUSI twin: ``Dataset_BUSI_with_GT/{benign,malignant,normal}/`` PNGs with ``_mask`` / ``_mask_1`` masks.
As the real data: gray RGB PNGs of various sizes; masks 1-bit, L, RGBA, or all-zero RGB for
normal images; one benign image with a second lesion in ``_mask_1``; one planted exact duplicate.
Speckled tissue with a dark (hypoechoic) lesion: smooth oval = benign, spiculated = malignant."""
from pathlib import Path

import numpy as np
from PIL import Image

from mmfusion.data.synthetic import shapes

DEFAULT_N = 36
FOLDER = "Dataset_BUSI_with_GT"
SHARES = (("benign", 0.5), ("malignant", 0.28), ("normal", 0.22))  # ~ 437 / 210 / 133
MASK_MODES = ("1", "1", "L", "RGBA")


def _ultrasound(rng, shape):
    """Speckle (multiplicative noise) over smooth tissue, darker towards the bottom."""
    tissue = shapes.tissue(rng, shape, base=0.55, contrast=0.2, grain=0.0)
    depth = np.linspace(1.0, 0.75, shape[0], dtype=np.float32)[:, None]
    speckle = 1 + 0.25 * rng.standard_normal(shape).astype(np.float32)  # mild: keeps lesions visible at 32 px
    return np.clip(tissue * depth * speckle, 0, 1)


def write(out_dir, n: int = DEFAULT_N, seed: int = 0) -> Path:
    if n < 8:
        raise ValueError(f"the BUSI twin needs n >= 8 (got {n}) for its planted duplicate and _mask_1 image")
    rng = np.random.default_rng(seed)
    folder = Path(out_dir) / FOLDER
    counts = {name: max(2, int(round(share * n))) for name, share in SHARES}
    counts["benign"] += n - sum(counts.values())
    for name, count in counts.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        label = {"benign": shapes.BENIGN, "malignant": shapes.MALIGNANT}.get(name)
        for k in range(1, count + 1):
            shape = (int(rng.integers(96, 144)), int(rng.integers(112, 176)))
            img = _ultrasound(rng, shape)
            masks = [np.zeros(shape, bool)] if label is None else []
            n_lesions = 0 if label is None else 2 if (name == "benign" and k == 2) else 1   # one _mask_1
            for _ in range(n_lesions):
                r = 1.8 * shapes.lesion_radius(rng, label, min(shape))  # ultrasound lesions fill the view
                cx, cy, r = shapes.place_lesion(rng, shape, label, margin=0.1, radius=r)
                intensity, mask = shapes.lesion(rng, shape, cx, cy, r, label)
                img = img * (1 - 0.9 * np.clip(intensity / 0.7, 0, 1))  # hypoechoic: dark lesion
                masks.append(mask)
            gray = shapes.to_uint8(img)
            if name == "benign" and k == 1:
                first_benign = gray, masks
            if name == "benign" and k == count:   # planted exact duplicate of benign (1)
                gray, masks = first_benign
            Image.fromarray(np.dstack([gray] * 3), "RGB").save(folder / name / f"{name} ({k}).png")
            for j, mask in enumerate(masks):
                suffix = "_mask" if j == 0 else f"_mask_{j}"
                mode = "RGB" if label is None else MASK_MODES[k % len(MASK_MODES)]
                m8 = Image.fromarray(mask.astype(np.uint8) * 255, "L")
                m8.convert(mode).save(folder / name / f"{name} ({k}){suffix}.png")
    return Path(out_dir)
