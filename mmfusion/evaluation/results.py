"""The comparison engine of the report: the reproduced cells checked against their contract,
matched to the paper's claims and judged by the verdict rule (results.json). The contract of
``reproduced`` is in :mod:`mmfusion.evaluation.report`; rendering lives there too."""
import math
from collections import defaultdict

import numpy as np
from scipy import stats as sps

from . import verdict as V
from .claims import Claim, load_claims, papers_dir
from .claims import _is_number as _num
from .metrics import mean_std

SYNTHETIC_TITLE = "SYNTHETIC TWIN — not the paper's data"
QUICK_TITLE = "QUICK RUN — not the paper's configuration"


class ReportError(ValueError):
    """``reproduced`` does not follow the contract."""


# optional cell field -> (test of its value, what it must be); null passes, but for test_sets
CELL_RULES = {
    "ci": (lambda x: isinstance(x, (list, tuple)) and len(x) == 2 and all(map(_num, x)),
           "[low, high] or null"),
    "n_test": (lambda x: isinstance(x, int) and not isinstance(x, bool) and x > 0, "an integer > 0"),
    "bounds": (lambda x: isinstance(x, (list, tuple)) and len(x) == 2 and all(b is None or _num(b) for b in x)
               and (None in x or x[0] < x[1]), "[low, high] with low < high (null = open)"),
    "boot": (lambda x: isinstance(x, (list, tuple)) and all(map(_num, x)), "a list of numbers"),
    "test_sets": (lambda x: x in ("shared", "disjoint"), "'shared' or 'disjoint'"),
    "tolerance": (lambda x: _num(x) and x > 0, "a number > 0"),
}


def _check_cell(i, c):
    where = f"reproduced.cells[{i}]"
    for k in ("table", "row", "column", "values"):
        if k not in c:
            raise ReportError(f"{where}: field '{k}' is required")
    where += f" ({c['table']} / {c['row']} / {c['column']})"
    v = c["values"]
    if not isinstance(v, (list, tuple)) or not v or not all(_num(x) for x in v):
        raise ReportError(f"{where}: 'values' must be a non-empty list of numbers; got {v!r}")
    for k, (ok, expected) in CELL_RULES.items():
        if k in c and (c[k] is not None or k == "test_sets") and not ok(c[k]):
            raise ReportError(f"{where}: '{k}' must be {expected}; got {c[k]!r}")


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


def _partial(rep):
    data = rep.get("data") or {}
    return (data["n"], data["N"]) if data.get("N") is not None and data["n"] < data["N"] else None


def run_reasons(rep) -> list:
    """Why no cell of this run can be compared with the paper (empty: comparable)."""
    reasons = ["synthetic data"] if rep["synthetic"] else []
    if rep.get("quick"):
        reasons.append("quick run")
    if _partial(rep):
        reasons.append("partial data: {} of {} images".format(*_partial(rep)))
    if rep.get("protocol_note"):
        reasons.append(f"different protocol: {rep['protocol_note']}")
    return reasons


def run_title(rep) -> str:
    """The flags every heading of the report carries."""
    parts = [SYNTHETIC_TITLE] if rep["synthetic"] else []
    if rep.get("quick"):
        parts.append(QUICK_TITLE)
    if _partial(rep):
        parts.append("PARTIAL DATA ({} of {} images)".format(*_partial(rep)))
    return "".join(f" — {p}" for p in parts)


def _bounds(cell, claim):
    if cell.get("bounds") is not None:
        return [None if b is None else float(b) for b in cell["bounds"]]
    if claim is None:
        return None
    vals = np.asarray(cell["values"], float)
    if (claim.kind == "metric" and claim.scale in ("fraction", "percent")
            and ((vals >= 0) & (vals <= 1)).all()):
        return [0.0, 1.0]
    if claim.kind == "count":
        return [0.0, float(cell["n_test"]) if cell.get("n_test") else None]
    return None


def _ours(cell, claim) -> tuple:
    """(bounds, our side of the verdict, our summary in results.json) of a cell."""
    bounds = _bounds(cell, claim)
    side = V.ours(cell["values"], n_test=cell.get("n_test"), boot=cell.get("boot"), ci=cell.get("ci"),
                  bounds=bounds, test_sets=cell.get("test_sets", "shared"))
    vals = np.asarray(cell["values"], dtype=float)
    mean, std = mean_std(vals)
    if cell.get("ci") is not None:
        lo, hi, source = float(cell["ci"][0]), float(cell["ci"][1]), "given"
    else:
        lo, hi, source = side.low, side.high, "; ".join(side.includes)
        if lo == hi and len(vals) == 1:
            lo = hi = source = None
    return bounds, side, {"mean": mean, "std": None if math.isnan(std) else std, "ci_low": lo, "ci_high": hi,
                          "n": int(len(vals)), "n_test": cell.get("n_test"), "ci_source": source}


def _flat(claim):
    return isinstance(claim.value, list) and len(claim.value) > 1 and all(map(_num, claim.value))


def _paper_value(claim):
    if claim is None:
        return None
    if claim.is_scalar:   # a percentage on our [0, 1] scale, whatever its kind (metric, text, literature)
        return claim.as_fraction()
    if _flat(claim):
        return float(np.mean([claim.as_fraction(v) for v in claim.value]))
    return claim.value


def _compare(cell, claim, claims, reasons, run_tol=None):
    """(reproduced summary, difference dict or None, verdict)."""
    bounds, side, repro = _ours(cell, claim)
    if claim is None:
        return repro, None, "no paper value"
    if not (claim.is_scalar or _flat(claim)):
        return repro, None, "not comparable (the paper's value is not one number)"
    if cell.get("protocol_note"):
        reasons = reasons + [f"different protocol: {cell['protocol_note']}"]
    vals = cell["values"]
    if (claim.kind == "count" and claim.is_scalar and cell.get("bounds") is None and not cell.get("n_test")
            and cell.get("boot") is None and cell.get("ci") is None and len(set(vals)) == 1
            and float(vals[0]).is_integer()):
        # a count of the run's own making (runs, images in a split): exact, no sampling interval
        repro.update(std=None, ci_low=None, ci_high=None, ci_source="exact count", exact=True)
        d = repro["mean"] - float(claim.value)
        diff = {"value": d, "ci_low": d, "ci_high": d, "tolerance": 0.0, "exact": True}
        if reasons:
            return repro, diff, f"not comparable ({'; '.join(reasons)})"
        return repro, diff, "equal" if d == 0 else ("higher" if d > 0 else "lower")
    p = V.paper(claim, claims.test_size(claim) if claims else None, bounds)
    given = run_tol if run_tol is not None else cell.get("tolerance", claim.tolerance)
    tol = V.tolerance_for(bounds, p.value, given)
    diff = V.compare(side, p, tol, reasons)
    verdict = diff.pop("verdict")
    if verdict == "consistent":
        verdict = f"consistent within ±{tol:.2g}"
    return repro, diff, verdict


def _is_count(cell, claim) -> bool:
    if claim is not None:
        return claim.kind == "count"
    b = cell.get("bounds")
    return all(float(v).is_integer() for v in cell["values"]) and not (b is not None and list(b) == [0, 1])


def _sample_row(group, claims, reasons, run_tol):
    """The authors' values of a sample (e.g. ten retrained models) against ours as two samples:
    their run k is not our run k, so no row is paired by index."""
    first_claim, first_cell = group[0]
    cells = [c for _, c in group if c is not None]
    paper_vals = [cl.as_fraction() for cl, _ in group]
    sample = Claim(table=first_claim.table, row=first_claim.sample, column=first_claim.column,
                   value=paper_vals, scale="fraction", kind=first_claim.kind, test_size=first_claim.test_size)
    row = {"row": first_claim.sample, "column": first_claim.column, "paper": float(np.mean(paper_vals)),
           "reproduced": None, "difference": None, "verdict": "not reproduced", "sample": True}
    if not cells:
        return row
    ours_vals = [v for c in cells for v in c["values"]]
    repro, diff, verdict = _compare({**first_cell, "values": ours_vals, "row": first_claim.sample}, sample,
                                    claims, reasons, run_tol)
    row.update(reproduced=repro, difference=diff, verdict=verdict, note=_two_samples(paper_vals, ours_vals))
    return row


def _two_samples(paper_vals, ours_vals) -> str:
    def desc(name, v):
        return (f"{name}: mean {np.mean(v):.3f}, sd {np.std(v, ddof=1):.3f}, range {min(v):.3f}-{max(v):.3f} "
                f"({len(v)} runs)")
    text = f"two samples, not paired by run: {desc('paper', paper_vals)}; {desc('ours', ours_vals)}"
    if len(paper_vals) > 1 and len(ours_vals) > 1 and np.std(paper_vals) > 0 and np.std(ours_vals) > 0:
        lo, hi = sps.ttest_ind(ours_vals, paper_vals, equal_var=False).confidence_interval()
        text += f"; Welch 95% CI of the difference of means (runs only) [{lo:+.3f}, {hi:+.3f}]"
    return text


def _row(row, column, claim, verdict, note, reproduced=None, difference=None) -> dict:
    return {"row": row, "column": column, "paper": _paper_value(claim), "reproduced": reproduced,
            "difference": difference, "verdict": verdict, "note": note}


def build_results(reproduced: dict, claims=None) -> dict:
    """results.json content: every reproduced cell and every paper claim, matched by key. A claim
    with ``sample`` is shown beside our row of the same key without a verdict; its sample is
    compared once, in a row of that name."""
    _check_reproduced(reproduced)
    reasons, run_tol = run_reasons(reproduced), reproduced.get("tolerance")
    all_claims = claims.claims if claims else []
    tables, matched, samples = defaultdict(list), set(), defaultdict(list)
    for cell in reproduced["cells"]:
        key = (str(cell["table"]), str(cell["row"]), str(cell["column"]))
        claim = next(iter(claims.find(*key)), None) if claims else None
        if claim is not None:
            matched.add(claim.index)
        if claim is not None and claim.sample:
            samples[(claim.table, claim.sample, claim.column)].append((claim, cell))
            repro = _ours(cell, claim)[2]
            tables[key[0]].append(_row(*key[1:], claim, f"not paired (compared as a sample: {claim.sample})",
                                       cell.get("note", ""), repro))
            continue
        repro, diff, verdict = _compare(cell, claim, claims, reasons, run_tol)
        row = _row(*key[1:], claim, verdict, cell.get("note", ""), repro, diff)
        tables[key[0]].append({**row, "count": _is_count(cell, claim)})
    for claim in all_claims:
        if claim.sample and claim.index not in matched:
            samples[(claim.table, claim.sample, claim.column)].append((claim, None))
            rows = tables[claim.table]
            at = max((i + 1 for i, r in enumerate(rows) if r["verdict"].endswith(f"sample: {claim.sample})")),
                     default=len(rows))
            rows.insert(at, _row(claim.row, claim.column, claim,
                                 f"not paired (compared as a sample: {claim.sample})", claim.note))
    for (table, _, _), group in samples.items():
        tables[table].append(_sample_row(group, claims, reasons, run_tol))
    for claim in all_claims:
        if claim.index not in matched and not claim.sample:
            tables[claim.table].append(_row(claim.row, claim.column, claim, "not reproduced", claim.note))
    return {"paper": reproduced["paper"], "dataset": reproduced["dataset"],
            "synthetic": reproduced["synthetic"], "quick": bool(reproduced.get("quick", False)),
            "data": reproduced.get("data"), "not_comparable": reasons, "title_flags": run_title(reproduced),
            "tolerance": run_tol, "tables": dict(tables)}


def claims_for(paper: str):
    """The paper's claims (None without a file); a broken file raises ClaimsError, never drops them."""
    return load_claims(paper) if (papers_dir() / f"{paper}.yaml").is_file() else None
