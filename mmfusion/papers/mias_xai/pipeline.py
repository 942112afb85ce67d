"""mias-xai's protocol (papers/mias-xai.yaml): per protocol (the authors' stratified split, and a
patient-grouped one) the authors' class weights (or a search), ``runs`` retrainings on the x16
training set and, on the first protocol, the sensitivity weights; then the tables and explanations."""
import math

import numpy as np
import pandas as pd

from mmfusion.evaluation import classification_metrics, confusion_matrix, per_class_report
from mmfusion.experiment import Experiment
from mmfusion.experiment.plan import Plan, PlannedFit
from mmfusion.experiment.plan import PlannedExplanation as E
from mmfusion.papers.mias_xai import explain
from mmfusion.papers.mias_xai.config import MiasConfig
from mmfusion.papers.mias_xai.model import LAST_CONV, build_mias_cnn
from mmfusion.papers.mias_xai.preprocess import CLASS_NAMES, augment_training_set, cached_crops, splits
from mmfusion.training import predict_proba, predictions_frame

# the authors' split fills the paper's tables; the patient-grouped one is ours, in tables of ours
PROTOCOL_TABLE = {"stratified": "", "patient": " (ours: patient-grouped split)"}
AVERAGED = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "specificity", "auc")


def train_one(ctx, crops, split, protocol, name, run, sides=("val", "test"), **changes):
    """Augment the training side with seed ``run``, fit sub-run ``name`` (``changes``: a searched
    weight), predict ``sides``: (fit result, augmentation counts, predictions of run ``run + 1``)."""
    x, y, counts = augment_training_set(crops.images[split["train"]], crops.labels[split["train"]],
                                        ctx.seed(run=run))
    one_hot = np.eye(len(CLASS_NAMES), dtype="float32")
    val = (crops.images[split["val"]].astype("float32"), one_hot[crops.labels[split["val"]]])
    result = ctx.fit(name, (x.astype("float32"), one_hot[y]), val, **changes)
    with ctx.stage("evaluation"):
        frames = [predictions_frame(crops.sample_ids[split[side]], crops.labels[split[side]],
                                    predict_proba(result.model, crops.images[split[side]].astype("float32")),
                                    side, fold=0, run=run + 1) for side in sides]
    out = pd.concat(frames, ignore_index=True)
    out.insert(1, "protocol", protocol)
    return result, counts, out


def weights_label(weights) -> str:
    return "{" + ",".join(f"{weights[c]:g}" for c in sorted(weights)) + "}"


def pick(scores: dict) -> int:
    """The candidate with the highest mean score; ties (1e-9) go to the smaller spread over seeds,
    then to the earlier candidate."""
    key = [(-round(float(np.mean(v)), 9), round(float(np.std(v)), 9), k) for k, v in scores.items()]
    return min(key)[2]


def choose_class_weight(ctx, crops, split, protocol):
    """``class_weight_seeds`` fits per candidate, scored by validation balanced accuracy: (chosen
    weights, {candidate: per-seed scores}, {candidate: test predictions}); one candidate: no fits."""
    candidates = ctx.cfg.class_weight_candidates
    if len(candidates) == 1:
        return candidates[0], {}, {}
    scores, predictions = {}, {}
    for k, weights in enumerate(candidates):
        scores[k], frames = [], []
        for s in range(ctx.cfg.class_weight_seeds):
            name = f"{protocol}-classweight{k + 1}-seed{s + 1}"
            frame = train_one(ctx, crops, split, protocol, name, s)[2]
            scores[k].append(run_metrics(frame[frame["split"] == "val"])["macro"]["balanced_accuracy"])
            frames.append(frame[frame["split"] == "test"])
        predictions[k] = pd.concat(frames, ignore_index=True)
    return candidates[pick(scores)], scores, predictions


def sensitivity_weights(cfg) -> tuple:
    """The weights retrained ``runs`` times beside a fixed choice (none under a search)."""
    candidates = cfg.class_weight_candidates
    return () if len(candidates) > 1 else tuple(w for w in cfg.sensitivity_weights if w != candidates[0])


def run_protocol(ctx, crops, protocol, split):
    """(predictions, info, first model, {weights label: test predictions}) of one protocol."""
    weights, scores, searched = choose_class_weight(ctx, crops, split, protocol)
    frames, first, epochs, counts = [], None, [], None
    chosen = {"class_weight": weights} if scores else {}
    for r in range(ctx.cfg.runs):
        result, counts, frame = train_one(ctx, crops, split, protocol, f"{protocol}-run{r + 1}", r, **chosen)
        frames.append(frame)
        first = first or result
        epochs.append(len(result.history.get("epoch", [])))
    predictions = pd.concat(frames, ignore_index=True)
    candidates = ctx.cfg.class_weight_candidates
    sensitivity = {weights_label(candidates[k]): frame for k, frame in searched.items()}
    if protocol == ctx.cfg.protocols[0]:
        sensitivity[weights_label(weights)] = predictions[predictions["split"] == "test"]
        for j, other in enumerate(sensitivity_weights(ctx.cfg)):
            runs = [train_one(ctx, crops, split, protocol, f"{protocol}-sensitivity{j + 1}-run{r + 1}", r,
                              sides=("test",))[2] for r in range(ctx.cfg.runs)]
            sensitivity[weights_label(other)] = pd.concat(runs, ignore_index=True)
    search = None if not scores else {
        "rule": f"mean validation balanced accuracy over {ctx.cfg.class_weight_seeds} seeded fits per "
                "candidate; ties (1e-9): smaller spread over seeds, then the earlier candidate",
        "scores": {weights_label(candidates[k]): {"per_seed": v, "mean": float(np.mean(v)),
                                                  "std": float(np.std(v, ddof=1)) if len(v) > 1 else None}
                   for k, v in scores.items()}}
    info = {"class_weight": {str(k): v for k, v in weights.items()},
            "class_weight_source": "search" if scores else "fixed (the authors' final weights)",
            "class_weight_search": search, "epochs_run": epochs,
            "split_sizes": {side: crops.counts(idx) for side, idx in split.items()},
            "augmented_training_set": counts}
    return predictions, info, first, sensitivity


SENSITIVITY_COLUMNS = (("accuracy", None), ("recall", None), ("f1", None), ("recall", "benign"),
                       ("f1", "benign"), ("recall", "malignant"))


def sensitivity_cells(ctx, protocol, chosen: str, by_weights: dict, search) -> dict:
    """Our tables: test metrics under each class weight (runs or search fits), the search's scores."""
    sfx, out = PROTOCOL_TABLE[protocol] or " (ours)", {}
    for label, frame in by_weights.items():
        per = [run_metrics(f) for _, f in frame.groupby("run", sort=True)]
        row = f"{label}{' (chosen)' if label == chosen else ''}"
        out[label] = {}
        for column, cls in SENSITIVITY_COLUMNS:
            values = [m["macro"][column] if cls is None else m["per_class"][cls][column] for m in per]
            name = column if cls is None else f"{cls} {column}"
            out[label][name] = {"mean": float(np.mean(values)), "values": values}
            ctx.cell("Class-weight sensitivity" + sfx, row, name, values,
                     f"test, {'macro' if cls is None else 'per class'}, one value per fit ({len(per)})",
                     bounds=[0, 1], n_test=per[0]["n_test"])
    if search:
        for label, s in search["scores"].items():
            ctx.cell("Class-weight choice" + sfx, label + (" (chosen)" if label == chosen else ""),
                     "validation balanced accuracy", s["per_seed"], "one value per seeded fit", bounds=[0, 1])
    return out


def run_metrics(frame: pd.DataFrame) -> dict:
    """One run's test predictions -> macro metrics, per-class P/R/F1, confusion matrix, baseline."""
    y, p = frame["y_true"].to_numpy(int), frame[[f"p_{c}" for c in range(len(CLASS_NAMES))]].to_numpy(float)
    per_class = per_class_report(y, p, CLASS_NAMES)
    majority = int(np.bincount(y, minlength=len(CLASS_NAMES)).argmax())
    return {"macro": classification_metrics(y, p, "macro"),
            "per_class": {c: {k: float(per_class.loc[c, k]) for k in ("precision", "recall", "f1", "support")}
                          for c in CLASS_NAMES},
            "confusion_matrix": confusion_matrix(y, p.argmax(1), len(CLASS_NAMES)).tolist(),
            "majority_class": CLASS_NAMES[majority], "majority_accuracy": float(np.mean(y == majority)),
            "n_test": int(len(y))}


def metric_cells(ctx, predictions: pd.DataFrame, splits_by_protocol: dict, crops) -> dict:
    """The paper's tables from the test rows of every protocol and run; returns metrics.json content."""
    metrics, test = {}, predictions[predictions["split"] == "test"]
    for protocol in ctx.cfg.protocols:
        mine = test[test["protocol"] == protocol]
        runs = {int(r): run_metrics(f) for r, f in mine.groupby("run", sort=True)}
        per, sfx = list(runs.values()), PROTOCOL_TABLE[protocol]
        n, table = {"n_test": per[0]["n_test"], "bounds": [0, 1]}, "Table Metrics" + sfx
        # how `mmfusion verify` recomputes a cell
        by = {"where": {"protocol": protocol, "split": "test"}, "by": "run"}
        for r, m in runs.items():
            ctx.cell("Table Runs" + sfx, f"run {r}", "accuracy", m["macro"]["accuracy"],
                     f"seed offset {r - 1}", derive={**by, "groups": [r], "metric": "accuracy"}, **n)
        ctx.cell("Table Runs" + sfx, "retrained models", "runs", len(per), "retrainings with seeds seed + r")
        for column in AVERAGED:
            values = [m["macro"][column] for m in per]
            if not np.isnan(values).any():
                ctx.cell(table, "CNN", column, values, f"macro, one value per run ({len(per)})",
                         derive={**by, "metric": column}, **n)
        for k, c in enumerate(CLASS_NAMES):
            for column in ("precision", "recall", "f1"):
                ctx.cell(table, c, column, [m["per_class"][c][column] for m in per], "per class, per run",
                         bounds=[0, 1], derive={**by, "metric": column, "class": k})
        ctx.cell(table, "Majority baseline", "accuracy", per[0]["majority_accuracy"],
                 f"always '{per[0]['majority_class']}' (the test set's most frequent class)", **n)
        cms = np.array([m["confusion_matrix"] for m in per])
        for i, t in enumerate(CLASS_NAMES):
            for j, q in enumerate(CLASS_NAMES):
                # the paper prints its first model's matrix: ours is run 1's; every run's in a table of ours
                spec = {**by, "confusion": [i, j]}
                ctx.cell("Confusion matrix" + sfx, f"true {t}", f"pred {q}", cms[0, i, j], "counts of run 1",
                         bounds=[0, per[0]["n_test"]], derive={**spec, "groups": [min(runs)]})
                ctx.cell("Confusion matrix (ours: every run)" + sfx, f"true {t}", f"pred {q}", cms[:, i, j],
                         "counts, one value per run", bounds=[0, per[0]["n_test"]], derive=spec)
        test_idx = splits_by_protocol[protocol]["test"]
        for name, size in {**crops.counts(test_idx), "total": len(test_idx)}.items():
            ctx.cell("Test set" + sfx, name, "images", size, "our split of our crops")
        metrics[protocol] = {"runs": runs,
                             "mean": {k: float(np.mean([m["macro"][k] for m in per])) for k in AVERAGED},
                             "confusion_matrix_mean": cms.mean(axis=0).tolist()}
    return metrics


def steps(ctx) -> None:
    with ctx.stage("data"):
        crops = cached_crops(ctx.frame, ctx.cfg.input_size, ctx.options.cache_dir)
        crops, excluded = crops.without(ctx.cfg.authors_excluded)
        all_splits = splits(crops, ctx.cfg.split_seed)
    ctx.skipped("preprocessing", {**{k: len(v) for k, v in crops.skipped.items()},
                                  "excluded as the authors did (black crops)": len(excluded)},
                len(ctx.frame), {**crops.skipped, "authors_excluded": excluded})
    predictions, infos, first, sensitivity = [], {}, None, {}
    for protocol in ctx.cfg.protocols:
        pred, infos[protocol], model_run, sensitivity[protocol] = run_protocol(ctx, crops, protocol,
                                                                               all_splits[protocol])
        predictions.append(pred)
        first = first or model_run          # explained and saved: first run of the first protocol
    predictions = pd.concat(predictions, ignore_index=True)
    ctx.headline(predictions=predictions, history=first.history, model=first.model)
    ctx.metrics.update(protocols=infos, crops=crops.counts(), preprocessing_skipped=crops.skipped,
                       **metric_cells(ctx, predictions, all_splits, crops))
    for protocol, by_weights in sensitivity.items():
        chosen = weights_label({int(k): v for k, v in infos[protocol]["class_weight"].items()})
        infos[protocol]["class_weight_sensitivity"] = sensitivity_cells(
            ctx, protocol, chosen, by_weights, infos[protocol]["class_weight_search"])
    with ctx.stage("explanations"):
        explain.compare(ctx, first.model, crops, all_splits[ctx.cfg.protocols[0]]["test"])


def plan(ctx):
    """Per protocol, ``class_weight_seeds`` fits per candidate (when several), ``runs`` retrainings
    and, on the first, ``runs`` per sensitivity weight, each on the x16 set undersampled to 3 x its
    minority class; explain.compare's work on the first model (and its re-initialised copy)."""
    cfg, frame = ctx.cfg, ctx.frame
    counts = np.bincount(frame["label"].to_numpy(int), minlength=len(CLASS_NAMES))
    n_train = len(CLASS_NAMES) * 16 * int(0.7 * counts.min())
    # crops: abnormal films without coordinates and the authors' two black crops are left out
    n = int(len(frame) - (frame["label"].ne(0) & frame["x"].isna()).sum()
            - frame["sample_id"].isin(cfg.authors_excluded).sum())
    held = math.ceil(0.3 * n)                        # the two-step split: 30 % held out, then halved
    n_test, n_val = math.ceil(0.5 * held), held - math.ceil(0.5 * held)
    candidates, arch = cfg.class_weight_candidates, f"mias-xai CNN {cfg.input_size} px"

    def fit(name, run, class_weight, n_predict=n_val + n_test, shared=False):
        seed = ctx.seed(run=run)
        config = ctx.train_config(optimizer="adam", learning_rate=cfg.learning_rate,
                                  loss="categorical_crossentropy", early_stopping_patience=cfg.patience,
                                  monitor="val_loss", restore_best=True, class_weight=class_weight, seed=seed,
                                  run_eagerly=False)
        return PlannedFit(name, arch, lambda: build_mias_cnn(cfg.input_size, len(CLASS_NAMES), seed=seed),
                          n_train, config, n_predict=n_predict, shared=shared)

    fits = []
    for p in cfg.protocols:       # steps() order: a protocol's candidates, its runs, its sensitivity runs
        # the candidates pick the runs' class weights: shared, so every shard picks as an unsharded run
        fits += [fit(f"{p}-classweight{i + 1}-seed{s + 1}", s, w, shared=True)
                 for i, w in enumerate(candidates if len(candidates) > 1 else ())
                 for s in range(cfg.class_weight_seeds)]
        # under a search, the runs train with the weights it picks (ctx.fit's change)
        fits += [fit(f"{p}-run{r + 1}", r, candidates[0] if len(candidates) == 1 else None)
                 for r in range(cfg.runs)]
        if p == cfg.protocols[0]:
            fits += [fit(f"{p}-sensitivity{j + 1}-run{r + 1}", r, w, n_predict=n_test)
                     for j, w in enumerate(sensitivity_weights(cfg)) for r in range(cfg.runs)]
    return Plan(fits, explanations(cfg, arch, min(cfg.explain_images or n_test, n_test)),
                data=f"crops at {cfg.input_size} px from {len(frame)} films and their x16 augmentation "
                     "(crops cached after a first run)")


def explanations(cfg, arch, n: int) -> tuple:
    """explain.compare on ``n`` test images: the batched methods on the model and its re-initialised
    copy, the per-call style on ``per_call_images``, the deletion / insertion curves of 10 map sets
    (3 methods, 3 random seeds, the blob, 3 re-initialised), a grid per class."""
    size, k = cfg.input_size, min(cfg.per_call_images, n)
    lime = ((math.ceil(cfg.lime_samples / 64), min(64, cfg.lime_samples)),)
    # image_kernel_shap: the target's call, shap's f(all on) and f(all off), then its coalitions
    shap = ((3, 1), (math.ceil(cfg.shap_samples / 256), min(256, cfg.shap_samples)))
    cam = dict(cam="GradCAM", cam_options=(("layer_name", LAST_CONV),), cam_batch=min(n, 32),
               traces=2 if n > 1 else 1)                # a first call on one image, then all n: two shapes
    out = []
    for model in ("", " of a re-initialised model"):
        out += [E("Grad-CAM" + model, arch, n, size, models=1 if model else 0, **cam),
                E("LIME" + model, arch, n, size, calls=lime, segment=True, samples=cfg.lime_samples,
                  sampler="lime", libraries=("lime",)),
                E("Kernel SHAP" + model, arch, n, size, calls=shap, segment=True, samples=cfg.shap_samples,
                  sampler="shap", libraries=("shap",))]
    steps = cfg.curve_steps + 1
    per_class = [min(4, len(range(c, n, len(CLASS_NAMES)))) for c in range(len(CLASS_NAMES))]  # round-robin
    naive = "mmfusion.papers.mias_xai.explain:naive_gradcam"
    out += [E("Grad-CAM (per-call style)", arch, k, size, cam=naive,
              cam_options=(("layer_name", LAST_CONV),), traces=1 if k else 0),
            E("LIME (per-call style)", arch, k, size, calls=((math.ceil(cfg.lime_samples / 10), 10),),
              predict=True, segment=True, samples=cfg.lime_samples, sampler="lime", traces=1 if k else 0),
            E("Kernel SHAP (per-call style)", arch, k, size,
              calls=((3, 1), (math.ceil(cfg.shap_samples / 10), 10)),
              predict=True, segment=True, samples=cfg.shap_samples, sampler="shap", traces=1 if k else 0),
            E("deletion / insertion curves", arch, 10 * n, size,
              calls=((2 * math.ceil(steps / 128), min(steps, 128)),)),
            E("explanation grids", arch, 0, size, figures=sum(c > 0 for c in per_class),
              panels=4 * sum(per_class))]
    return tuple(out)


EXPERIMENT = Experiment(name="mias-xai", config=MiasConfig, steps=steps, plan=plan,
                        datasets=lambda cfg: {"mias": {"label_rule": "first"}})
