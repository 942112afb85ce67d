"""``reproduce(options)``: stratified k-fold (grouped by lesion_id, and image-level beside it) of
the CNN, ResNet50, InceptionV3, MultiCNN and FT-MultiCNN rows on HAM10000 / ISIC 2019.

Data through mmfusion.data (the twin when no data_dir), training through mmfusion.training.fit and
cross_validate, metrics through mmfusion.evaluation, Grad-CAM through mmfusion.xai. In each fold
the image-only CNN trained on that fold's training images makes the heatmaps of every image (so no
test label reaches the heatmaps). Run directory: the headline row's lesion-grouped predictions over
all folds at the top (predictions.csv, fold 0's history.csv and model.keras); every (protocol, row,
fold) in its own sub-run; all rows' predictions in predictions_all.csv.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.data import load_dataset
from mmfusion.data.decode import decode_images
from mmfusion.data.metadata import SEVEN_FEATURES, MetadataEncoder, encode_seven
from mmfusion.data.splits import holdout_by_group
from mmfusion.evaluation import classification_metrics, confusion_matrix, mean_std, per_class_report, write_report
from mmfusion.papers.ft_multicnn import config as cfg
from mmfusion.papers.ft_multicnn.augment import paper_augment
from mmfusion.papers.ft_multicnn.heatmaps import cam_maps, model_inputs
from mmfusion.papers.ft_multicnn.model import CAM_LAYER, build_model, uses_metadata
from mmfusion.training import TrainConfig, cross_validate, fit, new_run_dir, predict_proba, predictions_frame

PAPER = "ft-multicnn"


def _hp(options) -> dict:
    return cfg.apply_overrides(cfg.hyperparameters(options.quick, options.seed), options.extra,
                               epochs=options.epochs, batch_size=options.batch_size)


def _weights(options, kind: str):
    """``options.weights`` as build_backbone takes it; a folder holds each backbone's Keras file."""
    weights = options.weights
    if weights and weights != "imagenet" and Path(weights).is_dir():
        from mmfusion.models.backbones import ARCHS

        return str(Path(weights) / ARCHS[kind].weights_file)
    return weights


def train_config(hp, options, fold: int) -> TrainConfig:
    # the paper: Adam, batch 32, 50 epochs, cross-entropy; no schedule or early stopping is named
    return TrainConfig(epochs=hp["epochs"], batch_size=hp["batch_size"], optimizer="adam",
                       learning_rate=hp["learning_rate"], augment=paper_augment if hp["augment"] else None,
                       seed=options.seed * 1000 + fold, mixed_precision=options.mixed_precision,
                       jit_compile=options.jit, verbose=0 if options.quick else "auto", run_eagerly=options.quick)


def _metrics(y, probs) -> dict:
    macro = classification_metrics(y, probs, average="macro")
    weighted = classification_metrics(y, probs, average="weighted")
    return {"accuracy": macro["accuracy"], "balanced_accuracy": macro["balanced_accuracy"],
            **{f"{k}_macro": macro[k] for k in ("precision", "recall", "f1", "specificity", "auc")},
            **{f"{k}_weighted": weighted[k] for k in ("precision", "recall", "f1", "specificity", "auc")}}


def _metric_key(name: str, average: str) -> str:
    return name if name == "accuracy" else f"{name}_{average}"


class _Experiment:
    """Shared state of one reproduce call: frame, decoded images, metadata, run directory."""

    def __init__(self, options, hp, frame, run):
        self.options, self.hp, self.frame, self.run = options, hp, frame, run
        self.y = frame["label"].to_numpy(int)
        self.ids = frame["sample_id"].to_numpy()
        self.n_classes = len(frame.attrs.get("classes") or np.unique(self.y))
        self.images = decode_images(frame["image_path"], hp["image_size"])
        self.cam_cache = Path(options.out) / PAPER / "cache" / "cams"
        self.cams, self.results = [], {}

    def metadata(self, train_idx) -> np.ndarray:
        if self.hp["metadata"] == "seven":
            return encode_seven(self.frame)
        encoder = MetadataEncoder().fit(self.frame.iloc[train_idx])
        return encoder.transform(self.frame)

    def _fit_row(self, protocol, row, fold, split, x, meta_dim):
        hp, kind = self.hp, row.model
        weights = _weights(self.options, kind) if kind in ("resnet50", "inceptionv3") or hp["backbone"] else None
        sub = self.run.child(f"{protocol}-{row.key}-fold{fold}")
        take = (lambda idx: {k: v[idx] for k, v in x.items()}) if isinstance(x, dict) else (lambda idx: x[idx])
        res = fit(lambda: build_model(kind, hp["image_size"], meta_dim, self.n_classes, hp["dropout"],
                                      hp["backbone"] if kind == "ft_multicnn" else None, weights),
                  (take(split["train"]), self.y[split["train"]]), (take(split["val"]), self.y[split["val"]]),
                  train_config(hp, self.options, fold), run=sub)
        test = split["test"]
        probs = predict_proba(res.model, take(test), batch_size=hp["batch_size"])
        preds = predictions_frame(self.ids[test], self.y[test], probs, split="test", fold=fold)
        sub.write_predictions(preds)
        sub.write_metrics(_metrics(self.y[test], probs))
        return res, preds

    def fold(self, protocol, rows, fold, train_idx, test_idx):
        hp = self.hp
        groups = self.frame["group_id"].to_numpy() if protocol == "lesion" else self.ids
        train, val = holdout_by_group(train_idx, self.y, groups, hp["val_fraction"], seed=self.options.seed + fold)
        split = {"train": train, "val": val, "test": np.asarray(test_idx)}
        meta = self.metadata(train)
        out = {}
        needs_cam = any(cfg.input_of(r, hp) != "raw" for r in rows)
        todo = list(rows)
        maps = None
        if needs_cam or any(r.key == "cnn" for r in rows):
            cnn_row = next((r for r in rows if r.key == "cnn"), cfg.ROWS[0])
            res, preds = self._fit_row(protocol, cnn_row, fold, split, self.images, meta.shape[1])
            if cnn_row in rows:
                out[cnn_row.key] = (res, preds)
                todo.remove(cnn_row)
            if needs_cam:   # the fold's CNN explains every image: train, val and test
                maps, info = cam_maps(res.model, self.images, CAM_LAYER, cache_dir=self.cam_cache)
                self.cams.append({"protocol": protocol, "fold": fold, **info})
                if fold == 0:
                    self.cam_figure(protocol, maps)
        for row in todo:
            images = model_inputs(cfg.input_of(row, hp), self.images, maps, hp["overlay_alpha"])
            x = {"image": images, "metadata": meta} if uses_metadata(row.model) else images
            out[row.key] = self._fit_row(protocol, row, fold, split, x, meta.shape[1])
        return {"rows": out, "split_sizes": {k: int(len(v)) for k, v in split.items()}}

    def cam_figure(self, protocol, maps, per_class: int = 1):
        """The §3.3 inputs for one image per class: the image with its Grad-CAM heatmap over it."""
        from mmfusion.xai.figures import explanation_grid

        pick = [int(np.flatnonzero(self.y == c)[0]) for c in np.unique(self.y)][: 7 * per_class]
        names = self.frame.get("label_name", self.frame["label"]).to_numpy()
        explanation_grid(self.run.figures_dir / f"cam_inputs_{protocol}.png", self.images[pick],
                         {"Grad-CAM (fold 0 CNN)": maps[pick] / 255.0}, titles=[str(names[i]) for i in pick])

    def protocol(self, protocol, rows):
        groups = self.frame["group_id"].to_numpy() if protocol == "lesion" else None
        cv = cross_validate(self.y, lambda f, tr, te: self.fold(protocol, rows, f, tr, te),
                            k=self.hp["folds"], seed=self.options.seed, groups=groups)
        self.results[protocol] = {r.key: [o["rows"][r.key] for o in cv.outputs] for r in rows}
        return cv


def _table(protocol):
    return cfg.TABLE if protocol == "lesion" else f"{cfg.TABLE} (image-level k-fold, leaks lesions)"


def _cells(exp, rows_by_key) -> tuple[list, dict]:
    cells, summary = [], {}
    for protocol, by_row in exp.results.items():
        summary[protocol] = {}
        for key, folds in by_row.items():
            row = rows_by_key[key]
            per_fold = [_metrics(p["y_true"].to_numpy(), p.filter(regex=r"^p_\d+$").to_numpy()) for _, p in folds]
            pooled = pd.concat([p for _, p in folds], ignore_index=True)
            probs, y = pooled.filter(regex=r"^p_\d+$").to_numpy(), pooled["y_true"].to_numpy()
            classes = exp.frame.attrs.get("classes")
            summary[protocol][key] = {
                "folds": per_fold,
                "mean_std": {k: mean_std([m[k] for m in per_fold])._asdict() for k in per_fold[0]},
                "confusion_matrix": confusion_matrix(y, probs.argmax(1), exp.n_classes).tolist(),
                "per_class": per_class_report(y, probs, classes).reset_index().to_dict("records")}
            for column, name, average in cfg.COLUMNS:
                cells.append({"table": _table(protocol), "row": row.row, "column": column,
                              "values": [m[_metric_key(name, average)] for m in per_fold],
                              "note": f"{len(per_fold)} folds, {average}"})
            if protocol == "lesion":
                cells += _paper_cells(row, per_fold, [res.history for res, _ in folds])
    return cells, summary


def _paper_cells(row, per_fold, histories) -> list:
    """Cells keyed like papers/ft-multicnn.yaml (Abstract, Training curves)."""
    cells = []
    if row.row == "FT-MultiCNN":
        cells += [{"table": "Abstract", "row": row.row, "column": "accuracy",
                   "values": [m["accuracy"] for m in per_fold], "note": "lesion-grouped folds"},
                  {"table": "Abstract", "row": row.row, "column": "recall",
                   "values": [m["recall_macro"] for m in per_fold], "note": "macro recall, lesion-grouped folds"}]
    last = [h["val_accuracy"][-1] for h in histories if h and h.get("val_accuracy")]
    if row.row in ("CNN", "ResNet50", "InceptionV3", "FT-MultiCNN") and last:
        cells.append({"table": "Training curves", "row": row.row, "column": "accuracy", "values": last,
                      "note": "last-epoch validation accuracy (10% of each training fold) per fold"})
    return cells


def reproduce(options):
    from mmfusion.data.synthetic import ensure_twin

    hp = _hp(options)
    rows = cfg.rows(options.quick, options.extra.get("rows"))
    synthetic = options.data_dir is None
    root = options.data_dir or ensure_twin(hp["dataset"], cache_dir=options.cache_dir, seed=options.seed,
                                           n=hp["twin_n"])
    frame = load_dataset(hp["dataset"], root)
    run = new_run_dir(options.out, PAPER, tag="quick" if options.quick else "", resume=options.resume)
    run.write_config({"paper": PAPER, "options": dataclasses.asdict(options), "hyperparameters": hp,
                      "rows": [r.key for r in rows], "synthetic": synthetic, "data_root": str(root),
                      "metadata_features": list(SEVEN_FEATURES) if hp["metadata"] == "seven" else "full"})
    run.write_manifest(options.seed, data_files=list(frame["image_path"]),
                       extra={"load_report": frame.attrs.get("report"), "load_notes": frame.attrs.get("notes"),
                              "n_images": len(frame), "n_lesions": int(frame["group_id"].nunique())})
    exp = _Experiment(options, hp, frame, run)
    for protocol in hp["protocols"]:
        chosen = rows if protocol == "lesion" else [r for r in rows if r.key in hp["image_level_rows"]]
        if chosen:
            exp.protocol(protocol, chosen)

    cells, summary = _cells(exp, {r.key: r for r in cfg.ROWS})
    all_preds = pd.concat([p.assign(protocol=proto, model=key) for proto, by_row in exp.results.items()
                           for key, folds in by_row.items() for _, p in folds], ignore_index=True)
    run.write_predictions(all_preds, name="predictions_all.csv")
    head_proto = "lesion" if "lesion" in exp.results else next(iter(exp.results))
    head_key = cfg.HEADLINE if cfg.HEADLINE in exp.results[head_proto] else next(iter(exp.results[head_proto]))
    head = exp.results[head_proto][head_key]
    run.write_predictions(pd.concat([p for _, p in head], ignore_index=True))
    run.write_history(head[0][0].history)
    run.save_model(head[0][0].model)
    run.write_metrics({"headline": {"row": head_key, "protocol": head_proto, **summary[head_proto][head_key]},
                       "rows": summary, "classes": frame.attrs.get("classes"), "cams": exp.cams})
    write_report(run.path, {"paper": PAPER, "dataset": hp["dataset"], "synthetic": synthetic, "cells": cells})
    run.mark_done()
    return run.path
