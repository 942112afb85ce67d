"""mmfusion.kaggle: the rendered kernel folders (what Kaggle reads), the notebook runtime (installs,
mounts, weights), the build stamp. MMFUSION_KAGGLE_INPUT and HOME point at tmp folders: nothing
touches /kaggle or ~/.keras."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mmfusion import cli
from mmfusion.kaggle import build, render, runtime
from mmfusion.kaggle.kernels import KERNELS, slugify

ROOT = Path(__file__).resolve().parents[1]
RESNET = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16 = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19 = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"


@pytest.fixture
def kaggle_env(tmp_path, monkeypatch):
    inp, home = tmp_path / "input", tmp_path / "home"
    inp.mkdir()
    home.mkdir()
    monkeypatch.setenv("MMFUSION_KAGGLE_INPUT", str(inp))
    monkeypatch.setenv("HOME", str(home))
    return inp, home


def test_slugify_as_kaggle_does():
    assert slugify("mmfusion hmcnet reproduction") == "mmfusion-hmcnet-reproduction"
    assert slugify("  HMC-Net on MIAS (mmfusion)  ") == "hmc-net-on-mias-mmfusion"
    # the old titles did not slug to their ids: what this module exists to prevent
    assert slugify("HMC-Net on MIAS (mmfusion reproduction)") != "hmcnet-mias-reproduction"


@pytest.mark.parametrize("offline", [False, True])
def test_rendered_metadata_is_what_kaggle_reads(tmp_path, offline):
    assert cli.main(["kaggle", "render", "--user", "alice-01", "--out", str(tmp_path)]
                    + (["--offline"] if offline else [])) == 0
    metas = sorted(tmp_path.glob("*/kernel-metadata.json"))
    assert [m.parent.name for m in metas] == sorted(KERNELS)
    for path in metas:
        meta = json.loads(path.read_text())
        owner, slug = meta["id"].split("/")
        kernel = KERNELS[path.parent.name]
        assert owner == "alice-01" and slugify(meta["title"]) == slug and 5 <= len(slug) <= 50, path
        assert (path.parent / meta["code_file"]).is_file() and meta["kernel_type"] == "notebook", path
        assert meta["enable_internet"] is (not offline) and meta["enable_gpu"] is True, path
        assert meta["machine_shape"] == "NvidiaTeslaT4", path
        expected = [kernel.dataset]
        if offline:
            expected += ["alice-01/mmfusion-wheel", "alice-01/mmfusion-extra-wheels"]
            expected += ["alice-01/keras-imagenet-notop-weights"] if kernel.archs else []
        assert meta["dataset_sources"] == expected, path
        assert all(re.fullmatch(r"[a-z0-9-]+/[a-z0-9-]+", s) for s in meta["dataset_sources"]), path
        nb = json.loads((path.parent / meta["code_file"]).read_text())
        params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", ()))
        assert f"OFFLINE = {offline}" in "".join(params["source"]), path


def test_committed_kernels_are_the_rendered_ones(tmp_path):
    """kaggle_kernels/ is generated: nobody edits six copies by hand."""
    render.render(out=tmp_path)
    committed = sorted(p.relative_to(ROOT / "kaggle_kernels") for p in (ROOT / "kaggle_kernels").rglob("*")
                       if p.is_file())
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert committed == fresh
    for rel in fresh:
        assert (ROOT / "kaggle_kernels" / rel).read_text() == (tmp_path / rel).read_text(), rel


def test_render_refuses_a_bad_user(tmp_path):
    with pytest.raises(ValueError, match="'a b' is not a Kaggle user name"):
        render.render("a b", out=tmp_path)


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


def test_install_missing_offline_uses_attached_wheels(kaggle_env, monkeypatch):
    calls = []
    monkeypatch.setattr(runtime.subprocess, "call", lambda argv: calls.append(argv) or 0)
    assert runtime.install_missing({"json": "json"}, offline=True) == []     # importable: nothing
    with pytest.raises(SystemExit, match="no-such-dist>=1 is missing.*no no_such_dist-\\*.whl"):
        runtime.install_missing({"no_such_mod_xyz": "no-such-dist>=1"}, offline=True)
    wheel = kaggle_env[0] / "wheels" / "No_Such_Dist-1.0-py3-none-any.whl"   # case as uploaded
    wheel.parent.mkdir()
    wheel.write_bytes(b"")
    assert runtime.install_missing({"no_such_mod_xyz": "no-such-dist>=1"},
                                   offline=True) == ["no-such-dist>=1"]
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", "--no-deps", str(wheel)]]


def test_install_missing_online_holds_the_image_stack(monkeypatch):
    import importlib.metadata

    import numpy

    calls = []
    monkeypatch.setattr(runtime.subprocess, "call", lambda argv: calls.append(argv) or 0)
    runtime.install_missing({"no_such_mod_xyz": "scikit-posthocs"}, offline=False)
    argv = calls[0]
    assert argv[:5] == [sys.executable, "-m", "pip", "install", "-q"] and argv[-1] == "scikit-posthocs"
    held = Path(argv[argv.index("-c") + 1]).read_text().split()
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


def _git_head():
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()


def test_build_stamps_version_and_commit(tmp_path):
    """setup.py's build_py writes mmfusion/_build.py into the build (never into the tree)."""
    subprocess.run([sys.executable, "setup.py", "-q", "build_py", "-d", str(tmp_path)], cwd=ROOT, check=True,
                   capture_output=True)
    stamp = {}
    exec((tmp_path / "mmfusion" / "_build.py").read_text(), stamp)
    from mmfusion import __version__

    assert stamp["VERSION"] == __version__ and stamp["COMMIT"].split("+")[0] == _git_head()
    assert not (ROOT / "mmfusion" / "_build.py").exists()


def test_build_info_prefers_the_stamp(monkeypatch):
    assert build.build_info()["commit"].split("+")[0] == _git_head()
    assert build.build_info()["source"] == "checkout"
    stamp = type(sys)("mmfusion._build")
    stamp.VERSION, stamp.COMMIT = "9.9.9", "abc123"
    monkeypatch.setitem(sys.modules, "mmfusion._build", stamp)
    assert build.build_info() == {"version": "9.9.9", "commit": "abc123", "source": "wheel"}


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
