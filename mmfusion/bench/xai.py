"""Explanation seconds per image: ``mmfusion.xai`` (batched) vs the naive path notebooks write (CAMs: the
Keras tutorial's eager per-image code; LIME / KernelSHAP: ``model.predict`` in LIME's chunks of 10)."""
import functools

import numpy as np
from scipy import ndimage

from mmfusion.bench.harness import emit, ratio, timed
from mmfusion.papers.mias_xai.explain import naive_gradcam, naive_scorecam
from mmfusion.papers.mias_xai.model import LAST_CONV, build_mias_cnn

NAIVE_BATCH = 10   # lime.lime_image.LimeImageExplainer.explain_instance default batch_size


def smooth_images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Grey-as-RGB blobs with mild speckle: tens of quickshift superpixels, as a scan."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = ndimage.gaussian_filter(rng.uniform(0, 255, (size, size)), size / 16)
        s = (s - s.min()) / (s.max() - s.min()) * 200 + 20 + rng.normal(0, 8, (size, size))
        out.append(np.repeat(np.clip(s, 0, 255)[..., None], 3, axis=-1))
    return np.stack(out).astype(np.float32)


def run(quick: bool) -> None:
    from mmfusion.xai import GradCAM, GradCAMPlusPlus, ScoreCAM, image_kernel_shap, lime_image
    size, n, samples = (64, 4, 200) if quick else (224, 8, 1000)
    model = build_mias_cnn(size, seed=0)
    images = smooth_images(n, size)
    case = f"mias-cnn {size}px, "
    cmd = "python -m mmfusion.bench xai" + (" --quick" if quick else "")

    for name, cls, naive in (("gradcam", GradCAM, lambda: naive_gradcam(model, images, LAST_CONV)),
                             ("gradcam++", GradCAMPlusPlus,
                              lambda: naive_gradcam(model, images, LAST_CONV, plus_plus=True)),
                             ("scorecam", ScoreCAM, lambda: naive_scorecam(model, images, LAST_CONV))):
        explainer, setup = timed(lambda: cls(model, layer_name=LAST_CONV))
        _, first = timed(lambda: explainer(images))
        _, steady = timed(lambda: explainer(images))
        _, naive_s = timed(naive)
        emit("xai", f"{name} {case}{n} synthetic images", batched_s_per_img=steady / n,
             batched_first_call_s=setup + first, naive_s_per_img=naive_s / n,
             speedup=ratio(naive_s, steady), command=cmd)

    def call(a):
        return model(a, training=False).numpy()

    predict = functools.partial(model.predict, batch_size=NAIVE_BATCH, verbose=0)
    _, fast = timed(lambda: lime_image(call, images[:2], num_samples=samples))
    _, plain10 = timed(lambda: lime_image(call, images[:2], num_samples=samples, batch_size=NAIVE_BATCH))
    _, slow = timed(lambda: lime_image(predict, images[:2], num_samples=samples, batch_size=NAIVE_BATCH))
    emit("xai", f"lime {case}2 images, {samples} samples",
         batched_s_per_img=fast / 2, call_batch10_s_per_img=plain10 / 2,
         naive_predict_batch10_s_per_img=slow / 2, speedup=ratio(slow, fast), command=cmd)

    _, fast = timed(lambda: image_kernel_shap(call, images[:2], nsamples=samples))
    _, slow = timed(lambda: image_kernel_shap(predict, images[:2], nsamples=samples, batch_size=NAIVE_BATCH))
    emit("xai", f"kernelshap {case}2 images, {samples} samples",
         batched_s_per_img=fast / 2, naive_predict_batch10_s_per_img=slow / 2,
         speedup=ratio(slow, fast), command=cmd)
