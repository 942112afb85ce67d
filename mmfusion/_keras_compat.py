"""Every use of Keras (and TensorFlow) private API in mmfusion, in one place (written for Keras 3.15);
tests/test_keras_compat.py has one test per shim."""
import contextlib

import keras
from keras.src.models.functional import operation_fn as _operation_fn
from tensorflow.python import pywrap_tfe

WRITTEN_FOR = "3.15"


def operation_fn(op, training: bool = False):
    """The callable Functional uses to run ``op`` inside ``_run_through_graph`` (training fixed)."""
    return _operation_fn(op, training=training)


def run_through_graph(model, flat_inputs, operation_fn):
    """Re-run a Functional model's graph on ``flat_inputs``, calling each op via ``operation_fn(op)``."""
    return model._run_through_graph(flat_inputs, operation_fn=operation_fn)


def inputs_struct(model):
    """The nested structure the model was built with (a dict for named-dict inputs), or None."""
    return getattr(model, "_inputs_struct", None)


def producing_operation(tensor):
    """The layer/operation that produced a symbolic KerasTensor."""
    return tensor._keras_history.operation


def sequential_graph(model):
    """A built Sequential's underlying Functional graph (None when not built with an Input)."""
    return getattr(model, "_functional", None)


def flatten_layers(model, include_self: bool = True):
    """Every layer below ``model`` (nested models' layers included), as Keras tracks them."""
    return list(model._flatten_layers(include_self=include_self))


@contextlib.contextmanager
def _attributes_set(obj, **values):
    """``obj`` with ``values`` set for the duration, its own values put back after."""
    saved = {name: getattr(obj, name, None) for name in values}
    for name, value in values.items():
        setattr(obj, name, value)
    try:
        yield obj
    finally:
        for name, value in saved.items():
            setattr(obj, name, value)


def without_compile_state(model):
    """``model`` as if never compiled (no optimizer, no compile config), e.g. for a small .keras."""
    return _attributes_set(model, optimizer=None, compiled=False)


def swapped_activation(layer, activation=keras.activations.linear):
    """Run ``layer`` with another activation for the duration (its weights unchanged)."""
    return _attributes_set(layer, activation=activation)


def kernel_cache_kept():
    """Keep TensorFlow's kernel cache through ``tf.random.set_seed`` (which clears it)."""
    return _attributes_set(pywrap_tfe, TFE_ContextClearCaches=lambda handle: None)
