"""Witness confusion matrices: for every printed row of the paper's own results whose test-set
class counts are known, the integer confusion matrices consistent with all of its printed metrics
under the stated (or inferred) averaging and the printed rounding — or "none"."""
from __future__ import annotations

from collections import defaultdict

from . import audit_rows as ar
from . import feasibility as fz
from .audit_checks import Finding, accuracy_only, printed

MAX_LISTED = 10
# tried in this order: the first that admits a matrix is reported
MODES = (("rounded", ("round",)), ("truncated", ("truncate",)),
         ("some rounded, some truncated", ("round", "truncate")))


def witness_groups(claims) -> dict:
    """(table, row) -> metric claims of one evaluation (n == 1) with known class counts."""
    groups = defaultdict(list)
    for c in claims.claims:
        if (c.kind == "metric" and c.is_scalar and (c.n or 1) == 1 and c.relation in (None, "=")
                and fz.canonical_metric(c.column) in ar.GRIM_METRICS
                and c.averaging not in ("per-class", "samples")):
            counts = claims.class_counts(c)
            if counts and sum(counts.values()) > 0:
                groups[(c.table, c.row)].append(c)
    # an accuracy alone is the GRIM check's (k / N)
    return {k: g for k, g in groups.items() if not accuracy_only(g)}


def _printed(c) -> str:
    avg = c.averaging + (f", positive {c.positive}" if c.positive else "") if c.averaging else ""
    return f"{c.column} {printed(c)}" + (f" ({avg})" if avg else "")


def _solve(problem):
    """(mode label, per-claim fits, mask, positive) under the first rounding mode that fits."""
    for label, modes in MODES:
        per_claim = ar.per_claim_fits(problem, modes)
        mask, pos = ar.joint_fit(problem, per_claim)
        if mask.any():
            return label, per_claim, mask, pos
    return None, per_claim, mask, pos


def _header(claims, problem):
    c = problem.claims[0]
    src = ("class counts: given on the claim (its note says where from)" if c.test_class_counts else
           claims.protocol.get("test_counts_source", "class counts: protocol.test_class_counts"))
    counts = ", ".join(f"{k} {v}" for k, v in zip(problem.names, problem.counts))
    return (f"{problem.table} / {problem.row}: test set {problem.n} ({counts}"
            + (f"; {src}" if src else "") + ")")


def _severity(problem, label, per_claim):
    """consistent unless rounding is mixed, or unstated averagings need different readings."""
    why = []
    if label == "some rounded, some truncated":
        why.append("only if some numbers are rounded and others truncated")
    elif label == "truncated":
        why.append("with every number truncated")
    stated = all(c.averaging for c in problem.claims if fz.canonical_metric(c.column) not in ar.NO_AVERAGING)
    if not stated and not ar.single_readings(problem, per_claim):
        why.append("no single averaging reproduces every number (the unstated averagings must differ)")
    bad = label == "some rounded, some truncated" or len(why) > (label == "truncated")
    return ("inconsistent" if bad else "consistent"), "".join(f" — {w}" for w in why)


def witness_row(claims, group) -> Finding:
    table, row = group[0].table, group[0].row
    refs = [c.ref() for c in group]
    try:
        problem = ar.row_problem(claims, table, row, group)
    except OverflowError as e:
        return Finding("witness", "unverifiable", refs, f"{table} / {row}: not enumerated ({e})")
    header = _header(claims, problem)
    arith = f"{len(problem.cms)} integer confusion matrices enumerated" + (
        f" (pruned to {sorted(problem.pruned)} correct by the accuracy)" if problem.pruned is not None
                                                                           else "")
    label, per_claim, mask, pos = _solve(problem)
    details = {"table": table, "row": row, "classes": problem.names, "counts": problem.counts,
               "printed": ", ".join(_printed(c) for c in group)}
    if label is None:
        details.update(witnesses=[], count=0)
        how = "the stated averaging" if any(c.averaging for c in group) else "any averaging"
        return Finding("witness", "impossible", refs, f"{header}: no witness — no integer confusion matrix "
                       f"reproduces these numbers at the printed precision under {how}", arith,
                       details=details)
    idx = [int(i) for i in mask.nonzero()[0]]
    listed = [problem.cms[i].tolist() for i in idx[:MAX_LISTED]]
    used = ar.readings_used(problem, per_claim, idx[0], pos)
    severity, why = _severity(problem, label, per_claim)
    details.update(witnesses=listed, count=len(idx), positive=pos, readings=used, rounding=label)
    what = (f"exactly one witness {listed[0]}" if len(idx) == 1 else
            f"{len(idx)} witnesses, e.g. {listed[0]}")
    readings = "; ".join(f"{k}: {'/'.join(v)}" for k, v in used.items())
    return Finding("witness", severity, refs,
                   f"{header}: {what} (rows true, columns predicted, order {', '.join(problem.names)}){why}",
                   f"{arith}; numbers {label}; readings of the first witness: {readings}", details=details)


def check_witness(claims) -> list:
    return [witness_row(claims, group) for group in witness_groups(claims).values()]
