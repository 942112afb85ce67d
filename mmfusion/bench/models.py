"""Training and inference images/s per backbone at each paper's input size, FLOPs, share of peak
(random weights). A training step (``train_on_batch``, Adam) counts as 3 x the forward FLOPs."""
import numpy as np

from mmfusion.bench.flops import graph_flops, hand_flops
from mmfusion.bench.harness import best_time, device_info, emit, ratio, timed
from mmfusion.papers.mias_xai.model import build_mias_cnn

# (backbone, input size, papers using it at that size, time a training step too)
FULL = (("resnet50", 224, "multimodal-fusion, hmcnet", True), ("vgg16", 224, "hmcnet", True),
        ("vgg19", 224, "hmcnet", True), ("vit", 224, "hmcnet baseline", True),
        ("efficientnetv2b0", 299, "effnetv2-smote", True), ("mias-cnn", 224, "mias-xai", True))
# quick: a big backbone's first training step traces for minutes on a loaded CPU; infer only
QUICK = (("resnet50", 64, "quick size", False), ("efficientnetv2b0", 64, "quick size", False),
         ("mias-cnn", 64, "quick size", True))
PAPER_SECONDS = {"busi_run_s": 121.36, "per_image_s": 0.09}   # effnetv2-smote, P100
VARIANTS = ((False, False), (True, False), (False, True), (True, True))   # (mixed, xla)


def build(name: str, size: int, n_classes: int = 3):
    if name == "mias-cnn":
        return build_mias_cnn(size, n_classes, seed=0)
    from mmfusion.models.classifier import build_classifier

    return build_classifier(name, (size, size, 3), n_classes=n_classes, weights=None)


def measure(name: str, size: int, batch: int, repeat: int, mixed=False, xla=False,
            train: bool = True) -> dict:
    import keras
    import tensorflow as tf

    previous = keras.mixed_precision.global_policy()
    if mixed:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build(name, size)
        rng = np.random.default_rng(0)
        x = tf.constant(rng.uniform(0, 255, (batch, size, size, 3)).astype(np.float32))
        y = tf.constant(rng.integers(0, 3, batch))
        infer = tf.function(lambda t: model(t, training=False), jit_compile=xla)
        _, trace_infer = timed(lambda: infer(x))
        t_infer = best_time(lambda: infer(x).numpy(), repeat=repeat, warmup=0)
        trace_train = t_train = None
        if train:
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=xla)
            _, trace_train = timed(lambda: model.train_on_batch(x, y))
            t_train = best_time(lambda: model.train_on_batch(x, y), repeat=repeat, warmup=0)
        return {"params": model.count_params(), "infer_img_s": batch / t_infer,
                "train_img_s": t_train and batch / t_train, "first_call_s": trace_infer,
                "first_train_step_s": trace_train, "flops_per_img": None if mixed else graph_flops(model),
                "hand_conv_dense_flops": None if mixed else hand_flops(model)}
    finally:
        keras.mixed_precision.set_global_policy(previous)


def run(quick: bool) -> None:
    dev = device_info()
    cases, batch, repeat = (QUICK, 8, 2) if quick else (FULL, 32, 3)
    for name, size, papers, train in cases:
        flops = None
        for mixed, xla in VARIANTS if dev.get("gpu") else VARIANTS[:1]:
            r = measure(name, size, batch, repeat, mixed, xla, train)
            flops = r["flops_per_img"] or flops
            peak = dev.get("peak_fp16_flops") if mixed else dev.get("peak_flops")
            achieved_infer = flops and flops * r["infer_img_s"]
            achieved_train = flops and r["train_img_s"] and 3 * flops * r["train_img_s"]
            emit("models", f"{name} {size}px batch {batch} ({papers})", mixed_precision=mixed, xla=xla,
                 **r, graph_over_hand=ratio(flops, r["hand_conv_dense_flops"]), infer_flop_s=achieved_infer,
                 train_flop_s=achieved_train, infer_peak_fraction=ratio(achieved_infer, peak),
                 train_peak_fraction=ratio(achieved_train, peak),
                 command="python -m mmfusion.bench models" + (" --quick" if quick else ""))
    if dev.get("gpu") and not quick:
        busi_run()
    else:
        emit("models", "effnetv2-smote BUSI-sized run", skipped="needs a GPU and the full bench "
             "(610 x 299 px x 22 epochs: CPU hours)")


def busi_run(n: int = 610, size: int = 299, epochs: int = 22, arch: str = "efficientnetv2b0",
             bench: str = "models") -> None:
    """effnetv2-smote at BUSI's size through the core ``fit``, mixed precision + XLA."""
    import tensorflow as tf

    from mmfusion.training import TrainConfig, fit

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8).astype(np.float32)
    y = rng.integers(0, 3, n)
    config = TrainConfig(epochs=epochs, batch_size=32, mixed_precision=True, jit_compile=True, verbose=0)
    fitted, seconds = timed(lambda: fit(lambda: build(arch, size), (x, y), None, config))
    call = tf.function(lambda t: fitted.model(t, training=False), jit_compile=True)
    one = tf.constant(x[:1])
    per_image = best_time(lambda: call(one).numpy(), repeat=20)
    emit(bench, f"effnetv2-smote BUSI-sized run ({arch}, {n} synthetic {size}px x {epochs} epochs, "
         f"mixed+XLA)", seconds=seconds, paper_seconds_p100=PAPER_SECONDS["busi_run_s"],
         per_image_inference_s=per_image, paper_per_image_s=PAPER_SECONDS["per_image_s"],
         command=f"python -m mmfusion.bench {bench}")
