"""``reproduce`` for effnetv2-smote: one train/val/test run per setting (config.SETTINGS).

Run directory (besides the RunDir contract files): ``<setting>/`` with its own history.csv,
model.keras, predictions.csv (val + test) and metrics.json; figures/ holds per-setting ROC curves
and confusion matrices and the Grad-CAM grids of both datasets. The top-level predictions.csv /
history.csv / model.keras are the first setting's (the headline BUSI B-M run by default);
metrics.json holds every setting. Every metric is stated with its averaging.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.papers.effnetv2_smote.config import SETTINGS, Experiment, experiment_for
from mmfusion.papers.effnetv2_smote.model import LAST_CONV_LAYER, build_model
from mmfusion.papers.effnetv2_smote.preprocess import load_images

PAPER = "effnetv2-smote"
AVERAGING = "macro"   # the paper's BUSI sensitivity 99.24 % with 31 malignant test images needs it
TABLE_COLUMNS = {"Table 4": ("accuracy", "f1", "sensitivity", "specificity", "auc"),
                 "Table 5": ("accuracy", "f1", "sensitivity", "specificity", "auc"),
                 "Table 6": ("accuracy",),
                 "Table 7": ("accuracy", "precision", "recall", "f1")}
BLACK_NORMAL_NOTE = ("with ROI the normal images are all black (their masks are empty), so 'normal' is "
                     "trivially separable; this cell says little about lesion classification")


def _tag(synthetic: bool) -> str:
    return " — SYNTHETIC TWIN" if synthetic else ""


def dataset_root(name: str, exp: Experiment, options):
    """(root, synthetic): the per-dataset --set dir, else --data-dir, else the cached twin."""
    from mmfusion.data.synthetic import ensure_twin

    given = {"busi": exp.busi_dir, "breast-mri": exp.mri_dir}[name] or options.data_dir
    if given is not None:
        return given, False
    n = {"busi": exp.busi_twin_n, "breast-mri": exp.mri_twin_n}[name]
    return ensure_twin(name, options.cache_dir, seed=0, n=n), True


def load_frame(name: str, root, exp: Experiment) -> tuple[pd.DataFrame, dict]:
    """The loader's frame with duplicate groups folded into ``group_id``, and the duplicate counts."""
    from mmfusion.data import load_dataset
    from mmfusion.data.duplicates import find_duplicates
    from mmfusion.data.splits import merge_groups

    if name == "busi":
        frame = load_dataset("busi", root, include_normal=True, duplicates=exp.duplicates,
                             near_duplicate_distance=exp.duplicate_distance)
    else:
        frame = load_dataset(name, root)
    info = {"rows": len(frame), "duplicate_images": 0, "duplicate_groups": 0, "checked": exp.duplicates}
    if not exp.duplicates:
        return frame, info
    if "duplicate_group" not in frame.columns:   # loaders without a duplicate option (breast MRI)
        # exact copies only: neighbouring MRI slices are near duplicates by dHash, and grouping them
        # would chain most of the set into one group that no 70/15/15 split can place
        found = find_duplicates(frame["image_path"], near=False)
        dup = pd.Series(found.group_ids)
        sizes = dup.map(dup.value_counts())
        frame = frame.assign(duplicate_group=[f"dup-{g}" if s > 1 else None for g, s in zip(dup, sizes)])
        frame["group_id"] = merge_groups(frame["group_id"], frame["duplicate_group"]).astype(str)
    groups = frame["duplicate_group"].dropna()
    info.update(duplicate_images=int(len(groups) - groups.nunique()), duplicate_groups=int(groups.nunique()),
                groups_spanning_classes=int((frame.dropna(subset=["duplicate_group"])
                                             .groupby("duplicate_group")["label"].nunique() > 1).sum()))
    return frame, info


def reproduce(options) -> Path:
    from mmfusion.evaluation.report import write_report
    from mmfusion.training import new_run_dir

    exp = experiment_for(options.quick, options.epochs, options.batch_size, options.extra)
    # ImageNet weights need a download and do not help at quick sizes; quick runs train from scratch
    weights = None if options.quick else options.weights
    run = new_run_dir(options.out, PAPER, "quick" if options.quick else "", resume=options.resume)
    data, notes = {}, []
    for name in exp.datasets():
        root, synthetic = dataset_root(name, exp, options)
        frame, dup = load_frame(name, root, exp)
        data[name] = {"root": str(root), "synthetic": synthetic, "frame": frame, "duplicates": dup, "images": {}}
        if exp.duplicates:
            notes.append(f"{name}: {dup['duplicate_images']} duplicate images in {dup['duplicate_groups']} groups "
                         f"among {dup['rows']} (each group kept on one side of the split)")
    synthetic = any(d["synthetic"] for d in data.values())
    run.write_config({"paper": PAPER, "options": dataclasses.asdict(options), "experiment": dataclasses.asdict(exp),
                      "weights_used": weights, "averaging": AVERAGING,
                      "data": {k: {"root": v["root"], "synthetic": v["synthetic"]} for k, v in data.items()}})
    run.write_manifest(options.seed, data_files=[p for d in data.values() for p in d["frame"]["image_path"]],
                       extra={"load_reports": {k: v["frame"].attrs.get("report") for k, v in data.items()},
                              "duplicates": {k: v["duplicates"] for k, v in data.items()}})
    metrics, cells = {}, []
    for i, key in enumerate(exp.settings):
        dataset = SETTINGS[key].dataset
        first_of_dataset = dataset not in [SETTINGS[s].dataset for s in exp.settings[:i]]
        out = run_setting(key, data[dataset], exp, weights, options, run, headline=(i == 0),
                          explain=first_of_dataset and exp.cam_images > 0)
        metrics[key] = out["metrics"]
        cells += setting_cells(key, out["metrics"])
        notes += out["notes"]
    run.write_metrics({"averaging": AVERAGING, "settings": metrics,
                       "duplicates": {k: v["duplicates"] for k, v in data.items()}})
    notes.append(f"Tables 4-7: precision, recall (= sensitivity), specificity and F1 are {AVERAGING} averages "
                 "over classes; AUC is the positive-class ROC AUC for two classes and one-vs-rest macro for three; "
                 "metrics.json also holds the binary (class 1 positive) values and per-class reports")
    if synthetic:
        notes.append("SYNTHETIC TWIN data: numbers check the pipeline, not the paper")
    write_report(run.path, {"paper": PAPER, "dataset": "+".join(data), "synthetic": synthetic,
                            "cells": cells, "notes": notes})
    run.mark_done()
    return run.path


def _images(source: dict, roi: bool, size: int) -> np.ndarray:
    """Decoded once per (dataset, ROI) and shared by every setting that needs them."""
    if roi not in source["images"]:
        source["images"][roi] = load_images(source["frame"], size, roi)
    return source["images"][roi]


def _smote(x, y, k, seed, notes, key):
    from mmfusion.data.resample import smote_images

    smallest = int(np.bincount(y).min())
    if smallest <= k:
        notes.append(f"{key}: SMOTE k lowered from {k} to {smallest - 1} (smallest training class has {smallest} images)")
        k = smallest - 1
    if k < 1:
        notes.append(f"{key}: SMOTE skipped (a training class has a single image)")
        return x, y, None
    x_res, y_res = smote_images(x, y, k=k, seed=seed)
    return x_res, y_res, k


def run_setting(key: str, source: dict, exp: Experiment, weights, options, run, headline: bool,
                explain: bool) -> dict:
    from mmfusion.data.splits import train_val_test_split
    from mmfusion.training import TrainConfig, fit, predict_proba, predictions_frame

    setting, notes = SETTINGS[key], []
    frame = source["frame"]
    keep = np.ones(len(frame), bool) if setting.normal else (frame["label"].to_numpy() != 2)
    sub = frame.loc[keep].reset_index(drop=True)
    x_all = _images(source, setting.roi, exp.input_size)[keep]
    y_all = sub["label"].to_numpy(int)
    classes = list(dict.fromkeys(sub.sort_values("label")["label_name"]))
    split = train_val_test_split(y_all, groups=sub["group_id"].to_numpy() if exp.duplicates else None,
                                 ratios=exp.ratios, seed=options.seed)
    tr, va, te = split["train"], split["val"], split["test"]
    empty = [side for side in ("train", "val", "test") if len(split[side]) == 0]
    if empty:
        raise ValueError(f"{key}: the {exp.ratios} split of {len(sub)} images left {empty} empty "
                         f"({sub['group_id'].nunique()} groups); too few images or one huge duplicate group")
    x_train, y_train, k_used = x_all[tr], y_all[tr], None
    if setting.smote:   # training side only; validation and test stay real images
        x_train, y_train, k_used = _smote(x_train, y_train, exp.smote_k, options.seed, notes, key)
    config = TrainConfig(epochs=exp.epochs, batch_size=exp.batch_size, optimizer="nadam",
                         learning_rate=exp.learning_rate, loss="sparse_categorical_crossentropy",
                         mixed_precision=options.mixed_precision, jit_compile=options.jit,
                         seed=options.seed, verbose=0 if options.quick else "auto", run_eagerly=options.quick)
    child = run.child(key)
    start = time.perf_counter()
    result = fit(lambda: build_model(exp.input_size, len(classes), weights),
                 (x_train, y_train), (x_all[va], y_all[va]), config, run=child)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    p_test = predict_proba(result.model, x_all[te], batch_size=exp.batch_size)
    eval_s = time.perf_counter() - start
    p_val = predict_proba(result.model, x_all[va], batch_size=exp.batch_size)
    ids = sub["sample_id"].to_numpy()
    preds = pd.concat([predictions_frame(ids[te], y_all[te], p_test, "test"),
                       predictions_frame(ids[va], y_all[va], p_val, "val")], ignore_index=True)
    child.write_predictions(preds)
    counts = {"train": int(len(tr)), "val": int(len(va)), "test": int(len(te)),
              "train_after_smote": int(len(y_train)), "smote_k": k_used,
              "per_class": {side: np.bincount(y_all[idx], minlength=len(classes)).tolist()
                            for side, idx in (("train", tr), ("val", va), ("test", te))},
              "train_per_class_after_smote": np.bincount(y_train, minlength=len(classes)).tolist()}
    metrics = evaluate(y_all[te], p_test, classes)
    metrics.update(setting=key, label=setting.label, classes=classes, counts=counts,
                   timings={"training_s": train_s, "evaluation_s": eval_s,
                            "inference_s_per_image": eval_s / max(1, len(te))})
    child.write_metrics(metrics)
    _figures(key, setting, y_all[te], p_test, classes, metrics, run, source["synthetic"])
    if headline:
        run.write_predictions(preds)
        run.write_history(result.history)
        run.save_model(result.model)
    if explain:
        metrics["gradcam"] = gradcam_figure(key, result.model, sub.iloc[te], x_all[te], p_test, exp, run,
                                            source["synthetic"])
        child.write_metrics(metrics)
    if setting.roi and setting.normal:
        notes.append(f"{key}: {BLACK_NORMAL_NOTE}")
    return {"metrics": metrics, "notes": notes}


def evaluate(y_true, probs, classes) -> dict:
    from mmfusion.evaluation import classification_metrics, confusion_matrix, per_class_report

    out = {"macro": classification_metrics(y_true, probs, "macro"),
           "weighted": classification_metrics(y_true, probs, "weighted"),
           "per_class": per_class_report(y_true, probs, classes).reset_index().to_dict("records"),
           "confusion_matrix": confusion_matrix(y_true, probs.argmax(1), len(classes)).tolist()}
    if len(classes) == 2:
        out["binary"] = classification_metrics(y_true, probs, "binary")
    return out


def _figures(key, setting, y_true, probs, classes, metrics, run, synthetic) -> None:
    from mmfusion.evaluation import confusion_matrix_figure, roc_curves

    title = f"{setting.label} (test){_tag(synthetic)}"
    roc_curves(y_true, probs, run.figures_dir / f"roc_{key}.png", classes, title="ROC — " + title)
    confusion_matrix_figure(np.asarray(metrics["confusion_matrix"]), run.figures_dir / f"confusion_{key}.png",
                            classes, title="Confusion matrix — " + title)


def gradcam_figure(key, model, frame, images, probs, exp, run, synthetic) -> dict:
    """Grad-CAM on the backbone's last conv activation for the first test images of each class."""
    import mmfusion.xai as xai

    labels = frame["label"].to_numpy(int)
    per_class = max(1, exp.cam_images // max(1, len(np.unique(labels))))
    idx = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)])[:max(1, exp.cam_images)]
    targets = probs[idx].argmax(1)
    explainer = xai.GradCAM(model, layer_name=LAST_CONV_LAYER, batch_size=exp.batch_size)
    maps = explainer(images[idx].astype("float32"), targets)
    names = frame["label_name"].to_numpy()[idx]
    titles = [f"{n}, pred {t}{_tag(synthetic)}" for n, t in zip(names, targets)]
    path = xai.explanation_grid(run.figures_dir / f"gradcam_{key}.png", images[idx], {"Grad-CAM": maps}, titles)
    return {"figure": str(Path(path).relative_to(run.path)), "layer": LAST_CONV_LAYER,
            "sample_ids": frame["sample_id"].to_numpy()[idx].tolist(), "targets": targets.tolist(),
            "seconds_per_image": explainer.last_seconds_per_image}


def _value(metrics, column):
    name = {"sensitivity": "recall"}.get(column, column)
    return float(metrics[AVERAGING][name])


def setting_cells(key: str, metrics: dict) -> list:
    """Reproduced cells of one setting: its table rows, split counts and timings."""
    cells = []
    for table, row in SETTINGS[key].cells:
        for column in TABLE_COLUMNS[table]:
            value = _value(metrics, column)
            if not np.isfinite(value):
                continue
            note = "" if column == "accuracy" else f"{AVERAGING} average over classes"
            if table == "Table 6" and SETTINGS[key].roi and SETTINGS[key].normal:
                note = BLACK_NORMAL_NOTE
            cells.append({"table": table, "row": row, "column": column, "values": [value], "note": note})
    counts, timings = metrics["counts"], metrics["timings"]
    if key == "busi_bm":
        for column, side in (("train images", "train"), ("validation images", "val"), ("test images", "test")):
            cells.append({"table": "Table 2", "row": "BUSI B-M", "column": column, "values": [counts[side]]})
        for c, name in enumerate(metrics["classes"]):
            cells.append({"table": "Table 2", "row": "BUSI B-M test", "column": name,
                          "values": [counts["per_class"]["test"][c]]})
        cells.append({"table": "Table 2", "row": "BUSI B-M after SMOTE", "column": "train images",
                      "values": [counts["train_after_smote"]]})
        cells += [{"table": "Timings", "row": "BUSI", "column": "training time", "values": [timings["training_s"]]},
                  {"table": "Timings", "row": "BUSI", "column": "inference time per image",
                   "values": [timings["inference_s_per_image"]]}]
    if key == "mri":
        for column, side in (("train images", "train"), ("validation images", "val"), ("test images", "test")):
            cells.append({"table": "Table 2", "row": "MRI (per class)", "column": column,
                          "values": [float(v) for v in counts["per_class"][side]], "note": "one value per class"})
        cells += [{"table": "Timings", "row": "MRI", "column": "training time", "values": [timings["training_s"]]},
                  {"table": "Timings", "row": "MRI", "column": "evaluation time", "values": [timings["evaluation_s"]]}]
    return cells
