"""Fault suite for resuming (issue 16 section 2): kills, torn checkpoints, concurrent runs, changed
options, a full disk. Every child is a real process; the reference is an uninterrupted run of the
same script, and resumed runs must match it bit for bit (with dropout too: its seed state is saved)."""
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest
from killtest import At, assert_killed, result, run_python, start_python

# Two fits in one run directory, each two-phase (backbone frozen in epoch 0) with a plateau
# schedule and best-weight restore, so optimizer, learning-rate and best-epoch state all matter.
# It runs under the CLI's own error handling (a stand-in parser), so messages and exit codes are
# the ones a user sees.
TINY = textwrap.dedent("""
    import argparse, json, os
    import numpy as np, keras
    import mmfusion.cli as cli
    from mmfusion.training import TrainConfig, fit
    from mmfusion.training.records import new_run_dir

    if os.environ.get("FAULT_ENOSPC_AT"):      # the Nth np.savez hits a full disk
        import errno
        calls, savez = [0], np.savez
        def full(*a, **k):
            calls[0] += 1
            if calls[0] == int(os.environ["FAULT_ENOSPC_AT"]):
                raise OSError(errno.ENOSPC, "No space left on device")
            return savez(*a, **k)
        np.savez = full

    def build():
        inp = keras.Input((8, 8, 1)); h = keras.layers.Flatten()(inp)
        h = keras.layers.Dense(16, activation="relu", name="body")(h)
        if os.environ.get("DROPOUT"):
            h = keras.layers.Dropout(0.3)(h)
        return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="head")(h))

    def main(args):
        seed = int(os.environ.get("SEED", "0"))
        rng = np.random.default_rng(0)
        x = rng.normal(size=(48, 8, 8, 1)).astype("float32")
        y = (x[:, 0, 0, 0] > 0).astype(int) + (x[:, 1, 1, 0] > 1)
        cfg = TrainConfig(epochs=4, batch_size=8, freeze_backbone_epochs=int(os.environ.get("FREEZE", "1")),
                          schedule="plateau",
                          schedule_patience=1, restore_best=True, verbose=0, seed=seed)
        identity = {"config": cfg.to_dict(), "data_fingerprint": "tiny", "code_version": "test"}
        out = {}
        with new_run_dir(sys.argv[1], "tiny", resume=True, identity=identity) as run:
            for i in range(2):
                r = fit(build, (x, y), (x[:16], y[:16]), cfg.replace(seed=seed + i),
                        run=run.child(f"fit{i}"), backbone_layer_names=["body"])
                out[f"fit{i}"] = {"history": r.history, "best_epoch": r.best_epoch,
                                  "weights": [np.asarray(w).tolist() for w in r.model.weights]}
            run.mark_done()
        print("RESULT" + json.dumps(out))
        return 0

    parser = argparse.ArgumentParser(); parser.set_defaults(func=main)
    cli.build_parser = lambda: parser
    sys.exit(cli.main([]))
""")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, started at once so it overlaps the first killed run (2 cores)."""
    child = start_python(TINY, tmp_path_factory.mktemp("reference"))
    cached = []

    def get():
        if not cached:
            cached.append(result(child.wait_done()))
        return cached[0]
    yield get
    if child.poll() is None:
        child.kill()


# Keras < 3.15 (the oldest stack, 3.8) logs a resumed run's losses ~1e-14 apart (float64 sums in
# another order); the weights stay bit-exact there too
LOGS_BIT_EXACT = tuple(int(p) for p in __import__("keras").__version__.split(".")[:2]) >= (3, 15)


def run_dir(out: Path) -> Path:
    (path,) = (out / "tiny").iterdir()
    return path


def assert_same_as(resumed, reference):
    for fit in ("fit0", "fit1"):
        a, b = resumed[fit], reference[fit]
        assert a["history"]["epoch"] == [0, 1, 2, 3]
        for key in ("val_loss", "loss", "learning_rate", "val_accuracy"):
            if LOGS_BIT_EXACT:
                np.testing.assert_array_equal(a["history"][key], b["history"][key], err_msg=f"{fit} {key}")
            else:   # the weights below stay bit-exact; older Keras sums logged losses in another order
                np.testing.assert_allclose(a["history"][key], b["history"][key], rtol=1e-12,
                                           err_msg=f"{fit} {key}")
        assert a["best_epoch"] == b["best_epoch"]
        for u, v in zip(a["weights"], b["weights"]):
            np.testing.assert_array_equal(u, v)


def kill_and_resume(out, at: At, reference, between=None):
    assert_killed(run_python(TINY, out, kill=at))
    if between is not None:
        between(run_dir(out))
    resumed = run_python(TINY, out)
    assert_same_as(result(resumed), reference())
    assert (run_dir(out) / "DONE").exists() and not list(run_dir(out).rglob("train_state"))
    return resumed


def test_sigkill_at_an_epoch_boundary_then_rerun_matches_uninterrupted(tmp_path, reference):
    # fit1 dies right after epoch 1 (its first fine-tuning epoch) is checkpointed
    resumed = kill_and_resume(tmp_path, At(fit=1, epoch=1), reference)
    assert f"resuming {run_dir(tmp_path)}: 1 fit done, continuing fit1 from epoch 2" in resumed.stderr


@pytest.mark.slow
def test_sigkill_mid_epoch_then_rerun_matches_uninterrupted(tmp_path, reference):
    resumed = kill_and_resume(tmp_path, At(fit=0, epoch=2, moment="batch", batch=3), reference)
    assert "0 fits done, continuing fit0 from epoch 2" in resumed.stderr


@pytest.mark.slow
def test_sigkill_mid_epoch_of_a_reused_trainer_then_rerun_matches(tmp_path):
    """One phase: fit1 trains on fit0's traced model (training/reuse.py) in the uninterrupted run,
    on a newly built one after the restart."""
    one_phase = {"FREEZE": "0"}
    reference = start_python(TINY, tmp_path / "reference", env=one_phase)
    assert_killed(run_python(TINY, tmp_path / "killed", kill=At(fit=1, epoch=1, moment="batch"),
                             env=one_phase))
    resumed = result(run_python(TINY, tmp_path / "killed", env=one_phase))
    assert_same_as(resumed, result(reference.wait_done()))


@pytest.mark.slow
def test_a_model_with_dropout_resumes_bit_exact_too(tmp_path):
    """The checkpoint holds model.variables, dropout's seed-generator state included."""
    dropout = {"DROPOUT": "1"}
    reference = start_python(TINY, tmp_path / "reference", env=dropout)
    assert_killed(run_python(TINY, tmp_path / "killed", kill=At(fit=0, epoch=2, moment="batch"),
                             env=dropout))
    resumed = result(run_python(TINY, tmp_path / "killed", env=dropout))
    straight = result(reference.wait_done())
    assert_same_as(resumed, straight)
    plain = result(run_python(TINY, tmp_path / "plain"))        # dropout really changed the run
    assert plain["fit0"]["history"]["loss"] != straight["fit0"]["history"]["loss"]


@pytest.mark.slow
def test_sigkill_while_writing_a_checkpoint_leaves_the_previous_one(tmp_path, reference):
    resumed = kill_and_resume(tmp_path, At(fit=0, epoch=2, moment="checkpoint"), reference)
    assert "continuing fit0 from epoch 2" in resumed.stderr       # epoch 1's checkpoint was used
    assert "warning" not in resumed.stderr                         # a torn temp file is no checkpoint


def test_truncated_checkpoint_falls_back_to_the_previous_one_with_a_warning(tmp_path, reference):
    torn = []

    def truncate_newest(run):
        files = sorted((run / "fit0" / "train_state" / "phase1").glob("epoch-*.npz"))
        assert [f.name[:10] for f in files] == ["epoch-0001", "epoch-0002"]   # newest + previous kept
        with open(files[-1], "r+b") as f:
            f.truncate(files[-1].stat().st_size // 3)
        torn.append(files[-1])
    resumed = kill_and_resume(tmp_path, At(fit=0, epoch=2), reference, between=truncate_newest)
    assert f"warning: checkpoint {torn[0]} is " in resumed.stderr
    assert "falling back to the previous one" in resumed.stderr
    assert "continuing fit0 from epoch 3" in resumed.stderr        # by name; the load then verified


HOLD = textwrap.dedent("""
    from mmfusion.training.records import new_run_dir
    run = new_run_dir(sys.argv[1], "tiny", resume=True)
    run.write_config({})
    print("HOLDING", flush=True)
    sys.stdin.read()
""")


def test_a_second_run_into_a_live_run_directory_is_refused_naming_the_holder(tmp_path):
    holder = start_python(HOLD, tmp_path, "--marker-arg")
    try:
        assert holder.stdout.readline().strip() == "HOLDING", holder.stderr.read()
        second = run_python("from mmfusion.cli import main\nfrom mmfusion.training.records import "
                            "new_run_dir\n"
                            "import mmfusion.cli as cli, argparse\n"
                            "p = argparse.ArgumentParser(); p.set_defaults(func=lambda a: "
                            "new_run_dir(sys.argv[1], 'tiny', resume=True) and 0)\n"
                            "cli.build_parser = lambda: p\nsys.exit(main([]))\n", tmp_path)
        assert second.returncode == 2, second.stderr
        (line,) = [ln for ln in second.stderr.splitlines() if ln.startswith("error:")]
        assert f"{run_dir(tmp_path)} is in use by pid {holder.pid} (" in line
        assert "--marker-arg" in line and "--fresh" in line
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    # the holder has exited: the lock went with it
    again = run_python("from mmfusion.training.records import new_run_dir\n"
                       "print(new_run_dir(sys.argv[1], 'tiny', resume=True).path)\n", tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == str(run_dir(tmp_path)), again.stderr


def test_changed_options_are_refused_naming_the_difference(tmp_path):
    assert_killed(run_python(TINY, tmp_path, kill=At(fit=0, epoch=0)))
    refused = run_python(TINY, tmp_path, env={"SEED": "7"})
    assert refused.returncode == 2, refused.stderr
    (line,) = [ln for ln in refused.stderr.splitlines() if ln.startswith("error:")]
    assert f"cannot resume {run_dir(tmp_path)}" in line and "config.seed: 0 -> 7" in line
    assert "--fresh" in line
    assert sorted(p.name for p in (run_dir(tmp_path) / "fit0").iterdir()) == ["history.csv", "train_state"]


def _one_disk_full_message(proc, under: Path) -> str:
    assert proc.returncode == 1, proc.stderr[-3000:]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-3000:]
    for noise in ("Traceback", "h5py", "HDF5", "Segmentation"):
        assert noise not in proc.stderr, proc.stderr[-3000:]
    line = errors[0]
    assert "no space left on the device writing " + str(under) in line and " free on " in line
    return line


def test_full_disk_gives_one_message_then_a_run_with_space_finishes(tmp_path, reference):
    # the 5th np.savez falls in fit0's second epoch (best weights, checkpoints, finished phase)
    full = run_python(TINY, tmp_path, env={"FAULT_ENOSPC_AT": "5"})
    line = _one_disk_full_message(full, run_dir(tmp_path) / "fit0" / "train_state")
    assert "run the same command again" in line
    assert not [p for p in run_dir(tmp_path).rglob(".*") if p.name != ".lock"]   # no temp files left
    assert_same_as(result(run_python(TINY, tmp_path)), reference())


def _tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    try:
        return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.slow
def test_full_tmpfs_gives_one_message_then_a_run_with_space_finishes(tmp_path, reference):
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "512k"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        filler = disk / "filler"
        filler.write_bytes(b"\0" * (512 * 1024 - 64 * 1024))   # leaves ~64 KiB: fit0 fits, fit1 not
        full = run_python(TINY, disk / "out")
        _one_disk_full_message(full, disk / "out")
        filler.unlink()
        assert_same_as(result(run_python(TINY, disk / "out")), reference())
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)
