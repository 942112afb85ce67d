"""Side-by-side report of paper claims and reproduced numbers (README "Reproduced numbers → report").

``write_report(run_dir, reproduced)`` writes ``reproduced.json``, ``results.json`` (schema of
issue #5) and ``report.md``, plus figures from ``predictions.csv`` / ``history.csv`` when present.
``mmfusion report RUN_DIR`` re-renders from ``reproduced.json`` via :func:`report_command`.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats as sps

from ..utils.io import atomic_write_json, atomic_write_text
from .claims import ClaimsError, load_claims
from .metrics import mean_std

SYNTHETIC_TITLE = "SYNTHETIC TWIN — not the paper's data"


class ReportError(ValueError):
    """``reproduced`` does not follow the contract."""


def _check_reproduced(rep):
    if not isinstance(rep, dict):
        raise ReportError(f"reproduced must be a mapping; got {type(rep).__name__}")
    for k in ("paper", "dataset", "synthetic", "cells"):
        if k not in rep:
            raise ReportError(f"reproduced: field '{k}' is required")
    if not isinstance(rep["synthetic"], bool):
        raise ReportError(f"reproduced.synthetic must be true/false; got {rep['synthetic']!r}")
    for i, c in enumerate(rep["cells"]):
        for k in ("table", "row", "column", "values"):
            if k not in c:
                raise ReportError(f"reproduced.cells[{i}]: field '{k}' is required")
        v = c["values"]
        if not isinstance(v, (list, tuple)) or not v or not all(isinstance(x, (int, float)) for x in v):
            raise ReportError(f"reproduced.cells[{i}] ({c['table']} / {c['row']} / {c['column']}): "
                              f"'values' must be a non-empty list of numbers; got {v!r}")
        ci = c.get("ci")
        if ci is not None and not (isinstance(ci, (list, tuple)) and len(ci) == 2):
            raise ReportError(f"reproduced.cells[{i}]: 'ci' must be [low, high] or null; got {ci!r}")


def _summary(cell):
    vals = np.asarray(cell["values"], dtype=float)
    mean, std = mean_std(vals)
    ci, source = cell.get("ci"), "given"
    if ci is None and len(vals) > 1:  # t interval of the mean over folds / runs
        h = sps.t.ppf(0.975, len(vals) - 1) * std / math.sqrt(len(vals))
        ci, source = [mean - h, mean + h], "t-interval over folds/runs"
        if ((vals >= 0) & (vals <= 1)).all() and (ci[0] < 0 or ci[1] > 1):
            # a [0, 1] metric over very few folds: the t interval overshoots; clip and say so
            ci, source = [max(ci[0], 0.0), min(ci[1], 1.0)], "t-interval over folds/runs, clipped to [0, 1]"
    lo, hi = (None, None) if ci is None else (float(ci[0]), float(ci[1]))
    return {"mean": mean, "std": None if math.isnan(std) else std, "ci_low": lo, "ci_high": hi,
            "n": int(len(vals)), "ci_source": source if ci is not None else None}


def _paper_value(claim):
    if claim is None:
        return None
    if claim.is_scalar and claim.kind == "metric":
        return claim.as_fraction()
    return claim.value


def _verdict(claim, repro, synthetic):
    if claim is None:
        return "no paper value"
    if repro is None:
        return "not reproduced"
    if synthetic:
        return "not comparable (synthetic data)"
    paper = _paper_value(claim)
    if not isinstance(paper, (int, float)) or repro["ci_low"] is None:
        return "not comparable"
    return "within CI" if repro["ci_low"] <= paper <= repro["ci_high"] else "outside CI"


def build_results(reproduced: dict, claims=None) -> dict:
    """results.json content: every reproduced cell and every paper claim, matched by key."""
    _check_reproduced(reproduced)
    synthetic = reproduced["synthetic"]
    tables, matched = {}, set()
    for cell in reproduced["cells"]:
        key = (str(cell["table"]), str(cell["row"]), str(cell["column"]))
        found = claims.find(*key) if claims else []
        claim = found[0] if found else None
        if claim is not None:
            matched.add(claim.index)
        repro = _summary(cell)
        tables.setdefault(key[0], []).append({
            "row": key[1], "column": key[2], "paper": _paper_value(claim), "reproduced": repro,
            "verdict": _verdict(claim, repro, synthetic), "note": cell.get("note", "")})
    for claim in (claims.claims if claims else []):
        if claim.index not in matched:
            tables.setdefault(claim.table, []).append({
                "row": claim.row, "column": claim.column, "paper": _paper_value(claim),
                "reproduced": None, "verdict": "not reproduced", "note": claim.note})
    return {"paper": reproduced["paper"], "dataset": reproduced["dataset"], "synthetic": synthetic,
            "tables": tables}


def _fmt(x, digits=4):
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def render_markdown(results: dict, claims=None, figures=(), notes=()) -> str:
    synth = results["synthetic"]
    head = f"# {results['paper']} — reproduction report ({results['dataset']})"
    lines = [head + (f" — {SYNTHETIC_TITLE}" if synth else ""), ""]
    if claims is not None:
        lines += [f"Paper: {claims.citation}", ""]
    else:
        lines += ["No claims file found for this paper: reproduced numbers only.", ""]
    lines += ["Values are fractions (paper percentages converted). Reproduced: mean ± sample std over "
              "folds/runs (n), 95% CI as given by the run or a t-interval over folds/runs.", ""]
    for table, rows in results["tables"].items():
        title = f"## {table}" + (f" — {SYNTHETIC_TITLE}" if synth else "")
        lines += [title, "", "| row | column | paper | reproduced (mean ± std, n) | 95% CI | verdict | note |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            rep = r["reproduced"]
            if rep is None:
                rtxt, ctxt = "—", "—"
            else:
                rtxt = f"{_fmt(rep['mean'])} ± {_fmt(rep['std'])} (n={rep['n']})"
                ctxt = "—" if rep["ci_low"] is None else f"[{_fmt(rep['ci_low'])}, {_fmt(rep['ci_high'])}]"
            note = str(r.get("note") or "").replace("|", "/").replace("\n", " ")
            lines.append(f"| {r['row']} | {r['column']} | {_fmt(r['paper'])} | {rtxt} | {ctxt} | "
                         f"{r['verdict']} | {note} |")
        lines.append("")
    if figures:
        lines += ["## Figures" + (f" — {SYNTHETIC_TITLE}" if synth else ""), ""]
        lines += [f"![{Path(f).stem}]({f})" for f in figures] + [""]
    if notes:
        lines += ["## Notes" + (f" — {SYNTHETIC_TITLE}" if synth else ""), ""]
        lines += [f"- {n}" for n in notes] + [""]
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


def write_report(run_dir, reproduced: dict) -> dict:
    """Write reproduced.json, results.json, report.md (+ figures); return the results dict."""
    run_dir = Path(run_dir)
    _check_reproduced(reproduced)
    atomic_write_json(run_dir / "reproduced.json", reproduced)
    notes = [str(n) for n in reproduced.get("notes", ())]   # the paper module's own notes
    try:
        claims = load_claims(reproduced["paper"])
    except ClaimsError as e:
        claims = None
        notes.append(f"claims not loaded: {e}")
    results = build_results(reproduced, claims)
    figs, fig_notes = render_figures(run_dir)
    atomic_write_json(run_dir / "results.json", results)
    atomic_write_text(run_dir / "report.md", render_markdown(results, claims, figs, notes + fig_notes))
    return results


def report_command(run_dir: str, out=None) -> int:
    """Re-render the report of a run directory from its reproduced.json (exit 0 / 2 bad input)."""
    out = out or sys.stdout
    src = Path(run_dir) / "reproduced.json"
    if not src.is_file():
        print(f"{src}: not found (a run directory written by `mmfusion reproduce` has it)", file=out)
        return 2
    try:
        reproduced = json.loads(src.read_text(encoding="utf-8"))
        results = write_report(run_dir, reproduced)
    except (json.JSONDecodeError, ReportError) as e:
        print(f"{src}: {e}", file=out)
        return 2
    n = sum(len(v) for v in results["tables"].values())
    print(f"wrote {Path(run_dir) / 'report.md'} and results.json ({n} rows in "
          f"{len(results['tables'])} tables)", file=out)
    return 0
