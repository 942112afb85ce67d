"""Witness confusion matrices on hand-made rows whose answer is known, checked against a brute
force written here from the textbook formulas (not mmfusion.evaluation.feasibility)."""
import itertools

import pytest

from mmfusion.evaluation.audit import audit_claims, audit_markdown
from mmfusion.evaluation.claims import validate_claims

BUSI = {"test_size": 97, "test_class_counts": {"benign": 66, "malignant": 31}}


def _claims(rows, protocol=BUSI):
    return validate_claims({"paper": "t", "title": "t", "citation": "c", "dataset": "d",
                            "protocol": protocol, "claims": rows})


def _m(row, column, value, **kw):
    return {"table": "T5", "row": row, "column": column, "value": value, "scale": "percent",
            "decimals": 2, "source": f"hand-made {row}", **kw}


def _witness(findings, row):
    return next(f for f in findings if f.check == "witness" and f.details["row"] == row)


def _brute_force_busi():
    """All 2 x 2 matrices (66 benign, 31 malignant) printing as 98.97 / 98.82 / 99.24 / 98.48 with
    macro F1 and recall, binary specificity (malignant positive), rounded to 2 decimals."""
    out = []
    for bb, mm in itertools.product(range(67), range(32)):
        bm, mb = 66 - bb, 31 - mm
        rec = [bb / 66, mm / 31]
        prec = [bb / (bb + mb) if bb + mb else 0, mm / (mm + bm) if mm + bm else 0]
        f1 = [2 * p * r / (p + r) if p + r else 0 for p, r in zip(prec, rec)]
        vals = [(bb + mm) / 97, sum(f1) / 2, sum(rec) / 2, bb / 66]
        if [round(100 * v, 2) for v in vals] == [98.97, 98.82, 99.24, 98.48]:
            out.append([[bb, bm], [mb, mm]])
    return out


def test_row_with_exactly_one_witness_matches_brute_force():
    rows = [_m("B-M", "accuracy", 98.97), _m("B-M", "f1", 98.82, averaging="macro"),
            _m("B-M", "sensitivity", 99.24, averaging="macro"),
            _m("B-M", "specificity", 98.48, averaging="binary", positive="malignant")]
    f = _witness(audit_claims(_claims(rows)), "B-M")
    assert _brute_force_busi() == [[[65, 1], [0, 31]]]
    assert f.severity == "consistent" and f.details["witnesses"] == [[[65, 1], [0, 31]]]
    assert f.details["count"] == 1 and "exactly one witness" in f.message
    assert all("hand-made B-M" in c for c in f.claims)  # findings cite the claims' sources


def test_row_with_no_witness():
    # binary sensitivity 99.24 % needs 30.76 of 31 malignant images: no integer does it
    rows = [_m("X", "accuracy", 98.97),
            _m("X", "sensitivity", 99.24, averaging="binary", positive="malignant")]
    f = _witness(audit_claims(_claims(rows)), "X")
    assert f.severity == "impossible" and f.details["witnesses"] == [] and "no witness" in f.message
    assert "**none**" in _markdown(rows)


def test_mixed_rounding_is_inconsistent_and_stated_rounding_impossible():
    # 221/222 = 99.5495...: 99.55 rounded, 99.54 truncated; 110/111 = 99.099 truncates to 99.09
    mri = {"test_size": 222, "test_class_counts": {"healthy": 111, "sick": 111}}
    rows = [_m("MRI", "accuracy", 99.55), _m("MRI", "sensitivity", 99.54, averaging="macro"),
            _m("MRI", "specificity", 99.09, averaging="binary", positive="sick")]
    f = _witness(audit_claims(_claims(rows, mri)), "MRI")
    assert f.severity == "inconsistent" and f.details["witnesses"] == [[[110, 1], [0, 111]]]
    assert "rounded and others truncated" in f.message
    rounded = [dict(r, rounding="round") for r in rows]
    assert _witness(audit_claims(_claims(rounded, mri)), "MRI").severity == "impossible"


def test_three_classes_one_error_pins_the_matrix():
    # 117 = 66 / 31 / 20, 116 correct; macro recall 99.49 -> the error is a benign image
    # ((1 + 1 + 65/66) / 3 = 99.495); macro specificity 99.61 -> it was called malignant
    bmn = {"test_size": 117, "test_class_counts": {"benign": 66, "malignant": 31, "normal": 20}}
    rows = [_m("BMN", "accuracy", 99.15), _m("BMN", "recall", 99.49, averaging="macro"),
            _m("BMN", "specificity", 99.61, averaging="macro")]
    f = _witness(audit_claims(_claims(rows, bmn)), "BMN")
    assert f.details["witnesses"] == [[[65, 1, 0], [0, 31, 0], [0, 0, 20]]]
    assert round(100 * (1 + 85 / 86 + 1) / 3, 2) == 99.61


def _markdown(rows, tmp=None):
    import tempfile
    from pathlib import Path

    import yaml
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.yaml"
        p.write_text(yaml.safe_dump({"paper": "t", "title": "t", "citation": "c", "dataset": "d",
                                     "protocol": BUSI, "claims": rows}))
        return audit_markdown(p)


def test_markdown_puts_the_witness_beside_the_row():
    rows = [_m("B-M", "accuracy", 98.97), _m("B-M", "sensitivity", 99.24, averaging="macro"),
            _m("B-M", "specificity", 98.48, averaging="binary", positive="malignant")]
    md = _markdown(rows)
    line = next(x for x in md.splitlines() if x.startswith("| T5 | B-M |"))
    assert "exactly one: [[65, 1], [0, 31]] (benign, malignant)" in line and "| consistent |" in line


@pytest.mark.parametrize("paper,row,expected", [
    ("effnetv2-smote", "BUSI B-M", [[[65, 1], [0, 31]]]),
    ("effnetv2-smote", "with SMOTE", [[[65, 1], [0, 31]]]),
    ("effnetv2-smote", "without SMOTE", [[[65, 1], [1, 30]]]),
])
def test_repository_rows_with_one_witness(paper, row, expected):
    from mmfusion.evaluation.claims import load_claims
    f = _witness(audit_claims(load_claims(paper)), row)
    assert f.severity == "consistent" and f.details["witnesses"] == expected
