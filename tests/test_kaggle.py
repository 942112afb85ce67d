"""mmfusion.kaggle (what the Kaggle kernels run after installing mmfusion) and the kernels' files.
MMFUSION_KAGGLE_INPUT and HOME point at tmp folders: nothing touches /kaggle or ~/.keras."""
import json
import py_compile
import sys
from pathlib import Path

import pytest

from mmfusion import kaggle, registry

KERNELS = sorted((Path(__file__).resolve().parents[1] / "kaggle_kernels").glob("*/kernel-metadata.json"))
RESNET = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"


@pytest.fixture
def kaggle_env(tmp_path, monkeypatch):
    inp, home = tmp_path / "input", tmp_path / "home"
    inp.mkdir()
    home.mkdir()
    monkeypatch.setenv("MMFUSION_KAGGLE_INPUT", str(inp))
    monkeypatch.setenv("HOME", str(home))
    return inp, home


def test_stage_weights_copies_attached_files(kaggle_env):
    inp, home = kaggle_env
    (inp / "keras-weights").mkdir()
    (inp / "keras-weights" / RESNET).write_bytes(b"h5")
    assert kaggle.stage_weights((RESNET,)) == "imagenet"
    assert (home / ".keras" / "models" / RESNET).read_bytes() == b"h5"
    # both files are needed: one of two is not enough
    assert kaggle.stage_weights((RESNET, "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")) is None


def test_stage_weights_none_without_files(kaggle_env):
    assert kaggle.stage_weights((RESNET,)) is None
    assert (kaggle_env[1] / ".keras" / "models").is_dir()


def test_install_missing_uses_attached_wheels_only(kaggle_env, monkeypatch):
    calls = []
    monkeypatch.setattr(kaggle.subprocess, "call", lambda argv: calls.append(argv) or 0)
    kaggle.install_missing({"json": "not_needed"})             # importable: nothing installed
    assert calls == []
    with pytest.raises(SystemExit, match="no_such_mod_xyz is missing and no no_such_dist wheel"):
        kaggle.install_missing({"no_such_mod_xyz": "no_such_dist"})
    wheel = kaggle_env[0] / "wheels" / "no_such_dist-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"")
    kaggle.install_missing({"no_such_mod_xyz": "no_such_dist"})
    assert calls == [[sys.executable, "-m", "pip", "install", "--no-deps", "-q", str(wheel)]]


def test_find_dataset_searches_nested_mounts(kaggle_env):
    inp, _ = kaggle_env
    decoy = inp / "other" / "Info.txt"             # an Info.txt without MIAS images beside it
    decoy.parent.mkdir(parents=True)
    decoy.write_text("x")
    mias = inp / "datasets" / "kmader" / "mias-mammography"
    (mias / "all-mias").mkdir(parents=True)
    (mias / "Info.txt").write_text("x")
    assert kaggle.find_dataset("Info.txt", "kmader/mias-mammography", beside=("all-mias", "mdb*.pgm")) == mias
    cbis = inp / "cbis"
    (cbis / "csv").mkdir(parents=True)
    (cbis / "jpeg").mkdir()
    (cbis / "csv" / "dicom_info.csv").write_text("x")
    assert kaggle.find_dataset("csv/dicom_info.csv", "awsaf49/cbis", beside=("jpeg",)) == cbis
    with pytest.raises(SystemExit, match="add the dataset owner/busi"):
        kaggle.find_dataset("Dataset_BUSI_with_GT", "owner/busi")


def test_run_kernel_passes_gpu_options_and_prints_report(monkeypatch, capsys, tmp_path):
    seen = {}

    def reproduce(options):
        seen["options"] = options
        (tmp_path / "report.md").write_text("# the report")
        return tmp_path
    module = type(sys)("fake_kaggle_paper")
    module.reproduce = reproduce
    monkeypatch.setitem(sys.modules, "fake_kaggle_paper", module)
    monkeypatch.setitem(registry._PAPERS, "fake",
                        registry.PaperSpec("fake", "t", "c", (), {}, "fake_kaggle_paper:reproduce"))
    assert kaggle.run_kernel("fake", tmp_path / "data", "imagenet", out=tmp_path / "runs",
                             extra={"settings": "mri"}) == tmp_path
    o = seen["options"]
    assert (o.paper, o.data_dir, o.out, o.weights, o.mixed_precision, o.jit, o.seed, o.extra) == (
        "fake", str(tmp_path / "data"), str(tmp_path / "runs"), "imagenet", True, False, 0, {"settings": "mri"})
    assert "# the report" in capsys.readouterr().out


def test_six_kernels_metadata_and_code(tmp_path):
    assert len(KERNELS) == 6
    for meta_path in KERNELS:
        meta = json.loads(meta_path.read_text())
        assert meta["enable_gpu"] is True and meta["enable_internet"] is False, meta_path
        assert len(meta["dataset_sources"]) == 1 and "/" in meta["dataset_sources"][0], meta_path
        code = meta_path.parent / meta["code_file"]
        py_compile.compile(str(code), cfile=str(tmp_path / "kernel.pyc"), doraise=True)
        text = code.read_text()
        # the kernel names the dataset it reads, and calls the library after its install bootstrap
        assert meta["dataset_sources"][0] in text and "kaggle.install_missing(EXTRAS)" in text, code


@pytest.mark.parametrize("kernel, dataset, paper", [
    ("mias-xai", "mias", "mias-xai"), ("hmcnet", "mias", "hmcnet"),
    ("effnetv2-smote-busi", "busi", "effnetv2-smote"), ("effnetv2-smote-mri", "breast-mri", "effnetv2-smote"),
    ("ft-multicnn", "ham10000", "ft-multicnn"), ("multimodal-fusion", "cbis-ddsm", "multimodal-fusion")])
def test_kernel_main_finds_its_dataset_as_mounted(kaggle_env, monkeypatch, kernel, dataset, paper):
    """A kernel's main() on the dataset's twin mounted under the Kaggle input; reproduce not run."""
    import runpy

    from mmfusion.data.synthetic import write_twin

    root = write_twin(dataset, kaggle_env[0] / "mounted", n=12)
    seen = []
    monkeypatch.setattr(kaggle, "install_missing", lambda extras: None)
    monkeypatch.setattr(kaggle, "run_kernel", lambda paper, data_dir, weights, **kw: seen.append(
        (paper, Path(data_dir), weights, kw)))
    code = next((KERNELS[0].parents[1] / kernel).glob("*_kernel.py"))
    runpy.run_path(str(code))["main"]()
    got_paper, got_root, weights, options = seen[0]
    assert (got_paper, weights) == (paper, None)      # no ImageNet file attached
    assert options.get("mixed_precision", True) is (paper != "mias-xai")
    if dataset == "cbis-ddsm":    # the twin holds both layouts; the kernel reads the Kaggle JPEG one
        assert (got_root / "csv" / "dicom_info.csv").is_file() and (got_root / "jpeg").is_dir()
    else:
        assert got_root == root
