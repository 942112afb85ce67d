"""CLI: list/--help without TensorFlow, exit codes, reproduce dispatch."""
import subprocess
import sys

import pytest

from mmfusion import cli, registry

PAPERS = ("multimodal-fusion", "hmcnet", "effnetv2-smote", "ft-multicnn", "mias-xai")


def test_list_shows_five_papers(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in PAPERS:
        assert f"\n{name}\n" in "\n" + out
    assert "5 papers" in out and "datasets: mias" in out
    from mmfusion.evaluation.claims import claims_summary

    assert f"claims: {claims_summary('mias-xai')['total']} (" in out   # counted from the YAML


def test_list_and_help_do_not_import_tensorflow():
    code = ("import sys; from mmfusion.cli import main; rc = main(['list']); "
            "h = main(['reproduce', '--help']); "
            "assert rc == 0 and h == 0, (rc, h); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "mmfusion", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "reproduce" in proc.stdout


@pytest.mark.parametrize("argv", [["bogus"], ["reproduce"], ["reproduce", "mias-xai", "--epochs", "x"],
                                  ["reproduce", "no-such-paper"],
                                  ["reproduce", "mias-xai", "--set", "novalue"]])
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    assert capsys.readouterr().err


def _fake_paper(monkeypatch, name, func):
    """Register paper ``name`` whose reproduce is ``func(options)`` (the template is bypassed)."""
    import mmfusion.experiment

    monkeypatch.setitem(registry._PAPERS, name, registry.PaperSpec(name, ("mias",), package=name))
    real = mmfusion.experiment.reproduce_paper
    monkeypatch.setattr(mmfusion.experiment, "reproduce_paper",
                        lambda paper, options: func(options) if paper == name else real(paper, options))


def test_reproduce_builds_options(monkeypatch, tmp_path):
    seen = {}
    _fake_paper(monkeypatch, "fake", lambda options: seen.setdefault("options", options) and tmp_path)
    rc = cli.main(["reproduce", "fake", "--quick", "--epochs", "3", "--weights", "none",
                   "--set", "fusion=gmu", "--set", "folds=[0, 1]", "--out", str(tmp_path)])
    assert rc == 0
    options = seen["options"]
    assert (options.quick, options.epochs, options.weights, options.out) == (True, 3, None, str(tmp_path))
    assert options.extra == {"fusion": "gmu", "folds": [0, 1]}


def test_a_missing_paper_module_surfaces_as_itself(monkeypatch, capsys):
    ghost = registry.PaperSpec("ghost", ("mias",), package="mmfusion.papers.ghost_paper")
    monkeypatch.setitem(registry._PAPERS, "ghost", ghost)
    assert cli.main(["reproduce", "ghost"]) == 1
    assert "ModuleNotFoundError" in capsys.readouterr().err


def test_failures_exit_1_and_bad_input_exit_2(monkeypatch, capsys, tmp_path):
    from mmfusion.data.common import DatasetError

    def bad_input(options):
        raise DatasetError("expected a label column", path="labels.csv", row=3)

    def crash(options):
        raise RuntimeError("boom")
    for name, func, code in (("bad", bad_input, 2), ("crash", crash, 1)):
        _fake_paper(monkeypatch, name, func)
        assert cli.main(["reproduce", name]) == code
    err = capsys.readouterr().err
    assert "labels.csv, row 3: expected a label column" in err and "boom" in err


def test_reproduce_prints_the_report(monkeypatch, capsys, tmp_path):
    (tmp_path / "report.md").write_text("# Results table")
    _fake_paper(monkeypatch, "rep", lambda options: tmp_path)
    assert cli.main(["reproduce", "rep"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "# Results table" in out and out[-1] == f"run directory: {tmp_path}"


def test_invalid_options_are_refused_before_any_run_directory(tmp_path, capsys):
    for argv, needle in ((["--epochs", "0"], "epochs=0"), (["--set", "runs=0"], "runs=0"),
                         (["--set", "input_size=8"], "input_size=8"),
                         (["--set", "protocols=bogus"], "protocols"),
                         (["--set", "bogus=1"], "no setting 'bogus'")):
        assert cli.main(["reproduce", "mias-xai", "--quick", "--out", str(tmp_path), *argv]) == 2, argv
        assert needle in capsys.readouterr().err, argv
    assert not (tmp_path / "mias-xai").exists()


@pytest.mark.parametrize("script, paper", [("mias_xai", "mias-xai"), ("hmcnet", "hmcnet"),
                                           ("effnetv2_smote", "effnetv2-smote"),
                                           ("ft_multicnn", "ft-multicnn"),
                                           ("multimodal_fusion", "multimodal-fusion")])
def test_experiment_scripts_forward_to_the_cli(monkeypatch, script, paper):
    import runpy
    from pathlib import Path

    seen = []
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(argv) or 0)
    monkeypatch.setattr(sys, "argv", ["x.py", "--quick", "--set", "runs=1"])
    path = Path(__file__).resolve().parents[1] / "experiments" / f"{script}.py"
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(path), run_name="__main__")
    assert exit_.value.code == 0
    weights = ["--weights", "none"] if paper == "mias-xai" else []   # its CNN trains from scratch
    assert seen == [["reproduce", paper, *weights, "--quick", "--set", "runs=1"]]


def test_fixtures_writes_one_loadable_folder_per_dataset(tmp_path, capsys):
    from mmfusion.data import DATASETS, load_dataset

    assert cli.main(["fixtures", "--out", str(tmp_path), "--seed", "1"]) == 0
    roots = dict(line.split("   ")[0].split(": ") for line in capsys.readouterr().out.splitlines())
    assert set(roots) == set(DATASETS) and sorted(p.name for p in tmp_path.iterdir()) == sorted(DATASETS)
    for name, root in roots.items():
        frame = load_dataset(name, root)
        assert len(frame) > 0 and frame.attrs["report"]["rows_read"] >= len(frame), name
    assert cli.main(["fixtures", "--out", str(tmp_path), "--dataset", "no-such-set"]) == 2


def test_fixtures_mias_counts_like_the_real_mias(tmp_path, capsys):
    from mmfusion.data import load_dataset

    assert cli.main(["fixtures", "--out", str(tmp_path), "--dataset", "mias", "--n", "322",
                     "--counts", "207,64,51"]) == 0
    frame = load_dataset("mias", tmp_path / "mias")
    # Info.txt rows follow the counts; the twin's one film with a benign and a malignant row is
    # malignant under the loader's "any" rule, so one benign film moves to malignant
    assert frame["label"].value_counts().sort_index().tolist() == [207, 63, 52]
    assert cli.main(["fixtures", "--out", str(tmp_path), "--dataset", "mias", "--n", "40",
                     "--counts", "207,64,51"]) == 2          # counts must sum to n
    assert cli.main(["fixtures", "--out", str(tmp_path), "--dataset", "busi", "--counts", "1,2,3"]) == 2
