"""XAI of the best multimodal model through mmfusion.xai, and the paper's case figures."""
from __future__ import annotations

import numpy as np

from mmfusion.papers.multimodal_fusion import config as cfg
from mmfusion.utils.io import atomic_save

SYNTH = " — SYNTHETIC TWIN, not the paper's data"


def gradcam(model, x, targets=None):
    from mmfusion.xai import GradCAM

    cam = GradCAM(model, layer_name=getattr(model, "_mmfusion_cam_layer", None), input_name="image")
    # float input: the explainer differentiates through the image tensor (uint8 gives no gradient)
    x = {**x, "image": np.asarray(x["image"], np.float32)}
    return cam(x, targets=targets), cam.last_seconds_per_image


def _save(fig, path):
    import matplotlib.pyplot as plt

    atomic_save(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"), suffix=".png")
    plt.close(fig)


def case_figure(path, image, cam, shap_values, probs, title):
    """Crop | Grad-CAM overlay | grouped clinical SHAP for one case."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(11, 3.4))
    ax[0].imshow(image.astype(np.uint8))
    ax[0].set_title("lesion crop")
    ax[1].imshow(image.astype(np.uint8))
    ax[1].imshow(cam, cmap="jet", alpha=0.45, vmin=0, vmax=1)
    ax[1].set_title("Grad-CAM (mammogram branch)")
    for a in ax[:2]:
        a.axis("off")
    if shap_values is not None:
        colors = ["tab:red" if v > 0 else "tab:blue" for v in shap_values]
        ax[2].barh(list(cfg.CLINICAL_GROUP_NAMES), shap_values, color=colors)
        ax[2].invert_yaxis()
        ax[2].set_title("KernelSHAP, clinical groups (P malignant)")
    else:
        ax[2].axis("off")
    fig.suptitle(f"{title}: P(malignant) = {probs[1]:.2f}")
    _save(fig, path)


def grouped_shap(model, x, targets, hp):
    """KernelSHAP over the 5 clinical feature groups, image held fixed per case -> (N, 5).

    A group that is "absent" takes its zero block (the encoding of a missing value), so the
    background is the all-zero clinical vector.
    """
    from mmfusion.xai import explain_tabular

    groups = [list(range(a, b)) for a, b in cfg.CLINICAL_GROUP_SLICES]
    background = np.zeros((1, x["clinical"].shape[1]), np.float32)
    phi = explain_tabular(model, {**x, "image": np.asarray(x["image"], np.float32)}, "clinical",
                          background, method="kernel", groups=groups, seed=hp["seed"])
    return phi[np.arange(len(phi)), :, targets]


def lime_case(model, image, clinical, target, hp):
    """LIME tabular (grouped one-hot features) and LIME image for one case."""
    from mmfusion.xai import lime_image, lime_tabular
    from mmfusion.xai.shapley import tabular_model_fn

    image = np.asarray(image, np.float32)[None]
    groups = {name: list(range(a, b)) for name, (a, b) in zip(cfg.CLINICAL_GROUP_NAMES, cfg.CLINICAL_GROUP_SLICES)}
    tab_fn = tabular_model_fn(model, {"image": image}, "clinical")
    weights, names = lime_tabular(tab_fn, clinical[None], hp["lime_background"], groups=groups,
                                  targets=[target], num_samples=hp["lime_samples"], seed=hp["seed"])

    def image_fn(batch):
        return np.asarray(model({"image": np.asarray(batch, np.float32),
                                 "clinical": np.repeat(clinical[None], len(batch), 0)}, training=False))
    lime_map = lime_image(image_fn, image, targets=[target], num_samples=hp["lime_samples"], seed=hp["seed"])[0]
    return dict(zip(names, map(float, weights[0]))), lime_map


def explain(model, x, y, ids, probs, hp, run, synthetic, cases) -> dict:
    """Global grouped SHAP over (up to shap_cases) test samples + the two case figures."""
    from mmfusion.xai import explanation_grid, shap_bar

    tag = SYNTH if synthetic else ""
    summary = {"cases": {}, "cases_missing": sorted(k for k, v in cases.items() if v is None)}
    malignant = 1 if probs.shape[1] == 2 else None
    n = min(len(y), hp["shap_cases"])
    targets = np.full(n, malignant) if malignant is not None else probs[:n].argmax(1)
    phi = grouped_shap(model, {k: v[:n] for k, v in x.items()}, targets, hp)
    shap_bar(run.figures_dir / "shap_clinical_groups.png", phi, list(cfg.CLINICAL_GROUP_NAMES),
             title=f"mean |SHAP| over {n} test samples{tag}")
    summary["shap_global"] = dict(zip(cfg.CLINICAL_GROUP_NAMES, map(float, np.abs(phi).mean(0))))
    summary["shap_cases"] = n
    chosen = {k: v for k, v in cases.items() if v is not None}
    if not chosen:
        return summary
    idx = np.array(list(chosen.values()))
    sub = {k: v[idx] for k, v in x.items()}
    maps, seconds = gradcam(model, sub, targets=np.full(len(idx), malignant))
    summary["gradcam_seconds_per_image"] = seconds
    case_phi = grouped_shap(model, sub, np.full(len(idx), malignant), hp)
    lime_maps = []
    for j, (name, i) in enumerate(chosen.items()):
        path = run.figures_dir / f"case_{name}.png"
        case_figure(path, sub["image"][j], maps[j], case_phi[j], probs[i], f"{name.replace('_', ' ')} ({ids[i]}){tag}")
        lime_tab, lime_map = lime_case(model, sub["image"][j], sub["clinical"][j], malignant, hp)
        lime_maps.append(lime_map)
        summary["cases"][name] = {"sample_id": str(ids[i]), "y_true": int(y[i]),
                                  "p_malignant": float(probs[i, 1]), "figure": str(path.relative_to(run.path)),
                                  "shap_groups": dict(zip(cfg.CLINICAL_GROUP_NAMES, map(float, case_phi[j]))),
                                  "lime_tabular": lime_tab}
    explanation_grid(run.figures_dir / "cases_gradcam_lime.png", sub["image"],
                     {"Grad-CAM": maps, "LIME image": np.stack(lime_maps)},
                     titles=[k.replace("_", " ") + tag for k in chosen])
    return summary
