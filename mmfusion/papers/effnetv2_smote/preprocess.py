"""The paper's inputs: the ROI image (every mask OR-merged, multiplied into the image at its stored
resolution, then resized bilinearly) or the plain image, cached by content; exact-copy grouping for
the MRI set; SMOTE on the training images. Normal BUSI images have empty masks, so their ROI image
is all black (the report says so beside that cell)."""
import numpy as np
import pandas as pd
from PIL import Image

from mmfusion.data.cache import cached
from mmfusion.data.decode import decode_images
from mmfusion.data.duplicates import find_duplicates
from mmfusion.data.images import read_image, read_mask
from mmfusion.data.resample import smote_images
from mmfusion.data.splits import merge_groups


def roi_image(image_path, mask_paths, size) -> np.ndarray:
    """``(size, size, 3)`` uint8: the image with every pixel outside the merged mask set to 0."""
    image = read_image(image_path, mode="rgb")
    roi = image * read_mask(list(mask_paths), shape=image.shape[:2])[..., None].astype(np.uint8)
    h, w = (size, size) if np.isscalar(size) else size
    return np.asarray(Image.fromarray(roi).resize((w, h), Image.BILINEAR))


def load_images(frame, size: int, roi: bool, workers: int = 4) -> np.ndarray:
    """``(N, size, size, 3)`` uint8 for every row of a loader frame, ROI or plain. A ROI row without
    masks raises (it would silently become black, like a normal image)."""
    if not roi:
        return decode_images(frame["image_path"], size, channels=3, workers=workers)
    if "mask_paths" not in frame.columns:
        raise ValueError("ROI extraction needs the frame's mask_paths column (BUSI); this dataset has none")
    out = np.zeros((len(frame), size, size, 3), np.uint8)
    for i, (path, masks) in enumerate(zip(frame["image_path"], frame["mask_paths"])):
        if len(masks) == 0:
            raise ValueError(f"row {i} ({path}): no mask file, so no ROI; expected <stem>_mask.png beside it")
        out[i] = roi_image(path, masks, size)
    return out


IMAGES_VERSION = 1   # bump when roi_image / load_images change what they produce


def cached_images(frame, size: int, roi: bool, cache_dir=None) -> np.ndarray:
    """``load_images`` once per (image and mask contents, frame order, size, ROI)."""
    masks = [m for ms in frame["mask_paths"] for m in ms] if roi and "mask_paths" in frame.columns else []
    return cached("effnetv2-smote-images", [*frame["image_path"], *masks],
                  lambda: {"x": load_images(frame, size, roi)}, cache_dir, size=size, roi=roi,
                  order=frame["sample_id"].astype(str).tolist(), version=IMAGES_VERSION)["x"]


def group_exact_copies(frame):
    """(frame, info): pixel-identical images share ``group_id``, so a split keeps them on one side.
    Exact copies only: neighbouring MRI slices are near copies by dHash, and grouping them would chain
    most of the set into one group. Frames that carry ``duplicate_group`` (BUSI) are only counted."""
    if "duplicate_group" not in frame.columns:
        dup = pd.Series(find_duplicates(frame["image_path"], near=False).group_ids)
        sizes = dup.map(dup.value_counts())
        frame = frame.assign(duplicate_group=[f"dup-{g}" if s > 1 else None for g, s in zip(dup, sizes)])
        frame["group_id"] = merge_groups(frame["group_id"], frame["duplicate_group"]).astype(str)
    groups = frame["duplicate_group"].dropna()
    mixed = frame.dropna(subset=["duplicate_group"]).groupby("duplicate_group")["label"].nunique() > 1
    return frame, {"rows": len(frame), "duplicate_images": int(len(groups) - groups.nunique()),
                   "duplicate_groups": int(groups.nunique()), "groups_spanning_classes": int(mixed.sum())}


def oversample(x, y, k: int, seed: int):
    """SMOTE on the flattened training images: (x, y, k used, note). k is lowered (and the note
    says so) when the smallest class has k or fewer images; SMOTE is skipped below 2."""
    smallest, note = int(np.bincount(y).min()), ""
    if smallest <= k:
        note = f"SMOTE k lowered from {k} to {smallest - 1} (smallest training class has {smallest} images)"
        k = smallest - 1
    if k < 1:
        return x, y, None, "SMOTE skipped (a training class has a single image)"
    return (*smote_images(x, y, k=k, seed=seed), k, note)
