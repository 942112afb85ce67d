"""Grad-CAM, Grad-CAM++ and Score-CAM (the abstract's three methods) of a fold model on its last conv
stage, on up to ``cam_images`` test films (lesion films first), written to
``<task>/<model>/cams/cams_fold{k}.npz/.json/.png``. Ours: pointing game and energy in the lesion
circles, beside random maps (3 seeds), a centred blob and a re-initialised model (Adebayo et al. 2018)."""
import numpy as np

import mmfusion.xai as xai
from mmfusion.data.mias import lesion_mask
from mmfusion.papers.hmcnet.model import last_conv_layer
from mmfusion.utils.io import atomic_save, atomic_write_json
from mmfusion.xai import baseline_scores, explanation_grid, lesion_scores
from mmfusion.xai.metrics import reinitialized_copy

METHODS = ("GradCAM", "GradCAMPlusPlus", "ScoreCAM")
LABELS = {"GradCAM": "Grad-CAM", "GradCAMPlusPlus": "Grad-CAM++", "ScoreCAM": "Score-CAM"}


def pick(frame, k: int) -> np.ndarray:
    """Positions of up to ``k`` films, those with lesion coordinates first, in frame order otherwise."""
    has_lesion = (frame["n_abnormalities"].to_numpy(int) > 0) & ~frame["missing_coordinates"].to_numpy(bool)
    return np.argsort(~has_lesion, kind="stable")[:k]


def cam_maps(model, name, x, targets, cfg) -> tuple[dict, dict]:
    """{method label: (N, H, W) maps}, {method label: seconds per image}."""
    maps, seconds = {}, {}
    for method in METHODS:
        kw = {"max_channels": cfg.scorecam_channels} if method == "ScoreCAM" else {}
        explainer = getattr(xai, method)(model, layer_name=last_conv_layer(name), batch_size=cfg.batch_size,
                                         eager=cfg.eager_cams, **kw)
        maps[LABELS[method]] = explainer(x, targets)
        seconds[LABELS[method]] = explainer.last_seconds_per_image
    return maps, seconds


def explain_fold(ctx, model, task, name, rows, images, probs, fold: int) -> dict:
    """CAMs of one fold's ``model`` on its test films (``rows``/``images``/``probs``); their lesion
    scores per row (methods and baselines), {} when no picked film has a lesion circle."""
    cfg, seed = ctx.cfg, ctx.seed(fold=fold)
    out = ctx.run.child(f"{task}/{name}/cams").path    # RunDir creates it
    idx = pick(rows, cfg.cam_images)
    x, ids = images[idx].astype("float32"), rows["sample_id"].to_numpy()[idx].astype(str)
    targets = np.asarray(probs)[idx].argmax(1)              # explain the prediction
    maps, seconds = cam_maps(model, name, x, targets, cfg)
    # empty for normal films and lesions without coordinates
    masks = np.stack([lesion_mask(r.get("abnormalities") or [], x.shape[1:3])
                      for r in rows.iloc[idx].to_dict("records")])
    n_lesion = int(masks.any((1, 2)).sum())
    scores = lesion_scores(maps, masks)   # {row: {metric: per-film values}}, methods then baselines
    if scores:
        random_model, _ = cam_maps(reinitialized_copy(model, seed + 1), name, x, targets, cfg)
        scores.update(baseline_scores(lambda m: lesion_scores(m, masks), len(x), x.shape[1:3], seed,
                                      random_model))
    titles = [f"{sid} ({label}){ctx.tag}" for sid, label in zip(ids, rows["label_name"].to_numpy()[idx])]
    explanation_grid(out / f"cams_fold{fold}.png", images[idx], maps, titles=titles)
    atomic_save(out / f"cams_fold{fold}.npz", lambda tmp: np.savez_compressed(
        tmp, sample_id=ids, targets=targets, lesion_masks=masks, **maps), suffix=".npz")
    atomic_write_json(out / f"cams_fold{fold}.json", {
        "layer": last_conv_layer(name), "model": name, "fold": fold, "sample_ids": ids.tolist(),
        "targets": targets.tolist(), "seconds_per_image": seconds, "n_lesion_films": n_lesion,
        "lesion_scores": scores, "synthetic": ctx.synthetic})
    without = int((rows["n_abnormalities"].to_numpy()[idx] > 0).sum()) - n_lesion
    if without:
        ctx.skipped(f"CAM lesion scores, {task}, fold {fold}",
                    {"abnormal films without lesion coordinates": without}, len(idx))
    return scores


def score_cells(ctx, table: str, suffix: str, per_fold: list) -> dict:
    """Pool the folds' per-film lesion scores into one cell per row and metric; returns the pool."""
    pooled: dict = {}
    for scores in per_fold:
        for row, metrics in scores.items():
            for metric, values in metrics.items():
                pooled.setdefault(row, {}).setdefault(metric, []).extend(values)
    for row, metrics in pooled.items():
        baseline = "" if row in LABELS.values() else "; baseline: what no explanation scores"
        for metric, values in metrics.items():
            ctx.cell(table, row + suffix, metric.replace("_", " "), values,
                     f"ours (no paper numbers); one value per lesion film, all folds{baseline}",
                     bounds=[0, 1], n_test=1, test_sets="disjoint")
    return pooled
