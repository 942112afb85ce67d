"""Side-by-side report of paper claims and reproduced numbers (docs/claims.md).

``write_report(run_dir, reproduced)`` writes ``reproduced.json``, ``results.json`` and
``report.md``, plus figures from ``predictions.csv`` / ``history.csv`` when present.
``mmfusion report RUN_DIR`` re-renders from ``reproduced.json`` via :func:`report_command`.

Contract (every field but paper/dataset/synthetic/cells is optional; old callers keep working)::

    {"paper": str, "dataset": str, "synthetic": bool, "cells": [cell, ...],
     "quick": bool = False,                  # a --quick run: never "consistent", title says QUICK
     "data": {"n": int, "N": int | None},    # images used / the dataset's full size
                                             # (mmfusion.data.FULL_SIZES); n < N -> PARTIAL DATA
     "protocol_note": str,                   # non-empty: the run's protocol differs -> not comparable
     "tolerance": float,                     # δ of the verdict rule for every cell (verdict.py)
     "notes": [str]}
    cell = {"table", "row", "column", "values": [one per run/fold], "note": str,
            "ci": [lo, hi],                  # the run's own 95% CI (e.g. a bootstrap)
            "n_test": int,                   # test samples each value was computed on
            "test_sets": "shared"|"disjoint",# runs on one test set (default) or folds on disjoint ones
            "bounds": [lo, hi],              # range: [0, 1] proportion, [0, n_test] count (null = open)
            "boot": [float],                 # bootstrap replicates of the cell's value
            "tolerance": float, "protocol_note": str}

Bounds default to [0, 1] for a fraction/percent metric claim whose values lie in [0, 1], and to
[0, n_test] (or [0, open)) for a count claim. The verdict rule is :mod:`mmfusion.evaluation.verdict`.
A claims file that exists but does not parse or validate raises :class:`ClaimsError`.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from ..utils.io import atomic_write_json, atomic_write_text
from . import verdict as V
from .claims import Claim, ClaimsError, load_claims, papers_dir
from .metrics import mean_std

SYNTHETIC_TITLE = "SYNTHETIC TWIN — not the paper's data"
QUICK_TITLE = "QUICK RUN — not the paper's configuration"
RULE = ("Verdict rule: the difference ours − paper gets a 95% interval combining run-to-run variation, "
        "test-set sampling (bootstrap, the run's CI, or binomial on n_test) and the paper's printed "
        "spread and test size (Wilson intervals for bounded quantities, Newcombe's square-and-add for "
        "the difference). **higher** / **lower**: the interval excludes 0; **consistent**: it contains "
        "0 and lies within ±δ (δ = 0.2 of a bounded range unless set); **inconclusive**: it contains 0 "
        "but is wider; **not comparable**: synthetic data, a quick run, part of the dataset or a "
        "different protocol (never consistent). Details: mmfusion/evaluation/verdict.py.")


REDRAWN = ("roc", "confusion_matrix", "learning_curves")   # figures every report step draws again


class ReportError(ValueError):
    """``reproduced`` does not follow the contract."""


def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_cell(i, c):
    where = f"reproduced.cells[{i}]"
    for k in ("table", "row", "column", "values"):
        if k not in c:
            raise ReportError(f"{where}: field '{k}' is required")
    where += f" ({c['table']} / {c['row']} / {c['column']})"
    v = c["values"]
    if not isinstance(v, (list, tuple)) or not v or not all(_num(x) for x in v):
        raise ReportError(f"{where}: 'values' must be a non-empty list of numbers; got {v!r}")
    ci = c.get("ci")
    if ci is not None and not (isinstance(ci, (list, tuple)) and len(ci) == 2 and all(map(_num, ci))):
        raise ReportError(f"{where}: 'ci' must be [low, high] or null; got {ci!r}")
    nt = c.get("n_test")
    if nt is not None and not (isinstance(nt, int) and not isinstance(nt, bool) and nt > 0):
        raise ReportError(f"{where}: 'n_test' must be an integer > 0; got {nt!r}")
    b = c.get("bounds")
    if b is not None and not (isinstance(b, (list, tuple)) and len(b) == 2
                              and all(x is None or _num(x) for x in b)
                              and (None in b or b[0] < b[1])):
        raise ReportError(f"{where}: 'bounds' must be [low, high] with low < high (null = open); got {b!r}")
    boot = c.get("boot")
    if boot is not None and not (isinstance(boot, (list, tuple)) and all(map(_num, boot))):
        raise ReportError(f"{where}: 'boot' must be a list of numbers; got {boot!r}")
    if c.get("test_sets", "shared") not in ("shared", "disjoint"):
        raise ReportError(f"{where}: 'test_sets' must be 'shared' or 'disjoint'; got {c['test_sets']!r}")
    if c.get("tolerance") is not None and not (_num(c["tolerance"]) and c["tolerance"] > 0):
        raise ReportError(f"{where}: 'tolerance' must be a number > 0; got {c['tolerance']!r}")


def _check_reproduced(rep):
    if not isinstance(rep, dict):
        raise ReportError(f"reproduced must be a mapping; got {type(rep).__name__}")
    for k in ("paper", "dataset", "synthetic", "cells"):
        if k not in rep:
            raise ReportError(f"reproduced: field '{k}' is required")
    for k in ("synthetic", "quick"):
        if not isinstance(rep.get(k, False), bool):
            raise ReportError(f"reproduced.{k} must be true/false; got {rep[k]!r}")
    data = rep.get("data")
    if data is not None:
        n, N = (data.get("n"), data.get("N")) if isinstance(data, dict) else (None, None)
        if not (isinstance(n, int) and n >= 0 and (N is None or (isinstance(N, int) and N >= n))):
            raise ReportError(f"reproduced.data must be {{'n': images used, 'N': full size >= n or null}}; "
                              f"got {data!r}")
    for i, c in enumerate(rep["cells"]):
        _check_cell(i, c)


def run_reasons(rep) -> list:
    """Why no cell of this run can be compared with the paper (empty: comparable)."""
    reasons = []
    if rep["synthetic"]:
        reasons.append("synthetic data")
    if rep.get("quick"):
        reasons.append("quick run")
    data = rep.get("data") or {}
    if data.get("N") is not None and data["n"] < data["N"]:
        reasons.append(f"partial data: {data['n']} of {data['N']} images")
    if rep.get("protocol_note"):
        reasons.append(f"different protocol: {rep['protocol_note']}")
    return reasons


def run_title(rep) -> str:
    """The flags every heading of the report carries."""
    parts = [SYNTHETIC_TITLE] if rep["synthetic"] else []
    if rep.get("quick"):
        parts.append(QUICK_TITLE)
    data = rep.get("data") or {}
    if data.get("N") is not None and data["n"] < data["N"]:
        parts.append(f"PARTIAL DATA ({data['n']} of {data['N']} images)")
    return "".join(f" — {p}" for p in parts)


def _bounds(cell, claim):
    if cell.get("bounds") is not None:
        return [None if b is None else float(b) for b in cell["bounds"]]
    if claim is None:
        return None
    vals = np.asarray(cell["values"], float)
    if claim.kind == "metric" and claim.scale in ("fraction",
                                                  "percent") and ((vals >= 0) & (vals <= 1)).all():
        return [0.0, 1.0]
    if claim.kind == "count":
        return [0.0, float(cell["n_test"]) if cell.get("n_test") else None]
    return None


def _ours(cell, bounds) -> V.Side:
    return V.ours(cell["values"], n_test=cell.get("n_test"), boot=cell.get("boot"), ci=cell.get("ci"),
                  bounds=bounds, test_sets=cell.get("test_sets", "shared"))


def _summary(cell, side: V.Side):
    vals = np.asarray(cell["values"], dtype=float)
    mean, std = mean_std(vals)
    if cell.get("ci") is not None:
        lo, hi, source = float(cell["ci"][0]), float(cell["ci"][1]), "given"
    else:
        lo, hi, source = side.low, side.high, "; ".join(side.includes)
        if lo == hi and len(vals) == 1:
            lo = hi = source = None
    return {"mean": mean, "std": None if math.isnan(std) else std, "ci_low": lo, "ci_high": hi,
            "n": int(len(vals)), "n_test": cell.get("n_test"), "ci_source": source}


def _paper_value(claim):
    if claim is None:
        return None
    if claim.is_scalar:   # a percentage on our [0, 1] scale, whatever its kind (metric, text, literature)
        return claim.as_fraction()
    if _flat(claim):
        return float(np.mean([claim.as_fraction(v) for v in claim.value]))
    return claim.value


def _flat(claim):
    return isinstance(claim.value, list) and len(claim.value) > 1 and all(map(_num, claim.value))


def _compare(cell, claim, claims, reasons, run_tol=None):
    """(reproduced summary, difference dict or None, verdict)."""
    bounds = _bounds(cell, claim)
    side = _ours(cell, bounds)
    repro = _summary(cell, side)
    if claim is None:
        return repro, None, "no paper value"
    if not (claim.is_scalar or _flat(claim)):
        return repro, None, "not comparable (the paper's value is not one number)"
    cell_reasons = reasons + ([f"different protocol: {cell['protocol_note']}"] if cell.get("protocol_note")
                              else [])
    if _bookkeeping(cell, claim):
        return _exact(repro, claim, cell_reasons)
    p = V.paper(claim, claims.test_size(claim) if claims else None, bounds)
    given = run_tol if run_tol is not None else cell.get("tolerance", claim.tolerance)
    tol = V.tolerance_for(bounds, p.value, given)
    diff = V.compare(side, p, tol, cell_reasons)
    verdict = diff.pop("verdict")
    if verdict == "consistent":
        verdict = f"consistent within ±{tol:.2g}"
    return repro, diff, verdict


def _bookkeeping(cell, claim) -> bool:
    """A count of the run's own making (runs, images in a split): exact, no sampling interval."""
    vals = cell["values"]
    return (claim.kind == "count" and claim.is_scalar and cell.get("bounds") is None
            and not cell.get("n_test")
            and cell.get("boot") is None and cell.get("ci") is None and len(set(vals)) == 1
            and float(vals[0]).is_integer())


def _is_count(cell, claim) -> bool:
    if claim is not None:
        return claim.kind == "count"
    b = cell.get("bounds")
    return all(float(v).is_integer() for v in cell["values"]) and not (b is not None and list(b) == [0, 1])


def _exact(repro, claim, reasons):
    repro.update(std=None, ci_low=None, ci_high=None, ci_source="exact count", exact=True)
    d = repro["mean"] - float(claim.value)
    diff = {"value": d, "ci_low": d, "ci_high": d, "tolerance": 0.0, "exact": True}
    if reasons:
        return repro, diff, f"not comparable ({'; '.join(reasons)})"
    return repro, diff, "equal" if d == 0 else ("higher" if d > 0 else "lower")


def _sample_row(group, claims, reasons, run_tol):
    """The authors' values of a sample (e.g. ten retrained models) against ours as two samples:
    their run k is not our run k, so no row is paired by index."""
    first_claim, first_cell = group[0]
    cells = [c for _, c in group if c is not None]
    paper_vals = [cl.as_fraction() for cl, _ in group]
    sample = Claim(table=first_claim.table, row=first_claim.sample, column=first_claim.column,
                   value=paper_vals,
                   scale="fraction", kind=first_claim.kind, test_size=first_claim.test_size, index=-1)
    row = {"row": first_claim.sample, "column": first_claim.column, "paper": float(np.mean(paper_vals)),
           "reproduced": None, "difference": None, "verdict": "not reproduced", "sample": True}
    if not cells:
        return row
    ours_vals = [v for c in cells for v in c["values"]]
    cell = {**first_cell, "values": ours_vals, "row": first_claim.sample}
    repro, diff, verdict = _compare(cell, sample, claims, reasons, run_tol)
    row.update(reproduced=repro, difference=diff, verdict=verdict, note=_two_samples(paper_vals, ours_vals))
    return row


def _two_samples(paper_vals, ours_vals) -> str:
    from scipy import stats as sps

    def desc(name, v):
        return (f"{name}: mean {np.mean(v):.3f}, sd {np.std(v, ddof=1):.3f}, range {min(v):.3f}-{max(v):.3f} "
                f"({len(v)} runs)")
    text = f"two samples, not paired by run: {desc('paper', paper_vals)}; {desc('ours', ours_vals)}"
    if len(paper_vals) > 1 and len(ours_vals) > 1 and np.std(paper_vals) > 0 and np.std(ours_vals) > 0:
        lo, hi = sps.ttest_ind(ours_vals, paper_vals, equal_var=False).confidence_interval()
        text += f"; Welch 95% CI of the difference of means (runs only) [{lo:+.3f}, {hi:+.3f}]"
    return text


def build_results(reproduced: dict, claims=None) -> dict:
    """results.json content: every reproduced cell and every paper claim, matched by key. A claim
    with ``sample`` is shown beside our row of the same key without a verdict; its sample is
    compared once, in a row of that name."""
    _check_reproduced(reproduced)
    reasons = run_reasons(reproduced)
    tables, matched, samples = {}, set(), {}
    for cell in reproduced["cells"]:
        key = (str(cell["table"]), str(cell["row"]), str(cell["column"]))
        found = claims.find(*key) if claims else []
        claim = found[0] if found else None
        if claim is not None:
            matched.add(claim.index)
        if claim is not None and claim.sample:
            samples.setdefault((claim.table, claim.sample, claim.column), []).append((claim, cell))
            repro = _summary(cell, _ours(cell, _bounds(cell, claim)))
            tables.setdefault(key[0], []).append({
                "row": key[1], "column": key[2], "paper": _paper_value(claim), "reproduced": repro,
                "difference": None, "verdict": f"not paired (compared as a sample: {claim.sample})",
                "note": cell.get("note", "")})
            continue
        repro, diff, verdict = _compare(cell, claim, claims, reasons, reproduced.get("tolerance"))
        tables.setdefault(key[0], []).append({
            "row": key[1], "column": key[2], "paper": _paper_value(claim), "reproduced": repro,
            "difference": diff, "verdict": verdict, "note": cell.get("note", ""),
                                              "count": _is_count(cell, claim)})
    for claim in (claims.claims if claims else []):
        if claim.sample and claim.index not in matched:
            samples.setdefault((claim.table, claim.sample, claim.column), []).append((claim, None))
            rows = tables.setdefault(claim.table, [])
            at = max((i + 1 for i, r in enumerate(rows) if r["verdict"].endswith(f"sample: {claim.sample})")),
                     default=len(rows))
            rows.insert(at, {"row": claim.row, "column": claim.column, "paper": _paper_value(claim),
                             "reproduced": None, "difference": None,
                             "verdict": f"not paired (compared as a sample: {claim.sample})",
                             "note": claim.note})
    for (table, _, _), group in samples.items():
        group = [g for g in group if g[1] is not None] + [g for g in group if g[1] is None]
        tables.setdefault(table, []).append(_sample_row(group, claims, reasons, reproduced.get("tolerance")))
    for claim in (claims.claims if claims else []):
        if claim.index not in matched and not claim.sample:
            tables.setdefault(claim.table, []).append({
                "row": claim.row, "column": claim.column, "paper": _paper_value(claim),
                "reproduced": None, "difference": None, "verdict": "not reproduced", "note": claim.note})
    return {"paper": reproduced["paper"], "dataset": reproduced["dataset"],
            "synthetic": reproduced["synthetic"], "quick": bool(reproduced.get("quick", False)),
            "data": reproduced.get("data"), "not_comparable": reasons, "title_flags": run_title(reproduced),
            "tolerance": reproduced.get("tolerance"),
            "tables": tables}


def _fmt(x, digits=4, count=False):
    if x is None:
        return "—"
    if isinstance(x, float):
        if count:
            return str(int(x)) if x.is_integer() else f"{x:.2f}"
        return f"{x:.{digits}f}"
    return str(x)


def row_cells(r) -> tuple:
    """(paper, ours, 95% CI, ours − paper [95% CI]) as text: counts as integers, exact rows
    without intervals, a single value without a spread."""
    rep, diff, count = r["reproduced"], r.get("difference"), bool(r.get("count"))
    rtxt = ctxt = dtxt = "—"
    if rep is not None:
        rtxt = _fmt(rep["mean"], count=count)
        if rep.get("std") is not None and rep["n"] > 1:
            rtxt += f" ± {_fmt(rep['std'], 2 if count else 4)}"
        detail = [f"{rep['n']} runs"] if rep["n"] > 1 else []
        detail += [f"n_test {rep['n_test']}"] if rep.get("n_test") else []
        rtxt += f" ({', '.join(detail)})" if detail else ""
        if rep["ci_low"] is not None:
            ctxt = f"[{_fmt(rep['ci_low'], 2 if count else 4)}, {_fmt(rep['ci_high'], 2 if count else 4)}]"
    if diff is not None:
        if diff.get("exact"):
            dtxt = f"{diff['value']:+g}" if diff["value"] else "0"
        else:
            dtxt = f"{diff['value']:+.4f} [{diff['ci_low']:+.4f}, {diff['ci_high']:+.4f}]"
    paper = r["paper"]
    return _fmt(float(paper) if _num(paper) else paper, count=count), rtxt, ctxt, dtxt


def _row_md(r) -> str:
    paper, rtxt, ctxt, dtxt = row_cells(r)
    note = str(r.get("note") or "").replace("|", "/").replace("\n", " ")
    return f"| {r['row']} | {r['column']} | {paper} | {rtxt} | {ctxt} | {dtxt} | {r['verdict']} | {note} |"


TABLE_HEAD = ["| row | column | paper | ours (mean ± std) | 95% CI | ours − paper [95% CI] | verdict "
              "| note |",
              "|---|---|---|---|---|---|---|---|"]


def render_markdown(results: dict, claims=None, figures=(), notes=(), run=None) -> str:
    from .summary import summary_markdown

    flags = results.get("title_flags", f" — {SYNTHETIC_TITLE}" if results["synthetic"] else "")
    lines = [f"# {results['paper']} — reproduction report ({results['dataset']}){flags}", ""]
    lines += summary_markdown(results, claims, run or {}) + [""]
    if claims is None:
        lines += ["No claims file found for this paper: reproduced numbers only.", ""]
    for table, rows in results["tables"].items():
        lines += [f"## {table}{flags}", "", *TABLE_HEAD] + [_row_md(r) for r in rows] + [""]
    if figures:
        lines += [f"## Figures{flags}", ""] + [f"![{Path(f).stem}]({f})" for f in figures] + [""]
    if notes:
        lines += [f"## Notes{flags}", ""] + [f"- {n}" for n in notes] + [""]
    lines += [f"## How to read this report{flags}", "",
              "Values are fractions (paper percentages converted). Ours: mean ± sample std over folds/runs, "
              "and its 95% interval; exact counts have none. ours − paper: the difference with its 95% "
              "interval.", "", RULE, ""]
    return "\n".join(lines)


def render_figures(run_dir) -> tuple:
    """ROC and confusion matrix from predictions.csv (test split), learning curves from
    history.csv. Returns (relative figure paths, notes on anything not drawn)."""
    import pandas as pd

    from . import figures
    from .metrics import confusion_matrix

    run_dir = Path(run_dir)
    made, notes = [], []
    pred = run_dir / "predictions.csv"
    if pred.is_file():
        df = pd.read_csv(pred)
        if "split" in df.columns and (df["split"] == "test").any():
            df = df[df["split"] == "test"]
        pcols = sorted([c for c in df.columns if c.startswith("p_")], key=lambda c: int(c[2:]))
        if not pcols or "y_true" not in df.columns:
            notes.append(f"{pred.name}: no y_true / p_* columns; ROC and confusion matrix not drawn")
        else:
            y, p = df["y_true"].to_numpy(int), df[pcols].to_numpy(float)
            k = int(df[["fold", "run"]].drop_duplicates().shape[0]) if {"fold", "run"} <= set(df) else 1
            tag = f" (pooled over {k} folds/runs)" if k > 1 else ""
            made.append(figures.roc_curves(y, p, run_dir / "figures" / "roc.png", title="ROC" + tag))
            made.append(figures.confusion_matrix_figure(confusion_matrix(y, p.argmax(1), p.shape[1]),
                        run_dir / "figures" / "confusion_matrix.png", title="Confusion matrix" + tag))
    hist = run_dir / "history.csv"
    if hist.is_file():
        try:
            made.append(figures.learning_curves(hist, run_dir / "figures" / "learning_curves.png"))
        except ValueError as e:
            notes.append(f"{hist.name}: learning curves not drawn ({e})")
    extra = sorted(p for p in (run_dir / "figures").glob("*.png")) if (run_dir / "figures").is_dir() else []
    rel = sorted({str(p.relative_to(run_dir)) for p in [*made, *extra]})
    return rel, notes


def claims_for(paper: str):
    """The paper's claims, or None when it has no claims file. A file that exists but does not
    parse or validate raises ClaimsError (file, claim, field): a broken value must not silently
    remove every paper number from the report."""
    if not (papers_dir() / f"{paper}.yaml").is_file():
        return None
    return load_claims(paper)


def write_report(run_dir, reproduced: dict, tolerance=None) -> dict:
    """Write reproduced.json, results.json, report.md, report.html (+ figures); return the results.
    ``tolerance`` (δ for every cell, e.g. a reviewer's tighter one) is not stored in reproduced.json."""
    from .html import write_html
    from .summary import run_facts

    run_dir = Path(run_dir)
    _check_reproduced(reproduced)
    atomic_write_json(run_dir / "reproduced.json", reproduced)
    claims = claims_for(reproduced["paper"])
    notes = [str(n) for n in reproduced.get("notes", ())]   # the paper module's own notes
    if tolerance is not None:
        reproduced = {**reproduced, "tolerance": float(tolerance)}
    results = build_results(reproduced, claims)
    figs, fig_notes = render_figures(run_dir)
    run = run_facts(run_dir, reproduced)
    results["run"] = run
    atomic_write_json(run_dir / "results.json", results)
    text = render_markdown(results, claims, figs, notes + fig_notes, run).rstrip("\n") + "\n"
    flags = results.get("title_flags", "")
    for section in (*reproduced.get("appendix", ()), _audit_section(reproduced["paper"], claims)):
        if section:   # e.g. the template's fidelity table; then the audit of the paper's own numbers
            lines = [line + flags if line.startswith("#") and flags not in line else line
                     for line in section.rstrip("\n").split("\n")]
            text += "\n" + "\n".join(lines) + "\n"
    atomic_write_text(run_dir / "report.md", text)
    write_html(run_dir, text, figs)
    return results


def _audit_section(paper: str, claims) -> str:
    """The audit of the paper's printed numbers (witness matrices, findings), when it has claims."""
    if claims is None:
        return ""
    from .audit import audit_markdown

    return audit_markdown(paper)


def report_command(run_dir: str, out=None, tolerance=None) -> int:
    """Re-render the report of a run directory from its reproduced.json (exit 0 / 2 bad input);
    ``tolerance``: judge every cell with this δ instead."""
    out = out or sys.stdout
    src = Path(run_dir) / "reproduced.json"
    if not src.is_file():
        print(f"{src}: not found (a run directory written by `mmfusion reproduce` has it)", file=out)
        return 2
    try:
        reproduced = json.loads(src.read_text(encoding="utf-8"))
        results = write_report(run_dir, reproduced, tolerance)
        from .verify import refresh_hashes

        refresh_hashes(run_dir, [f"figures/{n}.png" for n in REDRAWN] + ["reproduced.json"])
    except (json.JSONDecodeError, ReportError) as e:
        print(f"{src}: {e}", file=out)
        return 2
    except ClaimsError as e:
        print(f"error: claims file: {e}", file=out)
        return 2
    n = sum(len(v) for v in results["tables"].values())
    print(f"wrote {Path(run_dir) / 'report.md'}, report.html and results.json ({n} rows in "
          f"{len(results['tables'])} tables)", file=out)
    return 0
