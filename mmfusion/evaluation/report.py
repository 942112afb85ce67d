"""Side-by-side report of paper claims and reproduced numbers (docs/claims.md); the comparison
itself (contract checks, claims matched, verdicts) is :mod:`mmfusion.evaluation.results`.

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

Bounds default to [0, 1] for a fraction/percent metric claim with values in [0, 1], to [0, n_test]
(or [0, open)) for a count claim. A claims file that does not parse or validate raises ClaimsError.
report.html is report.md as one self-contained page (figures embedded as data URIs, no network), tables
sortable by a click on a column head and filtered by a text box, readable when mailed.
"""
import base64
import html
import itertools
import json
import re
import sys
from pathlib import Path

import pandas as pd

from ..utils.io import atomic_write_json, atomic_write_text
from . import figures
from . import results as _results
from .audit import audit_markdown
from .claims import ClaimsError
from .metrics import confusion_matrix
from .results import QUICK_TITLE, SYNTHETIC_TITLE, ReportError  # noqa: F401  (part of this API)
from .summary import run_facts, summary_markdown
from .verify import refresh_hashes

RULE = ("Verdict rule: the difference ours − paper gets a 95% interval combining run-to-run variation, "
        "test-set sampling (bootstrap, the run's CI, or binomial on n_test) and the paper's printed "
        "spread and test size (Wilson intervals for bounded quantities, Newcombe's square-and-add for "
        "the difference). **higher** / **lower**: the interval excludes 0; **consistent**: it contains "
        "0 and lies within ±δ (δ = 0.2 of a bounded range unless set); **inconclusive**: it contains 0 "
        "but is wider; **not comparable**: synthetic data, a quick run, part of the dataset or a "
        "different protocol (never consistent). Details: mmfusion/evaluation/verdict.py.")
TABLE_HEAD = ["| row | column | paper | ours (mean ± std) | 95% CI | ours − paper [95% CI] | verdict "
              "| note |",
              "|---|---|---|---|---|---|---|---|"]
REDRAWN = ("roc", "confusion_matrix", "learning_curves")   # figures every report step draws again
# report.html: its style, and the script that sorts and filters its tables
STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;
vertical-align:top}th{background:#f2f2f2;cursor:pointer}tr.hide{display:none}
input.filter{margin:.3em 0;width:22em}
.v-lower,.v-higher{background:#fde2e1}.v-consistent,.v-equal{background:#e3f5e1}.v-inconclusive{background:#fff6d9}
img{max-width:100%}code{background:#f4f4f4}"""
SCRIPT = """document.querySelectorAll('table.data').forEach(function(t){
var f=document.createElement('input');f.className='filter';f.placeholder='filter rows';t.before(f);
f.oninput=function(){var q=f.value.toLowerCase();t.querySelectorAll('tbody tr').forEach(function(r){
r.classList.toggle('hide',r.textContent.toLowerCase().indexOf(q)<0)})};
t.querySelectorAll('th').forEach(function(h,i){h.onclick=function(){var b=t.tBodies[0],
rs=Array.from(b.rows),d=h.dataset.d=h.dataset.d=='1'?'-1':'1',n=function(s){var x=parseFloat(s);
return isNaN(x)?s:x};rs.sort(function(a,c){var x=n(a.cells[i].textContent),y=n(c.cells[i].textContent);
return (x>y?1:x<y?-1:0)*d});rs.forEach(function(r){b.appendChild(r)})}})});"""
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def _fmt(x, digits=4, count=False):
    if not isinstance(x, float):
        return "—" if x is None else str(x)
    if count:
        return str(int(x)) if x.is_integer() else f"{x:.2f}"
    return f"{x:.{digits}f}"


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
    if diff is not None and diff.get("exact"):
        dtxt = f"{diff['value']:+g}" if diff["value"] else "0"
    elif diff is not None:
        dtxt = f"{diff['value']:+.4f} [{diff['ci_low']:+.4f}, {diff['ci_high']:+.4f}]"
    paper = r["paper"]
    return _fmt(float(paper) if isinstance(paper, (int, float)) else paper, count=count), rtxt, ctxt, dtxt


def _row_md(r) -> str:
    paper, rtxt, ctxt, dtxt = row_cells(r)
    note = str(r.get("note") or "").replace("|", "/").replace("\n", " ")
    return f"| {r['row']} | {r['column']} | {paper} | {rtxt} | {ctxt} | {dtxt} | {r['verdict']} | {note} |"


def render_markdown(results: dict, claims=None, figures=(), notes=(), run=None) -> str:
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
    """ROC, confusion matrix (test split) and learning curves: (figure paths, notes on what was not drawn)."""
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
    extra = (run_dir / "figures").glob("*.png")   # figures a paper module drew itself
    return sorted({str(p.relative_to(run_dir)) for p in [*made, *extra]}), notes


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def _table(rows: list) -> str:
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    head, body = cells[0], cells[2:]
    out = ["<table class=data><thead><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    vcol = head.index("verdict") if "verdict" in head else None
    for cells in body:
        verdict = cells[vcol] if vcol is not None and vcol < len(cells) else ""
        cls = f' class="v-{verdict.split()[0]}"' if verdict else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_inline(c)}</td>" for c in cells) + "</tr>")
    return "\n".join(out + ["</tbody></table>"])


def _image(run_dir: Path, alt: str, src: str) -> str:
    path = run_dir / src
    mime = MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():
        return f"<p>(figure {html.escape(src)} not found)</p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:{mime};base64,{data}"><figcaption>' \
           f"{html.escape(src)}</figcaption></figure>"


def markdown_to_html(text: str, run_dir) -> str:
    """The Markdown subset report.md is written in: headings, tables, lists, images, paragraphs."""
    run_dir, out, lines = Path(run_dir), [], text.split("\n")
    title = lines[0].lstrip("# ").strip() if lines else "report"
    for is_table, block in itertools.groupby(lines, key=lambda line: line.startswith("|")):
        if is_table:
            out.append(_table(list(block)))
            continue
        for line in block:
            m = re.match(r"^(#{1,6}) (.*)$", line)
            img = re.match(r"^!\[(.*?)\]\((.*?)\)$", line.strip())
            if m:
                out.append(f"<h{len(m.group(1))}>{_inline(m.group(2))}</h{len(m.group(1))}>")
            elif img:
                out.append(_image(run_dir, img.group(1), img.group(2)))
            elif line.startswith("- "):
                out.append(f"<ul><li>{_inline(line[2:])}</li></ul>")
            elif line.strip():
                out.append(f"<p>{_inline(line)}</p>")
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>" + html.escape(title) +
            f"</title><style>{STYLE}</style></head><body>\n" + "\n".join(out) +
            f"\n<script>{SCRIPT}</script></body></html>\n")


def write_html(run_dir, markdown_text: str, figures=()) -> Path:
    """report.html beside report.md; every figure of ``figures/`` is embedded, listed or not."""
    run_dir = Path(run_dir)
    missing = sorted(str(p.relative_to(run_dir)) for p in (run_dir / "figures").glob("*")
                     if p.suffix.lower() in MIME and str(p.relative_to(run_dir)) not in figures)
    if missing:
        markdown_text += "\n## Other figures\n\n" + "\n".join(f"![{Path(f).stem}]({f})"
                                                              for f in missing) + "\n"
    return atomic_write_text(run_dir / "report.html", markdown_to_html(markdown_text, run_dir))


def write_report(run_dir, reproduced: dict, tolerance=None) -> dict:
    """Write reproduced.json (no ``tolerance``), results.json, report.md/.html, figures; return results."""
    run_dir = Path(run_dir)
    _results._check_reproduced(reproduced)
    atomic_write_json(run_dir / "reproduced.json", reproduced)
    claims = _results.claims_for(reproduced["paper"])
    notes = [str(n) for n in reproduced.get("notes", ())]   # the paper module's own notes
    if tolerance is not None:
        reproduced = {**reproduced, "tolerance": float(tolerance)}
    results = _results.build_results(reproduced, claims)
    figs, fig_notes = render_figures(run_dir)
    results["run"] = run_facts(run_dir, reproduced)
    atomic_write_json(run_dir / "results.json", results)
    text = render_markdown(results, claims, figs, notes + fig_notes, results["run"]).rstrip("\n") + "\n"
    flags = results.get("title_flags", "")
    audit = audit_markdown(reproduced["paper"]) if claims is not None else ""
    for section in (*reproduced.get("appendix", ()), audit):
        if section:   # e.g. the template's fidelity table; then the audit of the paper's own numbers
            lines = [line + flags if line.startswith("#") and flags not in line else line
                     for line in section.rstrip("\n").split("\n")]
            text += "\n" + "\n".join(lines) + "\n"
    atomic_write_text(run_dir / "report.md", text)
    write_html(run_dir, text, figs)
    return results


def report_command(run_dir: str, out=None, tolerance=None) -> int:
    """``mmfusion report RUN_DIR``: re-render reproduced.json, δ = ``tolerance`` (exit 0, 2: bad input)."""
    out = out or sys.stdout
    src = Path(run_dir) / "reproduced.json"
    if not src.is_file():
        print(f"{src}: not found (a run directory written by `mmfusion reproduce` has it)", file=out)
        return 2
    try:
        results = write_report(run_dir, json.loads(src.read_text(encoding="utf-8")), tolerance)
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
