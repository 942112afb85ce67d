"""Claims audit on hand-computed cases (issue #5) and its arithmetic against brute force."""
import io
import itertools
import json
import math

import numpy as np
import pytest

from mmfusion.evaluation import feasibility as fz
from mmfusion.evaluation.audit import audit_claims, audit_command
from mmfusion.evaluation.claims import validate_claims


def _claims(claims, protocol=None):
    return validate_claims({"paper": "t", "title": "t", "citation": "c", "dataset": "d",
                            "protocol": protocol or {}, "claims": claims})


def _m(table, row, column, value, scale="percent", **kw):
    return {"table": table, "row": row, "column": column, "value": value, "scale": scale, **kw}


def _by(findings, check):
    return [f for f in findings if f.check == check]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_max_sample_std_against_brute_force(k):
    grid = np.linspace(0, 1, 41 if k < 4 else 21)
    for mean in (0.3, 0.55, 0.9, 0.975):
        best = 0.0
        for xs in itertools.product(grid, repeat=k - 1):
            last = k * mean - sum(xs)
            if 0 <= last <= 1:
                best = max(best, float(np.std([*xs, last], ddof=1)))
        bound = fz.max_sample_std(mean, k)
        assert best <= bound + 1e-12
        assert best == pytest.approx(bound, abs=0.03)  # grid gets close to the vertex optimum


def test_hand_computed_max_std():
    # 0.9972 over 5: four values at 1, one at 0.986 -> SS = 4 + 0.986^2 - 5 * 0.9972^2
    ss = 4 + 0.986 ** 2 - 5 * 0.9972 ** 2
    assert fz.max_sample_std(0.9972, 5) == pytest.approx(math.sqrt(ss / 4))
    assert fz.max_sample_std(0.5, 2) == pytest.approx(math.sqrt(0.5))


def test_mean_09972_over_5_folds_cannot_have_std_005():
    f = _by(audit_claims(_claims([_m("A", "HMC", "accuracy", 0.9972, "fraction", pm=0.05, n=5)])),
            "std_bound")
    assert len(f) == 1 and f[0].severity == "impossible"
    assert "0.00637" in f[0].arithmetic
    assert "std in percentage points" in f[0].details["feasible"]
    assert not any(r.startswith("std in as printed") for r in f[0].details["feasible"])
    ok = audit_claims(_claims([_m("A", "HMC", "accuracy", 0.9972, "fraction", pm=0.005, n=5)]))
    assert _by(ok, "std_bound")[0].severity == "consistent"


def test_std_with_unknown_k_and_stated_sem():
    f = _by(audit_claims(_claims([_m("A", "M", "accuracy", 0.96, "fraction", pm=0.25)])), "std_bound")[0]
    assert f.severity == "impossible" and "k unknown" in f.arithmetic  # 0.25 > max ~0.2 for any k
    # 90 % over 10 runs: max std 0.316 (nine at 1, one at 0); a sem of 15 pp means std 0.474
    sem = _m("A", "M", "accuracy", 90.0, pm=15.0, n=10, pm_meaning="sem")
    assert fz.max_sample_std(0.9, 10) == pytest.approx(math.sqrt(0.9 / 9))
    assert _by(audit_claims(_claims([sem])), "std_bound")[0].severity == "impossible"
    std = dict(sem, pm_meaning="std")
    assert _by(audit_claims(_claims([std])), "std_bound")[0].severity == "consistent"


BUSI = {"test_size": 97, "test_class_counts": {"benign": 66, "malignant": 31}}


def test_busi_one_benign_error_consistent_with_explicit_averaging():
    claims = [_m("T5", "B-M", "accuracy", 98.97), _m("T5", "B-M", "sensitivity", 99.24, averaging="macro"),
              _m("T5", "B-M", "specificity", 98.48, averaging="binary")]
    f = _by(audit_claims(_claims(claims, BUSI)), "witness")
    assert len(f) == 1 and f[0].severity == "consistent"
    assert f[0].details["witnesses"] == [[[65, 1], [0, 31]]] and "exactly one witness" in f[0].message


def test_busi_unstated_averaging_needs_mixed_readings():
    claims = [_m("T5", "B-M", "accuracy", 98.97), _m("T5", "B-M", "sensitivity", 99.24),
              _m("T5", "B-M", "specificity", 98.48)]
    f = _by(audit_claims(_claims(claims, BUSI)), "witness")[0]
    assert f.severity == "inconsistent" and "no single averaging" in f.message
    assert "sensitivity): macro" in f.arithmetic


def test_busi_binary_sensitivity_9924_is_impossible():
    f = _by(audit_claims(_claims([_m("T5", "B-M", "sensitivity", 99.24, averaging="binary")], BUSI)),
            "witness")[0]
    assert f.severity == "impossible" and "no witness" in f.message  # 30/31 = 96.77 %, 31/31 = 100 %


def test_three_class_enumeration_counts_and_mias_matrix():
    cms = fz.enumerate_confusion_matrices([3, 2, 2])
    assert len(cms) == math.comb(5, 2) * math.comb(4, 2) * math.comb(4, 2)
    assert len({m.tobytes() for m in cms}) == len(cms)
    assert (cms.sum(axis=2) == [3, 2, 2]).all()
    pruned = fz.enumerate_confusion_matrices([31, 9, 8], allowed_correct={38})
    assert (np.trace(pruned, axis1=1, axis2=2) == 38).all()
    target = np.array([[29, 1, 1], [0, 6, 3], [1, 4, 3]])
    assert any((m == target).all() for m in pruned)
    # its macro metrics, by hand: recall (29/31 + 6/9 + 3/8) / 3
    i = next(i for i, m in enumerate(pruned) if (m == target).all())
    mac = fz.metrics_of_matrices(pruned[i:i + 1], "macro", ["n", "b", "m"])
    assert mac["recall"][0] == pytest.approx((29 / 31 + 6 / 9 + 3 / 8) / 3)
    assert mac["precision"][0] == pytest.approx((29 / 30 + 6 / 11 + 3 / 7) / 3)


def test_f1_harmonic_check():
    # decimals stated: YAML reads 0.80 as 0.8, which alone would mean one printed digit
    ok = [_m("T", "r", "precision", 0.80, "fraction", averaging="binary", decimals=2),
          _m("T", "r", "recall", 0.60, "fraction", averaging="binary", decimals=2),
          _m("T", "r", "f1", 0.69, "fraction", averaging="binary", decimals=2)]  # HM = 0.6857
    assert _by(audit_claims(_claims(ok)), "f1_harmonic")[0].severity == "consistent"
    high = [dict(c) for c in ok]
    high[2]["value"] = 0.75
    assert _by(audit_claims(_claims(high)), "f1_harmonic")[0].severity == "impossible"
    low_macro = [dict(c, averaging="macro") for c in ok]
    low_macro[2]["value"] = 0.62
    assert _by(audit_claims(_claims(low_macro)), "f1_harmonic")[0].severity == "consistent"  # macro may
    unstated = [dict(c, averaging=None) for c in low_macro]
    assert _by(audit_claims(_claims(unstated)), "f1_harmonic")[0].severity == "unverifiable"


def test_ci_range_and_same_quantity():
    claims = [_m("T1", "Fusion", "auc", 0.98, "fraction", ci=[0.929, 0.954]),
              _m("T1", "Fusion", "f1", 0.90, "fraction", ci=[0.881, 0.909]),
              _m("T2", "Fusion", "accuracy", 1.02, "fraction"),
              _m("T3", "Fusion", "accuracy", 0.96, "fraction"),
              _m("T4", "Fusion", "accuracy", 96.4, "percent")]
    found = audit_claims(_claims(claims))
    ci = {f.claims[0]: f.severity for f in _by(found, "ci_contains")}
    assert ci == {"claim 0 (T1 / Fusion / auc)": "impossible", "claim 1 (T1 / Fusion / f1)": "consistent"}
    assert [f.severity for f in _by(found, "range")] == ["impossible"]
    same = {tuple(f.claims): f.severity for f in _by(found, "same_quantity")}
    assert same[("claim 3 (T3 / Fusion / accuracy)", "claim 4 (T4 / Fusion / accuracy)")] == "consistent"
    assert same[("claim 2 (T2 / Fusion / accuracy)", "claim 3 (T3 / Fusion / accuracy)")] == "inconsistent"


def test_per_run_list_and_its_mean():
    runs = [.792, .8125, .792, .792, .833, .6875, .8125, .708, .75, .771]
    claims = [_m("T3", "CNN runs", "accuracy", runs, "fraction"),
              _m("T3", "CNN", "accuracy", 0.77, "fraction", n=10,
                 same_as={"table": "T3", "row": "CNN runs", "column": "accuracy"})]
    found = audit_claims(_claims(claims, {"test_size": 48, "runs": 10,
                                          "test_class_counts": {"n": 31, "b": 9, "m": 8}}))
    assert all(f.severity == "consistent" for f in _by(found, "grim"))  # every run is k/48; mean k/480
    same = _by(found, "same_quantity")[0]
    assert same.severity == "consistent" and "0.77505" in same.message  # 0.775 truncates/rounds-even to 0.77


def test_audit_command_all_and_json(tmp_path, monkeypatch):
    import yaml
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({
        "paper": "p", "title": "t", "citation": "c", "dataset": "d",
        "claims": [_m("A", "HMC", "accuracy", 0.9972, "fraction", pm=0.05, n=5)]}))
    (tmp_path / "bad.yaml").write_text("paper: bad\n")
    monkeypatch.setenv("MMFUSION_PAPERS_DIR", str(tmp_path))
    out = io.StringIO()
    assert audit_command("all", out=out) == 2  # bad.yaml is invalid, p.yaml still audited
    text = out.getvalue()
    assert "INVALID CLAIMS FILE" in text and "[IMPOSSIBLE] std_bound" in text
    out = io.StringIO()
    assert audit_command("p", as_json=True, out=out) == 0
    data = json.loads(out.getvalue())
    assert data["p"]["findings"][0]["severity"] == "impossible"
    assert data["p"]["counts"] == {"total": 1, "numbers": 2, "metric": 1}  # the value and its ±
    assert data["p"]["severity_counts"]["impossible"] == 1
    assert audit_command("nope", out=io.StringIO()) == 2


def test_audit_runs_on_repository_claim_files():
    from mmfusion.evaluation.claims import available_papers
    out = io.StringIO()
    assert audit_command("all", out=out) == 0
    text = out.getvalue()
    for paper in available_papers():
        assert f"== {paper}:" in text
        section = text.split(f"== {paper}:")[1].split("\n== ")[0]
        seen = [s for s in ("[IMPOSSIBLE]", "[INCONSISTENT]", "[UNVERIFIABLE]", "[CONSISTENT]")
                if s in section]
        assert seen == sorted(seen, key=lambda s: section.index(s))  # worst first
