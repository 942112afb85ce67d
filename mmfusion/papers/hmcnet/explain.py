"""Grad-CAM, Grad-CAM++ and Score-CAM of a trained fold model on the last conv stage (mmfusion.xai).

Abnormal test films come first (they have a lesion to point at); maps, targets, seconds per image
and, for films with lesion coordinates, the pointing game and the share of CAM energy inside the
lesion circles are saved as ``cams_fold{k}.npz`` / ``.json``, with an overlay grid PNG.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mmfusion.papers.hmcnet.model import last_conv_layer

METHODS = ("GradCAM", "GradCAMPlusPlus", "ScoreCAM")


def pick(frame, k: int) -> np.ndarray:
    """Positions of up to ``k`` films, those with lesion coordinates first, in frame order otherwise."""
    has_lesion = frame["n_abnormalities"].to_numpy(int) > 0
    if "missing_coordinates" in frame:
        has_lesion &= ~frame["missing_coordinates"].to_numpy(bool)
    order = np.argsort(~has_lesion, kind="stable")
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
    quality = lesion_quality(frame.iloc[idx], maps)
    titles = [f"{sid} ({name})" for sid, name in
              zip(frame["sample_id"].to_numpy()[idx], frame["label_name"].to_numpy()[idx])]
    xai.explanation_grid(out_dir / f"cams_fold{fold}.png", images[idx], maps, titles=titles)
    atomic_save(out_dir / f"cams_fold{fold}.npz",
                lambda tmp: np.savez_compressed(tmp, sample_id=frame["sample_id"].to_numpy()[idx].astype(str),
                                                targets=targets, **maps), suffix=".npz")
    atomic_write_text(out_dir / f"cams_fold{fold}.json", json.dumps(
        {"layer": layer, "model": name, "fold": fold, "sample_ids": list(frame["sample_id"].to_numpy()[idx]),
         "targets": targets.tolist(), "seconds_per_image": seconds, "lesion_quality": quality, "synthetic": bool(tag)}, indent=2))
    skipped = int(frame["n_abnormalities"].to_numpy()[idx].astype(bool).sum()) - quality["n_films"]
    return [f"fold {fold}: {skipped} abnormal films without lesion coordinates left out of the CAM "
            "pointing game"] if skipped else []


def lesion_quality(rows, maps) -> dict:
    """Pointing game and energy in the lesion circles (MIAS coordinates) per CAM method."""
    from mmfusion.data.mias import lesion_mask
    from mmfusion.xai import energy_in_mask, pointing_game

    shape = next(iter(maps.values())).shape[1:]
    keep, masks = [], []
    for i, row in enumerate(rows.to_dict("records")):
        abn = row.get("abnormalities") or []
        if abn and not row.get("missing_coordinates"):
            keep.append(i)
            masks.append(lesion_mask(abn, shape))
    out = {"n_films": len(keep)}
    if keep:
        masks = np.stack(masks)
        for method, m in maps.items():
            out[method] = {"pointing_game": float(np.mean(pointing_game(m[keep], masks))),
                           "energy_in_mask": float(np.mean(energy_in_mask(m[keep], masks)))}
    return out
