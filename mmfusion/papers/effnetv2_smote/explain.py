"""The paper's figures: Grad-CAM on test images of each dataset (Figures 3, 4, 11; the predicted
class at ``top_activation``, the text names no layer; unscored, as in the paper), ROC curves
(Figures 6, 7) and confusion matrices (Figures 8, 9) of every setting."""
import numpy as np

import mmfusion.xai as xai
from mmfusion.evaluation import confusion_matrix_figure, roc_curves
from mmfusion.papers.effnetv2_smote.model import LAST_CONV_LAYER


def gradcam_figure(ctx, key, model, frame, images, probs) -> dict:
    """Grad-CAM grid of ``cfg.cam_images`` test images, classes interleaved; returns what it showed
    (sample ids, targets) and the seconds per image."""
    idx = xai.examples_per_class(frame["label"].to_numpy(int), total=ctx.cfg.cam_images)
    targets = probs[idx].argmax(1)
    explainer = xai.GradCAM(model, layer_name=LAST_CONV_LAYER, batch_size=ctx.cfg.batch_size)
    maps = explainer(images[idx].astype("float32"), targets)
    titles = [f"{n}, pred {t}{ctx.tag}" for n, t in zip(frame["label_name"].to_numpy()[idx], targets)]
    path = xai.explanation_grid(ctx.run.figures_dir / f"gradcam_{key}.png", images[idx], {"Grad-CAM": maps},
                                titles)
    return {"figure": str(path.relative_to(ctx.run.path)), "layer": LAST_CONV_LAYER,
            "sample_ids": frame["sample_id"].to_numpy()[idx].tolist(), "targets": targets.tolist(),
            "seconds_per_image": explainer.last_seconds_per_image}


def evaluation_figures(ctx, key, label, y_true, probs, classes, cm) -> None:
    title = f"{label} (test){ctx.tag}"
    roc_curves(y_true, probs, ctx.run.figures_dir / f"roc_{key}.png", classes, title="ROC — " + title)
    confusion_matrix_figure(np.asarray(cm), ctx.run.figures_dir / f"confusion_{key}.png", classes,
                            title="Confusion matrix — " + title)
