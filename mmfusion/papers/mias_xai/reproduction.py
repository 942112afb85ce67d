"""``reproduce(options)``: the authors' pipeline through the core, both splits, then the XAI table.

Per protocol (the authors' stratified split, and a patient-grouped one): augment the training
crops (x16, MD5 dedupe, undersampling), pick the class weights by validation balanced accuracy,
retrain ``runs`` times with different seeds, and keep every run's test predictions. Metrics come
from mmfusion.evaluation on predictions.csv; explanations of the first stratified model from
mmfusion.xai (explain.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.papers.mias_xai import config as C
from mmfusion.papers.mias_xai.data import CLASS_NAMES, cached_crops, splits

PAPER = "mias-xai"


def _one_hot(labels):
    return np.eye(len(CLASS_NAMES), dtype="float32")[labels]


def train_config(cfg: C.MiasConfig, seed: int, class_weight: dict, verbose=None):
    from mmfusion.training import TrainConfig

    return TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, optimizer="adam",
                       learning_rate=cfg.learning_rate, loss="categorical_crossentropy",
                       early_stopping_patience=cfg.patience, monitor="val_loss", restore_best=True,
                       class_weight=class_weight, seed=seed, jit_compile=cfg.jit_compile,
                       mixed_precision=cfg.mixed_precision,
                       verbose=cfg.verbose if verbose is None else verbose)


def train_one(crops, split, cfg, seed, class_weight, run=None):
    """Augment the training side with ``seed`` and fit the CNN; returns (FitResult, aug counts).
    ``run`` (a child RunDir) makes the fit resumable and, once finished, reloaded on a rerun."""
    from mmfusion.papers.mias_xai.augment import augment_training_set
    from mmfusion.papers.mias_xai.model import build_mias_cnn
    from mmfusion.training import fit

    x, y, counts = augment_training_set(crops.images[split["train"]], crops.labels[split["train"]], seed)
    val = (crops.images[split["val"]].astype("float32"), _one_hot(crops.labels[split["val"]]))
    result = fit(lambda: build_mias_cnn(cfg.input_size, len(CLASS_NAMES), seed=seed),
                 (x.astype("float32"), _one_hot(y)), val, train_config(cfg, seed, class_weight), run=run)
    return result, counts


def choose_class_weight(crops, split, cfg, seed, run_dir=None, protocol=""):
    """Train once per candidate; the best validation balanced accuracy wins (ties: the first).
    A single candidate is taken as is (no training)."""
    from mmfusion.evaluation import classification_metrics
    from mmfusion.training import predict_proba

    if len(cfg.class_weight_candidates) == 1:
        return cfg.class_weight_candidates[0], [float("nan")]
    scores = []
    for k, weights in enumerate(cfg.class_weight_candidates):
        child = run_dir.child(f"{protocol}-classweight{k + 1}") if run_dir is not None else None
        result, _ = train_one(crops, split, cfg, seed, weights, run=child)
        prob = predict_proba(result.model, crops.images[split["val"]].astype("float32"))
        scores.append(classification_metrics(crops.labels[split["val"]], prob, "macro")["balanced_accuracy"])
    best = int(np.argmax(scores))
    return cfg.class_weight_candidates[best], scores


def run_protocol(crops, protocol, split, cfg, seed, run_dir):
    """Class-weight choice then ``cfg.runs`` seeded retrainings.

    Returns (predictions, info, models, histories); each run's history also goes to
    ``<run>/<protocol>-run<k>/history.csv``.
    """
    from mmfusion.training import predict_proba, predictions_frame

    weights, scores = choose_class_weight(crops, split, cfg, seed, run_dir, protocol)
    frames, models, histories, counts = [], [], [], None
    for r in range(cfg.runs):
        result, counts = train_one(crops, split, cfg, seed + r, weights,
                                   run=run_dir.child(f"{protocol}-run{r + 1}"))   # writes its history
        for side in ("val", "test"):
            idx = split[side]
            prob = predict_proba(result.model, crops.images[idx].astype("float32"))
            frame = predictions_frame(crops.sample_ids[idx], crops.labels[idx], prob, split=side,
                                      fold=0, run=r + 1)
            frame.insert(1, "protocol", protocol)
            frames.append(frame)
        models.append(result.model)
        histories.append(result.history)
    info = {"class_weight_scores": {str(dict(c)): s for c, s in zip(cfg.class_weight_candidates, scores)},
            "class_weight": {str(k): v for k, v in weights.items()}, "epochs_run": [len(h.get("epoch", [])) for h in histories],
            "split_sizes": {side: {CLASS_NAMES[c]: int((crops.labels[idx] == c).sum()) for c in range(3)}
                            for side, idx in split.items()},
            "augmented_training_set": counts}
    return pd.concat(frames, ignore_index=True), info, models, histories


def data_root(options, cfg):
    """(root, synthetic): the user's data, or the cached synthetic twin."""
    if options.data_dir is not None:
        return options.data_dir, False
    from mmfusion.data.synthetic import ensure_twin

    return ensure_twin("mias", options.cache_dir, seed=0, n=cfg.twin_n), True


def reproduce(options) -> Path:
    from mmfusion.data import load_dataset
    from mmfusion.evaluation.report import write_report
    from mmfusion.papers.mias_xai import explain, tables
    from mmfusion.training import new_run_dir

    cfg = C.from_options(options)
    root, synthetic = data_root(options, cfg)
    frame = load_dataset("mias", root, label_rule="first")
    cache = Path(options.cache_dir or ".mmfusion_cache") / "mias-xai"
    crops = cached_crops(frame, cfg.input_size, cache)
    run = new_run_dir(options.out, PAPER, tag="quick" if options.quick else "", resume=options.resume)
    run.write_config({"paper": PAPER, "options": {k: v for k, v in vars(options).items()},
                      "config": cfg.to_dict(), "data_root": str(root), "synthetic": synthetic})
    run.write_manifest(options.seed, data_files=frame["image_path"].tolist(),
                       extra={"load_report": frame.attrs.get("report"),
                              "preprocessing_skipped": crops.skipped, "crops": crops.counts()})

    all_splits = splits(crops, cfg.split_seed)
    predictions, infos, first_model = [], {}, None
    for protocol in cfg.protocols:
        pred, info, models, histories = run_protocol(crops, protocol, all_splits[protocol], cfg,
                                                     options.seed, run)
        predictions.append(pred)
        infos[protocol] = info
        if first_model is None:   # the model explained and saved: first run of the first protocol
            first_model = models[0]
            run.write_history(histories[0])
    predictions = pd.concat(predictions, ignore_index=True)
    run.write_predictions(predictions)
    run.save_model(first_model)
    metrics, cells = tables.metric_tables(predictions, cfg.protocols)
    run.write_metrics({"synthetic": synthetic, "protocols": infos, **metrics})

    test = all_splits[cfg.protocols[0]]["test"]
    xai_cells = explain.compare(first_model, crops, test, cfg, run, synthetic, seed=options.seed)
    reproduced = {"paper": PAPER, "dataset": "mias", "synthetic": synthetic, "cells": cells + xai_cells}
    write_report(run.path, reproduced)
    run.mark_done()
    return run.path
