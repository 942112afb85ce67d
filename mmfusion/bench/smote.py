"""SMOTE time and peak memory on BUSI's benign-vs-malignant training side (452 images): uint8 through
``smote_images``, float32 / float64 through imblearn on 0..1 pixels, each in its own process (own peaks)."""
import json
import subprocess
import sys

from mmfusion.bench.harness import emit, ratio

COUNTS = (305, 147)   # 452 = 70% of BUSI's 437 benign + 210 malignant, same ratio

_CHILD = r"""
import contextlib, json, resource, sys, time, tracemalloc
import numpy as np


def hwm_mb():  # this process's peak RSS (ru_maxrss would carry the parent's across exec)
    with contextlib.suppress(OSError):
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


size, dtype, counts = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
rng = np.random.default_rng(0)
y = np.repeat(np.arange(len(counts)), counts)
x = rng.integers(0, 256, (len(y), size, size, 3), dtype=np.uint8)
if dtype != "uint8":
    x = x.astype(dtype) / 255.0
from imblearn.over_sampling import SMOTE  # imported before the clock starts
from mmfusion.data.resample import smote_images
base_rss = hwm_mb()
tracemalloc.start()
start = time.perf_counter()
if dtype == "uint8":
    out, y_out = smote_images(x, y, k=5, seed=0)
    path = "mmfusion.data.resample.smote_images"
else:
    flat, y_out = SMOTE(k_neighbors=5, random_state=0).fit_resample(x.reshape(len(x), -1), y)
    out, path = flat.reshape((-1,) + x.shape[1:]), "imblearn SMOTE"
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"seconds": seconds, "tracemalloc_peak_mb": peak / 2**20,
                  "input_mb": x.nbytes / 2**20, "output_mb": out.nbytes / 2**20,
                  "out_dtype": str(out.dtype), "n_out": int(len(y_out)),
                  "peak_rss_mb": hwm_mb(), "peak_rss_before_mb": base_rss, "path": path}))
"""


def measure(size: int, dtype: str, counts=COUNTS) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(size), dtype, json.dumps(list(counts))],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"SMOTE child ({size}px, {dtype}) failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(quick: bool) -> None:
    size = 128 if quick else 299
    cmd = "python -m mmfusion.bench smote" + (" --quick" if quick else "")
    results = {}
    for dtype in ("uint8", "float32", "float64"):
        results[dtype] = r = measure(size, dtype)
        emit("smote", f"{sum(COUNTS)} random images {size}px {dtype} -> {r['n_out']}", **r, command=cmd)
    emit("smote", f"{size}px float64 over uint8",
         time_ratio=ratio(results["float64"]["seconds"], results["uint8"]["seconds"]),
         peak_ratio=ratio(results["float64"]["tracemalloc_peak_mb"],
                          results["uint8"]["tracemalloc_peak_mb"]), command=cmd)
