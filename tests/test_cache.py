"""The one cache (mmfusion.data.cache): keys follow file *content* (a replaced image with the same
size and mtime is a new key, and the manifest's data fingerprint changes), entries are verified on
read and a corrupt one is rebuilt with a warning naming it."""
import os
import shutil
import warnings

import numpy as np
import pytest

from mmfusion.data import cache


def _replace_keeping_size_and_mtime(path, data: bytes):
    st = os.stat(path)
    assert len(data) == st.st_size
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns and os.stat(path).st_size == st.st_size


def test_content_key_follows_content_not_size_or_mtime(tmp_path):
    a = tmp_path / "a.pgm"
    a.write_bytes(b"P5 2 2 255\n" + bytes([1, 2, 3, 4]))
    key = cache.content_key([a], size=32)
    assert cache.content_key([a], size=32) == key and cache.content_key([a], size=64) != key
    _replace_keeping_size_and_mtime(a, b"P5 2 2 255\n" + bytes([9, 2, 3, 4]))
    assert cache.content_key([a], size=32) != key


def test_corrupt_entry_is_rebuilt_with_a_warning(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(5)}

    first = cache.cached_arrays("demo", "k1", build, tmp_path)
    again = cache.cached_arrays("demo", "k1", build, tmp_path)
    assert len(calls) == 1 and np.array_equal(first["x"], again["x"])
    entry = tmp_path / "demo" / "k1.npz"
    entry.write_bytes(entry.read_bytes()[:40])            # torn
    with pytest.warns(UserWarning, match=str(entry)):
        rebuilt = cache.cached_arrays("demo", "k1", build, tmp_path)
    assert len(calls) == 2 and np.array_equal(rebuilt["x"], np.arange(5))


def test_replaced_film_rebuilds_its_crop_and_changes_the_fingerprint(tmp_path, twin_cache):
    from mmfusion.data import load_dataset
    from mmfusion.data.synthetic import ensure_twin
    from mmfusion.papers.mias_xai.preprocess import cached_crops
    from mmfusion.training.records import data_fingerprint

    root = tmp_path / "mias"
    shutil.copytree(ensure_twin("mias", twin_cache, n=12), root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = load_dataset("mias", root, label_rule="first")
    crops = cached_crops(frame, 32, tmp_path / "cache")
    fingerprint = data_fingerprint(frame["image_path"])
    normal = frame[frame["label"] == 0]["image_path"].iloc[0]
    data = bytearray(open(normal, "rb").read())
    header = data.index(b"255\n") + 4                       # PGM header, then pixels
    data[header:] = bytes(255 - b for b in data[header:])  # same size, other pixels
    _replace_keeping_size_and_mtime(normal, bytes(data))
    again = cached_crops(frame, 32, tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "mias-xai-crops").glob("*.npz"))) == 2   # a new entry
    i = int(np.flatnonzero(crops.sample_ids == frame[frame["image_path"] == normal]["sample_id"].iloc[0])[0])
    assert not np.array_equal(again.images[i], crops.images[i])
    assert data_fingerprint(frame["image_path"]) != fingerprint
