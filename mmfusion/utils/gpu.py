"""GPU defaults: mixed precision where it pays, XLA left to Keras, an optional TensorBoard log."""
# Tensor Cores (the only source of a mixed_float16 speed-up) arrive with compute capability 7.0;
# on an older GPU float16 saves memory but costs casts.
MIN_MIXED_CAPABILITY = (7, 0)


def gpu_details() -> list:
    """(device, details) of every visible GPU; details {} where TensorFlow does not report them."""
    import tensorflow as tf

    out = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except Exception:   # details are best-effort; unknown counts as too old
            details = {}
        out.append((gpu, details))
    return out


def compute_capabilities() -> list:
    """(major, minor) of every visible GPU; (0, 0) where TensorFlow does not report it."""
    return [tuple(details.get("compute_capability") or (0, 0)) for _, details in gpu_details()]


def default_mixed_precision(capabilities=None) -> bool:
    """True only when there is a GPU and every visible one has compute capability >= 7.0."""
    caps = compute_capabilities() if capabilities is None else list(capabilities)
    return bool(caps) and all(tuple(c) >= MIN_MIXED_CAPABILITY for c in caps)


def resolve_mixed_precision(flag) -> bool:
    """``--mixed-precision`` / ``--no-mixed-precision`` win; None (no flag) means the default above."""
    return default_mixed_precision() if flag is None else bool(flag)


def jit_compile(flag) -> bool | str:
    """``--jit`` forces XLA; otherwise Keras's "auto" (XLA where Keras judges it safe)."""
    return True if flag else "auto"


def tensorboard_callbacks(log_dir, name: str = "") -> list:
    """A TensorBoard callback writing under ``log_dir/name``, or [] when no log dir is set."""
    if not log_dir:
        return []
    from pathlib import Path

    import keras

    return [keras.callbacks.TensorBoard(log_dir=str(Path(log_dir) / name) if name else str(log_dir))]
