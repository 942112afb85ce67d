"""HAM10000 and ISIC 2019 twins: the label CSVs as distributed and small dermoscopy-like JPEGs.
Each diagnosis has its own lesion colour and outline, age and site distributions; 1-3 images per
lesion. HAM quirks: ``.jpg`` on some ids, a ``dataset`` column, empty ages, part_1 / part_2 plus
a lower-case copy of part_1. ISIC: one-hot float labels, empty cells, ``_downsampled`` ids."""
import csv
from pathlib import Path

import numpy as np
from PIL import Image

from mmfusion.data.synthetic import shapes

DEFAULT_N = 140
SIDE = 64
# dx: (lesion RGB, malignant outline, mean age, sites)
HAM_STYLE = {
    "akiec": ((200, 70, 60), True, 68, ("face", "scalp", "neck")),
    "bcc": ((220, 140, 160), True, 66, ("face", "neck", "back")),
    "bkl": ((170, 120, 80), False, 60, ("chest", "trunk", "face")),
    "df": ((150, 110, 90), False, 42, ("lower extremity",)),
    "mel": ((40, 25, 20), True, 58, ("back", "upper extremity", "trunk")),
    "nv": ((110, 70, 40), False, 38, ("back", "trunk", "abdomen")),
    "vasc": ((150, 30, 90), False, 48, ("lower extremity", "hand")),
}
ISIC_OF_HAM = {dx: "AK" if dx == "akiec" else dx.upper() for dx in HAM_STYLE}
ISIC_SITES = {"face": "head/neck", "scalp": "head/neck", "neck": "head/neck", "back": "posterior torso",
              "chest": "anterior torso", "trunk": "anterior torso", "abdomen": "anterior torso",
              "upper extremity": "upper extremity", "lower extremity": "lower extremity",
              "hand": "palms/soles"}


def _image(rng, dx: str) -> np.ndarray:
    colour, malignant, _, _ = HAM_STYLE[dx]
    shape = (SIDE, SIDE)
    cx, cy, r = shapes.place_lesion(rng, shape, int(malignant), margin=0.15)
    intensity, _ = shapes.lesion(rng, shape, cx, cy, r, int(malignant))
    alpha = np.clip(intensity / max(float(intensity.max()), 1e-6), 0, 1)[..., None]
    skin = np.array([225, 180, 150], np.float32) * (0.9 + 0.2 * shapes.smooth_noise(rng, shape, 6))[..., None]
    rgb = skin * (1 - alpha) + np.array(colour, np.float32) * alpha
    rgb += rng.normal(0, 4, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _samples(rng, n: int, classes) -> list[dict]:
    """Lesions of 1-3 images each until ``n`` images; dx cycles so every class is present."""
    out, lesion = [], 0
    while len(out) < n:
        dx = classes[lesion % len(classes)]
        _, _, mean_age, sites = HAM_STYLE[dx]
        age = float(np.clip(np.round(rng.normal(mean_age, 8) / 5) * 5, 5, 85))
        sex, site = str(rng.choice(["male", "female", "male",
                                    "unknown"][: 3 + (lesion % 7 == 0)])), str(rng.choice(sites))
        for _ in range(min(int(rng.integers(1, 4)), n - len(out))):
            out.append({"lesion": lesion, "dx": dx, "age": age, "sex": sex, "site": site,
                        "image": _image(rng, dx)})
        lesion += 1
    return out


def _save(img: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path, quality=90)


def write_ham10000(out_dir, n: int = DEFAULT_N, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    root = Path(out_dir) / "ham10000"
    rows = []
    for i, s in enumerate(_samples(rng, int(n), tuple(HAM_STYLE))):
        image_id = f"ISIC_{24306 + i:07d}"
        part = "HAM10000_images_part_1" if i % 2 == 0 else "HAM10000_images_part_2"
        _save(s["image"], root / part / f"{image_id}.jpg")
        if part.endswith("1"):   # the Kaggle zip repeats part_1 in a lower-case folder
            _save(s["image"], root / part.lower() / f"{image_id}.jpg")
        age = "" if i % 23 == 11 else str(int(s["age"]))
        rows.append([f"HAM_{s['lesion']:07d}", image_id + (".jpg" if i % 9 == 4 else ""), s["dx"],
                     ("histo", "follow_up", "consensus")[i % 3], age, s["sex"], s["site"], "vidir_modern"])
    with open(root / "HAM10000_metadata.csv", "w", newline="") as f:
        csv.writer(f).writerows([["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization",
                                  "dataset"], *rows])
    return root


def write_isic2019(out_dir, n: int = DEFAULT_N, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed + 1)
    root = Path(out_dir) / "isic2019"
    images = root / "ISIC_2019_Training_Input" / "ISIC_2019_Training_Input"
    classes = ("MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC", "UNK")
    truth, meta = [], []
    for i, s in enumerate(_samples(rng, int(n), tuple(HAM_STYLE) + ("akiec",))):
        label = "SCC" if (s["dx"] == "akiec" and s["lesion"] % 2) else ISIC_OF_HAM[s["dx"]]
        image_id = f"ISIC_{i:07d}" + ("_downsampled" if i % 11 == 3 else "")
        _save(s["image"], images / f"{image_id}.jpg")
        truth.append([image_id] + [f"{float(c == label):.1f}" for c in classes])
        lesion = "" if i % 13 == 6 else f"BCN_{s['lesion']:07d}"
        age = "" if i % 17 == 2 else f"{s['age']:.1f}"
        meta.append([image_id, age, ISIC_SITES.get(s["site"], ""), lesion,
                     "" if s["sex"] == "unknown" else s["sex"]])
    with open(root / "ISIC_2019_Training_GroundTruth.csv", "w", newline="") as f:
        csv.writer(f).writerows([["image", *classes], *truth])
    with open(root / "ISIC_2019_Training_Metadata.csv", "w", newline="") as f:
        csv.writer(f).writerows([["image", "age_approx", "anatom_site_general", "lesion_id", "sex"], *meta])
    return root
