"""Internal-consistency checks of the claims audit and the Finding they return: F1 vs P/R, GRIM on
accuracies, std bounds, a CI containing its point, values in range, the same quantity printed the
same way twice. Severity: impossible (as printed), inconsistent (two printings disagree, or possible
only under an unusual reading), unverifiable (the paper does not print what a check needs), consistent."""
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from . import feasibility as fz
from .claims import METRIC_KINDS, _flat

SEVERITIES = ("impossible", "inconsistent", "unverifiable", "consistent")
GRIM_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1")


@dataclass
class Finding:
    check: str
    severity: str
    claims: list
    message: str
    arithmetic: str = ""
    paper: str = ""
    details: dict = field(default_factory=dict)


def _dec(c):
    return c.decimals if c.decimals is not None else fz.inferred_decimals(c.value)


def printed(c) -> str:
    """The value as the paper prints it (decimals, % sign, "<" / "over" / "about")."""
    if not c.is_scalar:
        return str(c.value)
    rel = {"<": "< ", "<=": "<= ", ">": "over ", ">=": ">= ", "~": "about "}.get(c.relation, "")
    return f"{rel}{c.value:.{_dec(c)}f}" + ("%" if c.scale == "percent" else "")


def _modes(c):
    return (c.rounding,) if c.rounding else ("round", "truncate")


def _frac_interval(c):
    """Interval of true fractions that print as the claim's value under its rounding modes; "over x"
    is [x, inf), "below x" (-inf, x], "about x" one printed unit either side."""
    ivs = [fz.printed_interval(c.value, _dec(c), m) for m in _modes(c)]
    lo, hi = min(i[0] for i in ivs), max(i[1] for i in ivs)
    if c.relation in (">", ">="):
        lo, hi = c.value - fz.EPS, math.inf
    elif c.relation in ("<", "<="):
        lo, hi = -math.inf, c.value + fz.EPS
    elif c.relation == "~":
        lo, hi = lo - 10.0 ** -_dec(c), hi + 10.0 ** -_dec(c)
    return c.as_fraction(lo), c.as_fraction(hi)


def _metric_claims(claims, kinds=("metric",)):
    return [c for c in claims.claims if c.kind in kinds and c.is_scalar and c.relation in (None, "=")
            and fz.canonical_metric(c.column) is not None]


def by_row(cs) -> dict:
    """(table, row) -> those of the claims ``cs`` printed in that row, in file order."""
    rows = defaultdict(list)
    for c in cs:
        rows[(c.table, c.row)].append(c)
    return rows


def single_evaluations(claims) -> list:
    """Metric claims of one evaluation (n == 1), as GRIM and the witness matrices check them."""
    return [c for c in _metric_claims(claims) if fz.canonical_metric(c.column) in GRIM_METRICS
            and (c.n or 1) == 1 and c.averaging not in ("per-class", "samples")]


def _hm(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def check_f1(claims) -> list:
    groups = defaultdict(dict)
    for c in _metric_claims(claims, METRIC_KINDS):
        name = fz.canonical_metric(c.column)
        if name in ("precision", "recall", "f1"):
            groups[(c.table, c.row, c.averaging)][name] = c
    out = []
    for (table, row, avg), g in groups.items():
        if len(g) < 3:
            continue
        p, r, f = g["precision"], g["recall"], g["f1"]
        (plo, phi), (rlo, rhi), (flo, fhi) = _frac_interval(p), _frac_interval(r), _frac_interval(f)
        hlo, hhi = _hm(plo, rlo), _hm(phi, rhi)
        arith = (f"HM(P, R) = 2PR/(P+R) with P in [{plo:.5f}, {phi:.5f}], R in [{rlo:.5f}, {rhi:.5f}] "
                 f"gives [{hlo:.5f}, {hhi:.5f}]; reported F1 in [{flo:.5f}, {fhi:.5f}]")
        averaged = avg in ("macro", "weighted") or (f.n or 1) > 1
        if flo > hhi:
            sev, why = "impossible", ("F1 exceeds the harmonic mean of P and R, impossible for a single "
                                      "evaluation, a macro/weighted average or a mean over folds (all are <= "
                                      "HM by concavity)")
        elif fhi < hlo and avg in ("binary", "micro") and (f.n or 1) == 1:
            sev, why = "impossible", "binary F1 must equal HM(P, R)"
        elif fhi < hlo and averaged:
            sev, why = "consistent", ("F1 below HM(P, R), as a macro/weighted average or a mean over folds "
                                      "may be")
        elif fhi < hlo:
            sev, why = "unverifiable", ("F1 below HM(P, R): possible only as a macro/weighted average or a "
                                        "mean over folds")
        else:
            sev, why = "consistent", "F1 consistent with P, R"
        out.append(Finding("f1_harmonic", sev, [p.ref(), r.ref(), f.ref()], f"{table} / {row}: {why}", arith))
    return out


def accuracy_only(group) -> bool:
    """A row that prints only an accuracy: GRIM's k / N; anything more is a witness problem."""
    return all(fz.canonical_metric(c.column) == "accuracy" for c in group)


def check_grim(claims) -> list:
    out = []
    for group in by_row(single_evaluations(claims)).values():
        counts, size = claims.class_counts(group[0]), claims.test_size(group[0])
        # a row with class counts and more than an accuracy: audit_witness enumerates its matrices
        if size and not (counts and sum(counts.values()) > 0 and not accuracy_only(group)):
            out += [_grim_accuracy(c, size, 1) for c in group if fz.canonical_metric(c.column) == "accuracy"]
    # per-run lists and means over n runs of a fixed-size test set: accuracy = correct / (n * N)
    for c in claims.claims:
        size = claims.test_size(c)
        if c.kind != "metric" or fz.canonical_metric(c.column) != "accuracy" or not size:
            continue
        if isinstance(c.value, list) and all(isinstance(v, (int, float)) for v in c.value):
            out.extend(_grim_accuracy(c, size, 1, value=v, label=f"run {i + 1}")
                       for i, v in enumerate(c.value))
        elif c.is_scalar and (c.n or 1) > 1 and claims.protocol.get("runs") == c.n:
            # repeated runs on one fixed test set (not CV folds, whose sizes differ)
            out.append(_grim_accuracy(c, size, c.n))
    return out


def _grim_accuracy(c, size, runs, value=None, label=""):
    v = c.value if value is None else value
    d = _dec(c) if value is None else fz.inferred_decimals(v)
    denom = size * runs
    ok = fz.allowed_correct_counts(denom, v, d, c.scale == "percent", _modes(c))
    what = f"{c.ref()}{' ' + label if label else ''}: accuracy {v}"
    arith = f"k / {denom} for k in 0..{denom}" + (f" ({runs} runs x {size})" if runs > 1 else "")
    if ok:
        return Finding("grim", "consistent", [c.ref()], f"{what} = {sorted(ok)[0]}/{denom} feasible", arith)
    return Finding("grim", "impossible", [c.ref()],
                   f"{what} is not k/{denom} for any integer k at {d} decimals", arith)


def _implied_std(pm, meaning, k):
    if meaning == "sem":
        return pm * math.sqrt(k)
    if meaning == "ci95_halfwidth":
        return pm * math.sqrt(k) / sps.t.ppf(0.975, k - 1)
    return pm


def check_std(claims) -> list:
    out = []
    for c in _metric_claims(claims, METRIC_KINDS):
        if c.pm is None or fz.canonical_metric(c.column) not in fz.BOUNDED or c.n == 1:
            continue
        ks = [c.n] if c.n else list(range(2, 101))
        mlo, mhi = _frac_interval(c)
        pm_lo = max(c.pm - 0.5 * 10 ** -fz.inferred_decimals(c.pm), 0.0)
        pct = c.scale == "percent"
        scales = {"as printed": pm_lo / 100 if pct else pm_lo,
                  "fraction (not percent)" if pct else "percentage points": pm_lo if pct else pm_lo / 100}
        stated = c.pm_meaning not in (None, "unknown")
        meanings = [c.pm_meaning] if stated else ["std", "sem", "ci95_halfwidth"]
        smax = {k: fz.max_sample_std_interval(mlo, mhi, k) for k in ks}
        feasible = []
        for sname, pmv in scales.items():
            for meaning in meanings:
                kok = [k for k in ks if _implied_std(pmv, meaning, k) <= smax[k] + 1e-12]
                if kok:
                    feasible.append(f"{meaning} in {sname}" + ("" if c.n else f" (k in {kok[0]}..{kok[-1]})"))
        kdesc = f"k = {c.n}" if c.n else "k unknown, tried 2..100"
        arith = (f"mean in [{mlo:.5f}, {mhi:.5f}], {kdesc}: largest possible sample std "
                 f"{max(smax.values()):.5f} (j values at 1, one fractional, rest 0); ± {c.pm} as printed = "
                 f"{c.as_fraction(c.pm):g}")
        if any(f.startswith(f"{meanings[0]} in as printed") for f in feasible):
            out.append(Finding("std_bound", "consistent", [c.ref()], f"{c.ref()}: ± {c.pm} possible", arith))
        else:
            msg = f"{c.ref()}: ± {c.pm} read as a sample {meanings[0]} is impossible for this mean"
            msg += f"; feasible readings: {', '.join(feasible)}" if feasible else "; no reading is feasible"
            out.append(Finding("std_bound", "impossible", [c.ref()], msg, arith,
                               details={"feasible": feasible}))
    return out


def check_ci(claims) -> list:
    out = []
    for c in claims.claims:
        if c.ci is None or not c.is_scalar:
            continue
        lo, hi = c.ci
        tol = 10 ** -max(_dec(c), fz.inferred_decimals(lo), fz.inferred_decimals(hi))
        if lo > hi:
            sev, msg = "impossible", "CI lower > upper"
        elif not (lo - tol <= c.value <= hi + tol):
            sev, msg = "impossible", f"the CI [{lo}, {hi}] does not contain the point {c.value}"
        else:
            sev, msg = "consistent", "CI contains the point"
        out.append(Finding("ci_contains", sev, [c.ref()], f"{c.ref()}: {msg}",
                           f"{lo} <= {c.value} <= {hi} (tolerance {tol:g} for rounding)"))
    return out


def check_range(claims) -> list:
    out = []
    for c in claims.claims:
        vals = _flat(c.value) + ([*c.ci] if c.ci else [])
        bad, bound = [], ""
        if c.kind == "metric" and fz.canonical_metric(c.column) in fz.BOUNDED:
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
    """One quantity printed in two tables (same row, metric, averaging) or linked by ``same_as``."""
    out, seen = [], set()
    by_key = defaultdict(list)
    for c in claims.claims:
        if c.is_scalar and c.kind == "metric":
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
                continue
            lst, mean = (c, t) if isinstance(c.value, list) else (t, c)   # the per-run list and its mean
            if not mean.is_scalar:
                continue
            values = _flat(lst.value)
            m = float(np.mean(values))
            mlo, mhi = _frac_interval(mean)
            ok = mlo <= mean.as_fraction(m) <= mhi
            out.append(Finding("same_quantity", "consistent" if ok else "inconsistent",
                               [lst.ref(), mean.ref()],
                               f"mean of the {len(values)} listed values {m:.5f} "
                               f"{'prints' if ok else 'does not print'} as {mean.value}",
                               f"mean = {m:.6f}; {mean.value} covers [{mlo:.5f}, {mhi:.5f}]"))
    return out
