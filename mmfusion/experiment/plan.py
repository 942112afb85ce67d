"""Plan before you spend: what a run will do, and how long it takes on this device. A paper's
``Experiment.plan(ctx)`` returns a :class:`Plan`: its fits (:class:`PlannedFit`, the one declaration
``ctx.fit`` trains in order), their evaluation and explanation work (:class:`PlannedExplanation`).
``experiment.probe.probe`` times what that work is made of; ``estimate`` multiplies it out."""
import dataclasses
import math
import time
from typing import Callable

SESSION_HOURS = 12.0          # a Kaggle kernel / Colab session
WEEKLY_GPU_HOURS = 30.0       # Kaggle's weekly GPU quota
REPORT_SECONDS = 0.9          # the report stage and the files outside any stage: a constant, not probed
EXIT_SECONDS = 1.6            # TensorFlow's teardown at exit: a process cannot time its own exit
SHARES = ("start", "data", "training", "evaluation", "explanations", "report", "exit")


@dataclasses.dataclass(frozen=True)
class PlannedFit:
    """One fit, declared once: ``ctx.fit``, the plan and the probe all read this declaration."""
    name: str                 # its sub-run
    arch: str                 # what the probe times once (same arch = same step time)
    build: Callable           # (**build_args) -> keras.Model; the probe calls it without arguments
    n_train: int              # training samples per epoch, as the plan counts them before the split
    config: object            # the TrainConfig it trains with (ctx.train_config)
    n_predict: int = 0        # images its evaluation predicts (test, validation, robustness variants)
    predict_batch: int = 64   # images per prediction call
    figures: int = 0          # figures its evaluation writes (ROC, confusion matrix, learning curves)
    shared: bool = False      # later fits depend on its result: every shard that trains one of them trains it

    epochs = property(lambda self: self.config.epochs)    # the most it runs (early stopping may end sooner)
    batch_size = property(lambda self: self.config.batch_size)
    eager = property(lambda self: self.config.run_eagerly)
    augment = property(lambda self: self.config.augment)  # probed through a real fit
    steps = property(lambda self: self.epochs * math.ceil(self.n_train / self.batch_size))


@dataclasses.dataclass(frozen=True)
class PlannedExplanation:
    """One method's explanation work in a run, as data (all fits together)."""
    method: str               # the name the run's outputs give it (xai.json, cams json, metrics)
    arch: str                 # the PlannedFit.arch of the explained model (its forward / build time)
    images: int               # images explained
    size: int                 # image side in px (segmentation, LIME / SHAP perturbations)
    calls: tuple = ()         # ((model calls per image, images per call), ...)
    predict: bool = False     # the calls go through keras model.predict (the authors' per-call style)
    segment: bool = False     # one quickshift segmentation per image
    samples: int = 0          # perturbations per image whose own work (masking, fitting) is probed...
    sampler: str | None = None  # ...as "lime" or "shap" (image explainers); None: not probed
    cam: str | None = None    # a mmfusion.xai CAM class ("GradCAM", ...) or "module:function" (per call)
    cam_options: tuple = ()   # ((keyword, value), ...) for the CAM: layer_name, input_name, batch_size, ...
    cam_batch: int = 1        # images per CAM call
    traces: int = 0           # first calls (a CAM's trace per explainer and input shape; a predict trace)
    models: int = 0           # models built for it (a re-initialised copy)
    figures: int = 0          # figures written...
    panels: int = 0           # ...with this many image panels in all
    libraries: tuple = ()     # imported on first use ("lime", "shap")
    unmeasured: str = ""      # its work no probe times


@dataclasses.dataclass(frozen=True)
class Plan:
    fits: list
    explanations: tuple = ()
    data: str = ""            # what data preparation does besides loading (e.g. crops, cached)
    evaluation: str = ""      # evaluation work no probe times (e.g. statistical tests)
    bootstraps: tuple = ()    # ((calls, metric, resamples, test images, average), ...): bootstrap CIs


@dataclasses.dataclass
class Probe:
    """What ``probe`` measured on this device (seconds); ``estimate`` multiplies it out."""
    fits: dict                # arch -> (fixed cost of its first fit, s/step, s/checkpoint[, of a later fit])
    start: float | None = None   # this process: start to TensorFlow/Keras imported (None: not measured)
    data: float = 0.0         # loading the data (prepare), this process
    build: dict = dataclasses.field(default_factory=dict)    # arch -> seconds to build the model
    forward: dict = dataclasses.field(default_factory=dict)  # (arch, batch, predict) -> (first, later) s/call
    cam: dict = dataclasses.field(default_factory=dict)      # cam key -> (first call's extra, s/image later)
    segment: dict = dataclasses.field(default_factory=dict)  # size -> s per quickshift segmentation
    sample: dict = dataclasses.field(default_factory=dict)   # (sampler, size) -> s of its own work per sample
    figure: tuple = (0.0, 0.0, 0.0)   # explanation grids: (first figure's extra, s per figure, s per panel)
    evaluation_figure: float = 0.0    # s per evaluation figure (mean of a ROC, a confusion matrix, curves)
    bootstrap: dict = dataclasses.field(default_factory=dict)  # (metric, resamples, n, average) -> s per CI
    imports: dict = dataclasses.field(default_factory=dict)  # library -> s to import


def as_plan(planned) -> Plan:
    return planned if isinstance(planned, Plan) else Plan(list(planned))


def plan_text(name: str, options, measure: bool = True) -> str:
    """What `mmfusion plan` prints: the run's (or shard's) work, then the probe's estimate on this device."""
    from mmfusion.experiment import planning_context
    from mmfusion.experiment.probe import probe, startup_seconds
    from mmfusion.registry import get_paper

    experiment = get_paper(name).experiment()
    start = startup_seconds()        # before the data: what a run pays before its own timer
    loading = time.perf_counter()
    ctx = planning_context(experiment, options, probing=True)
    loading = time.perf_counter() - loading
    cfg = ctx.cfg
    plan = for_shard(experiment.plan(ctx), name, cfg)
    share = f" shard {cfg.shard}" if cfg.shard else ""
    lines = [f"{name}{' --quick' if options.quick else ''}{share}: {describe(plan)}"]
    if measure:
        from mmfusion.utils.env import device_info

        measured = probe(plan, sources=ctx.sources)
        measured.start, measured.data = start, loading
        gpus = device_info()["gpus"]
        device = (f"{len(gpus)} x {gpus[0]}" if len(set(gpus)) == 1 and len(gpus) > 1
                  else ", ".join(gpus) or "CPU only")
        lines += [describe_probe(measured), f"device: {device}",
                  breakdown(plan, measured, estimate(plan, measured))]
    return "\n".join(lines)


def for_shard(plan, name: str, cfg) -> Plan:
    """What ``--set shard=I/N`` trains: its fits and the shared ones it needs (the merge does the rest)."""
    from mmfusion.experiment import _shard

    plan = as_plan(plan)
    shard = _shard(name, cfg, plan.fits)
    if shard is None:
        return plan
    fits = [dataclasses.replace(f, figures=0) for k, f in enumerate(plan.fits) if k in shard.own]
    return dataclasses.replace(plan, fits=fits, explanations=(), bootstraps=())


def describe(plan) -> str:
    plan = as_plan(plan)
    fits = plan.fits
    by_arch: dict = {}
    for f in fits:
        by_arch.setdefault(f.arch, []).append(f)
    lines = [f"{len(fits)} trainings, {sum(f.steps for f in fits):,} training steps at most:"]
    for arch, group in by_arch.items():
        epochs = sorted({f.epochs for f in group})
        images = sorted({f.n_train for f in group})
        lines.append(f"  {arch}: {len(group)} fits x <= {'/'.join(map(str, epochs))} epochs x "
                     f"{'/'.join(map(str, images))} images per epoch")
    if plan.data:
        lines.append(f"  data: {plan.data}")
    predicted, figures = sum(f.n_predict for f in fits), sum(f.figures for f in fits)
    if predicted or figures or plan.evaluation:
        lines.append(f"  evaluation: {predicted:,} images predicted, {figures} figures"
                     + (f"; {plan.evaluation}" if plan.evaluation else ""))
    if plan.explanations:
        images: dict = {}
        for e in plan.explanations:        # one entry per method (e.g. hmcnet's tasks summed)
            if e.images:
                images[e.method] = images.get(e.method, 0) + e.images
        methods = "; ".join(f"{method} x {n:,}" for method, n in images.items())
        lines.append(f"  explanations: {methods}; {sum(e.figures for e in plan.explanations)} figures")
    return "\n".join(lines)


def forward_keys(plan: Plan) -> set:
    """(arch, images per call, through model.predict) of every model call the plan makes."""
    keys = {(f.arch, min(f.predict_batch, f.n_predict), False) for f in plan.fits if f.n_predict}
    return keys | {(e.arch, b, e.predict) for e in plan.explanations for _, b in e.calls}


def cam_key(e: PlannedExplanation) -> tuple:
    return e.arch, e.cam, e.cam_batch, e.cam_options


VALIDATION_SHARE = 0.2       # validation images per training image (0.15-0.25 in the five protocols)


def training_seconds(fits, probes: dict) -> float:
    """Each fit's fixed cost (an architecture's first, then a later one's), its steps, a validation pass
    (forward: a third of a step, on VALIDATION_SHARE as many images) and a checkpoint per epoch."""
    total, seen = 0.0, set()
    for f in fits:
        first, step, checkpoint, *later = probes[f.arch]
        fixed = later[0] if later and f.arch in seen else first
        seen.add(f.arch)
        val_steps = math.ceil(VALIDATION_SHARE * f.n_train / f.batch_size)
        total += fixed + (f.steps - 1) * step + f.epochs * (val_steps * step / 3 + checkpoint)
    return total


def explanation_seconds(e: PlannedExplanation, p: Probe) -> float:
    """images x (model calls + segmentation + the sampler's own work + a warm CAM pass per image)
    + first calls (traces) + models built + figures."""
    per_image = sum(n * p.forward[(e.arch, b, e.predict)][1] for n, b in e.calls)
    per_image += (p.segment[e.size] if e.segment else 0.0) + e.samples * p.sample.get((e.sampler, e.size),
                                                                                      0.0)
    fixed = e.models * p.build[e.arch] + e.figures * p.figure[1] + e.panels * p.figure[2]
    if e.cam:
        first, per = p.cam[cam_key(e)]
        per_image += per
        fixed += e.traces * first
    elif e.predict and e.calls:
        first, later = p.forward[(e.arch, e.calls[0][1], True)]
        fixed += e.traces * max(0.0, first - later)
    return e.images * per_image + fixed


def estimate(plan: Plan, p: Probe) -> dict:
    """{share: seconds} for SHARES, and "total": the whole run, from process start to its exit."""
    evaluation = sum(math.ceil(f.n_predict / f.predict_batch)
                     * p.forward[(f.arch, min(f.predict_batch, f.n_predict), False)][1]
                     + f.figures * p.evaluation_figure for f in plan.fits if f.n_predict or f.figures)
    evaluation += sum(b[0] * p.bootstrap[tuple(b[1:])] for b in plan.bootstraps)
    explanations = sum(explanation_seconds(e, p) for e in plan.explanations) + sum(p.imports.values())
    if any(f.figures for f in plan.fits) or any(e.figures for e in plan.explanations):
        explanations += p.figure[0]       # pyplot's start, once per process (counted here)
    parts = {"start": p.start or 0.0, "data": p.data, "training": training_seconds(plan.fits, p.fits),
             "evaluation": evaluation, "explanations": explanations, "report": REPORT_SECONDS,
             "exit": EXIT_SECONDS}
    return {**parts, "total": sum(parts.values())}


def describe_probe(p: Probe) -> str:
    """What the probe measured, one line per architecture, then the explanation primitives."""
    lines = [f"  probe {arch}: build + first step {t[0]:.2f} s (a later fit's {t[-1]:.2f} s), then "
             f"{t[1] * 1000:.1f} ms/step, checkpoint {t[2]:.2f} s on this device" for arch,
             t in p.fits.items()]
    parts = ([f"quickshift {size} px {s:.3f} s" for size, s in p.segment.items()]
             + [f"{k[0]} {k[1]} px {s * 1000:.2f} ms/sample" for k, s in p.sample.items()]
             + [f"{k[0]}: {k[1]} x{k[2]} first call +{first:.2f} s, {per * 1000:.1f} ms/image"
                for k, (first, per) in p.cam.items()]
             + [f"{k[0]}: {'model.predict' if k[2] else 'call'} of {k[1]} {later * 1000:.1f} ms"
                for k, (_, later) in p.forward.items()]
             + ([f"figure {p.figure[1]:.2f} s + {p.figure[2]:.3f} s/panel"] if any(p.figure) else [])
             + ([f"evaluation figure {p.evaluation_figure:.2f} s"] if p.evaluation_figure else [])
             + [f"bootstrap CI of {k[0]} ({k[1]} resamples of {k[2]}) {s:.2f} s" for k,
                s in p.bootstrap.items()])
    if parts:
        lines.append("  probe, evaluation and explanations: " + "; ".join(parts))
    return "\n".join(lines)


def breakdown(plan: Plan, p: Probe, parts: dict) -> str:
    """The estimate, one share a line, each saying what it rests on."""
    unmeasured = [f"{e.method}: {e.unmeasured}" for e in plan.explanations if e.unmeasured]
    why = {
        "start": ("measured: this process, start to TensorFlow/Keras imported" if p.start is not None
                  else "not measured here (no /proc)"),
        "data": "measured: loading the data here" + (f"; not timed: {plan.data}" if plan.data else ""),
        "training": "probe: fixed cost per fit, steps, validation passes, checkpoints (early stopping may "
                    "end sooner)",
        "evaluation": (f"probe: forward calls over {sum(f.n_predict for f in plan.fits):,} images, "
                       f"{sum(f.figures for f in plan.fits)} figures"
                       + (f", {sum(b[0] for b in plan.bootstraps)} bootstrap CIs" if plan.bootstraps else "")
                       + (f"; not timed: {plan.evaluation}" if plan.evaluation else "")),
        "explanations": ("probe: model calls, segmentations, LIME/SHAP sample work, CAM traces and passes, "
                         "figures, imports" + (f"; not timed: {'; '.join(unmeasured)}" if unmeasured else "")
                         if plan.explanations else "none planned"),
        "report": "a constant (report + headline files; RESULTS.md), not probed",
        "exit": "a constant (TensorFlow's teardown; RESULTS.md), not probed",
    }
    names = {"start": "process start + imports", "exit": "process exit"}
    lines = ["estimate on this device (seconds):"]
    lines += [f"  {names.get(k, k):<24} {parts[k]:8.1f}  {why[k]}" for k in SHARES]
    if plan.explanations:
        each = [f"{e.method} {explanation_seconds(e, p):.2f}" for e in plan.explanations]
        lines.insert(1 + SHARES.index("explanations") + 1, f"  {'':<33}by method: {', '.join(each)}; "
                     f"imports {sum(p.imports.values()):.2f}, first figure {p.figure[0]:.2f}")
    lines.append(f"  {'total':<24} {parts['total']:8.1f}  ({parts['total'] / 3600:.2f} h): "
                 f"{verdict(parts['total'])}")
    return "\n".join(lines)


def verdict(seconds: float, hours: float = SESSION_HOURS, week: float = WEEKLY_GPU_HOURS) -> str:
    """Does the run fit one session, its share of the weekly GPU quota, and the shards that would fit."""
    h = seconds / 3600
    quota = f"{100 * h / week:.0f} % of Kaggle's {week:.0f} h weekly GPU quota"
    if h <= hours:
        return f"fits one {hours:.0f} h Kaggle / Colab session ({h:.2f} h estimated; {quota})"
    n = math.ceil(h / (0.9 * hours))      # 10 % headroom per session
    return (f"does NOT fit one {hours:.0f} h session ({h:.1f} h estimated; {quota}): run it in {n} "
            f"shards, --set shard=1/{n} ... shard={n}/{n} (one session each), then `mmfusion merge` "
            "(docs/kaggle.md); or resume the same command in later sessions")
