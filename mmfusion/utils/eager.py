"""Running tf.functions eagerly for a while: on a CPU, a quick run's few steps cost less than
tracing a big backbone (ResNet50 traced for tens of seconds per graph here). Training alone has
``TrainConfig.run_eagerly``; this also covers explainers and other tf.functions."""
from __future__ import annotations

import contextlib
import warnings


@contextlib.contextmanager
def eager_functions(enabled: bool):
    """Quick CPU runs: skip tf.function tracing (tens of seconds per ResNet50 graph, per fold)."""
    import tensorflow as tf

    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(bool(enabled) or before)
    try:
        with warnings.catch_warnings():   # tf.data still traces its own functions: expected
            warnings.filterwarnings("ignore", message="Even though the `tf.config.experimental_run_functions")
            yield
    finally:
        tf.config.run_functions_eagerly(before)
