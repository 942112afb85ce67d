"""Shapley attributions: exact enumeration, KernelSHAP, groups, multi-input and image helpers.

Value function (interventional, what KernelSHAP estimates): for a row x and a coalition S of
players, v(S) = mean_b model_fn(x on S, b elsewhere) over the background rows b. A player is one
feature, or a group of features (``groups``: list of column-index lists, e.g. the one-hot
columns of one clinical variable), switched on and off as a whole.

``model_fn`` maps an (n, M) array to (n,) or (n, C) (a plain model call: ``model.predict`` is far
slower for many small batches). Results: (N, P) for a single output, (N, P, C) for C outputs;
``return_info=True`` also returns ``{"expected_value", "seconds_per_image"}``."""
import math
import time

import numpy as np


def _batched(model_fn, batch_size):
    """model_fn applied in chunks, as a 2-D (n, C) float array."""
    def call(a):
        outs = [np.asarray(model_fn(a[i:i + batch_size]), dtype=np.float64)
                for i in range(0, len(a), batch_size)]
        out = np.concatenate(outs, axis=0) if outs else np.zeros((0, 1))
        return out.reshape(len(a), -1)
    return call


def _players(groups, n_features):
    if groups is None:
        return [[j] for j in range(n_features)]
    groups = [list(g) for g in (groups.values() if isinstance(groups, dict) else groups)]
    flat = [j for g in groups for j in g]
    bad = [j for j in flat if not 0 <= j < n_features]
    if bad:
        raise ValueError(f"groups name columns {bad} outside 0..{n_features - 1}")
    if len(set(flat)) != len(flat):
        raise ValueError("groups overlap: each column may belong to one group only")
    return groups


def _player_masks(z, players, n_features):
    """(n, P) coalition indicators -> (n, M) boolean feature masks (ungrouped columns stay on)."""
    mask = np.ones((len(z), n_features), dtype=bool)
    for p, cols in enumerate(players):
        mask[:, cols] = z[:, p:p + 1].astype(bool)
    return mask


def _values(fn, x, background, feature_masks):
    """v(S) for each row of ``feature_masks`` (K, M): mean over background of fn(mix)."""
    k, b = len(feature_masks), len(background)
    mixed = np.where(feature_masks[:, None, :], x[None, None, :], background[None, :, :])
    return fn(mixed.reshape(k * b, -1)).reshape(k, b, -1).mean(axis=1)


def _prepare(model_fn, X, background):
    """(X, background) as 2-D float arrays, and whether model_fn gives one score per row."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    background = np.atleast_2d(np.asarray(background, dtype=np.float64))
    if X.shape[1] != background.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but background has {background.shape[1]}")
    return X, background, np.asarray(model_fn(X[:1])).ndim == 1


def _result(phi, base, single, start, n, return_info):
    if single:
        phi, base = phi[..., 0], base[..., 0]
    if not return_info:
        return phi
    return phi, {"expected_value": base, "seconds_per_image": (time.perf_counter() - start) / n}


def exact_shapley(model_fn, X, background, groups=None, max_players=12, batch_size=8192, return_info=False):
    """Exact Shapley values by enumerating all 2^P coalitions (P <= ``max_players``)."""
    X, background, single = _prepare(model_fn, X, background)
    n_features = X.shape[1]
    players = _players(groups, n_features)
    p = len(players)
    if p > max_players:
        raise ValueError(f"{p} players need 2^{p} coalitions; exact enumeration is capped at "
                         f"{max_players} (raise max_players, or use kernel_shap)")
    fn = _batched(model_fn, batch_size)
    codes = np.arange(2 ** p)
    bits = (codes[:, None] >> np.arange(p)[None, :]) & 1  # (2^p, p)
    masks = _player_masks(bits, players, n_features)
    size = bits.sum(axis=1)
    # Shapley kernel: |S|! (p - |S| - 1)! / p! for coalitions S without the player.
    weight = np.array([math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p)
                       if s < p else 0.0 for s in range(p + 1)])
    start = time.perf_counter()
    phis = []
    for x in X:
        v = _values(fn, x, background, masks)  # (2^p, C)
        phi = np.zeros((p, v.shape[1]))
        for i in range(p):
            without = codes[bits[:, i] == 0]
            phi[i] = (weight[size[without]][:, None] * (v[without | (1 << i)] - v[without])).sum(0)
        phis.append(phi)
    return _result(np.stack(phis), v[0], single, start, len(X), return_info)


def kernel_shap(model_fn, X, background, nsamples="auto", groups=None, seed=0, l1_reg=False,
                batch_size=8192, return_info=False):
    """KernelSHAP (Lundberg & Lee 2017) through ``shap.KernelExplainer``; with ``groups``, a game of
    the P groups per row. ``l1_reg=False``: shap's default keeps only 10 features, silently zeroing
    the rest of a 36-dim clinical vector."""
    import shap

    X, background, single = _prepare(model_fn, X, background)
    fn = _batched(model_fn, batch_size)
    start = time.perf_counter()
    state = np.random.get_state()   # shap samples coalitions from the global numpy RNG
    np.random.seed(seed)
    try:
        if groups is None:
            explainer = shap.KernelExplainer(fn, background)
            phi = np.asarray(explainer.shap_values(X, nsamples=nsamples, l1_reg=l1_reg, silent=True))
        else:
            players = _players(groups, X.shape[1])
            rows = []
            for x in X:
                def game(z, x=x):
                    return _values(fn, x, background, _player_masks(z, players, X.shape[1]))
                explainer = shap.KernelExplainer(game, np.zeros((1, len(players))))
                rows.append(np.asarray(explainer.shap_values(
                    np.ones((1, len(players))), nsamples=nsamples, l1_reg=l1_reg,
                    silent=True)).reshape(len(players), -1))
            phi = np.stack(rows)
        base = np.asarray(explainer.expected_value).reshape(-1)
    finally:
        np.random.set_state(state)
    return _result(phi.reshape(len(X), -1, len(base)), base, single, start, len(X), return_info)


def group_attributions(phi, groups):
    """Per-column attributions (N, M[, C]) summed per group (N, G[, C]); the grouped game itself is
    ``groups=`` of ``exact_shapley`` / ``kernel_shap``."""
    phi = np.asarray(phi)
    return np.stack([phi[:, cols].sum(axis=1) for cols in _players(groups, phi.shape[1])], axis=1)


def global_importance(phi):
    """Mean |phi| over the rows."""
    return np.abs(np.asarray(phi)).mean(axis=0)


def tabular_model_fn(model, fixed, tabular_name, batch_size=1024):
    """fn((n, M) array) -> (n,) for one output unit, else (n, C): the model on its tabular input,
    every other input held at ``fixed`` (input name -> one sample, leading dim 1)."""
    fixed = {k: np.asarray(v) for k, v in fixed.items() if k != tabular_name}

    def call(chunk):
        inputs = {k: np.repeat(v, len(chunk), axis=0) for k, v in fixed.items()}
        return model({**inputs, tabular_name: chunk}, training=False)
    batched = _batched(call, batch_size)

    def fn(a):
        out = batched(np.asarray(a, dtype=np.float32))
        return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out
    return fn


def explain_tabular(model, inputs, tabular_name, background, method="kernel", **options):
    """(N, P[, C]) Shapley values of the tabular input of each sample of ``inputs`` (name -> array),
    its other inputs held fixed; ``options`` go to ``kernel_shap`` / ``exact_shapley``."""
    if method not in ("kernel", "exact") or "return_info" in options:
        raise ValueError(f"method must be 'kernel' or 'exact' (got {method!r}); "
                         "return_info is not supported here")
    explain = {"kernel": kernel_shap, "exact": exact_shapley}[method]
    X = np.asarray(inputs[tabular_name])
    rows = []
    for i in range(len(X)):
        fixed = {k: np.asarray(v)[i:i + 1] for k, v in inputs.items() if k != tabular_name}
        rows.append(explain(tabular_model_fn(model, fixed, tabular_name), X[i:i + 1],
                            background, **options)[0])
    return np.stack(rows)


def image_kernel_shap(model_fn, images, targets=None, segments=None, fill="mean",
                      nsamples=1000, seed=0, batch_size=256):
    """KernelSHAP over superpixels: (maps (N, H, W), per-segment phi list) for the target class.

    Segments: ``lime_helpers.quickshift_segments`` unless ``segments`` (N, H, W) are given. An "off"
    superpixel is filled with the image's mean colour (``fill='mean'``) or the number ``fill``; one
    background coalition (all off), so phi sums to f(image) - f(all off)."""
    from mmfusion.xai.lime_helpers import quickshift_segments

    images = np.asarray(images, dtype=np.float32)
    fn = _batched(model_fn, batch_size)
    maps, seg_phis = [], []
    for i, image in enumerate(images):
        seg = np.asarray(segments[i]) if segments is not None else quickshift_segments(image, seed=seed)
        labels, seg = np.unique(seg, return_inverse=True)
        seg = seg.reshape(image.shape[:2])
        base = np.broadcast_to(image.mean(axis=(0, 1)) if fill == "mean" else fill, image.shape)
        target = (int(np.argmax(np.asarray(model_fn(image[None])).reshape(-1))) if targets is None
                  else int(targets[i]))

        def game(z, image=image, seg=seg, base=base, target=target):
            on = z[:, seg][..., None].astype(bool)
            res = fn(np.where(on, image[None], base[None]).astype(np.float32))
            return res[:, target] if res.shape[1] > 1 else res[:, 0]
        phi = kernel_shap(game, np.ones((1, len(labels))), np.zeros((1, len(labels))),
                          nsamples=nsamples, seed=seed)[0]
        seg_phis.append(phi)
        maps.append(phi[seg])
    return np.stack(maps).astype(np.float32), seg_phis
