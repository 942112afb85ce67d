"""Report figures (PNG, written atomically; matplotlib picks the backend): ROC curves, confusion matrix,
learning curves from history.csv, and the critical-difference diagram of a Friedman/Nemenyi test."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..utils.plotting import pyplot, save_figure


def _save(fig, path):
    return save_figure(fig, path, dpi=120)


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
    return _save(fig, path)


def confusion_matrix_figure(cm, path, class_names=None, title: str = "Confusion matrix") -> Path:
    cm = np.asarray(cm)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(cm))]
    fig, ax = pyplot().subplots(figsize=(1.2 + 0.7 * len(cm), 1 + 0.7 * len(cm)))
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set(xticks=range(len(names)), yticks=range(len(names)), xticklabels=names, yticklabels=names,
           xlabel="Predicted", ylabel="True", title=title)
    ax.tick_params(axis="x", rotation=45)
    return _save(fig, path)


def learning_curves(history, path, title: str = "Learning curves") -> Path:
    """Loss and every other metric from a Keras history (CSV path or frame); one line per fold
    when a ``fold`` column is present."""
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
    return _save(fig, path)


def cd_diagram(result, path, title: str | None = None) -> Path:
    """Critical-difference diagram (Demšar 2006): models on a rank axis, bars joining models whose
    average ranks differ by less than the critical difference."""
    ranks = result.avg_ranks.sort_values()
    k = len(ranks)
    fig, ax = pyplot().subplots(figsize=(7, 1.6 + 0.3 * k))
    ax.set_xlim(0.5, k + 0.5)
    ax.set_ylim(-k * 0.35 - 0.6, 1.2)
    ax.hlines(0, 1, k, color="k")
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.1, color="k")
        ax.text(r, 0.2, str(r), ha="center", fontsize=8)
    for i, (name, r) in enumerate(ranks.items()):
        y = -0.35 * (i + 1)
        left = i < (k + 1) // 2
        xt = 0.6 if left else k + 0.4
        ax.plot([r, r, xt], [0, y, y], color="k", lw=0.8)
        ax.text(xt, y, f"{name} ({r:.2f})", ha="left" if not left else "right", va="center", fontsize=8)
    # cliques: maximal runs of consecutive models within the CD
    vals = ranks.to_numpy()
    cliques, level = [], 0
    for i in range(k):
        j = max(jj for jj in range(i, k) if vals[jj] - vals[i] < result.cd)
        if j > i and not any(a <= i and j <= b for a, b in cliques):
            cliques.append((i, j))
    for a, b in cliques:
        level += 1
        ax.hlines(-0.12 * level, vals[a] - 0.03, vals[b] + 0.03, color="tab:red", lw=3)
    ax.hlines(0.8, 1, 1 + result.cd, color="k", lw=1.5)
    ax.text(1 + result.cd / 2, 0.9, f"CD = {result.cd:.2f}", ha="center", fontsize=8)
    ax.set_title(title or f"Friedman p = {result.pvalue:.3g}, Nemenyi CD at alpha {result.alpha}", fontsize=9)
    ax.axis("off")
    return _save(fig, path)
