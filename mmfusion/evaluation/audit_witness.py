"""Witness confusion matrices: for every printed row of the paper's own results whose test-set
class counts are known, the integer confusion matrices consistent with all of its printed metrics
under the stated (or inferred) averaging and the printed rounding — or "none". Every matrix is
enumerated once (pruned by the row's accuracy), then each printed metric is matched under each
averaging reading it may have."""
import numpy as np

from . import feasibility as fz
from .audit_checks import Finding, _dec, _modes, accuracy_only, by_row, printed, single_evaluations

NO_AVERAGING = ("accuracy", "balanced_accuracy")
MAX_LISTED = 10
# tried in this order: the first that admits a matrix is reported
MODES = (("rounded", ("round",)), ("truncated", ("truncate",)),
         ("some rounded, some truncated", ("round", "truncate")))
MODE_CAVEATS = {"truncated": "with every number truncated",
                "some rounded, some truncated": "only if some numbers are rounded and others truncated"}


class RowProblem:
    """A row's candidate matrices, enumerated once (OverflowError past the enumeration limit)."""

    def __init__(self, claims, group):
        counts = claims.class_counts(group[0])
        self.claims = group                     # the row's metric claims
        self.names = list(counts)               # class names, in the order of the matrices' rows
        self.counts = list(counts.values())     # test images per class
        acc = [c for c in group if fz.canonical_metric(c.column) == "accuracy"]
        # correct counts allowed by the accuracy (None: not pruned)
        self.pruned = (fz.allowed_correct_counts(sum(self.counts), acc[0].value, _dec(acc[0]),
                                                 acc[0].scale == "percent", _modes(acc[0])) if acc else None)
        # (M, k, k) candidate matrices, rows true, columns predicted
        self.cms = fz.enumerate_confusion_matrices(self.counts, self.pruned)
        # averaging readings tried: binary (positive the last class, then the first), macro, weighted, micro
        binary = [f"binary(pos={self.names[j]})" for j in (1, 0)] if len(self.names) == 2 else []
        self.readings = binary + ["macro", "weighted", "micro"]
        self._values = {r: fz.metrics_of_matrices(self.cms, r, self.names) for r in self.readings}

    def fits(self, c, reading, modes) -> np.ndarray:
        """Which matrices print as claim ``c`` under ``reading`` (``c.rounding`` overrides ``modes``)."""
        x = self._values[reading][fz.canonical_metric(c.column)] * (100 if c.scale == "percent" else 1)
        return fz.matches(x, c.value, _dec(c), (c.rounding,) if c.rounding else modes)

    def claim_readings(self, c) -> list:
        """The readings a claim may have: its stated averaging (and positive class), else all."""
        if c.averaging is None or fz.canonical_metric(c.column) in NO_AVERAGING:
            return list(self.readings)
        if c.averaging == "binary":
            pos = [f"binary(pos={c.positive})"] if c.positive else None
            return [r for r in self.readings if r.startswith("binary") and (pos is None or r in pos)]
        return [r for r in self.readings if r == c.averaging]


def _restrict(readings: dict, positive):
    """Binary readings of one positive class only (all claims of a row share it)."""
    return {r: m for r, m in readings.items()
            if not r.startswith("binary") or positive is None or r == f"binary(pos={positive})"}


def joint_fit(problem: RowProblem, per_claim: dict):
    """(mask, positive): matrices where every claim prints under one of its readings, binary
    readings sharing one positive class; the positive tried first is the last class."""
    positives = problem.names[::-1] if len(problem.names) == 2 else [None]
    for pos in positives:
        m = np.ones(len(problem.cms), bool)
        for c in problem.claims:
            rs = _restrict(per_claim[c.index], pos)
            m &= np.any(list(rs.values()), axis=0) if rs else False
        if m.any():
            return m, pos
    return np.zeros(len(problem.cms), bool), positives[0]


def single_readings(problem: RowProblem, per_claim: dict) -> list:
    """The readings under which every claim of the row prints as printed (one averaging for all)."""
    none = np.zeros(len(problem.cms), bool)
    return [r for r in problem.readings
            if np.logical_and.reduce([per_claim[c.index].get(r, none) for c in problem.claims]).any()]


def _solve(problem):
    """(mode label, {claim index: {reading: mask}}, mask, positive) under the first mode that fits."""
    for label, modes in MODES:
        per_claim = {c.index: {r: problem.fits(c, r, modes) for r in problem.claim_readings(c)}
                     for c in problem.claims}
        mask, pos = joint_fit(problem, per_claim)
        if mask.any():
            return label, per_claim, mask, pos
    return None, per_claim, mask, pos


def _severity(problem, label, per_claim):
    """consistent unless rounding is mixed, or unstated averagings need different readings."""
    why = [MODE_CAVEATS[label]] if label in MODE_CAVEATS else []
    stated = all(c.averaging for c in problem.claims if fz.canonical_metric(c.column) not in NO_AVERAGING)
    if not stated and not single_readings(problem, per_claim):
        why.append("no single averaging reproduces every number (the unstated averagings must differ)")
    bad = label == "some rounded, some truncated" or len(why) > (label == "truncated")
    return ("inconsistent" if bad else "consistent"), "".join(f" — {w}" for w in why)


def witness_row(claims, group) -> Finding:
    table, row = group[0].table, group[0].row
    refs = [c.ref() for c in group]
    try:
        problem = RowProblem(claims, group)
    except OverflowError as e:
        return Finding("witness", "unverifiable", refs, f"{table} / {row}: not enumerated ({e})")
    src = ("class counts: given on the claim (its note says where from)" if group[0].test_class_counts else
           claims.protocol.get("test_counts_source", "class counts: protocol.test_class_counts"))
    counts = ", ".join(f"{k} {v}" for k, v in zip(problem.names, problem.counts))
    header = f"{table} / {row}: test set {sum(problem.counts)} ({counts}" + (f"; {src}" if src else "") + ")"
    arith = f"{len(problem.cms)} integer confusion matrices enumerated" + (
        f" (pruned to {sorted(problem.pruned)} correct by the accuracy)" if problem.pruned is not None
        else "")
    label, per_claim, mask, pos = _solve(problem)
    avgs = [c.averaging + (f", positive {c.positive}" if c.positive else "") if c.averaging else ""
            for c in group]
    shown = [f"{c.column} {printed(c)}" + (f" ({avg})" if avg else "") for c, avg in zip(group, avgs)]
    details = {"table": table, "row": row, "classes": problem.names, "counts": problem.counts,
               "printed": ", ".join(shown)}
    if label is None:
        details.update(witnesses=[], count=0)
        how = "the stated averaging" if any(c.averaging for c in group) else "any averaging"
        return Finding("witness", "impossible", refs, f"{header}: no witness — no integer confusion matrix "
                       f"reproduces these numbers at the printed precision under {how}", arith,
                       details=details)
    idx = [int(i) for i in mask.nonzero()[0]]
    listed = [problem.cms[i].tolist() for i in idx[:MAX_LISTED]]
    # the readings under which the first witness prints as each claim
    used = {c.ref(): [r for r, m in _restrict(per_claim[c.index], pos).items() if m[idx[0]]]
            for c in problem.claims}
    severity, why = _severity(problem, label, per_claim)
    details.update(witnesses=listed, count=len(idx), positive=pos, readings=used, rounding=label)
    what = (f"exactly one witness {listed[0]}" if len(idx) == 1 else
            f"{len(idx)} witnesses, e.g. {listed[0]}")
    readings = "; ".join(f"{k}: {'/'.join(v)}" for k, v in used.items())
    return Finding("witness", severity, refs,
                   f"{header}: {what} (rows true, columns predicted, order {', '.join(problem.names)}){why}",
                   f"{arith}; numbers {label}; readings of the first witness: {readings}", details=details)


def check_witness(claims) -> list:
    """A witness finding per row of metric claims of one evaluation (n == 1) with known class counts;
    a row that prints only an accuracy is the GRIM check's (k / N)."""
    groups = by_row(c for c in single_evaluations(claims)
                    if sum((claims.class_counts(c) or {}).values()) > 0)
    return [witness_row(claims, g) for g in groups.values() if not accuracy_only(g)]
