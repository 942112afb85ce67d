"""Claims schema: validator messages name file, claim index and field; every repo file loads."""
from pathlib import Path

import pytest
import yaml

from mmfusion.evaluation.claims import ClaimsError, available_papers, load_claims, papers_dir, validate_claims

BASE = {"paper": "p", "title": "t", "citation": "c", "dataset": "d",
        "claims": [{"table": "T1", "row": "r", "column": "accuracy", "value": 0.9, "scale": "fraction"}]}


def _with(**claim_fields):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    data["claims"][0].update(claim_fields)
    return data


@pytest.mark.parametrize("field,value,expected", [
    ("scale", "percentage", "claims[0] field 'scale'"),
    ("pm_meaning", "sd", "claims[0] field 'pm_meaning'"),
    ("ci", [0.8], "claims[0] field 'ci'"),
    ("n", 0, "claims[0] field 'n'"),
    ("value", "high", "claims[0] field 'value'"),
    ("averaging", "average", "claims[0] field 'averaging'"),
    ("kind", "score", "claims[0] field 'kind'"),
])
def test_bad_fields_are_named(field, value, expected):
    with pytest.raises(ClaimsError, match=expected.replace("[", r"\[").replace("]", r"\]")) as e:
        validate_claims(_with(**{field: value}), where="papers/p.yaml")
    assert "papers/p.yaml" in str(e.value)


def test_missing_fields_and_inconsistent_protocol():
    data = _with()
    del data["claims"][0]["value"]
    with pytest.raises(ClaimsError, match=r"claims\[0\] field 'value'"):
        validate_claims(data)
    with pytest.raises(ClaimsError, match="'citation' is required"):
        validate_claims({k: v for k, v in BASE.items() if k != "citation"})
    with pytest.raises(ClaimsError, match="sum to 40"):
        validate_claims(dict(BASE, protocol={"test_size": 48, "test_class_counts": {"a": 31, "b": 9}}))


def test_fidelity_rows_are_checked_with_the_claims():
    good = [{"detail": "optimiser", "paper": "Adam (§3)", "field": "optimizer", "value": "adam"}]
    assert validate_claims(dict(BASE, fidelity=good)).fidelity == good
    for bad in ([{"detail": "optimiser"}], [{"detail": "d", "paper": "p", "reason": "r"}], {"detail": "d"}):
        with pytest.raises(ClaimsError, match="'fidelity' must be a list of mappings with detail, paper"):
            validate_claims(dict(BASE, fidelity=bad), where="papers/p.yaml")


def test_unknown_fields_warn_and_lists_are_values():
    claims = validate_claims(_with(page=4, value=[0.8, 0.9]))
    assert claims.claims[0].extra == {"page": 4} and "unknown fields ['page']" in claims.warnings[0]
    assert not claims.claims[0].is_scalar


def test_load_from_env_dir(tmp_path, monkeypatch):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BASE))
    monkeypatch.setenv("MMFUSION_PAPERS_DIR", str(tmp_path))
    assert papers_dir() == tmp_path and available_papers() == ["p"]
    c = load_claims("p")
    assert c.find("T1", "r", "accuracy")[0].value == 0.9 and c.path == tmp_path / "p.yaml"
    with pytest.raises(ClaimsError, match="available: p"):
        load_claims("q")


def test_repository_claim_files_validate():
    papers = available_papers()
    assert papers, "papers/*.yaml missing"
    for paper in papers:
        claims = load_claims(paper)
        assert claims.paper == paper and claims.claims


def test_package_import_stays_light():
    import subprocess
    import sys
    code = ("import sys, mmfusion.evaluation as e; e.load_claims; "
            "print('tensorflow' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_papers_dir_falls_back_to_the_wheel_installed_copy(tmp_path, monkeypatch):
    import sysconfig

    import mmfusion
    from mmfusion.evaluation.claims import papers_dir

    monkeypatch.delenv("MMFUSION_PAPERS_DIR", raising=False)
    assert papers_dir() == Path(mmfusion.__file__).resolve().parents[1] / "papers"   # checkout
    site = tmp_path / "site-packages" / "mmfusion"          # a wheel install: no papers/ beside it
    site.mkdir(parents=True)
    monkeypatch.setattr(mmfusion, "__file__", str(site / "__init__.py"))
    installed = tmp_path / "prefix" / "share" / "mmfusion" / "papers"
    installed.mkdir(parents=True)
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path / "prefix"))
    assert papers_dir() == installed


# --- precise errors: file, line, field --------------------------------------------------------
GOOD_YAML = """paper: p
title: t
citation: c
dataset: d
claims:
  - {table: T1, row: r, column: accuracy, value: 0.9, scale: fraction}
  - table: T1
    row: s
    column: f1
    value: 0.8
    scale: fraction
    averaging: {averaging}
"""


def test_bad_field_names_file_line_and_field(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(GOOD_YAML.replace("{averaging}", "macro"))
    assert load_claims(p).claims[1].line == 7
    p.write_text(GOOD_YAML.replace("{averaging}", "average"))
    with pytest.raises(ClaimsError) as e:
        load_claims(p)
    assert (e.value.path, e.value.line, e.value.field) == (str(p), 12, "averaging")
    assert f"{p} (line 12): claims[1] field 'averaging'" in str(e.value)
    # a flow-style claim: every field is on the claim's line
    p.write_text(GOOD_YAML.replace("scale: fraction}", "scale: percentage}").replace("{averaging}", "macro"))
    with pytest.raises(ClaimsError, match=r"\(line 6\): claims\[0\] field 'scale'"):
        load_claims(p)


def test_missing_field_names_the_claims_line_and_yaml_errors_their_line(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(GOOD_YAML.replace("    value: 0.8\n", "").replace("{averaging}", "macro"))
    with pytest.raises(ClaimsError) as e:
        load_claims(p)
    assert (e.value.line, e.value.field) == (7, "value")
    p.write_text(GOOD_YAML.replace("{averaging}", "macro").replace("row: s", "row: [s"))
    with pytest.raises(ClaimsError, match="not valid YAML") as e:
        load_claims(p)
    assert e.value.line is not None and f"(line {e.value.line})" in str(e.value) and e.value.path == str(p)


# --- the repository's claims files: every number transcribed, with its source -------------------
MIN_CLAIMS = {"multimodal-fusion": 95, "effnetv2-smote": 90, "ft-multicnn": 12}


def test_repository_claim_counts_and_sources():
    from mmfusion.evaluation.claims import claims_summary
    for paper in available_papers():
        claims, summary = load_claims(paper), claims_summary(paper)
        assert summary["total"] == len(claims.claims) >= MIN_CLAIMS.get(paper, 1), paper
        assert sum(v for k, v in summary.items() if k not in ("total", "numbers")) == summary["total"]
        assert all(c.source for c in claims.claims), f"{paper}: a claim without source"
        assert not claims.warnings, claims.warnings
        for c in claims.claims:  # every link points somewhere
            for link in [c.same_as, c.describes, *(c.sum_of or []), *(c.against or [])]:
                assert (link is None or link.get("row") is None or claims.find_ref(link)
                        or c.kind == "p_value"), (paper, c.ref(), link)
    # hmcnet has its abstract only: 6 means with their 6 ± values, the Friedman p (13 numbers), its
    # 0.05 threshold and the 5 folds
    hm = claims_summary("hmcnet")
    assert hm["numbers"] == 15 and hm["metric"] == 6 and hm["p_value"] == 1
    assert all("PMLR 248" in c.source and "abstract only" in c.source for c in load_claims("mias-xai").claims)


def test_fixed_mislabels():
    mmf, eff = load_claims("multimodal-fusion"), load_claims("effnetv2-smote")
    assert mmf.find("Table 3", "(Vo et al., 2021)", "auc")[0].value == 0.945
    assert mmf.find("Table 3", "(Vo et al., 2021)", "precision")[0].value == 0.82
    assert {c.row for c in mmf.claims if c.table == "Table 1" and c.kind == "metric"} == {"Our Framework"}
    assert [c.value for c in eff.claims if c.table == "Table 1" and c.column == "Test Set"] == [66, 31, 97]
    assert [c.value for c in eff.claims if c.table == "Table 2" and c.column == "Test Set"] == [111, 111, 222]
    rows = {c.row for c in mmf.claims if c.table == "Table 2"}
    assert {"Integrated but unweighted approach",
            "Feature-Specific Modality Integration"} <= rows and len(rows) == 5
