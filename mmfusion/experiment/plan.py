"""Plan before you spend: what a run will do, and how long the whole run takes on this device.

A paper's ``Experiment.plan(cfg, sources)`` returns a :class:`Plan`: its fits as :class:`PlannedFit`
(the same names its ``steps`` give ``ctx.fit``; a test keeps them in step), the images each fit's
evaluation predicts, and its explanation work as :class:`PlannedExplanation` rows (data only: how
many images, how many model calls of how many images each, segmentations, CAM passes, figures).
``probe`` times on this device what that work is made of, cheaply: a few training steps of each
architecture, a forward call at each declared batch, each CAM's first (traced) and later calls, one
quickshift segmentation and LIME's / Kernel SHAP's own per-sample work at each image size, a
figure, the explanation libraries' imports, and this process's start up to TensorFlow/Keras
imported. ``estimate`` multiplies it out per share of the run; what no probe measures is named.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from typing import Callable

SESSION_HOURS = 12.0          # a Kaggle kernel / Colab session
# the report stage and the run's files written outside any stage (headline, metrics.json): 0.5-1.5 s
# in the quick runs (RESULTS.md, Issue 17), not probed
REPORT_SECONDS = 0.9
# the interpreter's exit after TensorFlow was imported (its teardown): `python -c "import tensorflow,
# keras"` exits 1.4-1.8 s after its last line on the project's 2-core machine; a process cannot time its own exit
EXIT_SECONDS = 1.6
SHARES = ("start", "data", "training", "evaluation", "explanations", "report", "exit")


@dataclasses.dataclass(frozen=True)
class PlannedFit:
    name: str                 # the sub-run name steps() gives ctx.fit
    arch: str                 # what the probe times once (same arch = same step time)
    build: Callable           # () -> keras.Model, as steps() builds it
    n_train: int              # training samples per epoch
    epochs: int               # the most epochs it can run (early stopping may end sooner)
    batch_size: int
    eager: bool | None = None  # trained eagerly? None: as ctx.train_config decides (eager on quick runs)
    n_predict: int = 0        # images its evaluation predicts (test, validation, robustness variants)
    predict_batch: int = 64   # images per prediction call
    figures: int = 0          # figures its evaluation writes (ROC, confusion matrix, learning curves)
    augment: Callable | None = None   # the TrainConfig.augment steps() trains with (probed through a real fit)

    @property
    def steps(self) -> int:
        return self.epochs * math.ceil(self.n_train / self.batch_size)


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
    cam: str | None = None    # a mmfusion.xai CAM class ("GradCAM", "GradCAMPlusPlus", "ScoreCAM") or "naive_gradcam"
    cam_options: tuple = ()   # ((keyword, value), ...) for the CAM: layer_name, input_name, batch_size, eager, ...
    cam_batch: int = 1        # images per CAM call
    traces: int = 0           # first calls (a CAM's trace per explainer and input shape; a model.predict trace)
    models: int = 0           # models built for it (a re-initialised copy)
    figures: int = 0          # figures written...
    panels: int = 0           # ...with this many image panels in all
    libraries: tuple = ()     # imported on first use ("lime", "shap")
    unmeasured: str = ""      # its work no probe times


@dataclasses.dataclass(frozen=True)
class Plan:
    fits: list
    explanations: tuple = ()
    data: str = ""            # what data preparation does besides loading (e.g. crops, cached after a first run)
    evaluation: str = ""      # evaluation work no probe times (e.g. statistical tests)
    bootstraps: tuple = ()    # ((calls, metric, resamples, test images, average), ...): bootstrap CIs


@dataclasses.dataclass
class Probe:
    """What ``probe`` measured on this device (seconds); ``estimate`` multiplies it out."""
    fits: dict                # arch -> (fixed cost of its first fit, s per step, s per checkpoint[, of a later fit])
    start: float | None = None   # this process: start to TensorFlow/Keras imported (None: not measured)
    data: float = 0.0         # loading the data (prepare), this process
    build: dict = dataclasses.field(default_factory=dict)    # arch -> seconds to build the model
    forward: dict = dataclasses.field(default_factory=dict)  # (arch, batch, predict) -> (first, later) s per call
    cam: dict = dataclasses.field(default_factory=dict)      # cam key -> (first call's extra, s per image later)
    segment: dict = dataclasses.field(default_factory=dict)  # size -> s per quickshift segmentation
    sample: dict = dataclasses.field(default_factory=dict)   # (sampler, size) -> s of its own work per sample
    figure: tuple = (0.0, 0.0, 0.0)   # explanation grids: (first figure's extra, s per figure, s per panel)
    evaluation_figure: float = 0.0    # s per evaluation figure (mean of a ROC, a confusion matrix, learning curves)
    bootstrap: dict = dataclasses.field(default_factory=dict)  # (metric, resamples, n, average) -> s per CI
    imports: dict = dataclasses.field(default_factory=dict)  # library -> s to import


def as_plan(planned) -> Plan:
    return planned if isinstance(planned, Plan) else Plan(list(planned))


# ----------------------------------------------------------------------------- what the run does
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


# ----------------------------------------------------------------------------- timing probe
def process_seconds() -> float | None:
    """Seconds since this process started (Linux /proc); None where that cannot be read."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")   # field 22: start time in clock ticks
    except (OSError, ValueError, IndexError):
        return None


def startup_seconds() -> float | None:
    """This process's start up to TensorFlow and Keras imported: what every run pays before its
    own timer starts (call it before the data is loaded)."""
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    return process_seconds()


def example_image(sources, size: int):
    """One image of the run's data at ``size`` (segmentation time depends on content), or None."""
    from mmfusion.data.decode import decode_one

    for source in (sources or {}).values():
        paths = list(source.frame.get("image_path", ()))
        if paths:
            try:
                return decode_one(paths[0], size)
            except Exception:   # noqa: BLE001 - a stand-in image is used instead
                return None
    return None


def probe(plan, steps: int = 3, quick: bool = False, sources=None) -> Probe:
    """Time on this device what the plan's work is made of (see the module docstring). Training:
    {arch: (seconds a fit costs beyond its steps: build, compile, first step, feed, callbacks,
    model save — timed by one real one-batch fit; seconds per later step; seconds per epoch-end
    checkpoint; the fixed cost of a later fit of that architecture, which reuses the traced train
    functions)}, eager where the run trains eagerly (quick runs, unless a fit says otherwise)."""
    import keras
    import numpy as np

    plan = as_plan(plan)
    arches = {e.arch for e in plan.explanations} - {f.arch for f in plan.fits}
    if arches:
        raise ValueError(f"explanations of {sorted(arches)}: no planned fit builds that architecture")
    out = Probe(fits={})
    libraries = sorted({lib for e in plan.explanations for lib in e.libraries})
    out.imports = {lib: _import_seconds(lib) for lib in libraries}   # first: nothing has imported them yet
    if any(f.figures for f in plan.fits) or any(e.figures for e in plan.explanations):
        out.figure = _figure_seconds()
    if any(f.figures for f in plan.fits):
        out.evaluation_figure = _evaluation_figure_seconds()
    out.bootstrap = {tuple(b[1:]): _bootstrap_seconds(*b[1:]) for b in plan.bootstraps}
    for size in sorted({e.size for e in plan.explanations if e.segment or e.sampler}):
        image = example_image(sources, size)
        out.segment[size], samples = _segment_seconds(image, size, {e.sampler for e in plan.explanations
                                                                     if e.sampler and e.size == size})
        out.sample.update({(s, size): v for s, v in samples.items()})
    for fit in plan.fits:
        if fit.arch in out.fits:
            continue
        start = time.perf_counter()
        model = fit.build()
        built = time.perf_counter() - start
        out.build[fit.arch] = built
        x = _random_inputs(model, fit.batch_size)
        classes = int(model.output_shape[-1])
        y = np.random.default_rng(0).integers(0, max(classes, 2), fit.batch_size)
        model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy"
                      if classes > 1 else "binary_crossentropy", run_eagerly=quick if fit.eager is None else fit.eager)
        start = time.perf_counter()
        model.train_on_batch(x, y)
        first = built + time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        step = (time.perf_counter() - start) / steps
        checkpoint = _checkpoint_seconds(model)
        _forward_seconds(model, fit.arch, plan, out.forward)
        _cam_seconds(model, fit.arch, plan, out.cam)
        keras.backend.clear_session()
        # what one real fit costs beyond its steps (build, compile, feed, callbacks, model save); a
        # second one: what every later fit of the architecture costs (traced train functions reused)
        once, again = (_one_step_fit_seconds(fit, x, y, quick) for _ in range(2))
        if fit.augment is not None:   # train_on_batch does not augment: a step of a real 3-batch fit does
            step = max(step, (_one_step_fit_seconds(fit, x, y, quick, batches=3) - again) / 2)
        out.fits[fit.arch] = (max(first, once - step), step, checkpoint, max(0.0, again - step))
    return out


def forward_keys(plan) -> set:
    """(arch, images per call, through model.predict) of every model call the plan makes."""
    plan = as_plan(plan)
    keys = {(f.arch, min(f.predict_batch, f.n_predict), False) for f in plan.fits if f.n_predict}
    return keys | {(e.arch, b, e.predict) for e in plan.explanations for _, b in e.calls}


def cam_key(e: PlannedExplanation) -> tuple:
    return e.arch, e.cam, e.cam_batch, e.cam_options


def _forward_seconds(model, arch, plan, out: dict) -> None:
    import numpy as np

    for key in sorted(k for k in forward_keys(plan) if k[0] == arch):
        _, batch, predict = key
        x = _random_inputs(model, batch)
        call = ((lambda: model.predict(x, verbose=0, batch_size=batch)) if predict
                else (lambda: np.asarray(model(x, training=False))))
        start = time.perf_counter()
        call()
        first = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(2):
            call()
        out[key] = (first, (time.perf_counter() - start) / 2)


def _cam_seconds(model, arch, plan, out: dict) -> None:
    """Per CAM: (construction + first call - a later call: the trace / graph build an explainer
    pays once, seconds per image of a later call of ``cam_batch`` images)."""
    import numpy as np

    import mmfusion.xai as xai

    for e in plan.explanations:
        key = cam_key(e)
        if e.arch != arch or not e.cam or key in out:
            continue
        options = dict(e.cam_options)
        x = _random_inputs(model, e.cam_batch)
        image = x[options["input_name"]] if isinstance(x, dict) else x
        targets = np.zeros(e.cam_batch, np.int32)
        if e.cam == "naive_gradcam":
            from mmfusion.xai.naive import naive_gradcam

            timed = [time.perf_counter()]
            for _ in range(2):
                naive_gradcam(model, image, options["layer_name"], targets=targets)
                timed.append(time.perf_counter())
            later = timed[2] - timed[1]
            out[key] = (max(0.0, timed[1] - timed[0] - later), later / e.cam_batch)
            continue
        start = time.perf_counter()
        explainer = getattr(xai, e.cam)(model, **options)
        explainer(x, targets)
        first = time.perf_counter() - start
        start = time.perf_counter()
        explainer(x, targets)
        later = time.perf_counter() - start
        out[key] = (max(0.0, first - later), later / e.cam_batch)


def _segment_seconds(image, size: int, samplers) -> tuple:
    """(seconds of one quickshift segmentation of ``image`` — a smoothed random image when None —
    at ``size``, {sampler: seconds of LIME's / Kernel SHAP's own work per sample}), the latter from
    one explanation of 40 samples with a constant stand-in classifier, less the segmentation."""
    import warnings

    import numpy as np

    from mmfusion.xai.lime_helpers import quickshift_segments, lime_image

    if image is None:
        from scipy.ndimage import gaussian_filter

        noise = np.random.default_rng(0).uniform(0, 255, (size, size, 3))
        image = gaussian_filter(noise, sigma=(2, 2, 0))
    image = np.asarray(image, np.float32)
    quickshift_segments(image)                       # warm (imports, first-call costs)
    start = time.perf_counter()
    quickshift_segments(image)
    segment = time.perf_counter() - start

    def stub(batch):
        return np.tile(np.float32([0.3, 0.7]), (len(batch), 1))

    n, per_sample = 40, {}
    for sampler in samplers:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # shap: singular regression on a constant classifier
            if sampler == "lime":
                lime_image(stub, image[None], [1], num_samples=n)
            else:
                from mmfusion.xai.shapley import image_kernel_shap

                image_kernel_shap(stub, image[None], [1], nsamples=n)
        per_sample[sampler] = max(0.0, time.perf_counter() - start - segment) / n
    return segment, per_sample


def _bootstrap_seconds(metric: str, resamples: int, n: int, average: str) -> float:
    """One bootstrap CI of ``metric`` over ``n`` random binary test predictions."""
    import numpy as np

    from mmfusion.evaluation import bootstrap_ci

    rng = np.random.default_rng(0)
    p = rng.random(n)
    start = time.perf_counter()
    bootstrap_ci(rng.integers(0, 2, n), np.stack([1 - p, p], 1), metric=metric, n_resamples=resamples,
                 average=average)
    return time.perf_counter() - start


def _figure_seconds() -> tuple:
    """(the first figure's extra: pyplot's start, s per figure, s per image panel): explanation
    grids of 1 x 2 and 2 x 4 panels written to a temporary folder."""
    import tempfile

    import numpy as np

    from mmfusion.xai.figures import explanation_grid

    rng = np.random.default_rng(0)

    def grid(path, rows, methods):
        images = rng.uniform(0, 255, (rows, 64, 64, 3)).astype("uint8")
        start = time.perf_counter()
        explanation_grid(path, images, {f"m{i}": rng.random((rows, 64, 64)) for i in range(methods)})
        return time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        first = grid(os.path.join(tmp, "a.png"), 1, 1)
        small = grid(os.path.join(tmp, "b.png"), 1, 1)
        large = grid(os.path.join(tmp, "c.png"), 2, 3)
    panel = max(0.0, (large - small) / 6)
    return max(0.0, first - small), max(0.0, small - 2 * panel), panel


def _evaluation_figure_seconds() -> float:
    """Mean seconds of the evaluation figures the papers write: a ROC, a confusion matrix, the
    learning curves of two folds (random values, a temporary folder)."""
    import tempfile

    import numpy as np
    import pandas as pd

    from mmfusion.evaluation.figures import confusion_matrix_figure, learning_curves, roc_curves

    rng = np.random.default_rng(0)
    p = rng.random(40)
    history = pd.DataFrame({"epoch": [0, 1] * 2, "fold": [0, 0, 1, 1], "loss": rng.random(4),
                            "accuracy": rng.random(4), "val_loss": rng.random(4), "val_accuracy": rng.random(4)})
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        roc_curves(rng.integers(0, 2, 40), np.stack([1 - p, p], 1), os.path.join(tmp, "roc.png"))
        confusion_matrix_figure([[10, 3], [4, 12]], os.path.join(tmp, "cm.png"))
        learning_curves(history, os.path.join(tmp, "curves.png"))
        return (time.perf_counter() - start) / 3


def _import_seconds(library: str) -> float:
    import importlib
    import sys

    modules = {"lime": ("lime.lime_image", "lime.lime_tabular", "lime.wrappers.scikit_image"),
               "shap": ("shap",)}.get(library, (library,))
    if all(m in sys.modules for m in modules):
        return 0.0
    start = time.perf_counter()
    for m in modules:
        importlib.import_module(m)
    return time.perf_counter() - start


def _one_step_fit_seconds(fit, x, y, quick: bool, batches: int = 1) -> float:
    """Wall time of ``training.fit`` (with the fit's augmentation) for one epoch of ``batches``
    batches, in a throw-away run directory."""
    import tempfile

    import numpy as np

    from mmfusion.training import TrainConfig
    from mmfusion.training import fit as train
    from mmfusion.training.records import RunDir

    config = TrainConfig(epochs=1, batch_size=fit.batch_size, verbose=0, seed=0, augment=fit.augment,
                         run_eagerly=quick if fit.eager is None else fit.eager)
    train_x = ({k: np.concatenate([v] * batches) for k, v in x.items()} if isinstance(x, dict)
               else np.concatenate([x] * batches))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train(fit.build, (train_x, np.concatenate([y] * batches)), (x, y), config, run=RunDir(tmp))
        return time.perf_counter() - start


def _checkpoint_seconds(model) -> float:
    import tempfile

    import numpy as np

    from mmfusion.utils.io import atomic_save

    arrays = {f"v{i}": np.asarray(v) for i, v in enumerate(model.variables)}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        atomic_save(os.path.join(tmp, "probe.npz"), lambda path: np.savez(path, **arrays), suffix=".npz")
        return time.perf_counter() - start


# ----------------------------------------------------------------------------- the estimate
VALIDATION_SHARE = 0.2       # validation images per training image (0.15-0.25 in the five protocols)


def training_seconds(fits, probes: dict) -> float:
    """Seconds of training: each fit's fixed cost (the first of an architecture's, then a later
    one's), its steps at its architecture's step time, a validation pass per epoch (forward only: a
    third of a step, on VALIDATION_SHARE as many images) and a checkpoint per epoch. A fit's
    augmentation is in its step time only where the plan names it (PlannedFit.augment)."""
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
    per_image += (p.segment[e.size] if e.segment else 0.0) + e.samples * p.sample.get((e.sampler, e.size), 0.0)
    fixed = e.models * p.build[e.arch] + e.figures * p.figure[1] + e.panels * p.figure[2]
    if e.cam:
        first, per = p.cam[cam_key(e)]
        per_image += per
        fixed += e.traces * first
    elif e.predict and e.calls:
        first, later = p.forward[(e.arch, e.calls[0][1], True)]
        fixed += e.traces * max(0.0, first - later)
    return e.images * per_image + fixed


def estimate(plan, p: Probe) -> dict:
    """{share: seconds} for SHARES, and "total": the whole run, from process start to its exit."""
    plan = as_plan(plan)
    evaluation = sum(math.ceil(f.n_predict / f.predict_batch) * p.forward[(f.arch, min(f.predict_batch, f.n_predict),
                                                                             False)][1]
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
             f"{t[1] * 1000:.1f} ms/step, checkpoint {t[2]:.2f} s on this device" for arch, t in p.fits.items()]
    parts = ([f"quickshift {size} px {s:.3f} s" for size, s in p.segment.items()]
             + [f"{k[0]} {k[1]} px {s * 1000:.2f} ms/sample" for k, s in p.sample.items()]
             + [f"{k[0]}: {k[1]} x{k[2]} first call +{first:.2f} s, {per * 1000:.1f} ms/image"
                for k, (first, per) in p.cam.items()]
             + [f"{k[0]}: {'model.predict' if k[2] else 'call'} of {k[1]} {later * 1000:.1f} ms"
                for k, (_, later) in p.forward.items()]
             + ([f"figure {p.figure[1]:.2f} s + {p.figure[2]:.3f} s/panel"] if any(p.figure) else [])
             + ([f"evaluation figure {p.evaluation_figure:.2f} s"] if p.evaluation_figure else [])
             + [f"bootstrap CI of {k[0]} ({k[1]} resamples of {k[2]}) {s:.2f} s" for k, s in p.bootstrap.items()])
    if parts:
        lines.append("  probe, evaluation and explanations: " + "; ".join(parts))
    return "\n".join(lines)


def breakdown(plan, p: Probe, parts: dict) -> str:
    """The estimate, one share a line, each saying what it rests on."""
    plan = as_plan(plan)
    unmeasured = [f"{e.method}: {e.unmeasured}" for e in plan.explanations if e.unmeasured]
    why = {
        "start": ("measured: this process, start to TensorFlow/Keras imported" if p.start is not None
                  else "not measured here (no /proc)"),
        "data": "measured: loading the data here" + (f"; not timed: {plan.data}" if plan.data else ""),
        "training": "probe: fixed cost per fit, steps, validation passes, checkpoints (early stopping may end sooner)",
        "evaluation": (f"probe: forward calls over {sum(f.n_predict for f in plan.fits):,} images, "
                       f"{sum(f.figures for f in plan.fits)} figures"
                       + (f", {sum(b[0] for b in plan.bootstraps)} bootstrap CIs" if plan.bootstraps else "")
                       + (f"; not timed: {plan.evaluation}" if plan.evaluation else "")),
        "explanations": ("probe: model calls, segmentations, LIME/SHAP sample work, CAM traces and passes, "
                         "figures, imports" + (f"; not timed: {'; '.join(unmeasured)}" if unmeasured else "")
                         if plan.explanations else "none planned"),
        "report": "a constant (report + headline files: 0.5-1.5 s in the quick runs, RESULTS.md), not probed",
        "exit": "a constant (TensorFlow's teardown, 1.4-1.8 s measured once here), not probed",
    }
    names = {"start": "process start + imports", "exit": "process exit"}
    lines = ["estimate on this device (seconds):"]
    lines += [f"  {names.get(k, k):<24} {parts[k]:8.1f}  {why[k]}" for k in SHARES]
    if plan.explanations:
        each = [f"{e.method} {explanation_seconds(e, p):.2f}" for e in plan.explanations]
        lines.insert(1 + SHARES.index("explanations") + 1, f"  {'':<33}by method: {', '.join(each)}; "
                     f"imports {sum(p.imports.values()):.2f}, first figure {p.figure[0]:.2f}")
    lines.append(f"  {'total':<24} {parts['total']:8.1f}  ({parts['total'] / 3600:.2f} h): {verdict(parts['total'])}")
    return "\n".join(lines)


def verdict(seconds: float, hours: float = SESSION_HOURS) -> str:
    h = seconds / 3600
    if h <= hours:
        return f"fits one {hours:.0f} h Kaggle / Colab session ({h:.2f} h estimated)"
    return (f"does NOT fit one {hours:.0f} h session ({h:.1f} h estimated): run it in "
            f"{math.ceil(h / hours)}+ sessions (the same command resumes; see README 'Kaggle and Colab')")


def _random_inputs(model, batch: int):
    import numpy as np

    rng = np.random.default_rng(0)

    def one(tensor):
        return rng.uniform(0, 255, (batch, *tensor.shape[1:])).astype("float32")

    from mmfusion import _keras_compat as compat

    struct = compat.inputs_struct(model)
    if isinstance(struct, dict):
        return {name: one(tensor) for name, tensor in struct.items()}
    return one(model.inputs[0])
