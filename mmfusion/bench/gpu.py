"""The GPU figures in one bounded run (``python -m mmfusion.bench gpu``): cases in order until ``BUDGET_S``
is spent, the rest skipped. ``--dry`` (or ``--quick``): tiny sizes, to check on a CPU that every case runs."""
import os
import sys
import time

import numpy as np

from mmfusion.bench.harness import device_info, emit, header, ratio
from mmfusion.bench.models import FULL, VARIANTS, busi_run, measure
from mmfusion.bench.pipeline import augmenter, cnn_runs, train_timings

BUDGET_S = 480.0


def backbone(name, size, papers, dev, batch, repeat, deadline=float("inf")) -> None:
    flops = None
    for mixed, xla in VARIANTS:
        if time.perf_counter() > deadline:
            emit("gpu", f"{name} {size}px", mixed_precision=mixed, xla=xla, skipped="budget spent")
            continue
        r = measure(name, size, batch, repeat, mixed, xla, train=True)
        flops = r["flops_per_img"] or flops
        peak = dev.get("peak_fp16_flops") if mixed else dev.get("peak_flops")
        train_flop_s = flops and r["train_img_s"] and 3 * flops * r["train_img_s"]
        emit("gpu", f"{name} {size}px batch {batch} ({papers})", mixed_precision=mixed, xla=xla,
             infer_img_s=r["infer_img_s"], train_img_s=r["train_img_s"],
             first_train_step_s=r["first_train_step_s"], flops_per_img=flops,
             infer_peak_fraction=peak and flops and flops * r["infer_img_s"] / peak,
             train_peak_fraction=peak and train_flop_s and train_flop_s / peak,
             peak_how=dev.get("peak_how"), command="python -m mmfusion.bench gpu")


def feed_ratio(size, n, batch, steps_passes=4) -> None:
    """Arrays (flip + rotation) vs one constant batch on the mias-xai CNN: what the host feed keeps."""
    import tensorflow as tf

    from mmfusion.data.pipeline import make_dataset
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, size, size, 3)).astype("float32")
    y = rng.integers(0, 3, n)
    feeds = {"arrays": make_dataset(x, y, batch_size=batch, shuffle=True, augment=augmenter(), repeat=True),
             "tensors": tf.data.Dataset.from_tensors((tf.constant(x[:batch]),
                                                      tf.constant(y[:batch]))).repeat()}
    timings = train_timings(cnn_runs(feeds, size), steps_passes * n // batch, batch, rounds=2)
    rates = {k: v["img_s"] for k, v in timings.items()}
    emit("gpu", f"feed: train mias-cnn {size}px batch {batch}", **{f"{k}_img_s": v for k, v in rates.items()},
         **{f"{k}_host_cpu_ms_per_img": v["cpu_ms_per_img"] for k, v in timings.items()},
         arrays_over_tensors=ratio(rates["arrays"], rates["tensors"]), command="python -m mmfusion.bench gpu")


def run(dry: bool) -> None:
    dev = device_info()
    if not dev.get("gpu") and not dry:
        emit("gpu", "skipped", reason="no GPU visible to TensorFlow; --dry checks the script on a CPU")
        return
    start = time.perf_counter()
    # dry: a big backbone's traces take minutes on a CPU, the small CNN runs the same code
    cases = [("mias-cnn", 32, "dry run")] if dry else [case[:3] for case in FULL]
    tasks = [("effnetv2-smote BUSI-sized run",
              lambda: busi_run(8, 32, 1, "mias-cnn", "gpu") if dry else busi_run(bench="gpu")),
             ("feed ratio", lambda: feed_ratio(32, 16, 4) if dry else feed_ratio(224, 512, 32))]
    tasks += [(f"{name} {size}px", lambda a=(name, size, papers): backbone(*a, dev, 2 if dry else 32,
                                                                       1 if dry else 3, start + BUDGET_S))
              for name, size, papers in cases]
    for label, task in tasks:
        spent = time.perf_counter() - start
        if spent > BUDGET_S:
            emit("gpu", label, skipped=f"budget of {BUDGET_S:.0f} s spent ({spent:.0f} s)")
            continue
        try:
            task()
        except Exception as err:   # one failing case must not hide the others' figures
            emit("gpu", label, error=f"{type(err).__name__}: {err}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    dry_run = "--dry" in sys.argv[1:] or "--quick" in sys.argv[1:]
    header(dry_run)
    run(dry_run)
