"""Trace once per architecture: later fits of the same model reuse its compiled train/test functions.

``trainer_for`` gives a traced model of the same architecture, policy and compile settings holding
the fresh model's variables (its optimizer reset to its just-built state); ``hand_back`` copies the
trained variables back. Not reused: frozen-backbone phases, eager fits, distributed strategies,
models other than Functional / Sequential, everything when ``MMFUSION_REUSE=0``."""
import collections
import contextlib
import dataclasses
import json
import os
import types

import keras
import tensorflow as tf

from mmfusion import _keras_compat as compat

MAX_TRAINERS = 8          # traced models kept per process (least recently used dropped first)
_TRAINERS: collections.OrderedDict = collections.OrderedDict()


def clear() -> None:
    _TRAINERS.clear()


def architecture_key(model) -> str | None:
    """The model's config as the trained computation sees it (None when it cannot stand for it):
    layer names become positions; initializers and Keras layers' seeds go (the initial values are
    copied); a custom layer keeps its seed (its call might use it)."""
    if type(model).__name__ not in ("Functional", "Sequential"):
        return None
    try:
        config = keras.saving.serialize_keras_object(model)
    except (NotImplementedError, TypeError, ValueError):
        return None
    layers = [model] + compat.flatten_layers(model, include_self=False)
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
    return (os.environ.get("MMFUSION_REUSE", "1") != "0" and config.freeze_backbone_epochs == 0
            and not config.run_eagerly and not isinstance(strategy, tf.distribute.MirroredStrategy))


def seeding(config, strategy):
    """Around ``set_seed``: a fit that may reuse a trainer keeps TensorFlow's kernel cache, which
    ``tf.random.set_seed`` clears (losing the instantiated train function; Keras 3 draws statelessly,
    so only stateful TF random ops would notice, and a trainer holding one is never reused)."""
    return compat.kernel_cache_kept() if reusable(config, strategy) else contextlib.nullcontext()


def trainer_for(model, build_model, config, strategy, reseed):
    """A traced model to train in ``model``'s place (``model`` itself when not reusable); ``reseed()``
    restores the random state ``model`` was built from before a new trainer is built."""
    key = architecture_key(model) if reusable(config, strategy) else None
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
    if not getattr(trainer, "_mmfusion_checked", False):
        trainer._mmfusion_checked = True
        if stateful_random_ops(trainer):   # their seeds are fixed at trace time: never reuse
            for key in [k for k, t in _TRAINERS.items() if t is trainer]:
                del _TRAINERS[key]
    copy_variables(trainer, model)
    model.compile_from_config(trainer.get_compile_config())   # compiled as a fresh fit left it
    return dataclasses.replace(result, model=model)


# RandomIndexShuffle takes its seed as an input (the epoch's order): stateless
_SEEDED = {"RandomIndexShuffle"}
_RANDOM_PREFIXES = ("Random", "TruncatedNormal", "Multinomial", "ParameterizedTruncatedNormal",
                    "StatefulUniform", "StatefulStandardNormal", "StatefulTruncatedNormal")


def stateful_random_ops(trainer) -> set:
    """Stateful random op types in the traced train / test functions; ``{"unknown"}`` if unreadable."""
    found, graphs = set(), 0
    try:
        for fn in (trainer.train_function, trainer.test_function):
            for cell in (getattr(fn, "__closure__", None) or ()):   # the tf.function(s) it wraps
                for concrete in getattr(cell.cell_contents, "_list_all_concrete_functions", tuple)():
                    graph, graphs = concrete.graph.as_graph_def(), graphs + 1
                    ops = [n.op for n in graph.node] + [n.op for f in graph.library.function
                                                        for n in f.node_def]
                    found |= {op for op in ops if op.startswith(_RANDOM_PREFIXES) and op not in _SEEDED}
    except (AttributeError, ValueError, TypeError):
        return {"unknown"}
    return found if graphs else {"unknown"}


def copy_variables(source, target) -> None:
    """Every variable (weights, BatchNorm statistics, dropout seed states), by position."""
    for a, b in zip(source.variables, target.variables, strict=True):
        b.assign(a)


def _compile_once(self, optimizer="rmsprop", loss=None, metrics=None, jit_compile="auto",
                  run_eagerly=False, steps_per_execution=1, **kwargs):
    """``compile`` that keeps the traced functions when the settings repeat (the optimizer is reset
    to its just-built values and given the new learning rate)."""
    optimizer = keras.optimizers.get(optimizer)
    opt = {k: v for k, v in optimizer.get_config().items() if k not in ("learning_rate", "name")}
    settings = [type(optimizer).__name__, opt, loss, metrics, jit_compile, run_eagerly, steps_per_execution,
                [layer.trainable for layer in compat.flatten_layers(self)]]
    key = None if kwargs else json.dumps(settings, sort_keys=True, default=repr)
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
