"""Run directories: never overwritten, atomic writes, manifest and fingerprint, fit's records."""
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from mmfusion.training import RunDir, data_fingerprint, new_run_dir, predictions_frame
from mmfusion.training.records import ResumeMismatchError, RunLockedError, resume_summary
from mmfusion.utils.io import atomic_save, atomic_write_text


def test_new_run_dirs_never_collide_and_resume_reopens_unfinished(tmp_path, capsys):
    a, b = new_run_dir(tmp_path, "paper-x", tag="t"), new_run_dir(tmp_path, "paper-x", tag="t")
    assert a.path != b.path and a.path.parent == tmp_path / "paper-x" and b.path.name.endswith("-t")
    a.close(), b.close()
    with new_run_dir(tmp_path, "paper-x", tag="t", resume=True) as empty:   # newest is empty: not reused
        assert empty.path not in (a.path, b.path)
    shutil.rmtree(empty.path)
    b.write_config({"k": 1})                                          # started, never finished
    with new_run_dir(tmp_path, "paper-x", tag="t", resume=True) as again:
        assert again.path == b.path
    assert capsys.readouterr().err.strip() == f"resuming {b.path}: 0 fits done, no fit in progress"
    with new_run_dir(tmp_path, "paper-x", tag="other", resume=True) as other:
        assert other.path != b.path
    b.mark_done()
    with new_run_dir(tmp_path, "paper-x", tag="t", resume=True) as newer:
        assert newer.path not in (a.path, b.path)


IDENTITY = {"config": {"seed": 0, "epochs": 2, "protocols": ["a", "b"]}, "data_fingerprint": "f" * 64,
            "code_version": "0.1.0+src.1"}


def test_resume_refuses_another_identity_naming_every_difference(tmp_path):
    with new_run_dir(tmp_path, "p", identity=IDENTITY) as run:
        run.write_config(IDENTITY["config"])
    assert json.loads((run.path / "identity.json").read_text()) == IDENTITY
    changed = {**IDENTITY, "config": {**IDENTITY["config"], "seed": 7, "epochs": 3}}
    with pytest.raises(ResumeMismatchError) as err:
        new_run_dir(tmp_path, "p", resume=True, identity=changed)
    assert isinstance(err.value, ValueError)
    assert "config.epochs: 2 -> 3; config.seed: 0 -> 7" in str(err.value)
    assert str(run.path) in str(err.value) and "--fresh" in str(err.value)
    data = {**IDENTITY, "data_fingerprint": "e" * 64}
    with pytest.raises(ResumeMismatchError, match="data_fingerprint: f{57}... -> e{57}..."):
        new_run_dir(tmp_path, "p", resume=True, identity=data)
    with pytest.raises(ResumeMismatchError, match=r"code_version: 0.1.0\+src.1 -> 0.1.0\+src.2"):
        new_run_dir(tmp_path, "p", resume=True, identity={**IDENTITY, "code_version": "0.1.0+src.2"})
    # a refused resume released the lock; tuples compare as the JSON lists they were stored as
    same = {**IDENTITY, "config": {**IDENTITY["config"], "protocols": ("a", "b")}}
    with new_run_dir(tmp_path, "p", resume=True, identity=same) as again:
        assert again.path == run.path


def test_a_run_without_identity_file_is_not_resumed_blindly(tmp_path):
    with new_run_dir(tmp_path, "p") as run:
        run.write_config({})
    with pytest.raises(ResumeMismatchError, match="no identity.json"):
        new_run_dir(tmp_path, "p", resume=True, identity=IDENTITY)


def test_lock_names_its_holder_and_is_released_on_close(tmp_path):
    run = new_run_dir(tmp_path, "p")
    run.write_config({})
    holder = (run.path / ".lock").read_text()
    assert holder.startswith(f"pid {os.getpid()} (")
    with pytest.raises(RunLockedError, match=f"in use by pid {os.getpid()} "):
        new_run_dir(tmp_path, "p", resume=True)
    run.close()
    with new_run_dir(tmp_path, "p", resume=True) as again:
        assert again.path == run.path


def test_resume_summary_counts_finished_fits_and_names_the_one_in_progress(tmp_path):
    from mmfusion.training import checkpoint

    for name in ("fold0", "fold1"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "fit.json").write_text("{}")
    for epoch in (2, 3):
        checkpoint.write(tmp_path / "fold2" / "train_state" / "phase1", epoch, {"w": np.zeros(2)}, {})
    checkpoint.write(tmp_path / "fold2" / "train_state" / "phase0", 0, {"w": np.zeros(2)}, {})
    assert resume_summary(tmp_path) == "2 fits done, continuing fold2 from epoch 4"


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "x.txt"
    atomic_write_text(target, "old")

    def broken(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        atomic_save(target, broken)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["x.txt"]


def test_fingerprint_tracks_file_contents_and_labels(tmp_path):
    import hashlib

    files = []
    for i in range(3):
        f = tmp_path / "img" / f"{i}.png"
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(b"x" * (i + 1))
        files.append(f)
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\n0,a\n")
    base = data_fingerprint(files, [labels])
    # the definition by hand: name below the common root (img/) + sha256 of the bytes, then labels
    lines = "".join(f"{i}.png\t{hashlib.sha256(b'x' * (i + 1)).hexdigest()}\n" for i in range(3))
    label_line = f"labels\t{hashlib.sha256(labels.read_bytes()).hexdigest()}\n"
    assert base == hashlib.sha256((lines + label_line).encode()).hexdigest()
    assert data_fingerprint(list(reversed(files)), [labels]) == base       # order-free
    # same size, same mtime, other bytes (what cp -p / rsync -a / unzip leave behind)
    stat = files[0].stat()
    files[0].write_bytes(b"y")
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert files[0].stat().st_size == stat.st_size and files[0].stat().st_mtime_ns == stat.st_mtime_ns
    assert data_fingerprint(files, [labels]) != base
    files[0].write_bytes(b"x")
    assert data_fingerprint(files, [labels]) == base
    labels.write_text("id,label\n0,b\n")
    assert data_fingerprint(files, [labels]) != base


def test_run_dir_files_and_prediction_schema(tmp_path):
    run = RunDir(tmp_path / "r")
    run.write_config({"epochs": 2})
    run.write_manifest(seed=7, data_files=[__file__])
    manifest = json.loads((run.path / "manifest.json").read_text())
    for key in ("python", "tensorflow", "keras", "numpy", "git_commit", "seed", "device", "data_fingerprint"):
        assert key in manifest
    assert manifest["seed"] == 7
    frame = predictions_frame(["a", "b"], [0, 1], np.array([[0.9, 0.1], [0.2, 0.8]]), fold=1)
    run.write_predictions(frame)
    back = pd.read_csv(run.path / "predictions.csv")
    assert list(back.columns) == ["sample_id", "split", "fold", "run", "y_true", "p_0", "p_1"]
    np.testing.assert_allclose(back[["p_0", "p_1"]].to_numpy(), [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="p_0"):
        run.write_predictions(frame.drop(columns=["p_0", "p_1"]))
    run.write_metrics({"accuracy": 0.5})
    assert json.loads((run.path / "metrics.json").read_text()) == {"accuracy": 0.5}
    assert run.figures_dir.is_dir()


def test_fit_with_run_writes_history_and_a_loadable_model(tmp_path):
    import keras

    from mmfusion.models import build_classifier
    from mmfusion.training import TrainConfig, fit

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (12, 16, 16, 3)).astype("float32")
    y = np.arange(12) % 2
    run = RunDir(tmp_path / "fit")
    result = fit(lambda: build_classifier("vit", (16, 16, 3), 2, patch_size=8, dim=8, depth=1, heads=2),
                 (x, y), (x[:4], y[:4]), TrainConfig(epochs=2, batch_size=4, verbose=0), run=run)
    history = pd.read_csv(run.path / "history.csv")
    np.testing.assert_allclose(history["val_loss"], result.history["val_loss"], rtol=1e-6)
    loaded = keras.saving.load_model(run.path / "model.keras")
    np.testing.assert_allclose(np.asarray(loaded(x[:3])), np.asarray(result.model(x[:3])), atol=1e-6)
    assert not run.state_dir.exists()
    # The optimizer stays out of the file (by default) but stays on the trained model.
    assert result.model.optimizer is not None and result.model.compiled
    with_optimizer = run.save_model(result.model, "with_optimizer.keras", include_optimizer=True)
    assert with_optimizer.stat().st_size > (run.path / "model.keras").stat().st_size


def test_a_finished_fit_is_reloaded_not_retrained(tmp_path):
    """A resumed `reproduce` re-enters fits it already finished: they must come back unchanged."""
    from mmfusion.models import build_classifier
    from mmfusion.training import TrainConfig, fit

    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (12, 16, 16, 3)).astype("float32")
    y = np.arange(12) % 2

    def build():
        return build_classifier("vit", (16, 16, 3), 2, patch_size=8, dim=8, depth=1, heads=2)
    run = RunDir(tmp_path / "fit")
    config = TrainConfig(epochs=2, batch_size=4, verbose=0, restore_best=True)
    first = fit(build, (x, y), (x[:4], y[:4]), config, run=run)
    assert (run.path / "fit.json").exists()
    # Garbage data would change the weights if it were trained on: it is not used (the run's
    # identity covers the data; fit.json the settings, which a resume repeats)
    again = fit(build, (x * 0, 1 - y), None, config, run=run)
    for u, v in zip(first.model.weights, again.model.weights):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    assert again.history["val_loss"] == pytest.approx(first.history["val_loss"])
    assert again.best_epoch == first.best_epoch


def test_a_wheel_installed_run_names_its_build(tmp_path, monkeypatch):
    """setup.py stamps mmfusion/_build.py into a wheel; the manifest then names that build."""
    import json
    import sys
    import types

    from mmfusion.training.records import RunDir

    stamp = types.ModuleType("mmfusion._build")
    stamp.VERSION, stamp.COMMIT = "0.2.0", "0123456789ab"
    monkeypatch.setitem(sys.modules, "mmfusion._build", stamp)
    run = RunDir(tmp_path / "r")
    run.write_manifest(0)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert (manifest["mmfusion"], manifest["git_commit"], manifest["build_source"]) == ("0.2.0",
                                                                                        "0123456789ab",
                                                                                        "wheel")
    assert manifest["code_version"].startswith("0.1.0") or "+src." in manifest["code_version"]
