"""Where a fit augments its images: in the tf.data feed on the host, or inside the train step
(``TrainConfig.augment_on``), and the train step that does it (RESULTS.md Issue 19 parts 1b, 1c)."""
from __future__ import annotations

import tensorflow as tf

from mmfusion.data.pipeline import StepFeed, augment_batch, steppable
from mmfusion.training.config import TrainConfig


def load_step_feed(model, x, y, w, config: TrainConfig) -> StepFeed:
    """``model``'s StepFeed (one per model: its traced train function reads it) with this fit's arrays."""
    feed = vars(model).get("_mmfusion_step_feed") or StepFeed()
    model._mmfusion_step_feed = feed
    return feed.load(x, y, w, batch_size=config.batch_size, shuffle=config.shuffle, seed=config.seed)


def jit_setting(config: TrainConfig, strategy, in_memory: bool):
    """``config.jit_compile``, except that Keras's "auto" becomes no XLA for a fit that can augment
    in the step: on a GPU "auto" would pick XLA, which keeps the augmentation on the host's tf.data
    threads (XLA cannot run it in the step). Our choice, not measured on a GPU yet (bench gpu prints
    both sites); ``--jit`` (True) still forces XLA and the feed. On a CPU "auto" is no XLA anyway."""
    if (config.jit_compile == "auto" and config.augment_on != "feed" and not config.run_eagerly
            and steppable(config.augment) and _step_blocker(strategy, in_memory) is None):
        return False
    return config.jit_compile


def _step_blocker(strategy, in_memory: bool) -> str | None:
    """What keeps the augmentation out of the train step, whatever the compile settings."""
    return ("training data given as a Dataset (it augments itself)" if not in_memory
            else "a MirroredStrategy" if isinstance(strategy, tf.distribute.MirroredStrategy)
            else None)


def augment_site(config: TrainConfig, model, strategy, in_memory: bool) -> str:
    """Where ``config.augment`` runs in this fit of the compiled ``model``: "feed" or "step".

    "step" (``augment_in_step``) needs array inputs (a Dataset augments itself), an op from
    mmfusion.data.augment, no XLA (it draws other random values and cannot compile
    ImageProjectiveTransformV3) and one device (under MirroredStrategy Keras builds the model
    from the first batch as fed). "auto" takes "step" wherever it can and the step is traced (an
    eager step would run the per-sample draws as a Python loop): on a GPU the step's device does
    the image work the host's tf.data threads would; on the 2-core CPU it measured as fast or
    faster than the feed (64 px 1.1-2.5x, 224 px 0.8-1.5x, RESULTS.md Issue 19 part 1b), and with
    the step reading its own batches (StepFeed) the array feed costs what a constant batch does
    (part 1c).
    """
    if config.augment is None or config.augment_on == "feed":
        return "feed"
    blocker = _step_blocker(strategy, in_memory) or ("XLA (jit_compile)" if model.jit_compile else None)
    if config.augment_on == "step":
        if blocker:
            raise ValueError(f"augment_on='step' cannot be used with {blocker}; use 'feed' or 'auto'")
        return "step"
    return "step" if steppable(config.augment) and not blocker and not model.run_eagerly else "feed"


def augment_in_step(model, augment, feed: StepFeed | None = None) -> None:
    """Make ``model``'s train step augment its batches: it takes ``((x, seeds), y[, w])`` (a feed
    built with ``pipeline.in_step(augment)``), or with ``feed`` the batch number g and reads that
    batch itself (``feed.batch(g)``, the same values), computes the feed's augmentation of x in the
    step (parameter draws on the host, the image work on the step's device) and runs the class's
    own ``train_step`` (on a CPU bit for bit the feed's values; on a GPU the image ops use its
    kernels). ``augment=None`` gives back the plain step (and lets go of the model's StepFeed).
    A train function traced with another augmentation or feed layout is dropped, so a reused
    trainer (training/reuse.py) never runs a stale one; the test step is left alone."""
    key = None if augment is None else (augment.key, feed and feed.key)
    if key != getattr(model, "_mmfusion_step_augment", None):
        model.train_function = None   # Keras makes it anew, from the train_step set here
    if augment is None:
        for name in ("train_step", "_mmfusion_step_feed"):
            if name in vars(model):
                delattr(model, name)
    else:
        plain = type(model).train_step

        def train_step(data):
            (x, seeds), *rest = data if feed is None else feed.batch(data)
            return plain(model, (augment_batch(augment, x, seeds, draw_device="/cpu:0"), *rest))
        model.train_step = train_step
    model._mmfusion_step_augment = key
