"""Missing-modality robustness (ours: the clinical vector zeroed for a share of the test samples, or
k of its 5 feature groups zeroed on every sample) and the XAI of the framework model (§II.C,
§III.D-E): Grad-CAM, KernelSHAP and LIME over the clinical groups, LIME image, and case figures for
the most confident correct malignant and false negative; what each perturbs: config.FIDELITY."""
import itertools

import numpy as np

from mmfusion.data.clinical import group_mask
from mmfusion.evaluation import classification_metrics
from mmfusion.papers.multimodal_fusion import config as C
from mmfusion.training import predict_proba
from mmfusion.utils.plotting import pyplot, save_figure
from mmfusion.xai import GradCAM, explain_tabular, explanation_grid, lime_image, lime_tabular, shap_bar
from mmfusion.xai.shapley import tabular_model_fn

ROBUST_COLUMNS = ("auc", "f1", "accuracy")
ROBUST_TABLE = "Robustness (ours)"
GROUPS = {name: list(range(a, b)) for name, (a, b) in zip(C.CLINICAL_GROUP_NAMES, C.CLINICAL_GROUP_SLICES)}


def missing_modality(ctx, model, x, y) -> dict:
    """The "Robustness (ours)" cells; returns the summary for metrics.json."""
    cfg, n = ctx.cfg, len(y)
    order = np.random.default_rng(ctx.seed()).permutation(n)
    variants = []
    for rate in C.MISSING_RATES:
        clinical = x["clinical"].copy()
        clinical[order[:int(round(rate * n))]] = 0.0
        variants.append(clinical)
    combos = {k: list(itertools.combinations(C.CLINICAL_GROUP_NAMES, k)) for k in C.MISSING_GROUP_COUNTS}
    variants += [x["clinical"] * group_mask(combo) for k in combos for combo in combos[k]]
    # one batched prediction for every clinical variant (the image is the same in all)
    probs = predict_proba(model, {"image": np.concatenate([x["image"]] * len(variants)),
                                  "clinical": np.concatenate(variants)}, batch_size=cfg.batch_size)
    metrics = [classification_metrics(y, p, average=cfg.average) for p in np.split(probs, len(variants))]
    summary = {"clinical_absent": {}, "groups_missing": {}}
    for rate, m in zip(C.MISSING_RATES, metrics):
        summary["clinical_absent"][f"{rate:.0%}"] = m
        for c in ROBUST_COLUMNS:
            ctx.cell(ROBUST_TABLE, f"clinical absent for {rate:.0%} of test samples", c, m[c],
                     n_test=n, bounds=[0, 1])
    rest = iter(metrics[len(C.MISSING_RATES):])
    for k, chosen in combos.items():
        per_combo = [next(rest) for _ in chosen]
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


def case_figure(path, image, cam, shap_values, probs, title):
    """Crop | Grad-CAM overlay | grouped clinical SHAP for one case."""
    plt = pyplot()
    fig, ax = plt.subplots(1, 3, figsize=(11, 3.4))
    for a, title in zip(ax[:2], ("lesion crop", "Grad-CAM (mammogram branch)")):
        a.imshow(image.astype(np.uint8))
        a.set_title(title)
        a.axis("off")
    ax[1].imshow(cam, cmap="jet", alpha=0.45, vmin=0, vmax=1)
    colors = ["tab:red" if v > 0 else "tab:blue" for v in shap_values]
    ax[2].barh(list(C.CLINICAL_GROUP_NAMES), shap_values, color=colors)
    ax[2].invert_yaxis()
    ax[2].set_title("KernelSHAP, clinical groups (P malignant)")
    fig.suptitle(f"{title}: P(malignant) = {probs[1]:.2f}")
    save_figure(fig, path, dpi=100)


def grouped_shap(model, x, targets, seed):
    """KernelSHAP over the 5 clinical feature groups, image held fixed per case -> (N, 5)."""
    background = np.zeros((1, x["clinical"].shape[1]), np.float32)
    phi = explain_tabular(model, {**x, "image": np.asarray(x["image"], np.float32)}, "clinical",
                          background, method="kernel", groups=GROUPS, seed=seed)
    return phi[np.arange(len(phi)), :, targets]


def lime_case(model, image, clinical, target, background, cfg, seed):
    """LIME tabular (one categorical feature per group) and LIME image for one case."""
    image = np.asarray(image, np.float32)[None]
    tab_fn = tabular_model_fn(model, {"image": image}, "clinical")
    weights, names = lime_tabular(tab_fn, clinical[None], background, groups=GROUPS, targets=[target],
                                  num_samples=cfg.lime_samples, seed=seed)

    def image_fn(batch):
        return np.asarray(model({"image": np.asarray(batch, np.float32),
                                 "clinical": np.repeat(clinical[None], len(batch), 0)}, training=False))
    lime_map = lime_image(image_fn, image, targets=[target], num_samples=cfg.lime_samples, seed=seed)[0]
    return dict(zip(names, map(float, weights[0]))), lime_map


def explain(ctx, model, x, y, ids, probs, train_clinical) -> dict:
    """Global grouped SHAP over (up to shap_cases) test samples + the two case figures."""
    cfg, seed, run = ctx.cfg, ctx.seed(), ctx.run
    cases = case_indices(y, probs)
    summary = {"cases": {}, "cases_missing": sorted(k for k, v in cases.items() if v is None)}
    malignant = 1 if probs.shape[1] == 2 else None
    n = min(len(y), cfg.shap_cases)
    targets = np.full(n, malignant) if malignant is not None else probs[:n].argmax(1)
    phi = grouped_shap(model, {k: v[:n] for k, v in x.items()}, targets, seed)
    shap_bar(run.figures_dir / "shap_clinical_groups.png", phi, list(C.CLINICAL_GROUP_NAMES),
             title=f"mean |SHAP| over {n} test samples{ctx.tag}")
    summary.update(shap_global=dict(zip(C.CLINICAL_GROUP_NAMES, map(float, np.abs(phi).mean(0)))),
                   shap_cases=n)
    chosen = {k: v for k, v in cases.items() if v is not None}
    if not chosen:
        return summary
    idx = np.array(list(chosen.values()))
    sub = {k: v[idx] for k, v in x.items()}
    cam = GradCAM(model, layer_name=getattr(model, "_mmfusion_cam_layer", None), input_name="image")
    # float input: the explainer differentiates through the image tensor (uint8 gives no gradient)
    maps = cam({**sub, "image": np.asarray(sub["image"], np.float32)}, targets=np.full(len(idx), malignant))
    summary["gradcam_seconds_per_image"] = cam.last_seconds_per_image
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
                                  "shap_groups": dict(zip(C.CLINICAL_GROUP_NAMES, map(float, case_phi[j]))),
                                  "lime_tabular": lime_tab}
    explanation_grid(run.figures_dir / "cases_gradcam_lime.png", sub["image"],
                     {"Grad-CAM": maps, "LIME image": np.stack(lime_maps)},
                     titles=[k.replace("_", " ") + ctx.tag for k in chosen])
    return summary
