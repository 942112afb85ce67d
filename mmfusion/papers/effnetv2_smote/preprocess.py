"""The paper's inputs: the ROI image (image x merged binary mask) or the plain image, resized.

ROI: every mask of the image OR-merged (``images.read_mask``), multiplied into the image at its
stored resolution, then resized bilinearly to ``size``. Normal BUSI images have empty masks, so
their ROI image is all black: with ROI on and the normal class in, "normal" is trivially
separable (the report says so beside that cell).
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from mmfusion.data.images import read_image, read_mask


def roi_image(image_path, mask_paths, size) -> np.ndarray:
    """``(size, size, 3)`` uint8: the image with every pixel outside the merged mask set to 0."""
    image = read_image(image_path, mode="rgb")
    mask = read_mask(list(mask_paths), shape=image.shape[:2])
    roi = image * mask[..., None].astype(np.uint8)
    h, w = (size, size) if np.isscalar(size) else size
    if roi.shape[:2] == (h, w):
        return roi
    return np.asarray(Image.fromarray(roi).resize((w, h), Image.BILINEAR))


def load_images(frame, size: int, roi: bool, workers: int = 4) -> np.ndarray:
    """``(N, size, size, 3)`` uint8 for every row of a loader frame, ROI or plain.

    ROI needs ``mask_paths``; a row without masks raises (an image without a mask file would
    silently become black, indistinguishable from a normal image).
    """
    from mmfusion.data.decode import decode_images

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
