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


def explain(model, x, y, ids, probs, hp, run, synthetic, cases) -> dict:
    tag = SYNTH if synthetic else ""
    summary = {"cases": {}}
    chosen = {k: v for k, v in cases.items() if v is not None}
    summary["cases_missing"] = sorted(k for k, v in cases.items() if v is None)
    if not chosen:
        return summary
    idx = np.array(list(chosen.values()))
    sub = {k: v[idx] for k, v in x.items()}
    maps, seconds = gradcam(model, sub, targets=np.ones(len(idx), int))
    summary["gradcam_seconds_per_image"] = seconds
    for j, (name, i) in enumerate(chosen.items()):
        path = run.figures_dir / f"case_{name}.png"
        case_figure(path, sub["image"][j], maps[j], None, probs[i], f"{name.replace('_', ' ')} ({ids[i]}){tag}")
        summary["cases"][name] = {"sample_id": str(ids[i]), "y_true": int(y[i]),
                                  "p_malignant": float(probs[i, 1]), "figure": str(path.relative_to(run.path))}
    return summary
