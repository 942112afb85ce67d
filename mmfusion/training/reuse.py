"""Trace once per architecture: later fits of the same model reuse its compiled train/test functions.

``fit`` builds the fold's model as before (so its initial weights and dropout seed states are
exactly a fresh fit's) and hands it to ``trainer_for``, which returns a *trainer*: a model of the
same architecture, input shape, dtype policy and compile settings that already holds traced
functions. The fresh model's variables are copied into it and its optimizer is put back to its
just-built state (step 0, zero slots, the new learning rate), so the training is the one a fresh
model would do. ``hand_back`` copies the trained variables into the fresh model, which the caller
keeps: models returned by earlier fits are never overwritten by later ones.

Not reused (built and traced as before): fits with a frozen-backbone phase (changing ``trainable``
needs another trace; keeping one per phase is not done), eager fits (nothing traced), distributed
strategies, models that are not Functional / Sequential (a subclass's config need not describe
its computation), and everything when ``MMFUSION_REUSE=0``.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
import types

import keras
import tensorflow as tf

MAX_TRAINERS = 8          # traced models kept per process (least recently used dropped first)
_TRAINERS: collections.OrderedDict = collections.OrderedDict()


def enabled() -> bool:
    return os.environ.get("MMFUSION_REUSE", "1") != "0"


def clear() -> None:
    _TRAINERS.clear()


def architecture_key(model) -> str | None:
    """The model's config as the trained computation sees it, or None when it cannot stand for
    that computation. Layer names become positions (auto-numbered names such as conv2d_7 differ
    between builds); initializers and Keras layers' seeds go (they only set the initial values,
    which are copied); a custom layer keeps its seed (its call might use it)."""
    if type(model).__name__ not in ("Functional", "Sequential"):
        return None
    try:
        config = keras.saving.serialize_keras_object(model)
    except (NotImplementedError, TypeError, ValueError):
        return None
    layers = [model] + list(model._flatten_layers(include_self=False))
    names = {layer.name: f"#layer{i}" for i, layer in enumerate(layers)}
    text = json.dumps(_normalise(config, names), sort_keys=True, default=repr)
    shapes = [(tuple(v.shape), str(v.dtype)) for v in model.variables]
    return f"{text}|{shapes}|{keras.mixed_precision.global_policy().name}"


_NAME_KEYS = ("name", "keras_history", "input_layers", "output_layers")   # where layer names stand


def _normalise(obj, names, rename=False):
    if isinstance(obj, dict):
        keras_own = str(obj.get("module", "")).startswith("keras")
        out = {}
        for k, v in obj.items():
            if k.endswith("_initializer") or (k == "seed" and keras_own):
                continue
            if k == "config" and keras_own and isinstance(v, dict):
                v = {ck: cv for ck, cv in v.items() if ck != "seed"}
            out[k] = _normalise(v, names, k in _NAME_KEYS)
        return out
    if isinstance(obj, (list, tuple)):
        return [_normalise(v, names, rename) for v in obj]
    return names.get(obj, obj) if rename and isinstance(obj, str) else obj


def reusable(config, strategy) -> bool:
    return (enabled() and config.freeze_backbone_epochs == 0 and not config.run_eagerly
            and not isinstance(strategy, tf.distribute.MirroredStrategy))


def trainer_for(model, build_model, config, strategy, reseed):
    """A traced model to train in ``model``'s place (``model`` itself when not reusable).

    ``reseed()`` puts the random state back to where ``model`` was built from, so that building a
    new trainer leaves the state as building ``model`` alone did.
    """
    if not reusable(config, strategy):
        return model
    key = architecture_key(model)
    if key is None:
        return model
    trainer = _TRAINERS.pop(key, None)
    if trainer is None:
        reseed()
        with strategy.scope():
            trainer = build_model()
        if architecture_key(trainer) != key:   # a builder that does not repeat itself
            return model
        trainer.compile = types.MethodType(_compile_once, trainer)
    _TRAINERS[key] = trainer
    while len(_TRAINERS) > MAX_TRAINERS:
        _TRAINERS.popitem(last=False)
    copy_variables(model, trainer)
    return trainer


def hand_back(result, model):
    """``result`` with ``model`` (the caller's fresh model) holding the trainer's trained state."""
    trainer = result.model
    if trainer is model:
        return result
    copy_variables(trainer, model)
    model.compile_from_config(trainer.get_compile_config())   # compiled as a fresh fit left it
    return dataclasses.replace(result, model=model)


def copy_variables(source, target) -> None:
    """Every variable (weights, BatchNorm statistics, dropout seed states), by position."""
    for a, b in zip(source.variables, target.variables, strict=True):
        b.assign(a)


def _compile_key(model, optimizer, loss, metrics, jit_compile, run_eagerly, steps) -> str:
    opt = optimizer.get_config()
    opt = {k: v for k, v in opt.items() if k not in ("learning_rate", "name")}
    trainable = [layer.trainable for layer in model._flatten_layers()]
    return json.dumps([type(optimizer).__name__, opt, loss, metrics, jit_compile, run_eagerly, steps,
                       trainable], sort_keys=True, default=repr)


def _compile_once(self, optimizer="rmsprop", loss=None, metrics=None, jit_compile="auto",
                  run_eagerly=False, steps_per_execution=1, **kwargs):
    """``compile`` that keeps the traced functions when the settings repeat: the optimizer is
    reset to its just-built values and given the new learning rate instead of being replaced."""
    optimizer = keras.optimizers.get(optimizer)
    key = None if kwargs else _compile_key(self, optimizer, loss, metrics, jit_compile, run_eagerly,
                                           steps_per_execution)
    if key is not None and key == getattr(self, "_mmfusion_compile_key", None):
        for variable, value in zip(self.optimizer.variables, self._mmfusion_optimizer_init, strict=True):
            variable.assign(value)
        # a float: given the variable itself, Keras would track it instead of assigning it
        self.optimizer.learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        self.stop_training = False
        return
    type(self).compile(self, optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile,
                       run_eagerly=run_eagerly, steps_per_execution=steps_per_execution, **kwargs)
    self.optimizer.build(self.trainable_variables)   # what the first step would do; snapshot it
    self._mmfusion_optimizer_init = [v.numpy() for v in self.optimizer.variables]
    self._mmfusion_compile_key = key
