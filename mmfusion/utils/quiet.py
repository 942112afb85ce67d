"""Keep TensorFlow's C++ start-up and known-harmless log lines out of a run's output.
absl writes them to file descriptor 2 from C++ (``TF_CPP_MIN_LOG_LEVEL`` does not reach all of
them), so the filter is a pipe on descriptor 2 whose reader thread forwards every other line to the
real stderr. At exit descriptor 2 is handed back and the reader finishes, so no last line is lost.
Never installed inside pytest's own process (its capture owns descriptor 2)."""
import atexit
import os
import re
import sys
import threading

HARMLESS = re.compile(
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|^[IW]\d{4} .*(port\.cc|cpu_feature_guard\.cc|cuda_(fft|dnn|blas)\.cc|computation_placer\.cc)"
    rb"|oneDNN custom operations are on|use_unbounded_threadpool which is not in the op definition"
    rb"|This TensorFlow binary is optimized to use available CPU instructions"
    rb"|To enable the following instructions.*rebuild TensorFlow"
    rb"|Unable to register cu(DNN|FFT|BLAS) factory"
    rb"|TF-TRT Warning: Could not find TensorRT")
_installed = False


def _forward(read_fd: int, write_fd: int) -> None:
    buffer = b""
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        kept = [line for line in lines if not HARMLESS.search(line)]
        if kept:
            os.write(write_fd, b"\n".join(kept) + b"\n")
    if buffer and not HARMLESS.search(buffer):
        os.write(write_fd, buffer)


def _drain(real: int, reader: threading.Thread) -> None:
    """Close the pipe's last write end (descriptor 2) and wait for the reader to forward the rest;
    a child process still holding the pipe open only delays this by the timeout."""
    try:
        sys.stderr.flush()
        os.dup2(real, 2)
    except (OSError, ValueError):
        return
    reader.join(timeout=5)


def install() -> bool:
    """Filter descriptor 2 from now on (idempotent); False where it is left alone."""
    global _installed
    if _installed or "pytest" in sys.modules or os.environ.get("MMFUSION_RAW_LOGS"):
        return False
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        sys.stderr.flush()
        real = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
    except OSError:
        return False
    reader = threading.Thread(target=_forward, args=(read_fd, real), daemon=True, name="mmfusion-stderr")
    reader.start()
    atexit.register(_drain, real, reader)
    _installed = True
    return True
