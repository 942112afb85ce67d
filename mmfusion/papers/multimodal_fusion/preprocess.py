"""Paper inputs from a CBIS-DDSM frame: square lesion crops (the ROI mask's bounding box squared and
zero-padded; without a usable mask the dataset's own crop, then the full image, each fallback
counted) and the 36-d clinical matrix, cached by content; the paper's sample filters."""
import collections
import json
from pathlib import Path

import numpy as np
from PIL import Image

from mmfusion.data.cache import cached
from mmfusion.data.cbis_ddsm import clinical_matrix
from mmfusion.data.clinical import CLINICAL_GROUPS
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


CROPS_VERSION = 1    # bump when lesion_crop changes what it writes


def cached_inputs(frame, size: int, cache_dir=None):
    """-> (images uint8 (N, size, size, 3), clinical float32 (N, 36), crop-source counts), computed
    once per (file contents, rows, size) through the core cache."""
    records = frame.to_dict("records")
    files = [p for rec in records for p in (rec["image_path"], *(rec.get("mask_paths") or []),
                                            rec.get("crop_path") or "") if p]

    def build():
        counts = collections.Counter()
        images = np.stack([lesion_crop(rec, size, counts) for rec in records])
        return {"images": images, "clinical": clinical_matrix(frame),
                "counts": np.asarray(json.dumps(counts))}

    z = cached("multimodal-fusion-crops", files, build, cache_dir,
               rows=frame["sample_id"].astype(str).tolist(), size=size, version=CROPS_VERSION)
    return z["images"], z["clinical"], json.loads(str(z["counts"]))


def single_label(frame):
    """The paper's "we solely take single-label clinical characteristics into account": the rows
    whose every clinical group has at most one hot slot (no combined CSV value such as ROUND-OVAL)
    -> (kept frame, skip counts by the first multi-label group)."""
    groups = [[g for g, s in CLINICAL_GROUPS.items() if row[s].sum() > 1] for row in clinical_matrix(frame)]
    counts = collections.Counter(f"multi-label {gs[0]}" for gs in groups if gs)
    return frame[[not g for g in groups]].copy(), dict(counts)


def bait_and_switch(clinical: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The paper's "bait and switch, when clinical characteristics are withheld for a subset of
    training samples", as we read it: a fixed, seeded ``fraction`` of the training samples gets the
    all-zero clinical vector (absent features) in every epoch; unlike modality dropout (in the
    network, redrawn per step) always the same samples. -> (copy with those rows zeroed, indices)."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(clinical), int(round(fraction * len(clinical))), replace=False))
    out = clinical.copy()
    out[idx] = 0.0
    return out, idx


def unit_counts(frame) -> dict:
    """Abnormalities (CSV rows) and mammograms (distinct full images) per type and official split:
    the paper's 1231/361 mass and 1227/284 calcification counts are mammograms."""
    out = {"abnormalities": {}, "mammograms": {}}
    for (kind, split), part in frame.groupby(["abnormality_type", "split"], sort=True):
        out["abnormalities"][f"{kind} {split}"] = int(len(part))
        out["mammograms"][f"{kind} {split}"] = int(part["full_image_id"].nunique())
    return out


def one_per_mammogram(frame):
    """The paper's unit: one sample per mammogram (type and full image). A mammogram with several
    abnormalities keeps its first (lowest abnormality id): its ROI crop, clinical vector and
    pathology. -> (kept frame, number of abnormalities left out)."""
    order = frame.assign(_aid=frame["abnormality_id"].astype(int)).sort_values(
        ["abnormality_type", "full_image_id", "_aid"], kind="stable")
    first = order.drop_duplicates(["abnormality_type", "full_image_id"]).index
    kept = frame.loc[frame.index.isin(first)].copy()
    return kept, len(frame) - len(kept)
