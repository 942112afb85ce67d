"""multimodal-fusion's protocol (papers/multimodal-fusion.yaml): lesion crops and clinical vectors
of CBIS-DDSM's official split; every row of Tables 1-2 trained with the same seed and
hyper-parameters; test metrics with bootstrap CIs; McNemar of the framework (cross-attention)
against every simpler row; then missing-modality robustness and the XAI of the framework model."""
import math

import numpy as np
import pandas as pd

from mmfusion.data import augment as A
from mmfusion.data.cbis_ddsm import split_official
from mmfusion.evaluation import bootstrap_ci, classification_metrics, mcnemar
from mmfusion.experiment import Experiment
from mmfusion.experiment.plan import Plan, PlannedFit
from mmfusion.experiment.plan import PlannedExplanation as E
from mmfusion.models.backbones import ARCHS
from mmfusion.papers.multimodal_fusion import config as C
from mmfusion.papers.multimodal_fusion import explain
from mmfusion.papers.multimodal_fusion import preprocess as pre
from mmfusion.papers.multimodal_fusion.model import build_fusion_model
from mmfusion.training import predict_proba, predictions_frame

UNIMODAL = ("image", "clinical")


def train_config(ctx, fusion: str):
    cfg, freeze = ctx.cfg, (0 if fusion == "clinical" else ctx.cfg.freeze_epochs)
    augment = A.compose(A.random_flip(horizontal=cfg.flip), A.random_rotation(cfg.rotation_deg),
                        A.random_crop_resize((cfg.random_crop, 1.0)))
    return ctx.train_config(learning_rate=cfg.learning_rate, optimizer="adam", schedule="plateau",
                            early_stopping_patience=cfg.patience, schedule_factor=cfg.reduce_lr_factor,
                            schedule_patience=cfg.reduce_lr_patience, restore_best=True,
                            freeze_backbone_epochs=freeze, augment=augment)


def metric_cells(ctx, row, y, probs) -> dict:
    """The row's test metrics as cells (bootstrap CIs on AUC and F1, as the paper prints)."""
    cfg = ctx.cfg
    m = classification_metrics(y, probs, average=cfg.average)
    places = [(row.table, row.row, C.METRIC_COLUMNS)] + (list(C.BEST_AGAIN) if row.key == C.BEST else [])
    for col in C.METRIC_COLUMNS:
        extra = {}
        if col in C.CI_COLUMNS:
            ci = bootstrap_ci(y, probs, metric=col, n_resamples=cfg.bootstrap, seed=ctx.seed(),
                              average=cfg.average)
            ok = bool(np.isfinite([ci["low"], ci["high"]]).all())
            extra = {"ci": [ci["low"], ci["high"]] if ok else None,
                     "note": f"percentile bootstrap, {cfg.bootstrap} resamples" if ok else "CI undefined"}
        for table, name, columns in places:
            if col in columns:
                ctx.cell(table, name, col, m[col], n_test=len(y), bounds=[0, 1], **extra)
    return m


def mcnemar_cells(ctx, y, probs: dict, best: str) -> dict:
    """McNemar's exact test of ``best`` against every other trained row (paired on the test set)."""
    pred = {k: p.argmax(1) for k, p in probs.items()}
    out = {k: mcnemar(y, pred[best], pred[k]) for k in probs if k != best}
    for k, test in out.items():
        ctx.cell("McNemar (ours)", f"{best} vs {k}", "p_value", test["pvalue"],
                 f"{'exact' if test['exact'] else 'chi2, continuity-corrected'}; discordant pairs "
                 f"b={test['b']}, c={test['c']}", n_test=len(y), bounds=[0, 1])
    if out:   # the paper's "p < 0.01 over unimodal and simpler fusion baselines" holds iff the largest does
        worst = max(out, key=lambda k: out[k]["pvalue"])
        ctx.cell(*C.MCNEMAR_CLAIM, "p_value", out[worst]["pvalue"], f"the largest of {len(out)} ({best} vs "
                 f"{worst})", n_test=len(y), bounds=[0, 1])
    return out


def best_row(rows) -> str:
    """The framework (cross-attention) if selected, else the first multimodal row, else the first."""
    keys = [r.key for r in rows]
    return C.BEST if C.BEST in keys else ([r.key for r in rows if r.fusion not in UNIMODAL] or keys)[0]


def steps(ctx) -> None:
    cfg, frame = ctx.cfg, ctx.frame
    with ctx.stage("data"):
        ctx.metrics["counts"] = pre.unit_counts(frame)        # both units, as loaded
        if cfg.single_label_only:
            frame, multi = pre.single_label(frame)
            ctx.skipped("single-label clinical features", multi, len(ctx.frame))
        if cfg.unit == "mammogram":
            n = len(frame)
            frame, extra = pre.one_per_mammogram(frame)
            ctx.skipped("one sample per mammogram", {"further abnormality on the same mammogram": extra}, n)
        frame = frame.reset_index(drop=True)
        ctx.metrics["unit"] = cfg.unit
        images, clinical, crops = pre.cached_inputs(frame, cfg.input_size, ctx.options.cache_dir)
        split = split_official(frame, cfg.val_fraction, ctx.seed())
    x = {"image": images, "clinical": clinical}
    y, ids = frame["label"].to_numpy(int), frame["sample_id"].to_numpy()

    def subset(idx):
        return {k: v[idx] for k, v in x.items()}

    test, train = split["test"], subset(split["train"])
    switched = dict(train)
    if cfg.bait_switch:      # multimodal rows only: a unimodal row has no clinical input to withhold from
        switched["clinical"], withheld = pre.bait_and_switch(train["clinical"], cfg.bait_switch_fraction,
                                                             ctx.seed())
        ctx.metrics["bait_and_switch"] = {"withheld": int(len(withheld)), "of": int(len(train["clinical"]))}
    results, frames = {}, []
    for row in cfg.selected_rows():
        x_train = train if row.fusion in UNIMODAL else switched
        res = ctx.fit(row.key, (x_train, y[split["train"]]), (subset(split["val"]), y[split["val"]]))
        frozen = list(res.model._mmfusion_backbone) if cfg.freeze_epochs else []    # the lower stages
        ctx.metrics.setdefault("frozen_layers", {})[row.key] = {
            "count": len(frozen), "first": frozen[:1], "last": frozen[-1:], "epochs": cfg.freeze_epochs}
        with ctx.stage("evaluation"):
            probs = predict_proba(res.model, subset(test), batch_size=cfg.batch_size)
            results[row.key] = dict(result=res, probs=probs, metrics=metric_cells(ctx, row, y[test], probs))
            frames.append(predictions_frame(ids[test], y[test], probs, split="test").assign(model=row.key))
    best = best_row(cfg.selected_rows())
    top = results[best]
    ctx.headline(predictions=predictions_frame(ids[test], y[test], top["probs"], split="test"),
                 history=top["result"].history, model=top["result"].model)
    ctx.run.write_predictions(pd.concat(frames, ignore_index=True), name="predictions_all.csv")
    with ctx.stage("evaluation"):
        tests = mcnemar_cells(ctx, y[test], {k: r["probs"] for k, r in results.items()}, best)
        robust = explain.missing_modality(ctx, top["result"].model, subset(test), y[test])
    ctx.metrics.update(top["metrics"], average=cfg.average, best_multimodal=best, mcnemar=tests,
                       robustness=robust, rows={k: r["metrics"] for k, r in results.items()}, crops=crops,
                       split_sizes={k: int(len(v)) for k, v in split.items()})
    with ctx.stage("explanations"):
        ctx.metrics["xai"] = explain.explain(ctx, top["result"].model, subset(test), y[test], ids[test],
                                             top["probs"], clinical[split["train"]])


def plan(ctx):
    """One fit per row, on the official training rows less the validation share (an upper bound:
    the single-label and one-per-mammogram filters only remove rows), each predicting the test rows;
    the best row also the missing-modality variants; explain.explain's work on its model."""
    cfg, split = ctx.cfg, ctx.frame["split"]
    n_train, n_test = int((split == "train").sum() * (1 - cfg.val_fraction)), int((split == "test").sum())
    rows = cfg.selected_rows()
    best = best_row(rows)
    variants = len(C.MISSING_RATES) + sum(math.comb(5, k) for k in C.MISSING_GROUP_COUNTS)  # missing_modality

    def build(fusion):
        weights = None if fusion == "clinical" else ctx.weights(cfg.backbone)
        return lambda: build_fusion_model(fusion, cfg, cfg.num_classes, seed=ctx.seed(), weights=weights)

    fits = [PlannedFit(row.key, f"{row.fusion} {cfg.input_size} px", build(row.fusion), n_train,
                       train_config(ctx, row.fusion), predict_batch=cfg.batch_size,
                       n_predict=n_test * (1 + variants * (row.key == best))) for row in rows]
    arch, size = next(f.arch for f in fits if f.name == best), cfg.input_size
    n = min(n_test, cfg.shap_cases)
    cases = 2 if cfg.num_classes == 2 else 0   # at most (each may be absent)
    layer = "vit_feature_map" if cfg.backbone == "vit" else ARCHS[cfg.backbone].last_conv_layer
    samples = cfg.lime_samples
    explanations = (
        E("Kernel SHAP (clinical groups)", arch, n + cases, size, calls=((3, 1), (1, 30)),  # 2^5 - 2 subsets
          libraries=("shap",), unmeasured="shap's own work on 30 coalitions"),
        E("Grad-CAM", arch, cases, size, cam="GradCAM",
          cam_options=(("layer_name", layer), ("input_name", "image")),
          cam_batch=max(cases, 1), traces=1 if cases else 0),
        E("LIME tabular", arch, cases, size, calls=((math.ceil(samples / 1024), min(samples, 1024)),),
          libraries=("lime",), unmeasured="LIME tabular's own work"),
        E("LIME image", arch, cases, size, calls=((math.ceil(samples / 64), min(samples, 64)),), segment=True,
          samples=samples, sampler="lime", libraries=("lime",)),
        E("figures", arch, 0, size, figures=1 + cases + (cases > 0), panels=1 + 3 * cases + 3 * cases))
    return Plan(fits, explanations, evaluation="McNemar tests",
                data=f"lesion crops at {size} px and clinical vectors (cached after a first run)",
                bootstraps=tuple((len(rows), m, cfg.bootstrap, n_test, cfg.average) for m in C.CI_COLUMNS))


EXPERIMENT = Experiment(name="multimodal-fusion", config=C.FusionConfig, steps=steps, plan=plan,
                        datasets=lambda cfg: {"cbis-ddsm": {"labels": cfg.labels}})
