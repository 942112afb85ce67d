"""ft-multicnn's protocol on the experiment template (papers/ft-multicnn.yaml): stratified k-fold
grouped by lesion_id (and image-level beside it, which leaks lesions) of every row; in each fold the
image-only CNN trained on that fold's training images makes the heatmaps of every image (so no test
label reaches them)."""
import math

import numpy as np
import pandas as pd

from mmfusion.data.cache import cached
from mmfusion.data.decode import decode_images
from mmfusion.data.metadata import MetadataEncoder
from mmfusion.data.splits import holdout_by_group, kfold_splits
from mmfusion.evaluation import classification_metrics, confusion_matrix, mean_std
from mmfusion.experiment import Experiment
from mmfusion.experiment.plan import Plan, PlannedExplanation, PlannedFit
from mmfusion.papers.ft_multicnn import config as C
from mmfusion.papers.ft_multicnn import explain
from mmfusion.papers.ft_multicnn import preprocess as P
from mmfusion.papers.ft_multicnn.model import CAM_LAYER, build_model
from mmfusion.training import predict_proba, predictions_frame


def _metrics(y, probs) -> dict:
    macro, weighted = (classification_metrics(y, probs, average=a) for a in ("macro", "weighted"))
    return {"accuracy": macro["accuracy"], "balanced_accuracy": macro["balanced_accuracy"],
            **{f"{k}_macro": macro[k] for k in ("precision", "recall", "f1", "specificity", "auc")},
            **{f"{k}_weighted": weighted[k] for k in ("precision", "recall", "f1", "specificity", "auc")}}


class Folds:
    """The per-fold work of one run: inputs decoded once, one resumable fit per (protocol, row, fold)."""

    def __init__(self, ctx):
        self.ctx, self.cfg, self.frame = ctx, ctx.cfg, ctx.frame
        self.y, self.ids = self.frame["label"].to_numpy(int), self.frame["sample_id"].to_numpy()
        with ctx.stage("data"):   # decoded once per file contents and size
            paths, size = list(self.frame["image_path"]), self.cfg.image_size
            self.images = cached("ft-multicnn-images", paths, lambda: {"images": decode_images(paths, size)},
                                 ctx.options.cache_dir, size=size, order=[str(p) for p in paths])["images"]
        self.cams, self.cam_timings, self.results = [], [], {}

    def fold(self, protocol, rows, fold, train_idx, test_idx) -> dict:
        """The fits plan() declares for ``rows`` in this fold: {key: (fit result, test-fold predictions)}."""
        groups = self.frame["group_id"].to_numpy() if protocol == "lesion" else self.ids
        train, val = holdout_by_group(train_idx, self.y, groups, self.cfg.val_fraction,
                                      seed=self.ctx.seed(fold=fold))
        split = {"train": train, "val": val, "test": np.asarray(test_idx)}
        meta = P.encode_seven(self.frame) if self.cfg.metadata == "seven" else \
            MetadataEncoder().fit(self.frame.iloc[train]).transform(self.frame)   # fitted on training rows
        needs_cam, keys = _fold_keys(self.cfg, rows)
        out, maps = {}, None
        for key in keys:
            row = C.ROW_BY_KEY[key]
            images = P.model_inputs(self.cfg.input_of(row), self.images, maps, self.cfg.overlay_alpha)
            uses_metadata = row.model in ("multicnn", "ft_multicnn")
            x = {side: {"image": images[idx], "metadata": meta[idx]} if uses_metadata else images[idx]
                 for side, idx in split.items()}
            res = self.ctx.fit(f"{protocol}-{key}-fold{fold}", (x["train"], self.y[train]),
                               (x["val"], self.y[val]), build_args={"meta_dim": meta.shape[1]})
            with self.ctx.stage("evaluation"):
                probs = predict_proba(res.model, x["test"], batch_size=self.cfg.batch_size)
            test = split["test"]
            out[key] = res, predictions_frame(self.ids[test], self.y[test], probs, split="test", fold=fold)
            if key == "cnn" and needs_cam:   # the fold's CNN explains every image: train, val and test
                maps = explain.fold_heatmaps(self, res.model, protocol, fold)
        return out

    def protocol(self, protocol, rows):
        groups = self.frame["group_id"].to_numpy() if protocol == "lesion" else None
        folds = kfold_splits(self.y, groups, self.cfg.folds, self.ctx.seed())
        outputs = [self.fold(protocol, rows, f, train, test) for f, (train, test) in enumerate(folds)]
        self.results[protocol] = {r.key: [o[r.key] for o in outputs] for r in rows}


def row_cells(ctx, protocol, row, folds) -> dict:
    """One row's cells (Table Results; Abstract and Training curves for the lesion protocol) and summary."""
    per_fold = [_metrics(p["y_true"].to_numpy(), p.filter(regex=r"^p_\d+$").to_numpy()) for _, p in folds]
    pooled = pd.concat([p for _, p in folds], ignore_index=True)
    n_test = int(len(pooled) / len(folds))
    table = C.TABLE if protocol == "lesion" else C.IMAGE_LEVEL_TABLE   # the image-level folds leak lesions
    for column, name, average in C.COLUMNS:
        key = name if name == "accuracy" else f"{name}_{average}"
        ctx.cell(table, row.row, column, [m[key] for m in per_fold], f"{len(per_fold)} folds, {average}",
                 n_test=n_test, bounds=[0, 1], test_sets="disjoint")
    if protocol == "lesion" and row.key == C.HEADLINE:   # printed in the abstract and again in the conclusion
        for printed in ("Abstract", "Conclusion text"):
            ctx.cell(printed, row.row, "accuracy", [m["accuracy"] for m in per_fold], "lesion-grouped folds",
                     n_test=n_test, bounds=[0, 1], test_sets="disjoint")
            ctx.cell(printed, row.row, "recall", [m["recall_macro"] for m in per_fold],
                     "macro recall, lesion-grouped folds", n_test=n_test, bounds=[0, 1], test_sets="disjoint")
    histories = [res.history for res, _ in folds]
    if protocol == "lesion" and row.row in C.CURVE_ROWS and all(h.get("accuracy") for h in histories):
        ctx.cell("Training curves", row.row, "accuracy", [h["accuracy"][-1] for h in histories],
                 "last-epoch TRAINING accuracy per fold: the curve the paper's number is read from",
                 bounds=[0, 1])
        if all(h.get("val_accuracy") for h in histories):
            ctx.cell("Training curves (ours)", row.row, "validation accuracy",
                     [h["val_accuracy"][-1] for h in histories],
                     "last-epoch validation accuracy (10% of each training fold), beside it", bounds=[0, 1])
    probs, y = pooled.filter(regex=r"^p_\d+$").to_numpy(), pooled["y_true"].to_numpy()
    return {"folds": per_fold,
            "mean_std": {k: mean_std([m[k] for m in per_fold])._asdict() for k in per_fold[0]},
            "confusion_matrix": confusion_matrix(y, probs.argmax(1), probs.shape[1]).tolist()}


def _protocol_rows(cfg, protocol) -> list:
    rows = cfg.selected_rows()
    return rows if protocol == "lesion" else [r for r in rows if r.key in cfg.image_level_rows]


def _fold_keys(cfg, rows) -> tuple[bool, list]:
    """(a row needs the fold CNN's heatmaps?, the fold's fits in order: that CNN first when needed)."""
    needs_cam = any(cfg.input_of(r) != "raw" for r in rows)
    return needs_cam, (["cnn"] if needs_cam or C.ROW_BY_KEY["cnn"] in rows else []) + \
        [r.key for r in rows if r.key != "cnn"]


def steps(ctx) -> None:
    run = Folds(ctx)
    for protocol in ctx.cfg.protocols:
        if rows := _protocol_rows(ctx.cfg, protocol):
            run.protocol(protocol, rows)
    summary = {p: {key: row_cells(ctx, p, C.ROW_BY_KEY[key], folds) for key, folds in by_row.items()}
               for p, by_row in run.results.items()}
    every = [p.assign(protocol=proto, model=key) for proto, by_row in run.results.items()
             for key, folds in by_row.items() for _, p in folds]
    ctx.run.write_predictions(pd.concat(every, ignore_index=True), name="predictions_all.csv")
    proto = "lesion" if "lesion" in run.results else next(iter(run.results))
    key = C.HEADLINE if C.HEADLINE in run.results[proto] else next(iter(run.results[proto]))
    head = run.results[proto][key]
    ctx.headline(predictions=pd.concat([p for _, p in head], ignore_index=True), history=head[0][0].history,
                 model=head[0][0].model)
    ctx.metrics.update(headline={"row": key, "protocol": proto, **summary[proto][key]}, rows=summary,
                       classes=ctx.frame.attrs.get("classes"), cams=run.cams)
    ctx.run.write_json("cams.json", run.cam_timings)


def plan(ctx):
    """Per protocol and fold, the CNN (also the CAM source) and each row, each predicting its test
    fold; the fold CNN's Grad-CAM of every image where a row needs the maps."""
    cfg, frame = ctx.cfg, ctx.frame
    classes = len(frame.attrs.get("classes") or np.unique(frame["label"]))
    meta = 7 if cfg.metadata == "seven" else MetadataEncoder().fit(frame).transform(frame).shape[1]
    n_train = int(len(frame) * (1 - 1 / cfg.folds) * (1 - cfg.val_fraction))
    n_test = math.ceil(len(frame) / cfg.folds)
    augment = P.paper_augment_normalized if cfg.normalize == "paper" else P.paper_augment
    augment = augment if cfg.augment else None

    def build(row, weights):   # meta_dim: the estimate here; ctx.fit gives the fold's
        backbone = cfg.backbone if row.model == "ft_multicnn" else None
        return lambda meta_dim=meta: build_model(row.model, cfg.image_size, meta_dim, classes, cfg.dropout,
                                                 backbone, weights, rescale=cfg.normalize == "always")

    fits, cams = [], []
    for protocol in cfg.protocols:
        rows = _protocol_rows(cfg, protocol)
        needs_cam, keys = _fold_keys(cfg, rows)
        for fold in range(cfg.folds) if rows else ():
            # the paper: Adam, batch 32, 50 epochs, cross-entropy; no schedule or early stopping is named
            config = ctx.train_config(optimizer="adam", learning_rate=cfg.learning_rate, augment=augment,
                                      seed=ctx.seed(fold=fold))
            for key in keys:
                row = C.ROW_BY_KEY[key]
                weights = ctx.weights(row.model if row.model in ("resnet50", "inceptionv3") else cfg.backbone)
                fits.append(PlannedFit(f"{protocol}-{key}-fold{fold}", f"{row.model} {cfg.image_size} px",
                                       build(row, weights), n_train, config, n_predict=n_test,
                                       predict_batch=cfg.batch_size))
        if needs_cam:   # the maps of every image, per fold (a rerun with the same weights reads them cached)
            cams.append(PlannedExplanation("Grad-CAM", f"cnn {cfg.image_size} px", cfg.folds * len(frame),
                                           cfg.image_size, cam="GradCAM", cam_batch=min(64, len(frame)),
                                           cam_options=(("layer_name", CAM_LAYER), ("batch_size", 64)),
                                           traces=cfg.folds, figures=1, panels=2 * classes))
    return Plan(fits, tuple(cams), data=f"{len(frame)} images decoded at {cfg.image_size} px (cached after a "
                "first run), metadata encoding")


EXPERIMENT = Experiment(name="ft-multicnn", config=C.FtMultiCnnConfig, steps=steps, plan=plan,
                        datasets=lambda cfg: {cfg.dataset: {}})
