"""Kill-and-resume equality and MirroredStrategy on 2 logical CPUs (each in its own process)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

RESUME_SCRIPT = textwrap.dedent("""
    import json, os, signal, sys
    import tensorflow as tf
    if os.environ.get("MIRRORED"):   # T4 x2 on a CPU: two logical devices, one replica each
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np, keras
    from mmfusion.training import TrainConfig, RunDir, fit, get_strategy

    class KillMidEpoch(keras.callbacks.Callback):   # SIGKILL in the middle of epoch 2
        def on_train_batch_end(self, batch, logs=None):
            if os.environ.get("KILL") and self.params and self._epoch == 2 and batch == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

    def build():
        inp = keras.Input((6,)); h = keras.layers.Dense(8, activation="relu", name="body")(inp)
        return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="head")(h))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32"); y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 1)
    cfg = TrainConfig(epochs=5, batch_size=8, freeze_backbone_epochs=1, schedule="plateau",
                      schedule_patience=1, restore_best=True, verbose=0, seed=3)
    run = RunDir(sys.argv[1])
    strategy = get_strategy(["/cpu:0", "/cpu:1"]) if os.environ.get("MIRRORED") else None
    result = fit(build, (x, y), (x[:16], y[:16]), cfg, run=run, backbone_layer_names=["body"],
                 callbacks=[KillMidEpoch()], strategy=strategy)
    out = {"history": result.history, "weights": [w.numpy().tolist() for w in result.model.weights],
           "replicas": (strategy or tf.distribute.get_strategy()).num_replicas_in_sync,
           "deterministic": cfg.deterministic}
    print("RESULT" + json.dumps(out))
""")


def _run(script, *args, env=None, check=True):
    proc = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr[-3000:])
    return proc


def _result(proc):
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def test_killed_run_resumes_and_matches_uninterrupted(tmp_path):
    # the uninterrupted reference runs alongside the killed run (2 cores)
    straight_proc = subprocess.Popen([sys.executable, "-c", RESUME_SCRIPT, str(tmp_path / "b")],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = _run(RESUME_SCRIPT, tmp_path / "a", env={"KILL": "1"}, check=False)
    assert killed.returncode == -9, killed.stderr[-2000:]
    history = (tmp_path / "a" / "history.csv").read_text().splitlines()
    assert len(history) == 3                       # header + epochs 0 and 1 completed
    assert (tmp_path / "a" / "train_state" / "phase0.done.npz").exists()
    resumed = _result(_run(RESUME_SCRIPT, tmp_path / "a"))
    stdout, stderr = straight_proc.communicate(timeout=300)
    assert straight_proc.returncode == 0, stderr[-3000:]
    straight = _result(subprocess.CompletedProcess([], 0, stdout, stderr))
    assert resumed["history"]["epoch"] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(resumed["history"]["val_loss"], straight["history"]["val_loss"], rtol=1e-6)
    np.testing.assert_allclose(resumed["history"]["learning_rate"], straight["history"]["learning_rate"])
    for a, b in zip(resumed["weights"], straight["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not (tmp_path / "a" / "train_state").exists() and (tmp_path / "a" / "model.keras").exists()


MIRRORED_SCRIPT = textwrap.dedent("""
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np, keras
    from mmfusion.training import TrainConfig, fit, get_strategy

    def build():
        inp = keras.Input((6,)); h = keras.layers.Dense(8, activation="relu")(inp)
        return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(h))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32"); y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 1)
    cfg = TrainConfig(epochs=2, batch_size=16, optimizer="sgd", learning_rate=0.1, verbose=0, seed=0)
    mirrored = get_strategy(["/cpu:0", "/cpu:1"])
    a = fit(build, (x, y), None, cfg, strategy=mirrored)
    b = fit(build, (x, y), None, cfg)
    print("RESULT" + json.dumps({"replicas": mirrored.num_replicas_in_sync,
        "kind": type(mirrored).__name__, "default": type(get_strategy()).__name__,
        "loss": [a.history["loss"], b.history["loss"]],
        "weights": [[w.numpy().tolist() for w in m.model.weights] for m in (a, b)]}))
""")


def _mirrored_is_sound():
    from mmfusion.training.distribute import mirrored_is_sound

    return mirrored_is_sound()


@pytest.mark.skipif(not _mirrored_is_sound(), reason="Keras < 3.9 mis-scales the loss under MirroredStrategy "
                    "(keras-team/keras#20609); get_strategy then stays on one device")
def test_mirrored_strategy_on_two_logical_cpus_matches_single_device():
    out = _result(_run(MIRRORED_SCRIPT))
    assert out["kind"] == "MirroredStrategy" and out["replicas"] == 2
    assert out["default"] != "MirroredStrategy"     # one device: the default strategy
    np.testing.assert_allclose(out["loss"][0], out["loss"][1], rtol=1e-5)
    for a, b in zip(*out["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(not _mirrored_is_sound(), reason="Keras < 3.9 mis-scales the loss under MirroredStrategy")
def test_mirrored_run_killed_and_resumed_matches_one_device(tmp_path):
    """The T4 x2 path: a 2-replica fit, killed mid-epoch and resumed on 2 replicas, ends at the
    metrics and weights of an uninterrupted one-device fit, with deterministic ops on."""
    straight_proc = subprocess.Popen([sys.executable, "-c", RESUME_SCRIPT, str(tmp_path / "one")],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = _run(RESUME_SCRIPT, tmp_path / "two", env={"KILL": "1", "MIRRORED": "1"}, check=False)
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = _result(_run(RESUME_SCRIPT, tmp_path / "two", env={"MIRRORED": "1"}))
    stdout, stderr = straight_proc.communicate(timeout=300)
    assert straight_proc.returncode == 0, stderr[-3000:]
    one = _result(subprocess.CompletedProcess([], 0, stdout, stderr))
    assert (resumed["replicas"], one["replicas"], resumed["deterministic"]) == (2, 1, True)
    assert resumed["history"]["epoch"] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(resumed["history"]["val_loss"], one["history"]["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(resumed["history"]["val_accuracy"], one["history"]["val_accuracy"])
    for a, b in zip(resumed["weights"], one["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
