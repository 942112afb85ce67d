"""LIME (Ribeiro et al., KDD 2016) for tabular rows and images, with a batched classifier: each
explanation makes one call per ``batch_size`` rows (LIME's own default pushes 10 at a time)."""
import time

import numpy as np

from mmfusion.xai.shapley import _batched

QUICKSHIFT = {"kernel_size": 4, "max_dist": 200, "ratio": 0.2}


def _probabilities(model_fn, batch_size):
    """Classifier for LIME: (n, C) probabilities; a single output p becomes (1 - p, p)."""
    call = _batched(model_fn, batch_size)

    def predict(a):
        out = call(a)
        return np.concatenate([1 - out, out], axis=1) if out.shape[1] == 1 else out
    return predict


def quickshift_segments(image, seed=0, **params):
    """Superpixels as LIME segments images: quickshift(kernel_size 4, max_dist 200, ratio 0.2)
    on the RGB image (a one-channel image is repeated to RGB)."""
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return SegmentationAlgorithm("quickshift", **{**QUICKSHIFT, **params}, random_seed=seed)(image)


def lime_image(model_fn, images, targets=None, num_samples=1000, batch_size=64, seed=0, hide_color=None):
    """LIME heatmaps (N, H, W): each pixel gets its superpixel's weight for the target class.

    ``model_fn``: (n, H, W, ch) images -> (n, C) probabilities (or (n,)); ``hide_color`` None hides
    a superpixel with its mean colour (LIME's default). Segments: ``quickshift_segments``."""
    import lime.lime_image
    from lime.lime_image import LimeImageExplainer

    images = np.asarray(images, dtype=np.float64)
    channels = images.shape[-1]
    batch_size = batch_size or num_samples
    predict = _probabilities(model_fn, batch_size)

    def classifier(batch):  # LIME works in RGB; give a one-channel model its channel back
        return predict(batch[..., :channels].astype(np.float32))

    explainer = LimeImageExplainer(random_state=seed)
    maps = []
    # lime 0.2.0.1 wraps every explanation's sampling loop in its own tqdm bar, with no switch
    lime_tqdm, lime.lime_image.tqdm = lime.lime_image.tqdm, lambda iterable, *a, **k: iterable
    try:
        for i, image in enumerate(images):
            target = (int(np.argmax(predict(image[None].astype(np.float32))[0]))
                      if targets is None else int(targets[i]))
            exp = explainer.explain_instance(
                np.repeat(image, 3, axis=-1) if channels == 1 else image, classifier, labels=(target,),
                top_labels=None, hide_color=hide_color, num_samples=num_samples, batch_size=batch_size,
                segmentation_fn=lambda im: quickshift_segments(im, seed=seed), random_seed=seed)
            weights = np.zeros(exp.segments.max() + 1)
            for segment, w in exp.local_exp[target]:
                weights[segment] = w
            maps.append(weights[exp.segments])
    finally:
        lime.lime_image.tqdm = lime_tqdm
    return np.stack(maps).astype(np.float32)


def _encode(X, groups, n_features):
    """One-hot groups -> one integer column each (all-zero -> an extra 'none' category)."""
    grouped = [j for cols in groups.values() for j in cols]
    plain = [j for j in range(n_features) if j not in grouped]
    cols = [X[:, plain]]
    for members in groups.values():
        block = X[:, members]
        code = np.where(block.max(axis=1) > 0, block.argmax(axis=1), len(members))
        cols.append(code[:, None].astype(np.float64))
    return np.concatenate(cols, axis=1), plain


def lime_tabular(model_fn, X, training_data, feature_names=None, groups=None, targets=None,
                 num_samples=5000, batch_size=None, seed=0, return_info=False):
    """LIME weights per row (N, F) and the F feature names, for the target class.

    ``groups``: dict name -> one-hot column indices; each group is ONE categorical LIME feature
    (all-zero = 'none'), decoded to one-hot for ``model_fn``. Other columns are continuous."""
    from lime.lime_tabular import LimeTabularExplainer

    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    m = X.shape[1]
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(m)]
    groups = dict(groups or {})
    Z_train, plain = _encode(np.asarray(training_data, dtype=np.float64), groups, m)
    Z, _ = _encode(X, groups, m)
    lime_names = [names[j] for j in plain] + list(groups)
    cat_names = {len(plain) + g: [names[j] for j in members] + ["none"]
                 for g, members in enumerate(groups.values())}
    predict = _probabilities(model_fn, batch_size or num_samples)

    def classifier(z):
        decoded = np.zeros((len(z), m))
        decoded[:, plain] = z[:, :len(plain)]
        for g, members in enumerate(groups.values()):
            code = z[:, len(plain) + g].astype(int)
            decoded[:, members] = code[:, None] == np.arange(len(members))
        return predict(decoded.astype(np.float32))

    explainer = LimeTabularExplainer(Z_train, mode="classification", feature_names=lime_names,
                                     categorical_features=list(cat_names),
                                     categorical_names=cat_names, random_state=seed)
    weights = np.zeros((len(X), len(lime_names)))
    start = time.perf_counter()
    for i, z in enumerate(Z):
        target = int(np.argmax(classifier(z[None])[0])) if targets is None else int(targets[i])
        exp = explainer.explain_instance(z, classifier, labels=(target,),
                                         num_features=len(lime_names), num_samples=num_samples)
        for j, w in exp.local_exp[target]:
            weights[i, j] = w
    if not return_info:
        return weights, lime_names
    return weights, lime_names, {"seconds_per_image": (time.perf_counter() - start) / len(X)}
