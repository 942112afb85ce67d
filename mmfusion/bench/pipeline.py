"""Input pipeline: mmfusion's tf.data path vs a per-image Python generator, alone and feeding training
the mias-xai CNN (small, so the input side is stressed hardest), on synthetic BUSI-sized PNGs."""
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

from mmfusion.bench.harness import best_time, emit, ratio, timed
from mmfusion.papers.mias_xai.model import build_mias_cnn

ROTATE_DEG = 15.0


def write_images(folder, n: int, hw=(500, 560), seed: int = 0):
    """``n`` grey-as-RGB PNGs with speckle (they compress like ultrasound) -> frame(image_path, label)."""
    import pandas as pd
    from PIL import Image

    rng = np.random.default_rng(seed)
    Path(folder).mkdir(parents=True, exist_ok=True)
    rows = []
    yy, xx = np.mgrid[:hw[0], :hw[1]]
    for i in range(n):
        label = i % 3
        base = 110 + 40 * np.sin(xx / (17 + 5 * label)) * np.cos(yy / 23)
        img = np.clip(base * (1 + 0.25 * rng.standard_normal(hw)), 0, 255).astype(np.uint8)
        path = Path(folder) / f"img_{i:04d}.png"
        Image.fromarray(np.dstack([img] * 3)).save(path)
        rows.append({"sample_id": f"s{i}", "image_path": str(path), "label": label})
    return pd.DataFrame(rows)


def augmenter():
    from mmfusion.data.augment import compose, random_flip, random_rotation

    return compose(random_flip(), random_rotation(ROTATE_DEG))


def notebook_batches(paths, labels, size: int, batch_size: int, seed: int = 0):
    """One epoch of the notebook style: open, resize, flip and rotate each image in Python."""
    from PIL import Image
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(paths))
    for start in range(0, len(order), batch_size):
        xs, ys = [], []
        for i in order[start:start + batch_size]:
            img = np.asarray(Image.open(paths[i]).convert("RGB").resize((size, size), Image.BILINEAR),
                             dtype=np.float32)
            if rng.random() < 0.5:
                img = img[:, ::-1]
            img = ndimage.rotate(img, rng.uniform(-ROTATE_DEG, ROTATE_DEG), axes=(1, 0),
                                 reshape=False, order=1)
            xs.append(img)
            ys.append(labels[i])
        yield np.stack(xs), np.asarray(ys, np.int32)


def _images_per_s(iterable, n_images):
    start = time.perf_counter()
    for _ in iterable:
        pass
    return n_images / (time.perf_counter() - start)


def cnn_runs(feeds: dict, size: int) -> dict:
    """{name: (a fresh compiled mias-xai CNN, feed)}."""
    runs = {}
    for name, feed in feeds.items():
        model = build_mias_cnn(size, seed=0)
        model.compile("adam", "sparse_categorical_crossentropy", jit_compile=False)
        runs[name] = (model, feed)
    return runs


def train_timings(models_and_feeds: dict, steps: int, batch_size: int, rounds: int = 3) -> dict:
    """Per feed: images/s (fastest round) and process CPU ms per image (median round), over ``rounds``
    interleaved ``fit`` calls of ``steps`` batches after one warm-up each."""
    wall = {name: [] for name in models_and_feeds}
    cpu = {name: [] for name in models_and_feeds}
    for r in range(rounds + 1):
        for name, (model, feed) in models_and_feeds.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.fit(feed, steps_per_epoch=steps, epochs=1, verbose=0)
            if r:
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    n = steps * batch_size
    return {name: {"img_s": n / min(wall[name]), "cpu_ms_per_img": 1000 * float(np.median(cpu[name])) / n}
            for name in models_and_feeds}


def cpu_ratios(timings: dict, ceiling: str, names) -> dict:
    """``<name>_cpu_over_<ceiling>``: the ceiling's CPU per image over the feed's (1: adds no work)."""
    return {f"{k}_cpu_over_{ceiling}": ratio(timings[ceiling]["cpu_ms_per_img"], timings[k]["cpu_ms_per_img"])
            for k in names}


def run(quick: bool) -> None:
    import tensorflow as tf

    from mmfusion.data.decode import decode_images, frame_to_dataset
    from mmfusion.data.pipeline import make_dataset

    n, size, bs, hw = (64, 64, 16, (250, 280)) if quick else (256, 224, 32, (500, 560))
    cmd = "python -m mmfusion.bench pipeline" + (" --quick" if quick else "")
    with tempfile.TemporaryDirectory() as tmp:
        frame = write_images(tmp, n, hw)
        paths, labels = frame["image_path"].tolist(), frame["label"].to_numpy()
        aug = augmenter()
        ds = frame_to_dataset(frame, size, batch_size=bs, shuffle=True, augment=aug)
        first = _images_per_s(ds, n)            # decode + augment (fills the cache)
        cached = _images_per_s(ds, n)           # augment from the cache
        plain = frame_to_dataset(frame, size, batch_size=bs, shuffle=True)
        _images_per_s(plain, n)
        cached_plain = _images_per_s(plain, n)  # the cache alone: what augmentation costs
        gen = _images_per_s(notebook_batches(paths, labels, size, bs), n)
        x, decode_s = timed(lambda: decode_images(paths, size))   # each paper's cache: the files decoded once
        emit("pipeline", f"input only {n} PNG {hw[0]}x{hw[1]} -> {size}px (synthetic)",
             tfdata_first_epoch_img_s=first, tfdata_cached_img_s=cached,
             tfdata_cached_no_augment_img_s=cached_plain,
             generator_img_s=gen, files_decode_once_img_s=n / decode_s,
             speedup_cached_vs_generator=ratio(cached, gen), command=cmd)

        const = tf.data.Dataset.from_tensors((tf.constant(x[:bs], tf.float32), tf.constant(labels[:bs])))

        def feeds():
            return {
                "files": frame_to_dataset(frame, size, batch_size=bs, shuffle=True, augment=aug,
                                          repeat=True),
                "arrays": make_dataset(x, labels, batch_size=bs, shuffle=True, augment=aug, repeat=True),
                "tensors": const.repeat(),   # one constant batch: the compute ceiling
                "generator": (batch for epoch in itertools.count()
                              for batch in notebook_batches(paths, labels, size, bs, seed=epoch)),
            }
        built = feeds()
        # the fastest time to the first batch of a new iterator (Keras makes one per ``fit``)
        first = {name: 1000 * best_time(lambda: next(iter(built[name])), repeat=5, warmup=0)
                 for name in ("files", "arrays", "tensors")}
        emit("pipeline", f"first batch of a new iterator (ms), {size}px batch {bs}",
             **{f"{k}_ms": v for k, v in first.items()}, command=cmd)
        # short fits (2 passes: iterator start-up included) and long ones (steady state)
        for passes in ((2, 16) if quick else (2, 6)):
            chosen = {k: v for k, v in feeds().items() if passes == 2 or k != "generator"}
            # fastest of 10 rounds at 64 px (single rounds are short and scatter widely)
            timings = train_timings(cnn_runs(chosen, size), passes * n // bs, bs, rounds=10 if quick else 3)
            rates = {k: v["img_s"] for k, v in timings.items()}
            emit("pipeline", f"train mias-cnn {size}px batch {bs}, {passes} passes per fit (synthetic)",
                 **{f"{k}_img_s": v for k, v in rates.items()},
                 **{f"{k}_cpu_ms_per_img": v["cpu_ms_per_img"] for k, v in timings.items()},
                 **cpu_ratios(timings, "tensors", ("arrays", "files")),
                 **{f"{k}_over_tensors": ratio(rates[k], rates["tensors"]) for k in rates if k != "tensors"},
                 command=cmd)
