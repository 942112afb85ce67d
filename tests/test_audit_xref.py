"""Cross-references, counts and significance checks on hand-made claims files with known answers."""
from mmfusion.evaluation.audit import audit_claims
from mmfusion.evaluation.audit_counts import DOWNLOAD_COUNTS
from mmfusion.evaluation.claims import validate_claims


def _claims(rows):
    return validate_claims({"paper": "t", "title": "t", "citation": "c", "dataset": "d", "claims": rows})


def _c(table, row, column, value, kind="metric", **kw):
    base = {"table": table, "row": row, "column": column, "value": value, "kind": kind, "source": "hand-made"}
    if kind in ("metric", "text", "literature"):
        base.update(scale="fraction", decimals=2)
    return {**base, **kw}


def _by(rows, check):
    return [f for f in audit_claims(_claims(rows)) if f.check == check]


TABLE = [_c("Table 1", "Other et al.", "accuracy", 0.83, "literature"),
         _c("Table 1", "Other et al.", "precision", 0.84, "literature"),
         _c("Table 1", "Other et al.", "auc", 0.87, "literature"),
         _c("Table 2", "Concat", "auc", 0.81), _c("Table 2", "Co-attention", "auc", 0.91),
         _c("Table 2", "Co-attention", "f1", 0.87)]


def test_text_number_matching_no_row_of_its_table():
    rows = TABLE + [_c("§2 text", "attention fusion", "auc", 0.890, "text", decimals=3,
                       describes={"table": "Table 2"}),
                    _c("§2 text", "co-attention", "auc", 0.910, "text", decimals=3,
                       describes={"table": "Table 2"})]
    found = {f.claims[0].split(": ")[0]: f for f in _by(rows, "xref")}
    miss = found["claim 6 (§2 text / attention fusion / auc)"]
    assert miss.severity == "inconsistent" and "matches no row of Table 2" in miss.message
    hit = found["claim 7 (§2 text / co-attention / auc)"]
    assert hit.severity == "consistent" and "Table 2 / Co-attention / auc" in hit.message


def test_text_row_that_repeats_another_studys_row():
    rows = TABLE + [_c("§1 text", "best unimodal", "accuracy", 0.830, "text", decimals=3,
                       describes={"table": "Table 1"}),
                    _c("§1 text", "best unimodal", "precision", 0.840, "text", decimals=3,
                       describes={"table": "Table 1"})]
    found = _by(rows, "xref")
    twin = [f for f in found if "another study's:" in f.message]
    assert len(twin) == 1 and twin[0].severity == "inconsistent"
    assert twin[0].details["twin"] == ["Table 1", "Other et al."]
    assert "accuracy 0.830 = 0.83" in twin[0].message
    # one shared number is a coincidence, not a twin; a clashing metric rules the row out
    single = TABLE + [_c("§1 text", "x", "accuracy", 0.83, "text")]
    assert not [f for f in _by(single, "xref") if "another study's:" in f.message]
    clash = rows + [_c("§1 text", "best unimodal", "auc", 0.99, "text")]
    assert not [f for f in _by(clash, "xref") if "another study's:" in f.message]


def test_two_printings_that_disagree():
    link = {"table": "Table 2", "row": "Co-attention", "column": "auc"}
    ok = TABLE + [_c("Abstract", "co", "auc", 0.910, "text", decimals=3, same_as=link)]
    bad = TABLE + [_c("Abstract", "co", "auc", 0.93, "text", same_as=link)]
    assert {f.severity for f in _by(ok, "same_quantity")} == {"consistent"}
    assert [f.severity for f in _by(bad, "same_quantity")] == ["inconsistent"]
    # "over 92 %" is consistent with 0.96, "about 96 %" too, "over 97 %" is not
    curve = [_c("A", "m", "accuracy", 0.96),
             _c("C", "m2", "accuracy", 92, "text", scale="percent", decimals=0,
                                                 relation=">",
                same_as={"table": "A", "row": "m", "column": "accuracy"})]
    assert _by(curve, "same_quantity")[0].severity == "consistent"
    curve[1]["value"] = 97
    assert _by(curve, "same_quantity")[0].severity == "inconsistent"


def test_counts_sums_and_downloads():
    parts = [_c("T1", "Benign", "Train", 305, "count"), _c("T1", "Benign", "Val", 66, "count"),
             _c("T1", "Benign", "Test", 66, "count")]
    links = [{"table": "T1", "row": "Benign", "column": c} for c in ("Train", "Val", "Test")]
    rows = parts + [_c("T1", "Benign", "Images", 437, "count", sum_of=links, download="busi:benign"),
                    _c("§3", "BUSI", "images", 1578, "count", download="busi:total"),
                    _c("T1", "Malignant", "Images", 200, "count", sum_of=links)]
    sev = sorted(f.severity for f in _by(rows, "counts"))
    assert sev == ["consistent", "consistent", "inconsistent", "inconsistent"]
    msgs = " | ".join(f.message for f in _by(rows, "counts"))
    assert "printed 1578, the busi download has 780" in msgs and "printed 200, its parts sum to 437" in msgs


def test_significance_against_numbers_that_are_not_the_papers():
    base = TABLE + [_c("§1 text", "best unimodal", "accuracy", 0.830, "text", decimals=3),
                    _c("§1 text", "best unimodal", "precision", 0.840, "text", decimals=3)]

    def p(*against):
        return _c("§2 text", "McNemar", "p_value", 0.01, "p_value", relation="<",
                  against=[{"table": t, "row": r} for t, r in against])
    sev = {a: _by(base + [p(a)], "significance")[0].severity for a in
           [("Table 1", "Other et al."), ("§1 text", "best unimodal"), ("Table 2", "Co-attention"),
            ("Table 2", "ResNet")]}
    assert sev == {("Table 1", "Other et al."): "inconsistent", ("§1 text", "best unimodal"): "inconsistent",
                   ("Table 2", "Co-attention"): "consistent", ("Table 2", "ResNet"): "unverifiable"}


def test_download_counts_are_what_the_loaders_count(shared_samples):
    from mmfusion.data.cbis_ddsm import read_case_descriptions
    real = read_case_descriptions(shared_samples / "cbis-ddsm")
    g = real.groupby(["abnormality_type", "split"])
    images, rows = g["full_image_id"].nunique().to_dict(), g.size().to_dict()
    cbis = DOWNLOAD_COUNTS["cbis-ddsm"]
    for (kind, split), n in images.items():
        assert cbis[f"{kind} {split} images"] == n
        assert cbis[f"{kind} {split} abnormalities"] == rows[(kind, split)]


def test_mias_download_counts(shared_samples):
    from mmfusion.data.mias import per_image, read_info
    images = per_image(read_info(shared_samples / "mias" / "Info.txt"), label_rule="first")
    mias = DOWNLOAD_COUNTS["mias"]
    assert len(images) == mias["films"]
    assert images["label_name"].value_counts().to_dict() == {k: mias[k]
                                                             for k in ("normal", "benign", "malignant")}
