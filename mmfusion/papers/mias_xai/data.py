"""MIAS frame -> preprocessed crops (cached), the two splits and the augmented training set.

The per-image OpenCV work runs once per (file list, crop size) and is cached as one .npz, so the
10 retrainings and the class-weight search reuse the same arrays.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.papers.mias_xai import preprocess as P

CLASS_NAMES = ("normal", "benign", "malignant")


@dataclasses.dataclass
class Crops:
    """One row per kept image, in the order of the loader's frame."""

    images: np.ndarray          # (N, S, S, 3) uint8
    labels: np.ndarray          # (N,) int
    sample_ids: np.ndarray      # (N,) str
    groups: np.ndarray          # (N,) str: patient id (left/right breast of one woman)
    lesions: np.ndarray         # (N, S, S) bool; all False for normal images
    skipped: dict               # reason -> [sample ids]

    def __len__(self):
        return len(self.labels)

    def counts(self) -> dict:
        return {CLASS_NAMES[c]: int((self.labels == c).sum()) for c in range(len(CLASS_NAMES))}


def _roi(row):
    if row["label"] == 0:
        return None
    return float(row["x"]), float(row["y"]), float(row["radius"])


def _fingerprint(frame: pd.DataFrame, out_size: int) -> str:
    h = hashlib.sha1(f"mias-xai-crops-v1 {out_size}".encode())
    for row in frame.itertuples():
        stat = os.stat(row.image_path)
        h.update(f"{row.sample_id} {row.label} {row.x} {row.y} {row.radius} {stat.st_size} "
                 f"{int(stat.st_mtime)}".encode())
    return h.hexdigest()[:16]


def make_crops(frame: pd.DataFrame, out_size: int = P.PAPER_SIZE, progress: bool = True) -> Crops:
    """Run the authors' preprocessing on every image of a ``load_dataset('mias', label_rule='first')``
    frame. Abnormal images without coordinates and dropped crops are counted in ``skipped``."""
    from mmfusion.data.images import read_image
    from mmfusion.utils.progress import tqdm

    skipped = {"abnormal_without_coordinates": [], "dropped_crop": []}
    images, labels, ids, groups, lesions = [], [], [], [], []
    rows = frame.to_dict("records")
    for row in tqdm(rows, desc="mias-xai preprocessing", disable=not progress):
        if row["label"] != 0 and (row["x"] is None or pd.isna(row["x"])):
            skipped["abnormal_without_coordinates"].append(row["sample_id"])
            continue
        film = read_image(row["image_path"], mode="gray")
        crop = P.preprocess_film(film, _roi(row), out_size=out_size)   # coordinates: 1024 frame
        if crop is None:
            skipped["dropped_crop"].append(row["sample_id"])
            continue
        mask = P.lesion_mask(crop, out_size)
        images.append(crop.image)
        labels.append(int(row["label"]))
        ids.append(str(row["sample_id"]))
        groups.append(str(row["group_id"]))
        lesions.append(np.zeros((out_size, out_size), bool) if mask is None else mask)
    if not images:
        raise ValueError(f"no MIAS image survived preprocessing (skipped: "
                         f"{ {k: len(v) for k, v in skipped.items()} })")
    return Crops(np.stack(images), np.asarray(labels), np.asarray(ids), np.asarray(groups),
                 np.stack(lesions), skipped)


def cached_crops(frame: pd.DataFrame, out_size: int, cache_dir) -> Crops:
    """``make_crops`` once per file list and size; later calls read the .npz."""
    from mmfusion.utils.io import atomic_save

    path = Path(cache_dir) / f"mias-xai-crops-{out_size}-{_fingerprint(frame, out_size)}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return Crops(z["images"], z["labels"], z["sample_ids"], z["groups"], z["lesions"],
                         json.loads(str(z["skipped"])))
    crops = make_crops(frame, out_size)
    atomic_save(path, lambda tmp: np.savez_compressed(
        tmp, images=crops.images, labels=crops.labels, sample_ids=crops.sample_ids,
        groups=crops.groups, lesions=crops.lesions, skipped=json.dumps(crops.skipped)), suffix=".npz")
    return crops


def splits(crops: Crops, seed: int = 44) -> dict:
    """{"stratified": the authors' two-step split (random_state 44), "patient": patient-grouped}."""
    from mmfusion.data.splits import paper_two_step_split, train_val_test_split

    return {"stratified": paper_two_step_split(crops.labels, first_holdout=0.3, random_state=seed),
            "patient": train_val_test_split(crops.labels, groups=crops.groups, ratios=(0.7, 0.15, 0.15),
                                            seed=seed)}
