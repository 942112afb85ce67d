"""Internal-consistency checks of the claims audit (F1 vs P/R, GRIM on accuracies, std bounds) and
the Finding they return, with the arithmetic behind it. Severity: impossible (as printed),
inconsistent (two printings disagree, or possible only under an unusual reading), unverifiable
(the paper does not print what a check needs), consistent."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from scipy import stats as sps

from . import feasibility as fz
from .claims import METRIC_KINDS

SEVERITIES = ("impossible", "inconsistent", "unverifiable", "consistent")


@dataclass
class Finding:
    check: str
    severity: str
    claims: list
    message: str
    arithmetic: str = ""
    paper: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self):
        return asdict(self)


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


def _frac_interval(c, value=None, decimals=None):
    """Interval of true fractions that print as the claim's value under its rounding modes; "over x"
    is [x, inf), "below x" (-inf, x], "about x" one printed unit either side."""
    v = c.value if value is None else value
    d = _dec(c) if decimals is None else decimals
    ivs = [fz.printed_interval(v, d, m) for m in _modes(c)]
    lo, hi = min(i[0] for i in ivs), max(i[1] for i in ivs)
    rel, unit = c.relation if value is None else None, 10.0 ** -d
    if rel in (">", ">="):
        lo, hi = v - fz.EPS, math.inf
    elif rel in ("<", "<="):
        lo, hi = -math.inf, v + fz.EPS
    elif rel == "~":
        lo, hi = lo - unit, hi + unit
    return c.as_fraction(lo), c.as_fraction(hi)


def _metric_claims(claims, kinds=("metric",)):
    return [c for c in claims.claims if c.kind in kinds and c.is_scalar and c.relation in (None, "=")
            and fz.canonical_metric(c.column) is not None]


def _hm(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


# 1 -------------------------------------------------------------------------------------------
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
        refs = [p.ref(), r.ref(), f.ref()]
        arith = (f"HM(P, R) = 2PR/(P+R) with P in [{plo:.5f}, {phi:.5f}], R in [{rlo:.5f}, {rhi:.5f}] "
                 f"gives [{hlo:.5f}, {hhi:.5f}]; reported F1 in [{flo:.5f}, {fhi:.5f}]")
        exact = avg in ("binary", "micro") and (f.n or 1) == 1
        if flo > hhi:
            out.append(Finding("f1_harmonic", "impossible", refs,
                               f"{table} / {row}: F1 exceeds the harmonic mean of P and R, impossible "
                               "for a single evaluation, a macro/weighted average or a mean over folds "
                               "(all are <= HM by concavity)", arith))
        elif fhi < hlo:
            averaged = avg in ("macro", "weighted") or (f.n or 1) > 1
            sev = "impossible" if exact else "consistent" if averaged else "unverifiable"
            why = ("binary F1 must equal HM(P, R)" if exact else
                   "F1 below HM(P, R), as a macro/weighted average or a mean over folds may be" if averaged
                   else
                   "F1 below HM(P, R): possible only as a macro/weighted average or a mean over folds")
            out.append(Finding("f1_harmonic", sev, refs, f"{table} / {row}: {why}", arith))
        else:
            out.append(Finding("f1_harmonic", "consistent", refs, f"{table} / {row}: F1 consistent with P, R",
                               arith))
    return out


# 2 -------------------------------------------------------------------------------------------
GRIM_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1")


def accuracy_only(group) -> bool:
    """A row that prints only an accuracy: GRIM's k / N; anything more is a witness problem."""
    return all(fz.canonical_metric(c.column) == "accuracy" for c in group)


def check_grim(claims) -> list:
    out = []
    groups = defaultdict(list)
    for c in _metric_claims(claims):
        if (fz.canonical_metric(c.column) in GRIM_METRICS and (c.n or 1) == 1
                and c.averaging not in ("per-class", "samples")):
            groups[(c.table, c.row)].append(c)
    for (table, row), group in groups.items():
        counts = claims.class_counts(group[0])
        size = claims.test_size(group[0])
        if counts and sum(counts.values()) > 0 and not accuracy_only(group):
            continue  # the row's confusion matrices are enumerated by audit_witness
        if size:
            for c in group:
                if fz.canonical_metric(c.column) == "accuracy":
                    out.append(_grim_accuracy(c, size, 1))
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


# 3 -------------------------------------------------------------------------------------------
def _implied_std(pm, meaning, k):
    if meaning == "sem":
        return pm * math.sqrt(k)
    if meaning == "ci95_halfwidth":
        return pm * math.sqrt(k) / sps.t.ppf(0.975, k - 1)
    return pm


def check_std(claims) -> list:
    out = []
    for c in _metric_claims(claims, METRIC_KINDS):
        if c.pm is None or fz.canonical_metric(c.column) not in fz.BOUNDED:
            continue
        ks = [c.n] if c.n else list(range(2, 101))
        if c.n == 1:
            continue
        mlo, mhi = _frac_interval(c)
        pd_ = fz.inferred_decimals(c.pm)
        pm_lo = max(c.pm - 0.5 * 10 ** -pd_, 0.0)
        same = c.pm / 100 if c.scale == "percent" else c.pm
        same_lo = pm_lo / 100 if c.scale == "percent" else pm_lo
        alt_name = "fraction (not percent)" if c.scale == "percent" else "percentage points"
        scales = {"as printed": same_lo, alt_name: pm_lo if c.scale == "percent" else pm_lo / 100}
        meanings = [c.pm_meaning] if c.pm_meaning not in (None, "unknown") else ["std", "sem",
                                                                                 "ci95_halfwidth"]
        smax = {k: fz.max_sample_std_interval(mlo, mhi, k) for k in ks}
        feasible = []
        for sname, pmv in scales.items():
            for meaning in meanings:
                kok = [k for k in ks if _implied_std(pmv, meaning, k) <= smax[k] + 1e-12]
                if kok:
                    feasible.append(f"{meaning} in {sname}" + ("" if c.n else f" (k in {kok[0]}..{kok[-1]})"))
        kdesc = f"k = {c.n}" if c.n else "k unknown, tried 2..100"
        best = max(smax.values())
        arith = (f"mean in [{mlo:.5f}, {mhi:.5f}], {kdesc}: largest possible sample std "
                 f"{best:.5f} (j values at 1, one fractional, rest 0); ± {c.pm} as printed = {same:g}")
        literal = meanings[0] if c.pm_meaning not in (None, "unknown") else "std"
        literal_ok = any(f.startswith(f"{literal} in as printed") for f in feasible)
        if literal_ok:
            out.append(Finding("std_bound", "consistent", [c.ref()], f"{c.ref()}: ± {c.pm} possible", arith))
        else:
            msg = f"{c.ref()}: ± {c.pm} read as a sample {literal} is impossible for this mean"
            msg += f"; feasible readings: {', '.join(feasible)}" if feasible else "; no reading is feasible"
            out.append(Finding("std_bound", "impossible", [c.ref()], msg, arith,
                               details={"feasible": feasible}))
    return out
