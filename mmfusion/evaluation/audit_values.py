"""Claims audit checks 4 and 5: a CI contains its point; values in range; the same quantity
reported the same way in two places (by key, or linked with ``same_as``)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from . import feasibility as fz
from .audit_checks import Finding, _dec, _frac_interval, printed


# 4 -------------------------------------------------------------------------------------------
def check_ci(claims) -> list:
    out = []
    for c in claims.claims:
        if c.ci is None or not c.is_scalar:
            continue
        lo, hi = c.ci
        d = _dec(c)
        tol = 10 ** -max(d, fz.inferred_decimals(lo), fz.inferred_decimals(hi))
        arith = f"{lo} <= {c.value} <= {hi} (tolerance {tol:g} for rounding)"
        if lo > hi:
            out.append(Finding("ci_contains", "impossible", [c.ref()], f"{c.ref()}: CI lower > upper", arith))
        elif not (lo - tol <= c.value <= hi + tol):
            out.append(Finding("ci_contains", "impossible", [c.ref()],
                               f"{c.ref()}: the CI [{lo}, {hi}] does not contain the point {c.value}", arith))
        else:
            out.append(Finding("ci_contains", "consistent", [c.ref()], f"{c.ref()}: CI contains the point",
                               arith))
    return out


# 5 -------------------------------------------------------------------------------------------
def _flat(v):
    return [x for y in v for x in _flat(y)] if isinstance(v, list) else [v]


def check_range(claims) -> list:
    out = []
    for c in claims.claims:
        vals = _flat(c.value) + ([*c.ci] if c.ci else [])
        name = fz.canonical_metric(c.column)
        bad, bound = [], ""
        if c.kind == "metric" and name in fz.BOUNDED:
            top = 100.0 if c.scale == "percent" else 1.0
            bad, bound = [v for v in vals if not 0 <= v <= top], f"[0, {top:g}] ({c.scale})"
        elif c.kind == "p_value":
            bad, bound = [v for v in vals if not 0 <= v <= 1], "[0, 1]"
        elif c.kind == "count":
            bad, bound = [v for v in vals if v < 0 or v != int(v)], "non-negative integers"
        elif c.kind == "time_s":
            bad, bound = [v for v in vals if v < 0], ">= 0"
        if bad:
            out.append(Finding("range", "impossible", [c.ref()], f"{c.ref()}: {bad} outside {bound}",
                               f"allowed {bound}"))
        if c.decimals is not None and c.is_scalar and fz.inferred_decimals(c.value) > c.decimals:
            out.append(Finding("range", "inconsistent", [c.ref()],
                               f"{c.ref()}: value {c.value} has more digits than decimals={c.decimals}"))
    return out


def _same_pair(a, b, why):
    alo, ahi = _frac_interval(a)
    blo, bhi = _frac_interval(b)
    arith = f"{printed(a)} -> [{alo:.5f}, {ahi:.5f}]; {printed(b)} -> [{blo:.5f}, {bhi:.5f}]"
    if ahi < blo or bhi < alo:
        return Finding("same_quantity", "inconsistent", [a.ref(), b.ref()],
                       f"the same quantity ({why}) is reported as {printed(a)} and {printed(b)}", arith)
    return Finding("same_quantity", "consistent", [a.ref(), b.ref()], f"{why}: consistent", arith)


def check_same_quantity(claims) -> list:
    out, seen = [], set()
    scalars = [c for c in claims.claims if c.is_scalar and c.kind == "metric"]
    by_key = defaultdict(list)
    for c in scalars:
        by_key[(c.row, fz.canonical_metric(c.column) or c.column, c.averaging)].append(c)
    for (row, col, _), cs in by_key.items():
        for i, a in enumerate(cs):
            for b in cs[i + 1:]:
                seen.add((a.index, b.index))
                out.append(_same_pair(a, b, f"{row} / {col} in {a.table} and {b.table}"))
    for c in claims.claims:
        if not c.same_as:
            continue
        targets = claims.find(c.same_as["table"], c.same_as["row"], c.same_as["column"])
        if not targets:
            out.append(Finding("same_quantity", "inconsistent", [c.ref()],
                               f"{c.ref()}: same_as points to no claim {c.same_as}"))
        for t in targets:
            if (min(t.index, c.index), max(t.index, c.index)) in seen:
                continue
            if c.is_scalar and t.is_scalar:
                out.append(_same_pair(c, t, f"same_as link {c.ref()} -> {t.ref()}"))
            else:  # one is the per-run list, the other its mean
                lst, mean = (c, t) if isinstance(c.value, list) else (t, c)
                if not mean.is_scalar:
                    continue
                m = float(np.mean(_flat(lst.value)))
                mlo, mhi = _frac_interval(mean)
                ok = mlo <= mean.as_fraction(m) <= mhi
                out.append(Finding("same_quantity", "consistent" if ok else "inconsistent",
                                   [lst.ref(), mean.ref()],
                                   f"mean of the {len(_flat(lst.value))} listed values {m:.5f} "
                                   f"{'prints' if ok else 'does not print'} as {mean.value}",
                                   f"mean = {m:.6f}; {mean.value} covers [{mlo:.5f}, {mhi:.5f}]"))
    return out
