"""mmfusion.kaggle: the rendered kernel folders (what Kaggle reads) and the build stamp. The
notebook's runtime is tests/test_kaggle_runtime.py, pushing tests/test_kaggle_push.py."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mmfusion import cli
from mmfusion.kaggle import build, render
from mmfusion.kaggle.kernels import KERNELS, slugify

ROOT = Path(__file__).resolve().parents[1]
RESNET = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16 = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19 = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"


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
