"""Plan before you spend: what a run will train, and how long that takes on this device.

A paper's ``Experiment.plan(cfg, sources)`` lists its fits as :class:`PlannedFit` (the same names
its ``steps`` give ``ctx.fit``; a test keeps them in step). ``estimate`` times a few training steps
of each architecture on random inputs of the planned shapes (the probe) and multiplies out:
epochs x steps per epoch x seconds per step, plus each fit's trace. Explanations and evaluation
are not timed: the plan says so.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable

SESSION_HOURS = 12.0          # a Kaggle kernel / Colab session


@dataclasses.dataclass(frozen=True)
class PlannedFit:
    name: str                 # the sub-run name steps() gives ctx.fit
    arch: str                 # what the probe times once (same arch = same step time)
    build: Callable           # () -> keras.Model, as steps() builds it
    n_train: int              # training samples per epoch
    epochs: int               # the most epochs it can run (early stopping may end sooner)
    batch_size: int
    eager: bool | None = None  # trained eagerly? None: as ctx.train_config decides (eager on quick runs)

    @property
    def steps(self) -> int:
        return self.epochs * math.ceil(self.n_train / self.batch_size)


def describe(fits) -> str:
    by_arch: dict = {}
    for f in fits:
        by_arch.setdefault(f.arch, []).append(f)
    lines = [f"{len(fits)} trainings, {sum(f.steps for f in fits):,} training steps at most:"]
    for arch, group in by_arch.items():
        epochs = sorted({f.epochs for f in group})
        images = sorted({f.n_train for f in group})
        lines.append(f"  {arch}: {len(group)} fits x <= {'/'.join(map(str, epochs))} epochs x "
                     f"{'/'.join(map(str, images))} images per epoch")
    return "\n".join(lines)


def probe(fits, steps: int = 3, quick: bool = False) -> dict:
    """{arch: (seconds a fit costs beyond its steps: build, compile, first step, feed, callbacks,
    model save — timed by one real one-batch fit; seconds per later step; seconds per epoch-end
    checkpoint)} on this device, eager where the run trains eagerly (quick runs, unless a fit says
    otherwise). The checkpoint time is one atomic, fsync'd write of the model's variables."""
    import keras
    import numpy as np

    out = {}
    for fit in fits:
        if fit.arch in out:
            continue
        start = time.perf_counter()
        model = fit.build()
        built = time.perf_counter() - start
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
        keras.backend.clear_session()
        # what one real fit costs beyond its steps (build, compile, feed, callbacks, model save)
        out[fit.arch] = (max(first, _one_step_fit_seconds(fit, x, y, quick) - step), step, checkpoint)
    return out


def _one_step_fit_seconds(fit, x, y, quick: bool) -> float:
    """Wall time of ``training.fit`` for one epoch of one batch, in a throw-away run directory."""
    import tempfile

    from mmfusion.training import TrainConfig
    from mmfusion.training import fit as train
    from mmfusion.training.records import RunDir

    config = TrainConfig(epochs=1, batch_size=fit.batch_size, verbose=0, seed=0,
                         run_eagerly=quick if fit.eager is None else fit.eager)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train(fit.build, (x, y), (x, y), config, run=RunDir(tmp))
        return time.perf_counter() - start


def _checkpoint_seconds(model) -> float:
    import os
    import tempfile

    import numpy as np

    from mmfusion.utils.io import atomic_save

    arrays = {f"v{i}": np.asarray(v) for i, v in enumerate(model.variables)}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        atomic_save(os.path.join(tmp, "probe.npz"), lambda path: np.savez(path, **arrays), suffix=".npz")
        return time.perf_counter() - start


VALIDATION_SHARE = 0.2       # validation images per training image (0.15-0.25 in the five protocols)


def estimate(fits, probes: dict) -> float:
    """Seconds of training: each fit's fixed cost, its steps at its architecture's step time, a
    validation pass per epoch (forward only: a third of a step, on VALIDATION_SHARE as many images)
    and a checkpoint per epoch. Augmentation is not in it."""
    total = 0.0
    for f in fits:
        first, step, checkpoint = probes[f.arch]
        val_steps = math.ceil(VALIDATION_SHARE * f.n_train / f.batch_size)
        total += first + (f.steps - 1) * step + f.epochs * (val_steps * step / 3 + checkpoint)
    return total


def verdict(seconds: float, hours: float = SESSION_HOURS) -> str:
    h = seconds / 3600
    if h <= hours:
        return f"fits one {hours:.0f} h Kaggle / Colab session ({h:.2f} h of training estimated)"
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
