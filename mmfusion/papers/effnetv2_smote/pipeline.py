"""effnetv2-smote's protocol (papers/effnetv2-smote.yaml): per setting, images, a 70/15/15 split
(duplicate groups on one side), SMOTE on the training side only, one fit, test metrics with each
printed column's averaging, timings and figures; Grad-CAM on the first setting of each dataset."""
import time

import numpy as np
import pandas as pd

from mmfusion.data.splits import train_val_test_split
from mmfusion.evaluation import classification_metrics, confusion_matrix, per_class_report
from mmfusion.experiment import Experiment
from mmfusion.experiment.plan import Plan, PlannedExplanation, PlannedFit
from mmfusion.papers.effnetv2_smote import config as C
from mmfusion.papers.effnetv2_smote import explain as figures
from mmfusion.papers.effnetv2_smote.config import SETTINGS, EffnetConfig, averaging
from mmfusion.papers.effnetv2_smote.model import BACKBONE, LAST_CONV_LAYER, build_model
from mmfusion.papers.effnetv2_smote.preprocess import cached_images, group_exact_copies, oversample
from mmfusion.training import predict_proba, predictions_frame


def evaluate(y_true, probs, classes) -> dict:
    averages = ("macro", "weighted", "binary") if len(classes) == 2 else ("macro", "weighted")
    out = {name: classification_metrics(y_true, probs, name) for name in averages}
    out.update(per_class=per_class_report(y_true, probs, classes).reset_index().to_dict("records"),
               confusion_matrix=confusion_matrix(y_true, probs.argmax(1), len(classes)).tolist())
    return out


def value(metrics: dict, column: str) -> float:
    avg = averaging(column, len(metrics["classes"]))
    return float(metrics["macro" if avg == "none" else avg][{"sensitivity": "recall"}.get(column, column)])


def run_setting(ctx, key: str, frame: pd.DataFrame, headline: bool, explain: bool) -> dict:
    cfg, setting = ctx.cfg, SETTINGS[key]
    keep = np.ones(len(frame), bool) if setting.normal else frame["label"].to_numpy() != 2
    sub = frame.loc[keep].reset_index(drop=True)
    y_all, classes = sub["label"].to_numpy(int), list(dict.fromkeys(sub.sort_values("label")["label_name"]))
    with ctx.stage("data"):
        x_all = cached_images(frame, cfg.input_size, setting.roi, ctx.options.cache_dir)[keep]
        split = train_val_test_split(y_all, groups=sub["group_id"].to_numpy() if cfg.duplicates else None,
                                     ratios=cfg.ratios, seed=ctx.seed())
        tr, va, te = split["train"], split["val"], split["test"]
        if not (len(tr) and len(va) and len(te)):
            raise ValueError(f"{key}: the {cfg.ratios} split of {len(sub)} images left a side empty "
                             f"({sub['group_id'].nunique()} groups); too few images or one huge duplicate "
                             "group")
        x_train, y_train, k_used, note = x_all[tr], y_all[tr], None, ""
        if setting.smote:   # training side only; validation and test stay real images
            x_train, y_train, k_used, note = oversample(x_train, y_train, cfg.smote_k, ctx.seed())
    if note:
        ctx.note(f"{key}: {note}")
    child = ctx.run.child(key)
    result = ctx.fit(key, (x_train, y_train), (x_all[va], y_all[va]))
    with ctx.stage("evaluation"):
        start = time.perf_counter()
        p_test = predict_proba(result.model, x_all[te], batch_size=cfg.batch_size)
        seconds = time.perf_counter() - start
        # a reloaded fit keeps the time it was trained in
        timings = {"training_s": result.train_seconds, "evaluation_s": seconds,
                   "inference_s_per_image": seconds / len(te)}
        p_val = predict_proba(result.model, x_all[va], batch_size=cfg.batch_size)
        ids = sub["sample_id"].to_numpy()
        preds = pd.concat([predictions_frame(ids[te], y_all[te], p_test, "test"),
                           predictions_frame(ids[va], y_all[va], p_val, "val")], ignore_index=True)
        child.write_predictions(preds)
        metrics = evaluate(y_all[te], p_test, classes)
        metrics.update(setting=key, label=setting.label, classes=classes, counts={
            **{side: int(len(idx)) for side, idx in split.items()},
            "train_after_smote": int(len(y_train)), "smote_k": k_used,
            "per_class": {side: np.bincount(y_all[idx], minlength=len(classes)).tolist()
                          for side, idx in split.items()},
            "train_per_class_after_smote": np.bincount(y_train, minlength=len(classes)).tolist()})
        figures.evaluation_figures(ctx, key, setting.label, y_all[te], p_test, classes,
                                   metrics["confusion_matrix"])
    if headline:
        ctx.headline(predictions=preds, history=result.history, model=result.model)
    if explain:
        with ctx.stage("explanations"):
            cam = figures.gradcam_figure(ctx, key, result.model, sub.iloc[te], x_all[te], p_test)
        timings["gradcam_s_per_image"] = cam.pop("seconds_per_image")
        metrics["gradcam"] = cam
    child.write_metrics(metrics)
    child.write_json("timings.json", timings)      # not in metrics.json: wall times differ run to run
    setting_cells(ctx, key, metrics, timings)
    return metrics


TIMING_CELLS = {"busi_bm": {("BUSI", "training time"): "training_s",
                            ("BUSI", "inference time per image"): "inference_s_per_image"},
                "mri": {("MRI", "training time"): "training_s", ("MRI", "evaluation time"): "evaluation_s"}}


def setting_cells(ctx, key: str, metrics: dict, timings: dict) -> None:
    """The setting's printed cells (each with its averaging), ROC-AUC, split counts and timings."""
    setting, counts = SETTINGS[key], metrics["counts"]
    n, total = counts["test"], counts["train"] + counts["val"] + counts["test"]
    for table, row in setting.cells:
        for column in C.COLUMNS[table]:
            v = value(metrics, column)
            note = C.BLACK_NORMAL_NOTE if table == "Table 6" and setting.roi and setting.normal else \
                C.AVERAGING_NOTE[averaging(column, len(metrics["classes"]))]
            if np.isfinite(v):
                ctx.cell(table, row, column, v, note, n_test=n, bounds=[0, 1])
    if key in C.AUC_ROW and np.isfinite(value(metrics, "auc")):
        ctx.cell("§4 Results text", C.AUC_ROW[key], "auc", value(metrics, "auc"),
                 "ROC-AUC of the positive class (malignant / sick)", n_test=n, bounds=[0, 1])
    sides = (("Training Set", "train"), ("Validation Set", "val"), ("Test Set", "test"))
    split_table = {"busi_bm": "Table 1", "mri": "Table 2"}.get(key)   # BUSI's split is Table 1, MRI's Table 2
    if split_table:
        rows = [(name.capitalize(), [counts["per_class"][s][c] for _, s in sides])
                for c, name in enumerate(metrics["classes"])] + [("Total", [counts[s] for _, s in sides])]
        for row, values in rows:
            for (column, _), v in zip(sides, values):
                ctx.cell(split_table, row, column, v, bounds=[0, total])
            ctx.cell(split_table, row, "Images", sum(values), bounds=[0, total])
    if key == "busi_bm":
        ctx.cell("§3 Data Preprocessing text", "BUSI training set after SMOTE", "images",
                 counts["train_after_smote"], bounds=[0, None])
    if key == "busi_bmn":   # the paper prints no B-M-N split
        for c, name in enumerate(metrics["classes"]):
            ctx.cell("Table 5 (ours)", "BUSI B-M-N test", name, counts["per_class"]["test"][c], bounds=[0, n])
    for (row, column), seconds in TIMING_CELLS.get(key, {}).items():
        ctx.cell("Timings", row, column, timings[seconds], "seconds", bounds=[0, None])


def steps(ctx) -> None:
    cfg = ctx.cfg
    with ctx.stage("data"):
        grouped = {name: group_exact_copies(s.frame) if cfg.duplicates else (s.frame, None)
                   for name, s in ctx.sources.items()}
    for name, (_, dup) in grouped.items():
        if dup:
            ctx.note(f"{name}: {dup['duplicate_images']} duplicate images in {dup['duplicate_groups']} "
                     f"groups among {dup['rows']} (each group kept on one side of the split)")
    for name, why in ctx.missing.items():
        needs, flag = [k for k in cfg.settings if SETTINGS[k].dataset == name], C.DATASET_DIR_KEY[name]
        ctx.say(f"{name} not found ({why}); skipping {', '.join(needs)}: give it with --set {flag}=PATH")
        ctx.skipped("settings", {f"need {name} (--set {flag}=PATH)": len(needs)}, len(cfg.settings),
                    {name: needs})
    metrics, explained = {}, set()
    runnable = [k for k in cfg.settings if SETTINGS[k].dataset in ctx.sources]
    for i, key in enumerate(runnable):
        dataset = SETTINGS[key].dataset
        metrics[key] = run_setting(ctx, key, grouped[dataset][0], headline=i == 0,
                                   explain=dataset not in explained and cfg.cam_images > 0)
        explained.add(dataset)
        if SETTINGS[key].roi and SETTINGS[key].normal:
            ctx.note(f"{key}: {C.BLACK_NORMAL_NOTE}")
    ctx.metrics.update(averaging=C.AVERAGING, settings=metrics,
                       duplicates={k: v[1] for k, v in grouped.items()})
    ctx.note("Tables 4-7: precision, recall (= sensitivity) and F1 are macro averages over classes; "
             "specificity is the binary true-negative rate of benign / healthy (macro one-vs-rest for three "
             "classes); ROC-AUC is the positive-class AUC (one-vs-rest macro for three); metrics.json also "
             "holds the binary, weighted and per-class values")


def datasets(cfg) -> dict:
    options = {"busi": {"include_normal": True, "duplicates": cfg.duplicates,
                        "near_duplicate_distance": cfg.duplicate_distance}, "breast-mri": {}}
    return {name: options[name] for name in cfg.datasets()}


def plan(ctx):
    """One fit per runnable setting, on its training share (after SMOTE: every class at the majority);
    each predicts its test and validation shares and writes two figures; Grad-CAM of the first
    setting of each dataset on ``cam_images`` test images."""
    cfg, fits, cams, explained = ctx.cfg, [], [], set()
    weights = ctx.weights(BACKBONE)
    config = ctx.train_config(optimizer="nadam", learning_rate=cfg.learning_rate,
                              loss="sparse_categorical_crossentropy")
    for key in cfg.settings:
        setting = SETTINGS[key]
        if setting.dataset not in ctx.sources:
            continue
        labels = ctx.sources[setting.dataset].frame["label"].to_numpy(int)
        labels = labels if setting.normal else labels[labels != 2]
        counts = np.bincount(labels)
        n_train = int((len(counts) * counts.max() if setting.smote else len(labels)) * cfg.ratios[0])
        n_test = round(len(labels) * cfg.ratios[2])
        arch = f"EfficientNetV2B0 {cfg.input_size} px, {len(counts)} classes"
        fits.append(PlannedFit(key, arch, lambda n=len(counts): build_model(cfg.input_size, n, weights),
                               n_train, config, n_predict=n_test + round(len(labels) * cfg.ratios[1]),
                               predict_batch=cfg.batch_size, figures=2))
        if setting.dataset not in explained and cfg.cam_images > 0:
            explained.add(setting.dataset)
            n = min(cfg.cam_images, n_test)
            cams += [PlannedExplanation("Grad-CAM", arch, n, cfg.input_size, cam="GradCAM", cam_options=(
                ("layer_name", LAST_CONV_LAYER), ("batch_size", cfg.batch_size)),
                cam_batch=min(n, cfg.batch_size), traces=1, figures=1, panels=2 * n)]
    return Plan(fits, tuple(cams), data=f"images at {cfg.input_size} px (ROI crops for the ROI settings; "
                "cached after a first run), duplicate grouping, SMOTE on each training side")


EXPERIMENT = Experiment(name="effnetv2-smote", config=EffnetConfig, datasets=datasets, steps=steps, plan=plan,
                        optional=("busi", "breast-mri"))
