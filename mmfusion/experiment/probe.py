"""The timing probe behind ``mmfusion plan``: what a Plan's work is made of, timed cheaply on this
device; ``plan.estimate`` multiplies it out."""
import importlib
import os
import sys
import tempfile
import time
import warnings

import numpy as np

from mmfusion.experiment.plan import Plan, Probe, cam_key, forward_keys


def _seconds(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def startup_seconds() -> float | None:
    """Seconds from this process's start to TensorFlow/Keras imported (Linux /proc; else None)."""
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")   # field 22: start time in clock ticks
    except (OSError, ValueError, IndexError):
        return None


def _example_image(sources, size: int):
    """One image of the run's data at ``size`` (segmentation time depends on content), or None."""
    from mmfusion.data.decode import decode_one

    for source in (sources or {}).values():
        paths = list(source.frame.get("image_path", ()))
        if paths:
            try:
                return decode_one(paths[0], size)
            except (OSError, ValueError):   # unreadable here: the probe segments a stand-in image
                return None
    return None


def probe(plan: Plan, steps: int = 3, sources=None) -> Probe:
    """Time the plan's work: steps and two one-batch fits per architecture, forward calls, CAMs,
    segmentations, LIME / SHAP sample work, figures, imports. ``fits``: {arch: (a fit's cost beyond
    its steps, s per step, s per checkpoint, a later fit's fixed cost)}."""
    import keras

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
        image = _example_image(sources, size)
        out.segment[size], samples = _segment_seconds(image, size, {e.sampler for e in plan.explanations
                                                                     if e.sampler and e.size == size})
        out.sample.update({(s, size): v for s, v in samples.items()})
    for fit in plan.fits:
        if fit.arch in out.fits:
            continue
        start = time.perf_counter()
        model = fit.build()
        built = out.build[fit.arch] = time.perf_counter() - start
        x = _random_inputs(model, fit.batch_size)
        classes = int(model.output_shape[-1])
        y = np.random.default_rng(0).integers(0, max(classes, 2), fit.batch_size)
        model.compile(optimizer=keras.optimizers.Adam(1e-4), run_eagerly=bool(fit.eager),
                      loss="sparse_categorical_crossentropy" if classes > 1 else "binary_crossentropy")
        first = built + _seconds(model.train_on_batch, x, y)
        step = sum(_seconds(model.train_on_batch, x, y) for _ in range(steps)) / steps
        checkpoint = _checkpoint_seconds(model)
        _forward_seconds(model, fit.arch, plan, out.forward)
        _cam_seconds(model, fit.arch, plan, out.cam)
        keras.backend.clear_session()
        # what one real fit costs beyond its steps (build, compile, feed, callbacks, model save); a
        # second one: what every later fit of the architecture costs (traced train functions reused)
        once, again = (_one_step_fit_seconds(fit, x, y) for _ in range(2))
        if fit.augment is not None:   # train_on_batch does not augment: a step of a real 3-batch fit does
            step = max(step, (_one_step_fit_seconds(fit, x, y, batches=3) - again) / 2)
        out.fits[fit.arch] = (max(first, once - step), step, checkpoint, max(0.0, again - step))
    return out


def _forward_seconds(model, arch, plan, out: dict) -> None:
    for key in sorted(k for k in forward_keys(plan) if k[0] == arch):
        _, batch, predict = key
        x = _random_inputs(model, batch)
        call = ((lambda: model.predict(x, verbose=0, batch_size=batch)) if predict
                else (lambda: np.asarray(model(x, training=False))))
        out[key] = (_seconds(call), (_seconds(call) + _seconds(call)) / 2)   # (first call, a later one)


def _cam_seconds(model, arch, plan, out: dict) -> None:
    """Per CAM: (first call's extra, i.e. trace / graph build, s per image of a later call)."""
    import mmfusion.xai as xai

    for e in plan.explanations:
        key = cam_key(e)
        if e.arch != arch or not e.cam or key in out:
            continue
        options = dict(e.cam_options)
        x = _random_inputs(model, e.cam_batch)
        image = x[options["input_name"]] if isinstance(x, dict) else x
        targets = np.zeros(e.cam_batch, np.int32)
        if ":" in e.cam:      # "module:function": a per-call baseline, fn(model, images, layer, targets)
            module, _, function = e.cam.partition(":")
            per_call = getattr(importlib.import_module(module), function)
            first = _seconds(per_call, model, image, options["layer_name"], targets=targets)
            later = _seconds(per_call, model, image, options["layer_name"], targets=targets)
        else:
            start = time.perf_counter()
            explainer = getattr(xai, e.cam)(model, **options)
            explainer(x, targets)
            first = time.perf_counter() - start
            later = _seconds(explainer, x, targets)
        out[key] = (max(0.0, first - later), later / e.cam_batch)


def _segment_seconds(image, size: int, samplers) -> tuple:
    """(s per quickshift segmentation of ``image``, a smoothed random one when None; {sampler: s of
    LIME's / Kernel SHAP's own work per sample}: 40 samples of a constant classifier, less segmenting)."""
    from mmfusion.xai.lime_helpers import lime_image, quickshift_segments

    if image is None:
        from scipy.ndimage import gaussian_filter

        noise = np.random.default_rng(0).uniform(0, 255, (size, size, 3))
        image = gaussian_filter(noise, sigma=(2, 2, 0))
    image = np.asarray(image, np.float32)
    quickshift_segments(image)                       # warm (imports, first-call costs)
    segment = _seconds(quickshift_segments, image)

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
    from mmfusion.evaluation import bootstrap_ci

    rng = np.random.default_rng(0)
    p = rng.random(n)
    return _seconds(bootstrap_ci, rng.integers(0, 2, n), np.stack([1 - p, p], 1), metric=metric,
                    n_resamples=resamples, average=average)


def _figure_seconds() -> tuple:
    """(first figure's extra: pyplot's start, s per figure, s per panel) from 1 x 2 and 2 x 4 grids."""
    from mmfusion.xai.figures import explanation_grid

    rng = np.random.default_rng(0)

    def grid(path, rows, methods):
        images = rng.uniform(0, 255, (rows, 64, 64, 3)).astype("uint8")
        return _seconds(explanation_grid, path, images,
                        {f"m{i}": rng.random((rows, 64, 64)) for i in range(methods)})

    with tempfile.TemporaryDirectory() as tmp:
        first = grid(os.path.join(tmp, "a.png"), 1, 1)
        # the fastest of 3: one slow draw on a loaded machine must not make the intercept negative
        small = min(grid(os.path.join(tmp, "b.png"), 1, 1) for _ in range(3))
        large = min(grid(os.path.join(tmp, "c.png"), 2, 3) for _ in range(3))
    panel = max(0.0, (large - small) / 6)
    return max(0.0, first - small), max(0.0, small - 2 * panel), panel


def _evaluation_figure_seconds() -> float:
    """Mean seconds of a ROC, a confusion matrix and two folds' learning curves (random values)."""
    import pandas as pd

    from mmfusion.evaluation.figures import confusion_matrix_figure, learning_curves, roc_curves

    rng = np.random.default_rng(0)
    p = rng.random(40)
    history = pd.DataFrame({"epoch": [0, 1] * 2, "fold": [0, 0, 1, 1],
                            **{k: rng.random(4) for k in ("loss", "accuracy", "val_loss", "val_accuracy")}})
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        roc_curves(rng.integers(0, 2, 40), np.stack([1 - p, p], 1), os.path.join(tmp, "roc.png"))
        confusion_matrix_figure([[10, 3], [4, 12]], os.path.join(tmp, "cm.png"))
        learning_curves(history, os.path.join(tmp, "curves.png"))
        return (time.perf_counter() - start) / 3


def _import_seconds(library: str) -> float:
    modules = {"lime": ("lime.lime_image", "lime.lime_tabular", "lime.wrappers.scikit_image"),
               "shap": ("shap",)}.get(library, (library,))
    if all(m in sys.modules for m in modules):
        return 0.0
    return sum(_seconds(importlib.import_module, m) for m in modules)


def _one_step_fit_seconds(fit, x, y, batches: int = 1) -> float:
    """Wall time of ``training.fit`` (with augmentation) for one epoch of ``batches`` batches."""
    from mmfusion.training import TrainConfig
    from mmfusion.training import fit as train
    from mmfusion.training.records import RunDir

    config = TrainConfig(epochs=1, batch_size=fit.batch_size, verbose=0, seed=0, augment=fit.augment,
                         run_eagerly=bool(fit.eager))
    train_x = ({k: np.concatenate([v] * batches) for k, v in x.items()} if isinstance(x, dict)
               else np.concatenate([x] * batches))
    with tempfile.TemporaryDirectory() as tmp:
        return _seconds(train, fit.build, (train_x, np.concatenate([y] * batches)), (x, y), config,
                        run=RunDir(tmp))


def _checkpoint_seconds(model) -> float:
    from mmfusion.utils.io import atomic_save

    arrays = {f"v{i}": np.asarray(v) for i, v in enumerate(model.variables)}
    with tempfile.TemporaryDirectory() as tmp:
        return _seconds(atomic_save, os.path.join(tmp, "probe.npz"), lambda path: np.savez(path, **arrays),
                        suffix=".npz")


def _random_inputs(model, batch: int):
    from mmfusion import _keras_compat as compat

    rng = np.random.default_rng(0)

    def one(tensor):
        return rng.uniform(0, 255, (batch, *tensor.shape[1:])).astype("float32")

    struct = compat.inputs_struct(model)
    if isinstance(struct, dict):
        return {name: one(tensor) for name, tensor in struct.items()}
    return one(model.inputs[0])
