"""Grad-CAM, Grad-CAM++ and Score-CAM of a trained fold model on the last conv stage (mmfusion.xai).

Abnormal test films come first (they have a lesion to point at); maps, targets and seconds per
image are saved as ``cams_fold{k}.npz`` / ``.json``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mmfusion.papers.hmcnet.model import last_conv_layer

METHODS = ("GradCAM", "GradCAMPlusPlus", "ScoreCAM")


def pick(frame, k: int) -> np.ndarray:
    """Positions of up to ``k`` films, abnormal (label 1) first, in frame order otherwise."""
    order = np.argsort(-frame["label"].to_numpy(int), kind="stable")
    return order[:k]


def explain_fold(model, name, frame, images, probs, out_dir, fold: int, exp, tag: str = "") -> list:
    import mmfusion.xai as xai
    from mmfusion.utils.io import atomic_save, atomic_write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    idx = pick(frame, exp.cam_images)
    x = images[idx].astype("float32")
    targets = np.asarray(probs)[idx].argmax(1)
    layer = last_conv_layer(name)
    maps, seconds = {}, {}
    for method in METHODS:
        kw = {"max_channels": exp.scorecam_channels} if method == "ScoreCAM" else {}
        explainer = getattr(xai, method)(model, layer_name=layer, batch_size=exp.batch_size, **kw)
        maps[method] = explainer(x, targets)
        seconds[method] = explainer.last_seconds_per_image
    atomic_save(out_dir / f"cams_fold{fold}.npz",
                lambda tmp: np.savez_compressed(tmp, sample_id=frame["sample_id"].to_numpy()[idx].astype(str),
                                                targets=targets, **maps), suffix=".npz")
    atomic_write_text(out_dir / f"cams_fold{fold}.json", json.dumps(
        {"layer": layer, "model": name, "fold": fold, "sample_ids": list(frame["sample_id"].to_numpy()[idx]),
         "targets": targets.tolist(), "seconds_per_image": seconds, "synthetic": bool(tag)}, indent=2))
    return []
