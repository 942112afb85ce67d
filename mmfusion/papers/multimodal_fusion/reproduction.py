"""``reproduce(options)``: Tables 1-2, missing-modality robustness and the XAI figures.

Data through mmfusion.data (the CBIS twin when no data_dir), training through
mmfusion.training.fit, metrics through mmfusion.evaluation, explanations through mmfusion.xai.
Run directory: the best multimodal model's files at the top (predictions.csv, model.keras,
history.csv), every trained row in its own sub-directory, all rows' test predictions in
predictions_all.csv.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mmfusion.data import load_dataset
from mmfusion.data.cbis_ddsm import split_official
from mmfusion.evaluation import bootstrap_ci, classification_metrics, mcnemar, write_report
from mmfusion.overrides import apply_overrides
from mmfusion.papers.multimodal_fusion import config as cfg
from mmfusion.papers.multimodal_fusion.model import build_fusion_model
from mmfusion.papers.multimodal_fusion.preprocess import paper_inputs
from mmfusion.training.config import TrainConfig
from mmfusion.training.loop import fit, predict_proba
from mmfusion.training.records import new_run_dir, predictions_frame

PAPER = "multimodal-fusion"
OVERRIDABLE = ("direction", "image_tokens", "clinical_tokens", "modality_dropout", "token_dim",
               "embed_dim", "image_size", "freeze_epochs", "bootstrap")


def _hp(options):
    labels = options.extra.get("labels", "binary")
    hp = cfg.hyperparameters(options.quick, num_classes=2 if labels == "binary" else 4, seed=options.seed)
    # only OVERRIDABLE (and epochs / batch size) may be set; labels and rows are read elsewhere
    settable = {k: hp[k] for k in (*OVERRIDABLE, "epochs", "batch_size")}
    hp.update(apply_overrides(settable, options.extra, owner=PAPER, epochs=options.epochs,
                              batch_size=options.batch_size, skip=("labels", "rows")))
    hp["labels"] = labels
    return hp


def _augment(hp):
    from mmfusion.data import augment as A

    a = hp["augment"]
    return A.compose(A.random_flip(horizontal=a["flip"]), A.random_rotation(a["rotation_deg"]),
                     A.random_crop_resize((a["random_crop"], 1.0)))


def train_config(hp, fusion: str, options) -> TrainConfig:
    freeze = 0 if fusion == "clinical" else min(hp["freeze_epochs"], hp["epochs"])
    return TrainConfig(epochs=hp["epochs"], batch_size=hp["batch_size"], optimizer="adam",
                       learning_rate=hp["learning_rate"], schedule="plateau",
                       schedule_factor=hp["reduce_lr_factor"], schedule_patience=hp["reduce_lr_patience"],
                       early_stopping_patience=hp["early_stopping_patience"], restore_best=True,
                       freeze_backbone_epochs=freeze, augment=_augment(hp), seed=options.seed,
                       mixed_precision=options.mixed_precision, jit_compile=options.jit, verbose=0 if options.quick else "auto", run_eagerly=options.quick)


def _weights(options, hp):
    # the quick ViT has no ImageNet weights; the paper's ResNet50 starts from them
    return None if hp["backbone"] == "vit" else options.weights


def _subset(x, idx):
    return {k: v[idx] for k, v in x.items()}


def _metric_cells(table, row, y, probs, hp, average):
    m = classification_metrics(y, probs, average=average)
    cells = []
    for col in cfg.METRIC_COLUMNS:
        cell = {"table": table, "row": row, "column": col, "values": [float(m[col])]}
        if col in cfg.CI_COLUMNS:
            ci = bootstrap_ci(y, probs, metric=col, n_resamples=hp["bootstrap"], seed=hp["seed"],
                              average=average)
            ok = bool(np.isfinite([ci["low"], ci["high"]]).all())
            cell.update(ci=[ci["low"], ci["high"]] if ok else None,
                        note=f"percentile bootstrap, {hp['bootstrap']} resamples" if ok else "CI undefined")
        cells.append(cell)
    return m, cells


def reproduce(options):
    from mmfusion.data.synthetic import ensure_twin
    from mmfusion.papers.multimodal_fusion import analysis

    hp = _hp(options)
    synthetic = options.data_dir is None
    root = options.data_dir or ensure_twin("cbis-ddsm", cache_dir=options.cache_dir, seed=options.seed)
    frame = load_dataset("cbis-ddsm", root, labels=hp["labels"])
    split = split_official(frame, hp["val_fraction"], options.seed)
    run = new_run_dir(options.out, PAPER, tag="quick" if options.quick else "", resume=options.resume)
    images, clinical, crops = paper_inputs(frame, hp["image_size"], cache_dir=run.path.parent / "cache")
    x = {"image": images, "clinical": clinical}
    y = frame["label"].to_numpy(int)
    ids = frame["sample_id"].to_numpy()
    average = "binary" if hp["num_classes"] == 2 else "macro"
    rows = cfg.rows(options.quick, options.extra.get("rows"))
    run.write_config({"paper": PAPER, "options": dataclasses.asdict(options), "hyperparameters": hp,
                      "rows": [r.key for r in rows], "synthetic": synthetic, "data_root": str(root)})
    run.write_manifest(options.seed, data_files=list(frame["image_path"]),
                       extra={"load_report": frame.attrs.get("report"), "crops": crops,
                              "split_sizes": {k: int(len(v)) for k, v in split.items()}})

    test = split["test"]
    results, preds, cells = {}, [], []
    for row in rows:
        sub = run.child(row.key)
        res = fit(lambda: build_fusion_model(row.fusion, hp, weights=_weights(options, hp)),
                  (_subset(x, split["train"]), y[split["train"]]),
                  (_subset(x, split["val"]), y[split["val"]]), train_config(hp, row.fusion, options), run=sub)
        probs = predict_proba(res.model, _subset(x, test), batch_size=hp["batch_size"])
        frame_p = predictions_frame(ids[test], y[test], probs, split="test")
        sub.write_predictions(frame_p)
        metrics, row_cells = _metric_cells(row.table, row.row, y[test], probs, hp, average)
        sub.write_metrics(metrics)
        cells += row_cells
        results[row.key] = dict(model=res.model, probs=probs, metrics=metrics, run=sub, history=res.history)
        preds.append(frame_p.assign(model=row.key))

    best_key = cfg.BEST_MULTIMODAL if cfg.BEST_MULTIMODAL in results else \
        next((r.key for r in rows if r.fusion not in ("image", "clinical")), rows[0].key)
    best = results[best_key]
    summary = {"average": average, "rows": {k: r["metrics"] for k, r in results.items()},
               "best_multimodal": best_key}
    if best_key == cfg.BEST_MULTIMODAL:
        cells += [dict(c, table="Table 1", row=cfg.BEST_ROW) for c in cells
                  if c["table"] == "Table 2" and c["row"] == "Cross-attention"]
    if "image_only" in results and best_key != "image_only":
        test_pred = {k: results[k]["probs"].argmax(1) for k in (best_key, "image_only")}
        summary["mcnemar_best_vs_image_only"] = mcnemar(y[test], test_pred[best_key], test_pred["image_only"])
        cells.append({"table": "Table 1", "row": "McNemar multimodal vs image only", "column": "p_value",
                      "values": [summary["mcnemar_best_vs_image_only"]["pvalue"]], "note": best_key})

    # the best multimodal model is the run's headline model
    run.write_predictions(predictions_frame(ids[test], y[test], best["probs"], split="test"))
    run.write_predictions(pd.concat(preds, ignore_index=True), name="predictions_all.csv")
    run.write_history(best["history"])
    run.save_model(best["model"])

    robust = analysis.missing_modality(best["model"], _subset(x, test), y[test], hp, average)
    summary["robustness"] = robust["summary"]
    cells += robust["cells"]
    summary["xai"] = analysis.explain(best["model"], _subset(x, test), y[test], ids[test], best["probs"],
                                      hp, run, synthetic, clinical[split["train"]])
    run.write_metrics({**best["metrics"], **summary})
    reproduced = {"paper": PAPER, "dataset": "cbis-ddsm", "synthetic": synthetic, "cells": cells}
    write_report(run.path, reproduced)
    run.mark_done()
    return run.path
