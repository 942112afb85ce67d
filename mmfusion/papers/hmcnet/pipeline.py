"""hmcnet's protocol on the experiment template (papers/hmcnet.yaml).

Per task (normal vs abnormal carries the abstract's numbers; benign vs malignant is ours): k-fold
CV stratified and grouped by patient, the same folds for every model, each fit in sub-run
``<task>/<model>/fold<k>``; CAMs of the first model; Friedman + Nemenyi on a per-fold metric."""
import math

import numpy as np
import pandas as pd

from mmfusion.data.splits import holdout_by_group, kfold_splits
from mmfusion.evaluation import cd_diagram, classification_metrics, friedman_nemenyi, learning_curves
from mmfusion.evaluation.metrics import mean_std
from mmfusion.experiment import Experiment
from mmfusion.experiment.plan import Plan, PlannedExplanation, PlannedFit
from mmfusion.papers.hmcnet.config import REPORTED, TASKS, HmcConfig
from mmfusion.papers.hmcnet.explain import LABELS as CAM_LABELS
from mmfusion.papers.hmcnet.explain import METHODS, explain_fold, score_cells
from mmfusion.papers.hmcnet.model import AttentionConfig, backbone, build_model, last_conv_layer
from mmfusion.papers.hmcnet.preprocess import film_images, task_data
from mmfusion.training import predict_proba, predictions_frame

LABELS = {"hmcnet": "HMC-Net", "resnet50_hsa": "ResNet50 + hierarchical attention",
          "resnet50_msca": "ResNet50 + multi-scale attention", "resnet50": "ResNet50",
          "vgg16": "VGG16", "vgg19": "VGG19", "vit": "ViT"}
PAPER_COMPARISON = ("hmcnet", "resnet50", "vgg19", "vgg16", "vit")   # the abstract's Friedman set
TABLES = {"normal_vs_abnormal": "Abstract", "benign_vs_malignant": "Benign vs malignant (ours)"}
OURS = "Baselines and ablations (ours)"    # the abstract prints numbers for HMC-Net only
CAM_TABLE = "CAM lesion scores (ours)"


def friedman_sets(models) -> dict:
    """Row -> models: the abstract's comparison (HMC-Net vs the baselines run) and all models."""
    paper = [m for m in PAPER_COMPARISON if m in models]
    sets = {}
    if "hmcnet" in paper and len(paper) >= 3:
        sets["Friedman test (HMC-Net vs " + ", ".join(LABELS[m] for m in paper[1:]) + ")"] = paper
    if len(models) > len(paper) and len(models) >= 3:
        sets["Friedman test (all models incl. ablations)"] = list(models)
    return sets


def cross_validate_model(ctx, data, name, folds) -> dict:
    """Every fold of ``name``: predictions, histories, per-fold metrics, CAM scores, last model."""
    frames, histories, per_fold, cams, result = [], [], [], [], None
    x, y = data.images, data.labels
    for fold, (train_idx, test_idx) in enumerate(folds):
        # the inner validation split, by patient (the same for every model)
        fit_idx, val_idx = holdout_by_group(train_idx, y, data.groups, ctx.cfg.val_fraction,
                                            ctx.seed(fold=fold))
        result = ctx.fit(f"{data.name}/{name}/fold{fold}", (x[fit_idx], y[fit_idx]), (x[val_idx], y[val_idx]))
        with ctx.stage("evaluation"):
            probs = predict_proba(result.model, x[test_idx], batch_size=ctx.cfg.batch_size)
            frames.append(predictions_frame(data.ids[test_idx], y[test_idx], probs, "test", fold))
            per_fold.append(classification_metrics(y[test_idx], probs))
        histories.append(pd.DataFrame(result.history).assign(fold=fold))
        if name == ctx.cfg.models[0] and ctx.cfg.cam_images:
            with ctx.stage("explanations"):
                cams.append(explain_fold(ctx, result.model, data.name, name, data.frame.iloc[test_idx],
                                         x[test_idx], probs, fold))
    return {"predictions": pd.concat(frames, ignore_index=True),
            "history": pd.concat(histories, ignore_index=True),
            "folds": per_fold, "cams": cams, "model": result.model}


def model_cells(ctx, table, task, name, cv, n_test) -> dict:
    """The model's per-fold metrics as cells, its files in ``<task>/<model>/``; metrics.json entry."""
    for m in REPORTED:
        values = [float(f[m]) for f in cv["folds"] if np.isfinite(f[m])]
        if values:
            left_out = "" if len(values) == len(cv["folds"]) else "; folds with an undefined value left out"
            ctx.cell(table, LABELS[name], m, values, f"one value per fold ({len(values)}){left_out}",
                     n_test=n_test, test_sets="disjoint", bounds=[0, 1])
    summary = {m: dict(zip(("mean", "std"), mean_std([f[m] for f in cv["folds"]]))) for m in cv["folds"][0]}
    entry = {"folds": cv["folds"], "summary": summary}
    child = ctx.run.child(f"{task}/{name}")
    child.write_predictions(cv["predictions"])
    child.write_history(cv["history"])
    child.write_metrics(entry)
    learning_curves(cv["history"], child.figures_dir / "learning_curves.png",
                    title=f"{LABELS[name]} — {task} — learning curves per fold{ctx.tag}")
    return entry


def friedman_cells(ctx, table, task, per_model) -> dict:
    """Friedman + Nemenyi on the per-fold metric for each comparison set; CD diagrams."""
    metric, out = ctx.cfg.friedman_metric, {}
    for row, models in friedman_sets(list(per_model)).items():
        fn = friedman_nemenyi({LABELS[m]: [f[metric] for f in per_model[m]["folds"]] for m in models})
        out[row] = {"metric": metric, "models": models, **fn.to_dict()}
        ctx.cell(table, row, "p_value", fn.pvalue, f"Friedman on per-fold {metric} of {len(models)} models; "
                 f"Nemenyi CD {fn.cd:.3f}", bounds=[0, 1])
        tag = "paper" if row.startswith("Friedman test (HMC-Net") else "all"
        cd_diagram(fn, ctx.run.figures_dir / f"cd_diagram_{task}_{tag}.png",
                   title=f"Nemenyi CD ({metric}, {task}, {ctx.cfg.folds} folds){ctx.tag}")
    if not out:
        ctx.note(f"{task}: Friedman / Nemenyi not run: needs HMC-Net and >= 2 other models, got "
                 f"{list(per_model)}")
    return out


def steps(ctx) -> None:
    cfg = ctx.cfg
    with ctx.stage("data"):
        images = film_images(ctx.frame, cfg.input_size, cfg.preprocessing, ctx.options.cache_dir)
    for t, task in enumerate(cfg.tasks):
        data = task_data(ctx.frame, images, task)
        ctx.skipped(task, {"normal films (the task uses abnormal films only)": data.dropped}, len(ctx.frame))
        folds = kfold_splits(data.labels, data.groups, cfg.folds, ctx.seed())
        table, n_test = TABLES[task], round(len(data.frame) / cfg.folds)
        per_model, cams = {}, []
        for name in cfg.models:
            cv = cross_validate_model(ctx, data, name, folds)
            with ctx.stage("evaluation"):
                per_model[name] = model_cells(ctx, table if name == "hmcnet" or table != "Abstract" else OURS,
                                              task, name, cv, n_test)
            cams += cv["cams"]
            if t == 0 and name == cfg.models[0]:
                ctx.headline(predictions=cv["predictions"], history=cv["history"], model=cv["model"])
        with ctx.stage("evaluation"):
            friedman = friedman_cells(ctx, table, task, per_model)
        suffix = "" if t == 0 else f" — {task.replace('_', ' ')}"
        ctx.metrics[task] = {"models": per_model, "friedman": friedman,
                             "cam_lesion_scores": score_cells(ctx, CAM_TABLE, suffix, cams)}


def plan(ctx):
    """Every task x model x fold, on (1 - 1/folds)(1 - val_fraction) of the task's films; each
    predicts its test fold; explain_fold's CAMs of the first model on every test fold."""
    cfg, attention = ctx.cfg, AttentionConfig.from_dict(ctx.cfg.attention)
    labels, fits, cams = ctx.frame["label"].to_numpy(int), [], []
    for task in cfg.tasks:
        films = int(np.isin(labels, TASKS[task]["keep"]).sum())
        n_train = int(films * (1 - 1 / cfg.folds) * (1 - cfg.val_fraction))
        n_test = math.ceil(films / cfg.folds)
        for name in cfg.models:
            weights, last = ctx.weights(backbone(name)), name == cfg.models[-1]
            build = lambda name=name, weights=weights: build_model(  # noqa: E731
                name, cfg.input_size, 2, weights, attention, cfg.vit)
            for k in range(cfg.folds):
                config = ctx.train_config(optimizer=cfg.optimizer, learning_rate=cfg.learning_rate,
                                          early_stopping_patience=cfg.patience, monitor="val_loss",
                                          restore_best=True, seed=ctx.seed(fold=k))
                # the last fold writes learning curves; after the task's last model, its CD diagrams
                figures = (k == cfg.folds - 1) * (1 + last * len(friedman_sets(list(cfg.models))))
                fits.append(PlannedFit(f"{task}/{name}/fold{k}", f"{name} {cfg.input_size} px", build,
                                       n_train, config, n_predict=n_test, predict_batch=cfg.batch_size,
                                       figures=figures))
        if not cfg.cam_images:
            continue
        n = min(cfg.cam_images, n_test) * cfg.folds
        arch, batch = f"{cfg.models[0]} {cfg.input_size} px", min(cfg.cam_images, n_test, cfg.batch_size)
        options = (("layer_name", last_conv_layer(cfg.models[0])), ("batch_size", cfg.batch_size),
                   ("eager", cfg.eager_cams))
        for method in METHODS:
            more = (("max_channels", cfg.scorecam_channels),) if method == "ScoreCAM" else ()
            for copy in ("", " of a re-initialised model"):   # the copy: when a film has a lesion circle
                cams.append(PlannedExplanation(CAM_LABELS[method] + copy, arch, n, cfg.input_size, cam=method,
                                               cam_options=options + more, cam_batch=batch, traces=cfg.folds,
                                               models=cfg.folds if copy and method == METHODS[0] else 0))
        cams.append(PlannedExplanation("CAM grids", arch, 0, cfg.input_size, figures=cfg.folds,
                                       panels=n * (1 + len(METHODS))))
    return Plan(fits, tuple(cams), data=f"{len(labels)} films resized to {cfg.input_size} px "
                f"({cfg.preprocessing}; cached after a first run)",
                evaluation="per-fold metrics, Friedman / Nemenyi")


EXPERIMENT = Experiment(name="hmcnet", config=HmcConfig, steps=steps, plan=plan,
                        datasets=lambda cfg: {"mias": {}})
