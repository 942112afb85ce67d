"""Missing-modality robustness and the XAI of the framework model (paper §II.C, §III.D-E).

Robustness (ours): the clinical vector zeroed for 0/30/50/100 % of the test samples (one seeded
draw), and k of the 5 feature groups zeroed on every sample (mean over all C(5, k) choices).
XAI: Grad-CAM on the mammogram branch (the backbone's last conv block), KernelSHAP over the 5
clinical feature groups (global mean |phi| and per case), LIME tabular and LIME image, and case
figures for the most confident correct malignant and the most confident false negative.

What is perturbed, and how absence is encoded (the paper: KernelSHAP "to the clinical embedding",
LIME "randomly masking features" / "superpixel segmentation and perturbations"):
- KernelSHAP: players are the 5 clinical groups of the raw 36-d input (not the 100-d embedding,
  whose units have no clinical meaning); an absent group takes its zero block, the encoding of a
  missing value, so the background is the all-zero vector; the image is held fixed per case.
- LIME tabular: each group is one categorical feature; a perturbed sample redraws the group's
  category from its training-set frequencies ("none" = the zero block is one category); the image
  is held fixed.
- LIME image: quickshift superpixels; a hidden superpixel takes its mean colour (LIME's default);
  the case's clinical vector is held fixed.
"""
from __future__ import annotations

import itertools

import numpy as np

from mmfusion.data.clinical import group_mask
from mmfusion.evaluation import classification_metrics
from mmfusion.papers.multimodal_fusion.config import (
    CLINICAL_GROUP_NAMES,
    CLINICAL_GROUP_SLICES,
    MISSING_GROUP_COUNTS,
    MISSING_RATES,
)
from mmfusion.training import predict_proba

ROBUST_COLUMNS = ("auc", "f1", "accuracy")
ROBUST_TABLE = "Robustness (ours)"


def _predict_variants(model, image, variants, batch_size):
    """One batched prediction for every clinical variant (the image is the same in all)."""
    n = len(image)
    probs = predict_proba(model, {"image": np.concatenate([image] * len(variants)),
                                  "clinical": np.concatenate(variants)}, batch_size=batch_size)
    return [probs[i * n:(i + 1) * n] for i in range(len(variants))]


def missing_modality(ctx, model, x, y) -> dict:
    """The "Robustness (ours)" cells; returns the summary for metrics.json."""
    cfg = ctx.cfg
    rng = np.random.default_rng(ctx.seed())
    n, summary = len(y), {"clinical_absent": {}, "groups_missing": {}}
    order = rng.permutation(n)
    variants, labels = [], []
    for rate in MISSING_RATES:
        clinical = x["clinical"].copy()
        clinical[order[:int(round(rate * n))]] = 0.0
        variants.append(clinical)
        labels.append(("rate", rate))
    for k in MISSING_GROUP_COUNTS:
        for combo in itertools.combinations(CLINICAL_GROUP_NAMES, k):
            variants.append(x["clinical"] * group_mask(combo))
            labels.append(("groups", k))
    metrics = [classification_metrics(y, p, average=cfg.average)
               for p in _predict_variants(model, x["image"], variants, cfg.batch_size)]
    for (kind, value), m in zip(labels, metrics):
        if kind == "rate":
            summary["clinical_absent"][f"{value:.0%}"] = m
            for c in ROBUST_COLUMNS:
                ctx.cell(ROBUST_TABLE, f"clinical absent for {value:.0%} of test samples", c, m[c],
                         n_test=n, bounds=[0, 1])
    for k in MISSING_GROUP_COUNTS:
        per_combo = [m for (kind, value), m in zip(labels, metrics) if kind == "groups" and value == k]
        summary["groups_missing"][str(k)] = {c: float(np.mean([m[c] for m in per_combo]))
                                             for c in ROBUST_COLUMNS}
        for c in ROBUST_COLUMNS:
            ctx.cell(ROBUST_TABLE, f"{k} of 5 clinical feature groups missing", c, [m[c] for m in per_combo],
                     f"one value per choice of {k} groups ({len(per_combo)})", n_test=n, bounds=[0, 1])
    return summary


def case_indices(y, probs) -> dict:
    """The most confident correct malignant and the most confident false negative (binary only)."""
    if probs.shape[1] != 2:
        return {}
    pred = probs.argmax(1)
    tp = np.flatnonzero((y == 1) & (pred == 1))
    fn = np.flatnonzero((y == 1) & (pred != 1))
    return {"correct_malignant": int(tp[np.argmax(probs[tp, 1])]) if tp.size else None,
            "false_negative": int(fn[np.argmin(probs[fn, 1])]) if fn.size else None}


def gradcam(model, x, targets=None):
    from mmfusion.xai import GradCAM

    cam = GradCAM(model, layer_name=getattr(model, "_mmfusion_cam_layer", None), input_name="image")
    # float input: the explainer differentiates through the image tensor (uint8 gives no gradient)
    x = {**x, "image": np.asarray(x["image"], np.float32)}
    return cam(x, targets=targets), cam.last_seconds_per_image


def case_figure(path, image, cam, shap_values, probs, title):
    """Crop | Grad-CAM overlay | grouped clinical SHAP for one case."""
    from mmfusion.utils.plotting import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(1, 3, figsize=(11, 3.4))
    ax[0].imshow(image.astype(np.uint8))
    ax[0].set_title("lesion crop")
    ax[1].imshow(image.astype(np.uint8))
    ax[1].imshow(cam, cmap="jet", alpha=0.45, vmin=0, vmax=1)
    ax[1].set_title("Grad-CAM (mammogram branch)")
    for a in ax[:2]:
        a.axis("off")
    colors = ["tab:red" if v > 0 else "tab:blue" for v in shap_values]
    ax[2].barh(list(CLINICAL_GROUP_NAMES), shap_values, color=colors)
    ax[2].invert_yaxis()
    ax[2].set_title("KernelSHAP, clinical groups (P malignant)")
    fig.suptitle(f"{title}: P(malignant) = {probs[1]:.2f}")
    save_figure(fig, path, dpi=100)


def grouped_shap(model, x, targets, seed):
    """KernelSHAP over the 5 clinical feature groups, image held fixed per case -> (N, 5)."""
    from mmfusion.xai import explain_tabular

    groups = [list(range(a, b)) for a, b in CLINICAL_GROUP_SLICES]
    background = np.zeros((1, x["clinical"].shape[1]), np.float32)
    phi = explain_tabular(model, {**x, "image": np.asarray(x["image"], np.float32)}, "clinical",
                          background, method="kernel", groups=groups, seed=seed)
    return phi[np.arange(len(phi)), :, targets]


def lime_case(model, image, clinical, target, background, cfg, seed):
    """LIME tabular (one categorical feature per group) and LIME image for one case."""
    from mmfusion.xai import lime_image, lime_tabular
    from mmfusion.xai.shapley import tabular_model_fn

    image = np.asarray(image, np.float32)[None]
    groups = {name: list(range(a, b)) for name, (a, b) in zip(CLINICAL_GROUP_NAMES, CLINICAL_GROUP_SLICES)}
    tab_fn = tabular_model_fn(model, {"image": image}, "clinical")
    weights, names = lime_tabular(tab_fn, clinical[None], background, groups=groups, targets=[target],
                                  num_samples=cfg.lime_samples, seed=seed)

    def image_fn(batch):
        return np.asarray(model({"image": np.asarray(batch, np.float32),
                                 "clinical": np.repeat(clinical[None], len(batch), 0)}, training=False))
    lime_map = lime_image(image_fn, image, targets=[target], num_samples=cfg.lime_samples, seed=seed)[0]
    return dict(zip(names, map(float, weights[0]))), lime_map


def explain(ctx, model, x, y, ids, probs, train_clinical) -> dict:
    """Global grouped SHAP over (up to shap_cases) test samples + the two case figures."""
    from mmfusion.xai import explanation_grid, shap_bar

    cfg, seed, run = ctx.cfg, ctx.seed(), ctx.run
    cases = case_indices(y, probs)
    summary = {"cases": {}, "cases_missing": sorted(k for k, v in cases.items() if v is None)}
    malignant = 1 if probs.shape[1] == 2 else None
    n = min(len(y), cfg.shap_cases)
    targets = np.full(n, malignant) if malignant is not None else probs[:n].argmax(1)
    phi = grouped_shap(model, {k: v[:n] for k, v in x.items()}, targets, seed)
    shap_bar(run.figures_dir / "shap_clinical_groups.png", phi, list(CLINICAL_GROUP_NAMES),
             title=f"mean |SHAP| over {n} test samples{ctx.tag}")
    summary["shap_global"] = dict(zip(CLINICAL_GROUP_NAMES, map(float, np.abs(phi).mean(0))))
    summary["shap_cases"] = n
    chosen = {k: v for k, v in cases.items() if v is not None}
    if not chosen:
        return summary
    idx = np.array(list(chosen.values()))
    sub = {k: v[idx] for k, v in x.items()}
    maps, seconds = gradcam(model, sub, targets=np.full(len(idx), malignant))
    summary["gradcam_seconds_per_image"] = seconds
    case_phi = grouped_shap(model, sub, np.full(len(idx), malignant), seed)
    lime_maps = []
    for j, (name, i) in enumerate(chosen.items()):
        path = run.figures_dir / f"case_{name}.png"
        case_figure(path, sub["image"][j], maps[j], case_phi[j], probs[i],
                    f"{name.replace('_', ' ')} ({ids[i]}){ctx.tag}")
        lime_tab, lime_map = lime_case(model, sub["image"][j], sub["clinical"][j], malignant, train_clinical,
                                       cfg, seed)
        lime_maps.append(lime_map)
        summary["cases"][name] = {"sample_id": str(ids[i]), "y_true": int(y[i]),
                                  "p_malignant": float(probs[i, 1]),
                                  "figure": str(path.relative_to(run.path)),
                                  "shap_groups": dict(zip(CLINICAL_GROUP_NAMES, map(float, case_phi[j]))),
                                  "lime_tabular": lime_tab}
    explanation_grid(run.figures_dir / "cases_gradcam_lime.png", sub["image"],
                     {"Grad-CAM": maps, "LIME image": np.stack(lime_maps)},
                     titles=[k.replace("_", " ") + ctx.tag for k in chosen])
    return summary
