"""Paper inputs from a CBIS-DDSM frame: square lesion crops (uint8, size x size x 3) and the 36-d
clinical matrix, cached as .npz beside the run so that the ten models read the images once.

The crop is the ROI mask's bounding box squared and zero-padded (mmfusion.data.lesion_crop). A row
without a usable mask falls back to the dataset's own cropped image, then to the full image; every
fallback is counted in the returned report, never silent.
"""
from __future__ import annotations

import collections
import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from mmfusion.data.cbis_ddsm import clinical_matrix
from mmfusion.data.images import read_image, read_mask
from mmfusion.data.lesion_crop import crop_lesion


def _resize(arr: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(arr).resize((size, size), Image.BILINEAR))


def lesion_crop(rec: dict, size: int, counts: collections.Counter) -> np.ndarray:
    """One row's crop; ``counts`` records which source was used."""
    image = read_image(rec["image_path"], mode="rgb")
    masks = list(rec.get("mask_paths") or [])
    if masks:
        mask = read_mask(masks, shape=image.shape[:2])
        if mask.any():
            counts["roi_mask_crop"] += 1
            return _resize(crop_lesion(image, mask), size)
        counts["empty_mask"] += 1
    crop_path = rec.get("crop_path") or ""
    if crop_path and Path(crop_path).is_file():
        counts["fallback_dataset_crop"] += 1
        return _resize(read_image(crop_path, mode="rgb"), size)
    counts["fallback_full_image"] += 1
    return _resize(image, size)


def _key(frame, size) -> str:
    h = hashlib.sha1(f"{size}".encode())
    for sid, path in zip(frame["sample_id"], frame["image_path"]):
        h.update(f"{sid}|{path}\n".encode())
    return h.hexdigest()[:16]


def paper_inputs(frame, size: int, cache_dir=None):
    """-> (images uint8 (N, size, size, 3), clinical float32 (N, 36), report dict)."""
    path = Path(cache_dir) / f"cbis-crops-{_key(frame, size)}.npz" if cache_dir else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return z["images"], z["clinical"], {k: int(v) for k, v in zip(z["count_keys"], z["count_values"])}
    counts = collections.Counter()
    images = np.stack([lesion_crop(rec, size, counts) for rec in frame.to_dict("records")])
    clinical = clinical_matrix(frame)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, images=images, clinical=clinical, count_keys=np.array(list(counts), dtype=str),
                 count_values=np.array(list(counts.values()), dtype=np.int64))
        tmp.replace(path)
    return images, clinical, dict(counts)
