"""Twin infrastructure (cache, determinism, size) and that my twins carry a learnable signal."""
import hashlib

import numpy as np
import pytest

from mmfusion.data import load_dataset
from mmfusion.data.decode import decode_images, frame_to_dataset
from mmfusion.data.synthetic import ensure_twin, twin_dir, write_twin

MINE = ("mias", "busi", "breast-mri")


def _digest(root):
    h = hashlib.md5()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", MINE)
def test_twin_deterministic_small_and_loadable(name, tmp_path):
    a = write_twin(name, tmp_path / "a", seed=3)
    b = write_twin(name, tmp_path / "b", seed=3)
    c = write_twin(name, tmp_path / "c", seed=4)
    assert _digest(a) == _digest(b) != _digest(c)
    size = sum(p.stat().st_size for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert size < 4_000_000   # all twins together must stay < 20 MB
    assert len(load_dataset(name, a)) > 0


def test_ensure_twin_caches_and_ignores_half_written(tmp_path):
    stale = twin_dir("breast-mri", tmp_path, seed=1)
    (stale / "junk").mkdir(parents=True)      # an interrupted earlier write: no completion marker
    root = ensure_twin("breast-mri", tmp_path, seed=1)
    assert not (stale / "junk").exists() and root.is_dir()
    stamp = (stale / ".twin-complete").stat().st_mtime_ns
    again = ensure_twin("breast-mri", tmp_path, seed=1)
    assert again == root and (stale / ".twin-complete").stat().st_mtime_ns == stamp
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    assert twin_dir("mias", None, seed=2, n=7).as_posix().endswith(".mmfusion_cache/twins/mias-seed2-n7")


def test_frame_to_dataset_matches_read_image(twin_cache):
    frame = load_dataset("busi", ensure_twin("busi", twin_cache)).iloc[:5]
    frame = frame.assign(extra=[np.arange(3, dtype=np.float32) * i for i in range(5)])
    ds = frame_to_dataset(frame, 32, channels=1, extra_inputs=("extra",), batch_size=4, num_classes=3)
    batches = list(ds)
    x, y = batches[0]
    ref = decode_images(frame["image_path"], 32, channels=1)
    np.testing.assert_array_equal(np.concatenate([b[0]["image"].numpy() for b in batches]),
                                  ref.astype(np.float32))
    np.testing.assert_array_equal(np.concatenate([b[0]["extra"].numpy() for b in batches]),
                                  np.stack(frame["extra"]))
    np.testing.assert_array_equal(y.numpy(), np.eye(3)[frame["label"].to_numpy()[:4]])
    plain = next(iter(frame_to_dataset(frame, (24, 16), label_col=None, batch_size=5)))
    assert plain.shape == (5, 24, 16, 3)


@pytest.mark.parametrize("name, n", [("mias", 96), ("busi", 80), ("breast-mri", 64)])
def test_twin_learnable_above_chance(name, n, tmp_path):
    """Logistic regression on 32 px pixels, trained on a grouped split, beats the majority class."""
    from sklearn.linear_model import LogisticRegression

    from mmfusion.data.splits import train_val_test_split

    frame = load_dataset(name, write_twin(name, tmp_path, n=n, seed=0))
    x = decode_images(frame["image_path"], 32, channels=1).reshape(len(frame), -1) / 255.0
    y = frame["label"].to_numpy()
    split = train_val_test_split(y, frame["group_id"], ratios=(0.6, 0.0001, 0.4), seed=0)
    train, test = np.concatenate([split["train"], split["val"]]), split["test"]
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(x[train], y[train])
    acc = (clf.predict(x[test]) == y[test]).mean()
    majority = np.bincount(y[test]).max() / len(test)
    print(name, acc, majority)
    assert acc > majority + 0.1, (acc, majority)
