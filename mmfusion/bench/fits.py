"""Build-and-trace overhead per architecture: the first ``training.fit`` of a process against the
second (another seed, as the next fold or run would be).

Overhead before the first step = time from calling ``fit`` to the end of the first training step,
less one steady step (the median of the later ones): the model build, the data pipeline and the
tracing. ``training/reuse.py`` pays the tracing once per architecture and input shape, so the
second fit's overhead is the build and a variable copy; ``MMFUSION_REUSE=0`` shows the old cost.
Small inputs: the tracing cost hardly depends on the image size, the steps do.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from mmfusion.bench.harness import emit, ratio

QUICK = (("mias-cnn", 32), ("vit", 32), ("resnet50", 32))
FULL = QUICK + (("vgg16", 32), ("efficientnetv2b0", 32))


class _StepClock:
    """Wall-clock ends of the training steps (the Keras callback hooks run between steps)."""

    def __init__(self):
        import keras

        clock = self

        class Hook(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                clock.ends.append(time.perf_counter())
        self.ends: list[float] = []
        self.callback = Hook()


def timed_fit(name: str, size: int, seed: int, n: int = 48, batch: int = 8) -> dict:
    from mmfusion.bench.models import build
    from mmfusion.training import TrainConfig, fit

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, size, size, 3)).astype("float32")
    y = rng.integers(0, 3, n)
    clock = _StepClock()
    config = TrainConfig(epochs=1, batch_size=batch, seed=seed, verbose=0)
    start = time.perf_counter()
    fit(lambda: build(name, size), (x, y), (x[:batch], y[:batch]), config, callbacks=[clock.callback])
    total = time.perf_counter() - start
    steps = np.diff(clock.ends)
    steady = statistics.median(steps[1:]) if len(steps) > 1 else 0.0
    return {"overhead_s": clock.ends[0] - start - steady, "fit_s": total, "step_s": steady}


def run(quick: bool) -> None:
    from mmfusion.training import reuse

    cmd = "python -m mmfusion.bench fits" + (" --quick" if quick else "")
    for name, size in (QUICK if quick else FULL):
        first = timed_fit(name, size, seed=1)
        second = timed_fit(name, size, seed=2)
        emit("fits", f"{name} {size}px, 48 images, batch 8, 1 epoch", reuse_enabled=reuse.enabled(),
             first_overhead_s=first["overhead_s"], second_overhead_s=second["overhead_s"],
             second_over_first=ratio(second["overhead_s"], first["overhead_s"]),
             first_fit_s=first["fit_s"], second_fit_s=second["fit_s"], step_s=second["step_s"],
             command=cmd)
