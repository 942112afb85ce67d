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
                      {"table": "Table 9", "row": "extra", "column": "accuracy", "values": [0.5],
                       "note": ""}]}


def test_real_run_verdicts_and_schema(tmp_path, papers):
    run = tmp_path / "run"
    reproduced = _reproduced(False)
    reproduced["cells"][0]["n_test"] = 400
    res = write_report(run, reproduced)
    rows = {(t, r["row"], r["column"]): r for t, rs in res["tables"].items() for r in rs}
    acc = rows[("Table 2", "CNN", "accuracy")]
    assert acc["reproduced"]["mean"] == pytest.approx(0.8)
    assert acc["reproduced"]["std"] == pytest.approx(0.02)
    # the paper's 80.0 % has no spread and no test size: the difference's interval is ours, shifted;
    # ours is Wilson on the effective n of (run variance 0.02²/3 + binomial 0.16/400)
    n_eff = 0.16 / (0.02 ** 2 / 3 + 0.16 / 400)
    from statsmodels.stats.proportion import proportion_confint
    lo, hi = proportion_confint(0.8 * n_eff, n_eff, method="wilson")
    assert (acc["reproduced"]["ci_low"], acc["reproduced"]["ci_high"]) == pytest.approx((lo, hi))
    assert (acc["difference"]["ci_low"], acc["difference"]["ci_high"]) == pytest.approx((lo - 0.8, hi - 0.8))
    assert acc["paper"] == pytest.approx(0.80) and acc["verdict"] == "consistent within ±0.2"
    f1 = rows[("Table 2", "CNN", "f1")]   # 0.95 above the given [0.65, 0.75]: ours is lower
    assert f1["verdict"] == "lower" and f1["difference"]["value"] == pytest.approx(0.71 - 0.95)
    assert rows[("Table 3", "ViT", "auc")]["verdict"] == "not reproduced"
    assert rows[("Table 9", "extra", "accuracy")]["verdict"] == "no paper value"
    on_disk = json.loads((run / "results.json").read_text())
    assert {"paper", "dataset", "synthetic", "tables"} <= set(on_disk)
    assert set(on_disk["tables"]["Table 2"][0]["reproduced"]) >= {"mean", "std", "ci_low", "ci_high", "n"}
    assert json.loads((run / "reproduced.json").read_text()) == reproduced
    md = (run / "report.md").read_text()
    assert SYNTHETIC_TITLE not in md and "Verdict rule" in md and "QUICK" not in md


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


def test_notes_are_rendered_and_two_fold_interval_stays_in_unit_range(tmp_path, papers):
    reproduced = _reproduced(False)
    reproduced["cells"][0]["values"] = [0.2, 0.95]          # two folds: t(0.975, 1) = 12.7
    reproduced["notes"] = ["4 films without coordinates left out"]
    res = write_report(tmp_path / "run", reproduced)
    acc = next(r for r in res["tables"]["Table 2"] if r["column"] == "accuracy")
    rep = acc["reproduced"]
    assert 0 <= rep["ci_low"] < 0.2 and 0.95 < rep["ci_high"] <= 1   # a t interval: [-4.19, 5.34]
    assert acc["verdict"].startswith("inconclusive")
    assert "- 4 films without coordinates left out" in (tmp_path / "run" / "report.md").read_text()


def test_quick_and_partial_runs_say_so_and_are_never_consistent(tmp_path, papers):
    reproduced = _reproduced(False)
    reproduced.update(quick=True, data={"n": 10, "N": 322})
    reproduced["cells"][0].update(values=[0.8, 0.8], n_test=4000)   # would be "consistent"
    res = write_report(tmp_path / "run", reproduced)
    verdicts = [r["verdict"] for rs in res["tables"].values() for r in rs]
    assert not any(v.startswith("consistent") for v in verdicts)
    acc = next(r for r in res["tables"]["Table 2"] if r["column"] == "accuracy")
    assert acc["verdict"] == "not comparable (quick run; partial data: 10 of 322 images)"
    md = (tmp_path / "run" / "report.md").read_text()
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert all("QUICK" in h and "PARTIAL DATA (10 of 322 images)" in h for h in headings)
    reproduced.update(quick=False, data={"n": 322, "N": 322}, protocol_note="patient-grouped folds")
    res = write_report(tmp_path / "run", reproduced)
    acc = next(r for r in res["tables"]["Table 2"] if r["column"] == "accuracy")
    assert acc["verdict"] == "not comparable (different protocol: patient-grouped folds)"
    assert "PARTIAL" not in (tmp_path / "run" / "report.md").read_text()


def test_count_cell_gets_a_bounded_interval(tmp_path, monkeypatch):
    d = tmp_path / "papers"
    d.mkdir()
    claims = dict(CLAIMS, claims=[{"table": "CM", "row": "true benign", "column": "pred normal",
                                   "value": 0, "kind": "count"}])
    (d / "toy.yaml").write_text(yaml.safe_dump(claims))
    monkeypatch.setenv("MMFUSION_PAPERS_DIR", str(d))
    cell = {"table": "CM", "row": "true benign", "column": "pred normal", "values": [0, 1]}
    for extra in ({}, {"n_test": 48}):
        res = write_report(tmp_path / "run", {"paper": "toy", "dataset": "toyset", "synthetic": False,
                                              "cells": [dict(cell, **extra)]})
        rep = res["tables"]["CM"][0]["reproduced"]
        assert rep["std"] == pytest.approx(np.sqrt(0.5)) and rep["ci_low"] >= 0   # was [-0.0058, ...]


@pytest.mark.parametrize("bad,field", [({"claims": [{"table": "T", "row": "r", "column": "accuracy",
                                                     "value": "high", "scale": "fraction"}]}, "value"),
                                       ({"claims": [{"table": "T", "row": "r", "column": "accuracy",
                                                     "value": 0.8, "scale": "percentage"}]}, "scale")])
def test_broken_claims_file_fails_loudly(tmp_path, papers, bad, field):
    (papers / "toy.yaml").write_text(yaml.safe_dump(dict(CLAIMS, **bad)))
    from mmfusion.evaluation.claims import ClaimsError
    with pytest.raises(ClaimsError, match=rf"toy\.yaml.*{field}"):
        write_report(tmp_path / "run", _reproduced(False))
    out = io.StringIO()
    assert report_command(str(tmp_path / "run"), out=out) == 2
    assert "toy.yaml" in out.getvalue() and field in out.getvalue()
    assert "No claims file found" not in out.getvalue()


def test_unparsable_claims_yaml_names_the_file(tmp_path, papers):
    (papers / "toy.yaml").write_text("paper: toy\nclaims: [\n  {table: T, value: 0.8\n")
    from mmfusion.evaluation.claims import ClaimsError
    with pytest.raises(ClaimsError, match=r"toy\.yaml.*line"):
        write_report(tmp_path / "run", _reproduced(False))


def test_bad_contract_fields_are_named(tmp_path, papers):
    for field, value in (("n_test", 0), ("bounds", [1, 0]), ("test_sets", "folds"), ("boot", ["x"])):
        bad = _reproduced(False)
        bad["cells"][0][field] = value
        with pytest.raises(ReportError, match=rf"cells\[0\].*{field}"):
            write_report(tmp_path / "run", bad)
    bad = dict(_reproduced(False), data={"n": 400, "N": 322})
    with pytest.raises(ReportError, match="reproduced.data"):
        write_report(tmp_path / "run", bad)
