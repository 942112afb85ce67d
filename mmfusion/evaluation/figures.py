"""Report figures (PNG, written atomically; matplotlib picks the backend): ROC curves, confusion matrix,
learning curves from history.csv, and the critical-difference diagram of a Friedman/Nemenyi test."""
import inspect
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils.plotting import pyplot, save_figure


def roc_curves(y_true, y_prob, path, class_names=None, title: str = "ROC") -> Path:
    """One-vs-rest ROC per class (the positive class only when there are 2), with AUCs."""
    from sklearn.metrics import auc, roc_curve

    y_true = np.asarray(y_true).astype(int)
    y_prob = np.asarray(y_prob, dtype=float)
    if y_prob.ndim == 1:
        y_prob = np.stack([1 - y_prob, y_prob], axis=1)
    n = y_prob.shape[1]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    fig, ax = pyplot().subplots(figsize=(5, 5))
    for c in ([1] if n == 2 else range(n)):
        if (y_true == c).all() or not (y_true == c).any():
            continue  # ROC undefined without both outcomes
        fpr, tpr, _ = roc_curve(y_true == c, y_prob[:, c])
        ax.plot(fpr, tpr, label=f"{names[c]} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title=title)
    ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, path, dpi=120)


def confusion_matrix_figure(cm, path, class_names=None, title: str = "Confusion matrix") -> Path:
    from sklearn.metrics import ConfusionMatrixDisplay

    cm = np.asarray(cm)
    fig, ax = pyplot().subplots(figsize=(1.2 + 0.7 * len(cm), 1 + 0.7 * len(cm)))
    ConfusionMatrixDisplay(cm, display_labels=class_names).plot(ax=ax, cmap="Blues", colorbar=False,
                                                               xticks_rotation=45, values_format="d")
    ax.set(xlabel="Predicted", ylabel="True", title=title)
    return save_figure(fig, path, dpi=120)


def learning_curves(history, path, title: str = "Learning curves") -> Path:
    """Loss and every metric of a Keras history (CSV or frame); a line per fold if it has ``fold``."""
    frame = pd.read_csv(history) if not isinstance(history, pd.DataFrame) else history
    metrics = [c for c in frame.columns if not c.startswith("val_")
               and c not in ("epoch", "fold", "run", "lr")
               and pd.api.types.is_numeric_dtype(frame[c])]
    if not metrics:
        raise ValueError(f"no metric columns in history ({list(frame.columns)})")
    fig, axes = pyplot().subplots(1, len(metrics), figsize=(4 * len(metrics), 3.2), squeeze=False)
    groups = frame.groupby("fold") if "fold" in frame.columns else [(None, frame)]
    for fold, g in groups:
        x = g["epoch"] if "epoch" in g else np.arange(len(g))
        tag = "" if fold is None else f" fold {fold}"
        for ax, m in zip(axes[0], metrics):
            ax.plot(x, g[m], label=f"train{tag}")
            if f"val_{m}" in g:
                ax.plot(x, g[f"val_{m}"], "--", label=f"val{tag}")
    for ax, m in zip(axes[0], metrics):
        ax.set(xlabel="epoch", title=m)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    return save_figure(fig, path, dpi=120)


def cd_diagram(result, path, title: str | None = None) -> Path:
    """Critical-difference diagram (Demšar 2006) by scikit-posthocs: models on the average-rank axis,
    bars over those the Nemenyi test does not separate at ``alpha`` (ranks closer than the CD)."""
    import scikit_posthocs as sp
    draw = sp.critical_difference_diagram
    # older scikit-posthocs (0.11) take no cd / alpha: bars at alpha 0.05, the CD in the title only
    known = inspect.signature(draw).parameters
    extra = {k: v for k, v in (("cd", result.cd), ("alpha", result.alpha)) if k in known}
    fig, ax = pyplot().subplots(figsize=(7, 1.6 + 0.3 * len(result.avg_ranks)))
    draw(result.avg_ranks, result.nemenyi_p, ax=ax, label_fmt_left="{label} ({rank:.2f})",
         label_fmt_right="({rank:.2f}) {label}", **extra)
    ax.set_title(title or f"Friedman p = {result.pvalue:.3g}, Nemenyi CD {result.cd:.2f} at alpha "
                 f"{result.alpha}", fontsize=9)
    return save_figure(fig, path, dpi=120)
