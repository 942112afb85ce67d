"""``reproduce`` for HMC-Net: 5-fold patient-grouped CV of every model on each MIAS binary task.

Run directory (besides the RunDir contract files):
``<task>/<model>/`` predictions.csv (all folds), history.csv (``fold`` column), metrics.json
(per fold + mean ± sample std) and figures/learning_curves.png; ``<task>/cams/`` the CAMs;
top-level ``predictions.csv`` / ``history.csv`` / ``model.keras`` are HMC-Net's on the first task
(the headline row), ``metrics.json`` holds every task x model and the Friedman / Nemenyi results.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.papers.hmcnet.config import TASKS, Experiment, experiment_for, task_frame
from mmfusion.papers.hmcnet.model import MODELS, AttentionConfig, build_model

PAPER = "hmcnet"
LABELS = {"hmcnet": "HMC-Net", "resnet50_hsa": "ResNet50 + hierarchical attention",
          "resnet50_msca": "ResNet50 + multi-scale attention", "resnet50": "ResNet50",
          "vgg16": "VGG16", "vgg19": "VGG19", "vit": "ViT"}
REPORTED = ("accuracy", "precision", "recall", "f1", "auc", "specificity")
HEADLINE_TABLE = "Abstract"      # papers/hmcnet.yaml: the abstract's 5-fold means (task unstated)
SECOND_TABLE = "Benign vs malignant (ours)"
PAPER_COMPARISON = ("hmcnet", "resnet50", "vgg19", "vgg16", "vit")   # the abstract's Friedman set
FRIEDMAN_METRIC = "accuracy"


def table_id(task: str, first: bool) -> str:
    return HEADLINE_TABLE if first else (SECOND_TABLE if task == "benign_vs_malignant" else f"{task} (ours)")


def friedman_sets(models) -> dict:
    """Row name -> models: the abstract's comparison (HMC-Net vs the baselines run) and, when
    ablations ran, all models."""
    paper = [m for m in PAPER_COMPARISON if m in models]
    sets = {}
    if "hmcnet" in paper and len(paper) >= 3:
        sets["Friedman test (HMC-Net vs " + ", ".join(LABELS[m] for m in paper[1:]) + ")"] = paper
    if len(models) > len(paper) and len(models) >= 3:
        sets["Friedman test (all models incl. ablations)"] = list(models)
    return sets


def load_images(frame: pd.DataFrame, size: int, preprocessing: str) -> np.ndarray:
    """All films as (N, size, size, 3) uint8, read once through the data core."""
    from mmfusion.data.images import read_image

    if preprocessing == "mias-xai":
        from mmfusion.papers.mias_xai.preprocess import enhance

        return np.stack([enhance(read_image(p, "gray"), size)[0] for p in frame["image_path"]])
    from mmfusion.data.decode import decode_images

    return decode_images(frame["image_path"], size, channels=3)


def reproduce(options) -> Path:
    from mmfusion.data import load_dataset
    from mmfusion.data.synthetic import ensure_twin
    from mmfusion.evaluation.report import write_report
    from mmfusion.training import new_run_dir
    from mmfusion.utils.eager import eager_functions

    exp = experiment_for(options.quick, options.epochs, options.batch_size, options.extra)
    synthetic = options.data_dir is None
    root = ensure_twin("mias", options.cache_dir, seed=0, n=exp.twin_n) if synthetic else options.data_dir
    frame = load_dataset("mias", root)
    # ImageNet weights need a download and do not help at quick sizes; quick runs train from scratch
    weights = None if options.quick else options.weights
    run = new_run_dir(options.out, PAPER, "quick" if options.quick else "", resume=options.resume)
    run.write_config({"paper": PAPER, "options": dataclasses.asdict(options), "experiment": dataclasses.asdict(exp),
                      "weights_used": weights, "synthetic": synthetic, "data_root": str(root)})
    run.write_manifest(options.seed, data_files=list(frame["image_path"]),
                       label_files=[Path(root) / "Info.txt"] if (Path(root) / "Info.txt").is_file() else [],
                       extra={"load_report": frame.attrs.get("report")})
    images = load_images(frame, exp.input_size, exp.preprocessing)
    all_metrics, cells, notes = {}, [], []
    with eager_functions(options.quick):   # training and the CAMs of ResNet50
        for t, task in enumerate(exp.tasks):
            _run_one(run, t, task, frame, images, exp, weights, options, all_metrics, cells, notes)
    if synthetic:
        notes.append("SYNTHETIC TWIN of MIAS: numbers check the pipeline, not the paper")
    if options.quick:
        notes.append("quick run: tf.functions ran eagerly (graph tracing of ResNet50 costs more than "
                     "1 epoch on a few images); ImageNet weights not used")
    run.write_metrics({**all_metrics, "notes": notes})
    write_report(run.path, {"paper": PAPER, "dataset": "mias", "synthetic": synthetic,
                            "cells": cells, "notes": notes})
    run.mark_done()
    return run.path


def _run_one(run, t, task, frame, images, exp, weights, options, all_metrics, cells, notes):
    sub, dropped = task_frame(frame, task)
    if dropped:
        notes.append(f"{task}: {dropped} normal films left out (benign vs malignant uses abnormal films only)")
    x = images[np.flatnonzero(frame["label"].isin(TASKS[task]["keep"]).to_numpy())]
    result = run_task(run, task, sub, x, exp, weights, options, headline=(t == 0))
    all_metrics[task] = result["metrics"]
    cells += task_cells(task, result, first=(t == 0))
    notes += result["notes"]


def run_task(run, task, frame, images, exp: Experiment, weights, options, headline: bool) -> dict:
    from mmfusion.evaluation import cd_diagram, friedman_nemenyi, learning_curves, mean_std
    from mmfusion.training import cross_validate

    labels = frame["label"].to_numpy(int)
    groups = frame["group_id"].to_numpy()
    per_model, notes, saved_model = {}, [], None
    for name in exp.models:
        child = run.child(f"{task}/{name}")
        fold_fn = make_fold_fn(name, frame, images, exp, weights, options, child, task)
        cv = cross_validate(labels, fold_fn, k=exp.folds, seed=options.seed, groups=groups)
        history = pd.concat([pd.DataFrame(h).assign(fold=f) for f, h in enumerate(cv.histories)],
                            ignore_index=True)
        child.write_predictions(cv.predictions)
        child.write_history(history)
        learning_curves(history, child.figures_dir / "learning_curves.png",
                        title=f"{LABELS[name]} — {task} — learning curves per fold" + _synthetic_tag(options))
        folds = [out["metrics"] for out in cv.outputs]
        summary = {m: dict(zip(("mean", "std"), mean_std([f[m] for f in folds]))) for m in folds[0]}
        child.write_metrics({"folds": folds, "summary": summary})
        per_model[name] = {"folds": folds, "summary": summary}
        notes += [n for out in cv.outputs for n in out.get("notes", [])]
        if headline and name == exp.models[0]:
            run.write_predictions(cv.predictions)
            run.write_history(history)
            saved_model = cv.outputs[-1]["model"]
        for out in cv.outputs:
            out.pop("model", None)   # free the fold's model before the next one trains
    if saved_model is not None:
        run.save_model(saved_model)
    metrics = {"models": per_model, "friedman": {}}
    sets = friedman_sets(list(per_model))
    for row, models in sets.items():
        fn = friedman_nemenyi({LABELS[m]: [f[FRIEDMAN_METRIC] for f in per_model[m]["folds"]] for m in models})
        metrics["friedman"][row] = {"metric": FRIEDMAN_METRIC, "models": models, **fn.to_dict()}
        tag = "paper" if row.startswith("Friedman test (HMC-Net") else "all"
        cd_diagram(fn, run.figures_dir / f"cd_diagram_{task}_{tag}.png",
                   title=f"Nemenyi CD ({FRIEDMAN_METRIC}, {task}, {exp.folds} folds)" + _synthetic_tag(options))
    if not sets:
        notes.append(f"{task}: Friedman / Nemenyi not run: needs HMC-Net and >= 2 other models, "
                     f"got {list(per_model)}")
    return {"metrics": metrics, "notes": notes}


def _synthetic_tag(options) -> str:
    return " — SYNTHETIC TWIN" if options.data_dir is None else ""


def make_fold_fn(name, frame, images, exp: Experiment, weights, options, child, task):
    """Train ``name`` on one fold through mmfusion.training.fit, evaluate on the held-out fold."""
    from mmfusion.data.splits import holdout_by_group
    from mmfusion.evaluation import classification_metrics
    from mmfusion.papers.hmcnet.explain import explain_fold
    from mmfusion.training import TrainConfig, fit, predict_proba, predictions_frame

    labels = frame["label"].to_numpy(int)
    groups = frame["group_id"].to_numpy()
    ids = frame["sample_id"].to_numpy()
    attention = AttentionConfig.from_dict(exp.attention)
    config = TrainConfig(epochs=exp.epochs, batch_size=exp.batch_size, learning_rate=exp.learning_rate,
                         early_stopping_patience=exp.patience, restore_best=True,
                         mixed_precision=options.mixed_precision, jit_compile=options.jit,
                         seed=options.seed, verbose=0 if options.quick else "auto")

    def build():
        return build_model(name, exp.input_size, 2, weights, attention, exp.vit)

    def fold_fn(fold, train_idx, test_idx):
        train_idx, val_idx = holdout_by_group(train_idx, labels, groups, exp.val_fraction, options.seed + fold)
        result = fit(build, (images[train_idx], labels[train_idx]), (images[val_idx], labels[val_idx]),
                     config.replace(seed=options.seed + fold))
        probs = predict_proba(result.model, images[test_idx], batch_size=exp.batch_size)
        out = {"predictions": predictions_frame(ids[test_idx], labels[test_idx], probs, "test", fold),
               "history": result.history, "metrics": classification_metrics(labels[test_idx], probs),
               "model": result.model, "notes": []}
        if name == exp.models[0] and exp.cam_images:
            out["notes"] += explain_fold(result.model, name, frame.iloc[test_idx], images[test_idx], probs,
                                         child.child("cams").path, fold, exp, _synthetic_tag(options))
        return out

    return fold_fn


def task_cells(task, result, first: bool) -> list:
    """The reproduced cells: every model x metric (values per fold) and the Friedman p-value."""
    table = table_id(task, first)
    cells = []
    for name, r in result["metrics"]["models"].items():
        for m in REPORTED:
            values = [float(f[m]) for f in r["folds"] if np.isfinite(f[m])]
            if values:
                cells.append({"table": table, "row": LABELS[name], "column": m, "values": values,
                              "note": "" if len(values) == len(r["folds"]) else "folds with an undefined value left out"})
    for row, fn in result["metrics"]["friedman"].items():
        cells.append({"table": table, "row": row, "column": "p_value", "values": [fn["pvalue"]],
                      "note": f"Friedman on per-fold {fn['metric']} of {len(fn['models'])} models; "
                              f"Nemenyi CD {fn['cd']:.3f}"})
    return cells


__all__ = ["reproduce", "MODELS", "LABELS"]
