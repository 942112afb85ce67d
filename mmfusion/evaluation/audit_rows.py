"""The integer confusion matrices behind one printed row (test-set class counts known): every
matrix is enumerated once (pruned by the row's accuracy), then each printed metric is matched under
each averaging reading it may have. Used by the witness check (audit_witness)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import feasibility as fz
from .audit_checks import _dec

GRIM_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1")
NO_AVERAGING = ("accuracy", "balanced_accuracy")


@dataclass
class RowProblem:
    table: str
    row: str
    claims: list            # the row's metric claims
    names: list             # class names, in the order of the matrices' rows
    counts: list            # test images per class
    cms: np.ndarray         # (M, k, k) candidate matrices, rows true, columns predicted
    readings: list          # averaging readings tried (binary(pos=..), macro, weighted, micro)
    pruned: set | None      # correct counts allowed by the accuracy (None: not pruned)

    def __post_init__(self):
        self._values = {r: fz.metrics_of_matrices(self.cms, r, self.names) for r in self.readings}

    @property
    def n(self) -> int:
        return int(sum(self.counts))

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


def row_problem(claims, table, row, group) -> RowProblem:
    """Enumerate the row's candidate matrices (OverflowError past the enumeration limit)."""
    counts = claims.class_counts(group[0])
    names, n = list(counts), sum(counts.values())
    acc = [c for c in group if fz.canonical_metric(c.column) == "accuracy"]
    allowed = None
    if acc:
        c = acc[0]
        modes = (c.rounding,) if c.rounding else ("round", "truncate")
        allowed = fz.allowed_correct_counts(n, c.value, _dec(c), c.scale == "percent", modes)
    cms = fz.enumerate_confusion_matrices(list(counts.values()), allowed)
    return RowProblem(table, row, group, names, list(counts.values()), cms,
                      fz.readings(len(names), names), allowed)


def per_claim_fits(problem: RowProblem, modes) -> dict:
    """claim index -> {reading: mask} over the readings the claim may have."""
    return {c.index: {r: problem.fits(c, r, modes) for r in problem.claim_readings(c)}
            for c in problem.claims}


def _restrict(readings: dict, positive):
    """Binary readings of one positive class only (all claims of a row share it)."""
    return {r: m for r, m in readings.items()
            if not r.startswith("binary") or positive is None or r == f"binary(pos={positive})"}


def joint_fit(problem: RowProblem, per_claim: dict):
    """(mask, positive): matrices where every claim prints under one of its readings, binary
    readings sharing one positive class; the positive tried first is the last class."""
    positives = problem.names[::-1] if len(problem.names) == 2 else [None]
    best = (np.zeros(len(problem.cms), bool), positives[0])
    for pos in positives:
        m = np.ones(len(problem.cms), bool)
        for c in problem.claims:
            rs = _restrict(per_claim[c.index], pos)
            m &= np.any(list(rs.values()), axis=0) if rs else False
        if m.any():
            return m, pos
    return best


def single_readings(problem: RowProblem, per_claim: dict) -> list:
    """The readings under which every claim of the row prints as printed (one averaging for all)."""
    good = []
    for r in problem.readings:
        m = np.ones(len(problem.cms), bool)
        for c in problem.claims:
            m &= per_claim[c.index].get(r, np.zeros(len(problem.cms), bool))
        if m.any():
            good.append(r)
    return good


def readings_used(problem: RowProblem, per_claim: dict, i: int, positive) -> dict:
    """claim ref -> the readings under which matrix ``i`` prints as that claim."""
    return {c.ref(): [r for r, m in _restrict(per_claim[c.index], positive).items() if m[i]]
            for c in problem.claims}
