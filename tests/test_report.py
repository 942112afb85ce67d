"""Report: claims matched by (table, row, column), verdicts, synthetic titles, figures, CLI hook."""
import io
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from mmfusion.evaluation.report import SYNTHETIC_TITLE, ReportError, report_command, write_report

CLAIMS = {"paper": "toy", "title": "t", "citation": "Toy et al. 2024", "dataset": "toyset",
          "claims": [{"table": "Table 2", "row": "CNN", "column": "accuracy", "value": 80.0,
                      "scale": "percent", "decimals": 1},
                     {"table": "Table 2", "row": "CNN", "column": "f1", "value": 0.95, "scale": "fraction"},
                     {"table": "Table 3", "row": "ViT", "column": "auc", "value": 0.9, "scale": "fraction"}]}


@pytest.fixture
def papers(tmp_path, monkeypatch):
    d = tmp_path / "papers"
    d.mkdir()
    (d / "toy.yaml").write_text(yaml.safe_dump(CLAIMS))
    monkeypatch.setenv("MMFUSION_PAPERS_DIR", str(d))
    return d


def _reproduced(synthetic):
    return {"paper": "toy", "dataset": "toyset", "synthetic": synthetic,
            "cells": [{"table": "Table 2", "row": "CNN", "column": "accuracy", "values": [0.78, 0.82, 0.80],
                       "ci": None, "note": ""},
                      {"table": "Table 2", "row": "CNN", "column": "f1", "values": [0.70, 0.72],
                       "ci": [0.65, 0.75], "note": "bootstrap"},
                      {"table": "Table 9", "row": "extra", "column": "accuracy", "values": [0.5], "note": ""}]}


def test_real_run_verdicts_and_schema(tmp_path, papers):
    run = tmp_path / "run"
    res = write_report(run, _reproduced(False))
    rows = {(t, r["row"], r["column"]): r for t, rs in res["tables"].items() for r in rs}
    acc = rows[("Table 2", "CNN", "accuracy")]
    # t interval of [0.78, 0.82, 0.80]: 0.8 ± t(0.975, 2) * 0.02 / sqrt(3)
    from scipy import stats
    h = stats.t.ppf(0.975, 2) * 0.02 / np.sqrt(3)
    assert acc["reproduced"]["mean"] == pytest.approx(0.8)
    assert acc["reproduced"]["std"] == pytest.approx(0.02)
    assert acc["reproduced"]["ci_low"] == pytest.approx(0.8 - h)
    assert acc["paper"] == pytest.approx(0.80) and acc["verdict"] == "within CI"
    assert rows[("Table 2", "CNN", "f1")]["verdict"] == "outside CI"  # 0.95 outside [0.65, 0.75]
    assert rows[("Table 3", "ViT", "auc")]["verdict"] == "not reproduced"
    assert rows[("Table 9", "extra", "accuracy")]["verdict"] == "no paper value"
    on_disk = json.loads((run / "results.json").read_text())
    assert set(on_disk) == {"paper", "dataset", "synthetic", "tables"}
    assert set(on_disk["tables"]["Table 2"][0]["reproduced"]) >= {"mean", "std", "ci_low", "ci_high", "n"}
    assert json.loads((run / "reproduced.json").read_text()) == _reproduced(False)
    assert SYNTHETIC_TITLE not in (run / "report.md").read_text()


def test_synthetic_run_titles_and_figures(tmp_path, papers):
    run = tmp_path / "run"
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    p = rng.dirichlet([1, 1, 1], 60)
    pd.DataFrame({"sample_id": range(60), "split": "test", "fold": 0, "run": 0, "y_true": y,
                  **{f"p_{i}": p[:, i] for i in range(3)}}).to_csv(run.mkdir() or run / "predictions.csv",
                                                                   index=False)
    pd.DataFrame({"epoch": [0, 1, 0, 1], "fold": [0, 0, 1, 1], "loss": [1, .8, 1.1, .7],
                  "val_loss": [1.2, 1, 1.3, .9], "accuracy": [.5, .6, .4, .6],
                  "val_accuracy": [.4, .5, .4, .5]}).to_csv(run / "history.csv", index=False)
    synthetic = _reproduced(True)
    synthetic["notes"] = ["a note"]
    res = write_report(run, synthetic)
    assert all(r["verdict"].startswith(("not comparable", "not reproduced", "no paper value"))
               for rs in res["tables"].values() for r in rs)
    md = (run / "report.md").read_text()
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings and all(SYNTHETIC_TITLE in h for h in headings)
    for name in ("roc.png", "confusion_matrix.png", "learning_curves.png"):
        assert (run / "figures" / name).read_bytes()[:4] == b"\x89PNG"
        assert f"figures/{name}" in md


def test_report_command_rerenders_and_rejects_bad_input(tmp_path, papers):
    run = tmp_path / "run"
    write_report(run, _reproduced(True))
    (run / "report.md").unlink()
    out = io.StringIO()
    assert report_command(str(run), out=out) == 0
    assert (run / "report.md").is_file() and "wrote" in out.getvalue()
    assert report_command(str(tmp_path / "nowhere"), out=io.StringIO()) == 2
    bad = _reproduced(True)
    bad["cells"][0]["values"] = []
    with pytest.raises(ReportError, match=r"cells\[0\].*values"):
        write_report(run, bad)
    (run / "reproduced.json").write_text(json.dumps(bad))
    assert report_command(str(run), out=io.StringIO()) == 2


def test_notes_are_rendered_and_t_interval_stays_in_unit_range(tmp_path, papers):
    reproduced = _reproduced(False)
    reproduced["cells"][0]["values"] = [0.2, 0.95]          # two folds: t(0.975, 1) = 12.7
    reproduced["notes"] = ["4 films without coordinates left out"]
    res = write_report(tmp_path / "run", reproduced)
    acc = next(r for r in res["tables"]["Table 2"] if r["column"] == "accuracy")["reproduced"]
    assert (acc["ci_low"], acc["ci_high"]) == (0.0, 1.0)   # unclipped: [-4.19, 5.34]
    assert "clipped" in acc["ci_source"]
    assert "- 4 films without coordinates left out" in (tmp_path / "run" / "report.md").read_text()
