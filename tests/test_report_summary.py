"""The report a reviewer reads: the summary's counts are the tables' verdicts, exact counts read as
integers without intervals, a tighter δ is applied and explained, report.html is self-contained,
and `mmfusion verify` names the file / cell that was edited."""
import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, recall_score

from mmfusion.evaluation import report as R
from mmfusion.evaluation.summary import verdict_counts

AUTHORS = [0.792, 0.8125, 0.792, 0.792, 0.833, 0.6875, 0.8125, 0.708, 0.75, 0.771]


def _predictions(seed=2, runs=3, n=48):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], [31, 9, 8])
    frames = []
    for r in range(1, runs + 1):
        pred = np.where(rng.random(n) < 0.68, y, rng.integers(0, 3, n))
        p = np.eye(3)[pred] * 0.7 + 0.1
        frames.append(pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "protocol": "stratified",
                                    "split": "test", "fold": 0, "run": r, "y_true": y,
                                    **{f"p_{c}": p[:, c] for c in range(3)}}))
    return pd.concat(frames, ignore_index=True)


def _cells(pred):
    where = {"protocol": "stratified", "split": "test"}
    groups = [g for _, g in pred.groupby("run")]
    acc = [accuracy_score(g["y_true"], g[["p_0", "p_1", "p_2"]].to_numpy().argmax(1)) for g in groups]
    benign = [recall_score(g["y_true"], g[["p_0", "p_1", "p_2"]].to_numpy().argmax(1), labels=[1],
                           average=None)[0]
              for g in groups]
    cells = [{"table": "Table Runs", "row": f"run {r + 1}", "column": "accuracy", "values": [a], "n_test": 48,
              "bounds": [0, 1],
              "derive": {"where": where, "by": "run", "groups": [r + 1], "metric": "accuracy"}}
             for r, a in enumerate(acc)]
    cells += [{"table": "Table Runs", "row": "retrained models", "column": "runs", "values": [len(acc)]},
              {"table": "Table Metrics", "row": "CNN", "column": "accuracy", "values": acc, "n_test": 48,
               "bounds": [0, 1], "derive": {"where": where, "by": "run", "metric": "accuracy"}},
              {"table": "Table Metrics", "row": "benign", "column": "recall", "values": benign,
               "bounds": [0, 1],
               "derive": {"where": where, "by": "run", "metric": "recall", "class": 1}},
              {"table": "Test set", "row": "normal", "column": "images", "values": [31]}]
    return cells


@pytest.fixture()
def run_dir(tmp_path):
    """A finished run as the template leaves it: files, report, manifest with output hashes."""
    from mmfusion.experiment import record_outputs

    pred = _predictions()
    pred.to_csv(tmp_path / "predictions.csv", index=False)
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": 0.8}))
    (tmp_path / "manifest.json").write_text(json.dumps({"git_commit": "abc", "tensorflow": "2.21.0"}))
    (tmp_path / "figures").mkdir()
    R.write_report(tmp_path,
                   {"paper": "mias-xai", "dataset": "mias", "synthetic": False, "cells": _cells(pred),
                              "run": {"wall_s": 12.0, "changed": {"runs": 3}}})
    record_outputs(tmp_path)
    return tmp_path


def test_summary_counts_are_the_tables_verdicts(run_dir):
    results = json.loads((run_dir / "results.json").read_text())
    words = [r["verdict"] for rows in results["tables"].values() for r in rows]
    expected = {"consistent": sum(w.startswith("consistent") or w == "equal" for w in words),
                "lower": sum(w == "lower" for w in words), "higher": sum(w == "higher" for w in words),
                "inconclusive": sum(w.startswith("inconclusive") for w in words),
                "not comparable": sum(w.startswith("not comparable") for w in words),
                "not reproduced": sum(w == "not reproduced" for w in words)}
    assert verdict_counts(results) == expected and sum(expected.values()) > 5
    text = (run_dir / "report.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith("**Verdicts**"))
    assert line == f"**Verdicts** ({sum(expected.values())} cells): " + " · ".join(
        f"{v} {k}" for k, v in expected.items())
    # the summary comes first: before any table of the paper, with the run's facts
    assert text.index("## Summary") < text.index("## Table Runs") and "| wall time | 12 s |" in text
    assert "changed options: runs=3" in text and "| commit | abc |" in text
    assert "**Audit of the paper's own numbers**: 0 impossible · 0 inconsistent" in text
    # key cells: the headline rows of the claims file
    key = text[text.index("### Key cells"):text.index("## Table Runs")]
    assert "| Table Metrics | CNN | accuracy |" in key and "| Table Runs | runs 1-10 | accuracy |" in key


def test_exact_counts_read_as_integers_without_intervals(run_dir):
    text = (run_dir / "report.md").read_text()
    row = next(x for x in text.splitlines() if x.startswith("| retrained models | runs |"))
    assert row.split(" | ")[2:7] == ["10", "3", "—", "-7", "lower"]      # 3 of the authors' 10: exact
    row = next(x for x in text.splitlines() if x.startswith("| normal | images |"))
    assert row.split(" | ")[2:7] == ["31", "31", "—", "0", "equal"]
    assert "± —" not in text and "[-7" not in text


def test_consistent_names_its_margin_and_a_tighter_tolerance_is_explained(run_dir):
    results = json.loads((run_dir / "results.json").read_text())
    (cnn,
     ) = [r for r in results["tables"]["Table Metrics"] if r["row"] == "CNN" and r["column"] == "accuracy"]
    assert cnn["verdict"] == "consistent within ±0.2"
    assert R.report_command(str(run_dir), tolerance=0.02) == 0
    tight = json.loads((run_dir / "results.json").read_text())
    (cnn,) = [r for r in tight["tables"]["Table Metrics"] if r["row"] == "CNN" and r["column"] == "accuracy"]
    half = (cnn["difference"]["ci_high"] - cnn["difference"]["ci_low"]) / 2
    assert half > 0.02 and cnn["verdict"].startswith("inconclusive")
    text = (run_dir / "report.md").read_text()
    assert "δ = ±0.02 for every cell" in text and "cannot be called consistent at this δ" in text


def test_html_is_self_contained_and_embeds_every_figure(run_dir):
    from PIL import Image

    for name in ("a", "b"):
        Image.new("RGB", (4, 3), (200, 10, 10)).save(run_dir / "figures" / f"{name}.png")
    assert R.report_command(str(run_dir)) == 0
    page = (run_dir / "report.html").read_text()
    assert not re.search(r"(src|href)=[\"']?(https?:|//)", page) and "<link" not in page
    assert "@import" not in page and "url(" not in page
    for png in (run_dir / "figures").glob("*.png"):
        assert base64.b64encode(png.read_bytes()).decode() in page, png.name
    assert page.count("<table class=data>") == (run_dir / "report.md").read_text().count("\n|---|")
    assert "<th>verdict</th>" in page and "filter rows" in page


def test_verify_passes_then_names_the_edited_file_and_cell(run_dir, capsys):
    from mmfusion.evaluation.verify import verify_command

    assert verify_command(str(run_dir)) == 0
    assert "VERIFIED" in capsys.readouterr().out
    metrics = run_dir / "metrics.json"
    metrics.write_text(json.dumps({"accuracy": 0.9}))
    assert verify_command(str(run_dir)) == 1
    out = capsys.readouterr().out
    assert "NOT VERIFIED" in out and "file metrics.json: content differs" in out
    metrics.write_text(json.dumps({"accuracy": 0.8}))
    pred = pd.read_csv(run_dir / "predictions.csv")
    pred.loc[(pred["run"] == 2) & (pred["y_true"] == 0), ["p_0", "p_1"]] = [0.0, 1.0]
    pred.to_csv(run_dir / "predictions.csv", index=False)
    assert verify_command(str(run_dir)) == 1
    out = capsys.readouterr().out
    assert "file predictions.csv: content differs" in out
    assert "cell Table Runs / run 2 / accuracy: predictions.csv gives" in out
    assert "cell Table Metrics / CNN / accuracy" in out and "run 1 / accuracy" not in out


def test_verify_recomputes_the_verdicts(run_dir, capsys):
    from mmfusion.evaluation.verify import verify_command

    results = json.loads((run_dir / "results.json").read_text())
    results["tables"]["Table Metrics"][0]["verdict"] = "higher"
    (run_dir / "results.json").write_text(json.dumps(results))
    assert verify_command(str(run_dir)) == 1
    assert "verdict Table Metrics / CNN / accuracy: results.json says 'higher'" in capsys.readouterr().out
