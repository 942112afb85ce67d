"""§3.3 as explanations: each fold's CNN Grad-CAM maps of every image (the FT-MultiCNN's inputs),
and the figure of those inputs for one image per class."""
from mmfusion.papers.ft_multicnn.model import CAM_LAYER
from mmfusion.papers.ft_multicnn.preprocess import cam_maps
from mmfusion.xai import examples_per_class
from mmfusion.xai.figures import explanation_grid


def fold_heatmaps(folds, model, protocol: str, fold: int):
    """(N, H, W) uint8 Grad-CAM maps of all images from the fold's CNN (cached by model)."""
    ctx = folds.ctx
    with ctx.stage("explanations"):
        maps, info = cam_maps(model, folds.images, CAM_LAYER, cache_dir=ctx.options.cache_dir)
        # cache hits and timings vary run to run (a resumed run hits): cams.json, not metrics.json
        folds.cams.append({"protocol": protocol, "fold": fold, "key": info["key"]})
        folds.cam_timings.append({"protocol": protocol, "fold": fold, **info})
        if fold == 0:   # the §3.3 inputs for one image per class
            pick = examples_per_class(folds.y, per_class=1)
            names = ctx.frame.get("label_name", ctx.frame["label"]).to_numpy()
            explanation_grid(ctx.run.figures_dir / f"cam_inputs_{protocol}.png", folds.images[pick],
                             {"Grad-CAM (fold 0 CNN)": maps[pick] / 255.0},
                             titles=[f"{names[i]}{ctx.tag}" for i in pick])
    return maps
