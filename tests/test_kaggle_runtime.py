"""The notebook's install cell and runtime: installs, mounts, weights, previous runs, the data's
name in the report. MMFUSION_KAGGLE_INPUT and HOME point at tmp folders (the kaggle_env fixture):
nothing touches /kaggle or ~/.keras."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mmfusion.kaggle import runtime, template
from mmfusion.kaggle.kernels import KERNELS

ROOT = Path(__file__).resolve().parents[1]
RESNET = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16 = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19 = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"


def _install_cell(repo=None, offline=False) -> str:
    cells = template.cells(KERNELS["mias-xai"], offline, user="alice", repo=repo)
    return next(src for kind, src, _ in cells if kind == "code" and "find_spec(\"mmfusion\")" in src)


@pytest.fixture
def no_mmfusion(monkeypatch):
    """The install cell as a fresh Kaggle image runs it: mmfusion not importable, pip recorded."""
    import importlib.util

    real, calls = importlib.util.find_spec, []
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mmfusion" else real(name, *a))
    monkeypatch.setattr(subprocess, "check_call", lambda argv: calls.append(argv) or 0)
    return calls


def _run_cell(source, offline=False, repo=None):
    exec(compile(source, "install-cell", "exec"), {"OFFLINE": offline, "MMFUSION_REPO": repo,
                                                   "MMFUSION_WHEEL_DATASET": "alice/mmfusion-wheel"})


def test_install_cell_prefers_an_attached_wheel_found_through_a_symlink(kaggle_env, no_mmfusion, tmp_path):
    elsewhere = tmp_path / "store" / "alice" / "mmfusion-wheel" / "1"
    elsewhere.mkdir(parents=True)
    (elsewhere / "mmfusion-0.1.0-py3-none-any.whl").write_bytes(b"")
    (kaggle_env[0] / "datasets").mkdir()
    (kaggle_env[0] / "datasets" / "alice").symlink_to(tmp_path / "store" / "alice")
    (kaggle_env[0] / "loop").symlink_to(kaggle_env[0])                      # a cycle: walked once
    _run_cell(_install_cell(repo="bob/mmfusion"), repo="bob/mmfusion")
    wheel = kaggle_env[0] / "datasets" / "alice" / "mmfusion-wheel" / "1" / "mmfusion-0.1.0-py3-none-any.whl"
    assert no_mmfusion == [[sys.executable, "-m", "pip", "install", "-q", "--no-deps", str(wheel)]]


def test_install_cell_uses_a_repository_only_when_one_was_given(kaggle_env, no_mmfusion):
    _run_cell(_install_cell(repo="bob/mmfusion"), repo="bob/mmfusion")
    assert no_mmfusion[-1][-1] == "git+https://github.com/bob/mmfusion.git"
    for repo, offline in ((None, False), ("bob/mmfusion", True)):
        with pytest.raises(SystemExit, match="no mmfusion-\\*.whl is attached under .*input.*`mmfusion "
                                             "kaggle push --user YOUR_KAGGLE_NAME`.*alice/mmfusion-wheel"):
            _run_cell(_install_cell(repo, offline), offline, repo)
    assert len(no_mmfusion) == 1                                            # nothing else installed


def test_posthocs_only_where_a_friedman_test_runs():
    """scikit-posthocs is listed exactly for the papers whose code calls friedman_nemenyi."""
    uses = {k.name for k in KERNELS.values()
            if any("friedman_nemenyi" in p.read_text()
                   for p in (ROOT / "mmfusion" / "papers" / k.paper.replace("-", "_")).rglob("*.py"))}
    lists = {k.name for k in KERNELS.values() if "scikit_posthocs" in k.extras}
    assert lists == uses == {"hmcnet"}


def test_hmcnet_needs_its_baselines_weights_too():
    assert KERNELS["hmcnet"].weights_files == (RESNET, VGG16, VGG19)
    assert KERNELS["mias-xai"].weights_files == ()


def test_stage_weights_offline_stops_before_training(kaggle_env):
    inp, home = kaggle_env
    (inp / "w").mkdir()
    (inp / "w" / RESNET).write_bytes(b"h5")
    files = KERNELS["hmcnet"].weights_files
    with pytest.raises(SystemExit, match=f"2 ImageNet weights file.*{VGG16}, {VGG19}"):
        runtime.stage_weights(files, offline=True)
    assert (home / ".keras" / "models" / RESNET).read_bytes() == b"h5"      # staged all the same
    assert runtime.stage_weights(files, offline=False) == "imagenet"         # internet fetches them
    assert runtime.stage_weights(files, offline=True, quick=True) is None    # no backbone loads them
    for name in (VGG16, VGG19):
        (inp / "w" / name).write_bytes(b"h5")
    assert runtime.stage_weights(files, offline=True) == "imagenet"


def test_install_missing_offline_resolves_from_the_attached_wheels(kaggle_env, monkeypatch):
    calls = []
    monkeypatch.setattr(runtime.subprocess, "call", lambda argv: calls.append(argv) or 0)
    assert runtime.install_missing({"json": "json"}, offline=True) == []     # importable: nothing
    with pytest.raises(SystemExit, match="no-such-dist>=1 is missing.*no no_such_dist-\\*.whl"):
        runtime.install_missing({"no_such_mod_xyz": "no-such-dist>=1"}, offline=True)
    wheel = kaggle_env[0] / "wheels" / "No_Such_Dist-1.0-py3-none-any.whl"   # case as uploaded
    dep = kaggle_env[0] / "more" / "sub" / "its_dependency-2.0-py3-none-any.whl"
    for w in (wheel, dep):
        w.parent.mkdir(parents=True)
        w.write_bytes(b"")
    assert runtime.install_missing({"no_such_mod_xyz": "no-such-dist>=1"},
                                   offline=True) == ["no-such-dist>=1"]
    argv = calls[0]
    assert argv[:6] == [sys.executable, "-m", "pip", "install", "-q", "--no-index"]
    assert argv[6:10] == ["--find-links", str(dep.parent), "--find-links", str(wheel.parent)]
    assert argv[10] == "-c" and argv[12:] == ["no-such-dist>=1"]               # the image's stack held
    assert "--no-deps" not in argv                                            # its dependencies come too


def test_install_missing_online_holds_the_image_stack(monkeypatch):
    import importlib.metadata

    import numpy

    calls, files = [], []     # the constraints file lives as long as pip runs: read it then

    def call(argv):
        calls.append(argv)
        files.append(Path(argv[argv.index("-c") + 1]).read_text())
        return 0

    monkeypatch.setattr(runtime.subprocess, "call", call)
    runtime.install_missing({"no_such_mod_xyz": "scikit-posthocs"}, offline=False)
    argv = calls[0]
    assert argv[:5] == [sys.executable, "-m", "pip", "install", "-q"] and argv[-1] == "scikit-posthocs"
    assert not Path(argv[argv.index("-c") + 1]).exists()                      # nothing left behind
    held = files[0].split()
    assert f"numpy=={numpy.__version__}" in held
    assert f"keras=={importlib.metadata.version('keras')}" in held


def test_find_dataset_searches_nested_mounts(kaggle_env):
    inp, _ = kaggle_env
    decoy = inp / "other" / "Info.txt"             # an Info.txt without MIAS images beside it
    decoy.parent.mkdir(parents=True)
    decoy.write_text("x")
    mias = inp / "datasets" / "kmader" / "mias-mammography"
    (mias / "all-mias").mkdir(parents=True)
    (mias / "Info.txt").write_text("x")
    assert runtime.find_dataset("Info.txt", "kmader/mias-mammography",
                                beside=("all-mias", "mdb*.pgm")) == mias
    with pytest.raises(SystemExit, match="add the dataset owner/busi"):
        runtime.find_dataset("Dataset_BUSI_with_GT", "owner/busi")


def test_find_dataset_follows_a_symlinked_mount_and_survives_a_cycle(kaggle_env, tmp_path):
    real = tmp_path / "elsewhere" / "busi-v3" / "data"
    (real / "Dataset_BUSI_with_GT").mkdir(parents=True)
    (kaggle_env[0] / "aryashah2k").mkdir()
    (kaggle_env[0] / "aryashah2k" / "busi").symlink_to(real.parent)
    (real / "up").symlink_to(tmp_path / "elsewhere")                         # a link back up
    assert runtime.find_dataset("Dataset_BUSI_with_GT", "aryashah2k/busi") == (
        kaggle_env[0] / "aryashah2k" / "busi" / "data")
    assert list(Path(kaggle_env[0]).glob("**/Dataset_BUSI_with_GT")) == []   # what pathlib alone misses


def test_walk_dirs_visits_each_real_folder_once(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "alias").symlink_to(tmp_path / "a" / "b")
    seen = [p.relative_to(tmp_path).as_posix() for p in runtime.walk_dirs(tmp_path)]
    assert seen == [".", "a", "alias"]            # a/b is alias (found first, breadth first); loops end


@pytest.mark.parametrize("kernel, dataset", [
    ("mias-xai", "mias"), ("hmcnet", "mias"), ("effnetv2-smote-busi", "busi"),
    ("effnetv2-smote-mri", "breast-mri"), ("ft-multicnn", "ham10000"), ("multimodal-fusion", "cbis-ddsm")])
def test_prepare_on_kaggle_finds_the_mounted_twin(kaggle_env, monkeypatch, kernel, dataset):
    from mmfusion.data.synthetic import write_twin

    root = write_twin(dataset, kaggle_env[0] / "mounted", n=12)
    monkeypatch.setenv("MMFUSION_PLATFORM", "kaggle")
    monkeypatch.setattr(runtime, "install_missing", lambda extras, offline: [])
    setup = runtime.prepare(kernel, quick=False, offline=False)
    assert (setup.platform, setup.out, setup.weights) == (
        "kaggle", Path("/kaggle/working/runs"), "imagenet" if KERNELS[kernel].archs else None)
    assert setup.data_label == f"Kaggle {KERNELS[kernel].dataset}, version not pinned (the one attached)"
    assert not str(setup.cache).startswith("/kaggle/working")
    if dataset == "cbis-ddsm":    # the twin holds both layouts; the kernel reads the Kaggle JPEG one
        assert (setup.data_dir / "csv" / "dicom_info.csv").is_file() and (setup.data_dir / "jpeg").is_dir()
    else:
        assert setup.data_dir == root


def test_prepare_local_runs_on_the_twin(monkeypatch, tmp_path):
    monkeypatch.setenv("MMFUSION_PLATFORM", "local")
    monkeypatch.setenv("MMFUSION_OUT", str(tmp_path / "runs"))
    monkeypatch.delenv("MMFUSION_DATA_DIR", raising=False)
    setup = runtime.prepare("hmcnet", quick=True, weights="none")
    assert (setup.data_dir, setup.out, setup.weights) == (None, tmp_path / "runs", None)
    assert setup.data_label is None


def test_a_notebook_run_from_the_checkout_writes_at_its_root(monkeypatch):
    """Jupyter starts a notebook in its own folder: runs and caches go to the checkout's root
    (ignored there), never beside the committed notebooks."""
    for var in ("MMFUSION_OUT", "MMFUSION_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT / "kaggle_kernels" / "mias-xai")
    out, cache = runtime.out_dir("local"), runtime.cache_dir("local")
    assert (out, cache) == (ROOT / "runs", ROOT / ".mmfusion_cache")
    ignored = subprocess.run(["git", "check-ignore", str(out / "x"), str(cache / "x")], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    assert ignored == [str(out / "x"), str(cache / "x")]
    monkeypatch.chdir(ROOT / "docs")
    assert runtime.out_dir("local") == ROOT / "docs" / "runs"                 # elsewhere: here, as before


def test_data_label_names_slug_and_version(monkeypatch):
    monkeypatch.delenv("MMFUSION_DATA_DIR", raising=False)
    assert runtime.data_label("o/s", 3, "kaggle") == "Kaggle o/s, version 3"
    fetched = "/root/.cache/kagglehub/datasets/o/s/versions/12"
    assert runtime.data_label("o/s", None, "colab", fetched) == "Kaggle o/s, version 12, via kagglehub"
    assert runtime.data_label("o/s", 3, "local") is None
    monkeypatch.setenv("MMFUSION_DATA_DIR", "/data/mine")
    assert runtime.data_label("o/s", 3, "kaggle") is None                     # the user's own folder
    assert runtime.data_handle("o/s", 3) == "o/s/versions/3" and runtime.data_handle("o/s", None) == "o/s"


def test_a_kaggle_run_names_the_pinned_dataset_in_its_report(kaggle_env, tmp_path):
    """The notebook's runtime passes slug and version through to the run's own records."""
    from mmfusion.data.synthetic import write_twin
    from mmfusion.experiment.data import DataSource

    root = write_twin("mias", kaggle_env[0] / "mias-mammography", n=64)
    kernel = KERNELS["mias-xai"]
    found = runtime.find_dataset(kernel.marker, kernel.dataset, kernel.beside)
    setup = runtime.Setup(kernel, "kaggle", found, tmp_path / "runs", tmp_path / "cache", None,
                          runtime.data_label(kernel.dataset, 3, "kaggle"))
    assert setup.data_dir == root
    small = {"runs": 1, "class_weight_candidates": "1,2,3", "sensitivity_weights": "none",
             "explain_images": 2, "per_call_images": 1, "protocols": "stratified", "epochs": 2,
             "input_size": 32, "lime_samples": 20, "shap_samples": 20}
    run_dir = runtime.run(setup, quick=True, extra=small)
    summary = (run_dir / "report.md").read_text().split("## ", 2)[1]
    assert re.search(r"\| data \| mias: 64 of \d+ images, from Kaggle kmader/mias-mammography, version 3 \|",
                     summary), summary
    assert json.loads((run_dir / "config.json").read_text())["data"]["mias"]["kaggle"] == setup.data_label
    assert "kaggle" not in DataSource("mias", root, False).describe()          # a folder without an origin
    from mmfusion.evaluation.verify import verify_command

    assert verify_command(run_dir, sys.stdout) == 0                           # the run's hashes hold


def _prev_run(runs: Path, name: str, done: bool = False) -> Path:
    (runs / "mias-xai" / name).mkdir(parents=True)
    (runs / "mias-xai" / name / ("DONE" if done else "config.json")).write_text("{}")
    return runs / "mias-xai" / name


def test_previous_runs_are_found_deeper_and_through_symlinks(tmp_path):
    inp, out = tmp_path / "input", tmp_path / "working" / "runs"
    _prev_run(inp / "me-mmfusion-mias-xai-reproduction" / "output" / "runs", "20260101-000001")
    _prev_run(inp / "datasets" / "me" / "old-outputs" / "runs", "20260101-000002")
    _prev_run(tmp_path / "mounted-elsewhere" / "runs", "20260101-000003")
    (inp / "linked").symlink_to(tmp_path / "mounted-elsewhere")
    (inp / "datasets" / "me" / "old-outputs" / "runs" / "mias-xai" / "20260101-000002" / "up").symlink_to(inp)
    _prev_run(inp / "other" / "runs", "20260101-000004", done=True)                # finished: left
    adopted = runtime.adopt_previous_runs(out, "mias-xai", base=inp)
    assert sorted(p.name for p in adopted) == ["20260101-000001", "20260101-000002", "20260101-000003"]
    assert (out / "mias-xai" / "20260101-000003" / "config.json").is_file()
    assert runtime.adopt_previous_runs(out, "mias-xai", base=inp) == []


def test_a_new_kernel_version_adopts_the_previous_versions_unfinished_run(tmp_path):
    from mmfusion.kaggle.runtime import adopt_previous_runs

    prev = tmp_path / "input" / "me-mmfusion-mias-xai-reproduction" / "runs" / "mias-xai"
    (prev / "20260101-000000").mkdir(parents=True)
    (prev / "20260101-000000" / "config.json").write_text("{}")
    (prev / "20251231-000000").mkdir()
    (prev / "20251231-000000" / "DONE").write_text("x")            # finished: stays where it is
    adopted = adopt_previous_runs(tmp_path / "working" / "runs", "mias-xai", base=tmp_path / "input")
    assert [p.name for p in adopted] == ["20260101-000000"]
    assert (tmp_path / "working" / "runs" / "mias-xai" / "20260101-000000" / "config.json").is_file()
    assert adopt_previous_runs(tmp_path / "working" / "runs", "mias-xai", base=tmp_path / "input") == []
