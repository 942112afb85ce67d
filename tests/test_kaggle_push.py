"""``mmfusion kaggle push``: the staged folders, the official kaggle client's own checks on each of
them (its network seams recorded, never sent) and the order of a real push (against a stand-in
api). pip never runs: a fake writes the wheels pip would. HOME is a tmp folder and no Kaggle
credentials are set, so nothing reads or writes the user's ~/.kaggle."""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mmfusion import cli
from mmfusion.kaggle import build, push, render
from mmfusion.kaggle.kernels import KERNELS

kaggle = pytest.importorskip("kaggle", reason="the kaggle client (extra 'kaggle', in requirements.txt)")

ROOT = Path(__file__).resolve().parents[1]
USER = "alice-01"


class FakePip:
    """Records each pip command and writes the wheels it would write."""

    def __init__(self):
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        action, out = argv[3], Path(argv[argv.index("-w" if "-w" in argv else "-d") + 1])
        out.mkdir(parents=True, exist_ok=True)
        if action == "wheel" and str(build.ROOT) in argv:
            names = ["mmfusion-0.1.0-py3-none-any.whl"]
        elif action == "wheel":
            names = [f"{r}-1.0-py3-none-any.whl" for r in argv[argv.index(str(out)) + 1:]]
        else:     # download: each requirement, a dependency, and NumPy (which the image holds)
            names = ["numpy-2.0.2-cp312-cp312-manylinux_2_17_x86_64.whl", "slicer-0.0.8-py3-none-any.whl"]
            wanted = [r for r in argv if r in build.extra_requirements()]
            names += [f"{r.replace('-', '_')}-1.0-py3-none-any.whl" for r in wanted]
        for name in names:
            (out / name).write_bytes(b"PK")
        return 0


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def pip(monkeypatch):
    fake = FakePip()
    monkeypatch.setattr(build.subprocess, "check_call", fake)
    return fake


def _calls(sent, call):
    return [fields for name, fields in sent if name == call]


def test_extra_wheels_are_for_the_kaggle_python_with_dependencies(tmp_path, pip):
    wheels = build.extra_wheels(tmp_path / "extra", "3.12", constraints=tmp_path / "image.txt")
    built, download = pip.calls
    assert built[3:6] == ["wheel", "--no-deps", "-q"] and built[-1:] == ["lime"]   # lime: an sdist only
    assert download[3] == "download" and "--no-deps" not in download                # dependencies too
    opts = download[download.index("--python-version"):]
    assert opts[:6] == ["--python-version", "3.12", "--implementation", "cp", "--abi", "cp312"]
    assert "--only-binary=:all:" in opts and "manylinux2014_x86_64" in opts
    assert download[download.index("--find-links") + 1] == str(tmp_path / "extra")  # lime's local wheel
    assert download[download.index("-c") + 1] == str(tmp_path / "image.txt")
    names = [w.name for w in wheels]
    assert "slicer-0.0.8-py3-none-any.whl" in names and not [n for n in names if n.startswith("numpy")]


@pytest.mark.parametrize("offline", [False, True])
def test_dry_run_passes_the_clients_own_checks_for_every_kernel(home, pip, capsys, offline):
    before = {p: p.read_bytes() for p in (ROOT / "kaggle_kernels").rglob("*") if p.is_file()}
    assert cli.main(["kaggle", "push", "--user", USER, "--dry-run"] + (["--offline"] if offline else [])) == 0
    out = capsys.readouterr().out
    assert f"the kaggle client accepts the {1 + offline} dataset and 6 kernel folder(s)" in out
    stage = Path("build") / "kaggle" / USER
    for name in KERNELS:
        meta = json.loads((stage / "kernels" / name / "kernel-metadata.json").read_text())
        line = next(x for x in out.splitlines() if f"save_kernel: slug {meta['id']}," in x)
        assert f"dataset_data_sources {meta['dataset_sources']}" in line
        assert f"enable_internet {not offline}" in line and "machine_shape NvidiaTeslaT4" in line
    assert out.count("would send kernels.save_kernel") == 6
    new = next(x for x in out.splitlines() if "create_dataset (if it is new): slug mmfusion-wheel" in x)
    assert f"owner_slug {USER}" in new and "files 1" in new and "license_name other" in new
    if offline:
        extra = sorted(p.name for p in (stage / "mmfusion-extra-wheels").glob("*.whl"))
        assert "lime-1.0-py3-none-any.whl" in extra and len(extra) == len(build.extra_requirements()) + 1
        assert f"slug mmfusion-extra-wheels, owner_slug {USER}, title mmfusion extra wheels" in out
        assert f"files {len(extra)}" in out
    assert not (home / ".kaggle").exists()                      # no credentials read or written
    assert {p: p.read_bytes() for p in (ROOT / "kaggle_kernels").rglob("*") if p.is_file()} == before


def test_a_pinned_data_version_passes_the_client(home, pip, capsys):
    assert cli.main(["kaggle", "push", "--user", USER, "--kernel", "hmcnet", "--dry-run",
                     "--dataset-version", "5"]) == 0
    out = capsys.readouterr().out
    assert "dataset_data_sources ['kmader/mias-mammography/5', 'alice-01/mmfusion-wheel']" in out


def _staged(offline=False, kernels=("mias-xai", "hmcnet")):
    return push.stage(USER, list(kernels), offline, out=Path("stage"))


def _edit(path: Path, **changes):
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


BROKEN = {   # what is changed -> the client's own words for it
    "title": (lambda k: _edit(k / "kernel-metadata.json", title="HMC-Net on MIAS (mmfusion reproduction)"),
              "Your kernel title does not resolve to the specified id"),
    "code file": (lambda k: (k / "hmcnet.ipynb").unlink(),
                  "Source file not found: stage/kernels/hmcnet/hmcnet.ipynb"),
    "kagglehub's version form": (lambda k: _edit(k / "kernel-metadata.json",
                                                 dataset_sources=["kmader/mias-mammography/versions/5"]),
                                 "Invalid dataset specification kmader/mias-mammography/versions/5"),
    "language": (lambda k: _edit(k / "kernel-metadata.json", language="julia"),
                 "A valid language must be specified in the metadata"),
    "kernel type": (lambda k: _edit(k / "kernel-metadata.json", kernel_type="lab"),
                    "A valid kernel type must be specified in the metadata"),
    "dataset title": (lambda k: _edit(k.parents[1] / "mmfusion-wheel" / "dataset-metadata.json",
                                      title="wheel"),
                      "The dataset title must be between 6 and 50 characters"),
}


@pytest.mark.parametrize("what", sorted(BROKEN))
def test_dry_run_fails_where_the_client_refuses(home, pip, what):
    staged = _staged()
    edit, words = BROKEN[what]
    edit(Path("stage") / "kernels" / "hmcnet")
    with pytest.raises(push.PushError, match="the kaggle client (refuses it|warns)") as err:
        push.send(staged, dry_run=True, echo=lambda line: None)
    assert words in str(err.value)
    assert str(Path("stage")) in str(err.value)


class LiveApi(kaggle.KaggleApi):
    """Stands in for the logged-in client: records what a push sends, in order."""

    def __init__(self, user=USER, known=("kmader/mias-mammography",), kernel_problems=None):
        self.config_values, self.log, self.known = {"username": user}, [], set(known)
        self.kernel_problems = kernel_problems or {}
        self.statuses = {}

    def authenticate(self):
        pass

    def dataset_status(self, dataset, format=None):
        ref = "/".join(dataset.split("/")[:2])
        self.log.append(("status", ref))
        if ref not in self.known:
            raise push._not_found(ref)
        return self.statuses.pop(ref, "ready")

    def dataset_create_new(self, folder, quiet=False, **kw):
        ref = json.loads((Path(folder) / "dataset-metadata.json").read_text())["id"]
        self.log.append(("create", ref))
        self.known.add(ref)
        self.statuses[ref] = "pending"                     # Kaggle processes it first
        return SimpleNamespace(error=None)

    def dataset_create_version(self, folder, version_notes, quiet=False, **kw):
        self.log.append(("version", json.loads((Path(folder) / "dataset-metadata.json").read_text())["id"]))
        return SimpleNamespace(error=None)

    def kernels_push(self, folder, *a, **kw):
        slug = json.loads((Path(folder) / "kernel-metadata.json").read_text())["id"]
        self.log.append(("kernel", slug))
        problems = {**{k: [] for k in push.KERNEL_PROBLEMS[1:]}, **self.kernel_problems}
        return SimpleNamespace(error=None, url=f"https://www.kaggle.com/code/{slug}", version_number=1,
                               **problems)


def _client(api):
    return SimpleNamespace(KaggleApi=kaggle.KaggleApi, api=api)


def test_a_push_sends_datasets_then_once_processed_the_kernels(home, pip):
    api, slept, said = LiveApi(), [], []
    push.send(_staged(), client=_client(api), echo=said.append, sleep=slept.append)
    assert api.log == [("status", f"{USER}/mmfusion-wheel"), ("create", f"{USER}/mmfusion-wheel"),
                       ("status", f"{USER}/mmfusion-wheel"), ("status", f"{USER}/mmfusion-wheel"),
                       ("status", "kmader/mias-mammography"),
                       ("kernel", f"{USER}/mmfusion-mias-xai-reproduction"),
                       ("kernel", f"{USER}/mmfusion-hmcnet-reproduction")]
    assert slept == [15]                                   # one wait while the new dataset was pending
    assert said[-1] == (f"pushed {USER}/mmfusion-hmcnet-reproduction (version 1): "
                        f"https://www.kaggle.com/code/{USER}/mmfusion-hmcnet-reproduction")
    api.log.clear()
    push.send(_staged(), client=_client(api), echo=said.append, sleep=slept.append)
    assert api.log[:2] == [("status", f"{USER}/mmfusion-wheel"), ("version", f"{USER}/mmfusion-wheel")]


def test_nothing_is_sent_unless_every_folder_passes(home, pip):
    api = LiveApi()
    staged = _staged()
    (Path("stage") / "kernels" / "hmcnet" / "hmcnet.ipynb").unlink()
    with pytest.raises(push.PushError, match="Source file not found"):
        push.send(staged, client=_client(api), echo=lambda line: None)
    assert api.log == []


def test_a_push_refuses_other_credentials_missing_datasets_and_kaggles_refusals(home, pip):
    with pytest.raises(push.PushError, match="credentials here are bob's, not alice-01's: "
                                             "push with --user bob"):
        push.send(_staged(), client=_client(LiveApi(user="bob")), echo=lambda line: None)
    api = LiveApi()
    with pytest.raises(push.PushError, match=f"attach {USER}/keras-imagenet-notop-weights, which Kaggle does "
                                             "not have.*--weights-dir"):
        push.send(_staged(offline=True), client=_client(api), echo=lambda line: None, sleep=lambda s: None)
    assert not [e for e in api.log if e[0] == "kernel"]
    api = LiveApi(kernel_problems={"invalid_dataset_sources": ["kmader/mias-mammography/5"]})
    with pytest.raises(push.PushError, match="Kaggle refused the push: invalid dataset sources: "
                                             r"\['kmader/mias-mammography/5'\]"):
        push.send(_staged(), client=_client(api), echo=lambda line: None, sleep=lambda s: None)


def test_offline_push_uploads_the_weights_it_is_given(home, pip, tmp_path):
    weights = tmp_path / "h5"
    weights.mkdir()
    needed = sorted({f for k in KERNELS.values() for f in k.weights_files})
    for name in needed[1:]:
        (weights / name).write_bytes(b"h5")
    with pytest.raises(push.PushError, match=f"--weights-dir {weights} lacks {needed[0]}"):
        push.stage(USER, ["hmcnet"], offline=True, out=Path("stage"), weights_dir=weights)
    (weights / needed[0]).write_bytes(b"h5")
    staged = push.stage(USER, ["hmcnet"], offline=True, out=Path("stage"), weights_dir=weights)
    assert [f.name for f in staged.datasets] == ["mmfusion-wheel", "mmfusion-extra-wheels",
                                                 "keras-imagenet-notop-weights"]
    sent = push.send(staged, dry_run=True, echo=lambda line: None)
    uploads = {f["file"] for f in _calls(sent, "blobs.upload")}
    assert set(needed) <= uploads
    api = LiveApi()
    push.send(staged, client=_client(api), echo=lambda line: None, sleep=lambda s: None)
    assert ("create", f"{USER}/keras-imagenet-notop-weights") in api.log and api.log[-1][0] == "kernel"


def test_a_missing_client_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "kaggle", None)
    with pytest.raises(push.PushError, match=r"pip install 'mmfusion\[kaggle\]'"):
        push.load_client(USER, dry_run=True)


def test_setup_cfg_and_requirements_name_the_client():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["options.extras_require"]["kaggle"].split() == ["kaggle>=1.7.4"]
    assert "kaggle==2.2.5" in (ROOT / "requirements.txt").read_text().split()


def test_stage_renders_for_the_user_outside_the_committed_folders(home, pip):
    staged = _staged(kernels=("ft-multicnn",))
    assert staged.kernels == [Path("stage") / "kernels" / "ft-multicnn"]
    meta = json.loads((staged.kernels[0] / "kernel-metadata.json").read_text())
    assert meta["id"] == f"{USER}/mmfusion-ft-multicnn-reproduction"
    assert render.COMMITTED == ROOT / "kaggle_kernels" and not str(staged.kernels[0]).startswith(str(ROOT))
