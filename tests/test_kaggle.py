"""mmfusion.kaggle: the rendered kernel folders (what Kaggle reads), the notebook's install cell and
runtime (installs, mounts, weights, the data's name in the report), the build stamp.
MMFUSION_KAGGLE_INPUT and HOME point at tmp folders: nothing touches /kaggle or ~/.keras. Pushing
is tests/test_kaggle_push.py."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mmfusion import cli
from mmfusion.kaggle import build, render, runtime, template
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
        expected = [kernel.dataset, "alice-01/mmfusion-wheel"]      # the wheel push uploads, always
        if offline:
            expected += ["alice-01/mmfusion-extra-wheels"]
            expected += ["alice-01/keras-imagenet-notop-weights"] if kernel.archs else []
        assert meta["dataset_sources"] == expected, path
        assert all(re.fullmatch(r"[a-z0-9-]+/[a-z0-9-]+", s) for s in meta["dataset_sources"]), path
        nb = json.loads((path.parent / meta["code_file"]).read_text())
        params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", ()))
        assert f"OFFLINE = {offline}" in "".join(params["source"]), path
        code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert "MMFUSION_REPO = None" in code and "DATASET_VERSION = None" in code, path
        assert not re.search(r"github\.com/[^{]", code), path               # no repository but one given


def test_render_pins_the_data_version_in_the_clients_form(tmp_path):
    assert cli.main(["kaggle", "render", "--user", "bob", "--out", str(tmp_path), "--kernel", "mias-xai",
                     "--kernel", "hmcnet", "--dataset-version", "7", "--repo", "bob/mmfusion"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hmcnet", "mias-xai"]
    meta = json.loads((tmp_path / "hmcnet" / "kernel-metadata.json").read_text())
    assert meta["dataset_sources"][0] == "kmader/mias-mammography/7"      # owner/slug/N
    params = (tmp_path / "hmcnet" / "hmcnet.py").read_text()
    assert "DATASET_VERSION = 7 " in params and "MMFUSION_REPO = 'bob/mmfusion'" in params


def test_dataset_versions_name_the_dataset_they_pin():
    assert render.dataset_versions(["3"], ["mias-xai", "hmcnet"]) == {"kmader/mias-mammography": 3}
    assert render.dataset_versions(["kmader/mias-mammography/4", "kmader/skin-cancer-mnist-ham10000/2"],
                                   list(KERNELS)) == {"kmader/mias-mammography": 4,
                                                      "kmader/skin-cancer-mnist-ham10000": 2}
    with pytest.raises(ValueError, match="these kernels read 5 datasets; pin each as OWNER/SLUG/N"):
        render.dataset_versions(["3"], list(KERNELS))
    with pytest.raises(ValueError, match="no kernel here reads owner/other"):
        render.dataset_versions(["owner/other/3"], ["mias-xai"])
    with pytest.raises(ValueError, match="expected N or OWNER/SLUG/N with N >= 1"):
        render.dataset_versions(["kmader/mias-mammography/versions/x"], ["mias-xai"])


RESTORE = ("kaggle_kernels/ differs from what the template renders: after changing the template, "
           "regenerate it with `mmfusion kaggle render --out kaggle_kernels` (run at the repository root); "
           "if a render for your user overwrote it, `git checkout kaggle_kernels` restores it")


def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_committed_kernels_are_the_rendered_ones(tmp_path):
    """kaggle_kernels/ is generated: nobody edits six copies by hand."""
    render.render(out=tmp_path)
    committed, fresh = _tree(ROOT / "kaggle_kernels"), _tree(tmp_path)
    assert sorted(committed) == sorted(fresh), RESTORE
    for rel in fresh:
        assert committed[rel] == fresh[rel], f"{rel}: {RESTORE}"


def test_render_for_a_user_leaves_the_committed_folders(tmp_path, monkeypatch, capsys):
    before = _tree(ROOT / "kaggle_kernels")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["kaggle", "render", "--user", "bob"]) == 0
    assert _tree(ROOT / "kaggle_kernels") == before
    out = tmp_path / "build" / "kaggle" / "bob" / "kernels"
    assert sorted(p.name for p in out.iterdir()) == sorted(KERNELS)
    assert json.loads((out / "hmcnet" / "kernel-metadata.json").read_text())["id"] == (
        "bob/mmfusion-hmcnet-reproduction")
    assert f"under {Path('build') / 'kaggle' / 'bob' / 'kernels'}" in capsys.readouterr().err


def test_render_refuses_a_bad_user_or_repo(tmp_path, capsys):
    with pytest.raises(ValueError, match="'a b' is not a Kaggle user name"):
        render.render("a b", out=tmp_path)
    assert cli.main(["kaggle", "render", "--user", "bob", "--out", str(tmp_path), "--repo", "x"]) == 2
    assert "--repo 'x': expected a GitHub OWNER/NAME" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


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
             "explain_images": 2, "per_call_images": 1, "protocols": "stratified"}
    run_dir = runtime.run(setup, quick=True, extra=small)
    summary = (run_dir / "report.md").read_text().split("## ", 2)[1]
    assert re.search(r"\| data \| mias: 64 of \d+ images, from Kaggle kmader/mias-mammography, version 3 \|",
                     summary), summary
    assert json.loads((run_dir / "config.json").read_text())["data"]["mias"]["kaggle"] == setup.data_label
    assert "kaggle" not in DataSource("mias", root, False).describe()          # a folder without an origin
    from mmfusion.evaluation.verify import verify_command

    assert verify_command(run_dir, sys.stdout) == 0                           # the run's hashes hold


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
