"""Benchmark plumbing: timing, JSON-line records, the summary table, the device's peak FLOP/s.
Benchmarks print figures and never assert: speed targets live here, not in tests."""
import contextlib
import json
import os
import platform
import re
import sys
import time

from mmfusion.utils.gpu import gpu_details

RECORDS: list[dict] = []
# FP32 FLOPs per cycle per core: FMA counts 2; (FMA pipes x lanes x 2).
_FLOPS_PER_CYCLE = (("avx512f", 64), ("fma", 32), ("avx", 16), ("sse2", 8))
# FP32 / FP16-tensor-core dense peaks (TFLOP/s) from the vendors' data sheets.
GPU_PEAKS = {"H200": (67.0, 989.0), "H100": (67.0, 989.0), "A100": (19.5, 312.0), "L4": (30.3, 121.0),
             "T4": (8.1, 65.0), "P100": (9.3, 18.7), "V100": (15.7, 125.0)}


def emit(bench: str, case: str, **fields) -> dict:
    """Print one JSON line ``{"bench", "case", ...}`` and keep it for the table."""
    rec = {"bench": bench, "case": case, **{k: _plain(v) for k, v in fields.items()}}
    RECORDS.append(rec)
    print(json.dumps(rec), flush=True)
    return rec


def _plain(v):
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
        v = v.item()
    return float(f"{v:.4g}") if isinstance(v, float) else v


def timed(fn) -> tuple:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def best_time(fn, repeat: int = 3, warmup: int = 1) -> float:
    """Fastest of ``repeat`` timed calls after ``warmup`` untimed ones (tracing, caches)."""
    for _ in range(warmup):
        fn()
    return min(timed(fn)[1] for _ in range(max(1, repeat)))


def ratio(a, b):
    return None if not a or not b else a / b


def _field(text: str, name: str):
    m = re.search(rf"^{re.escape(name)}\s*:\s*(.*)$", text, re.M)
    return m and m.group(1)


def cpu_peak(cpuinfo: str, cores: int) -> dict:
    """FP32 peak from /proc/cpuinfo text: cores x GHz x FLOPs/cycle (flags decide the vector width).
    AMD Zen 4 runs AVX-512 on 256-bit pipes, so an AMD chip with avx512f counts as AVX2+FMA (32)."""
    flags = set((_field(cpuinfo, "flags") or "").split())
    model = _field(cpuinfo, "model name") or ""
    per_cycle = next((n for flag, n in _FLOPS_PER_CYCLE if flag in flags), 4)
    amd = "AuthenticAMD" in cpuinfo or "AMD" in model
    if amd and per_cycle == 64:
        per_cycle = 32
    named = re.search(r"@\s*([\d.]+)\s*GHz", model)
    mhz = _field(cpuinfo, "cpu MHz")
    ghz = float(named.group(1)) if named else (float(mhz) / 1000 if mhz else 1.0)
    return {"device": f"CPU {(model or platform.processor()).strip()} x{cores} cores",
            "peak_flops": cores * ghz * 1e9 * per_cycle,
            "peak_how": f"{cores} cores x {ghz:.2f} GHz x {per_cycle} FP32 FLOP/cycle "
                        f"(/proc/cpuinfo flags{', AMD 256-bit pipes' if amd and 'avx512f' in flags else ''})"}


def device_info() -> dict:
    """The device TensorFlow runs on and its assumed FP32 peak (and FP16 peak on a GPU)."""
    gpus = gpu_details()
    if gpus:
        name = gpus[0][1].get("device_name", "GPU")
        key = next((k for k in GPU_PEAKS if k in name.upper()), None)
        fp32, fp16 = GPU_PEAKS.get(key, (None, None))
        return {"device": name, "gpu": True,
                "peak_flops": fp32 and fp32 * 1e12, "peak_fp16_flops": fp16 and fp16 * 1e12,
                "peak_how": f"data-sheet table ({key})" if key else "unknown GPU: no peak assumed"}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    text = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        text = f.read()
    return {"gpu": False, **cpu_peak(text, cores)}


def load_average() -> float | None:
    with contextlib.suppress(OSError):
        return os.getloadavg()[0]


def format_table(records=None) -> str:
    records = RECORDS if records is None else records
    lines = ["| bench | case | figures |", "|---|---|---|"]
    for r in records:
        figs = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("bench", "case"))
        lines.append(f"| {r['bench']} | {r['case']} | {figs} |")
    return "\n".join(lines)


def header(quick: bool) -> dict:
    return emit("env", "device", quick=quick, python=sys.version.split()[0],
                load_average=load_average(), **device_info())
