"""Verdicts: the difference ours − paper with a 95% interval carrying every known uncertainty, and one
word for it (the rule is printed in every report.md; docs/claims.md). Ours: run-to-run variance / r
plus test sampling (``boot``'s variance, else the run's ``ci``, else binomial q(1-q)/n_test). The
paper's: its printed spread (± std over n -> pm²/n; sem -> pm²; CI half-width -> (pm/1.96)²; unknown
as std; a CI; per-run values) plus binomial sampling of its test size. Variances add (wide when a fold
spread already holds test sampling). Bounded sides: Wilson on the effective n = q(1-q)/variance; the
difference: Newcombe's square-and-add (MOVER). δ defaults to 0.2 of a bounded range (MIAS's 48 test
images alone give ±0.12 per side), else 0.2·|paper|."""
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

Z = float(sps.norm.ppf(0.975))
DEFAULT_TOLERANCE = 0.2


def wilson(q: float, n: float, z: float = Z) -> tuple:
    """Wilson score interval of a proportion q observed on n (may be non-integer) trials."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(q * n, n, alpha=2 * float(sps.norm.sf(z)), method="wilson")
    return max(0.0, float(low)), min(1.0, float(high))


def _finite(bounds):
    return bounds is not None and all(b is not None and math.isfinite(b) for b in bounds)


def interval(mean: float, var: float, bounds=None, z: float = Z) -> tuple:
    """95% interval of an estimate with variance ``var``: Wilson on the effective sample size when
    ``bounds`` are finite, else mean ± z·sd clipped to any one-sided bound."""
    if var <= 0:
        return mean, mean
    if _finite(bounds):
        lo, w = bounds[0], bounds[1] - bounds[0]
        q, vq = (mean - lo) / w, var / (w * w)
        if 0 < q < 1:
            ql, qh = wilson(q, q * (1 - q) / vq, z)
            return lo + ql * w, lo + qh * w
    a, b = mean - z * math.sqrt(var), mean + z * math.sqrt(var)
    if bounds is not None:
        a = a if bounds[0] is None else max(a, bounds[0])
        b = b if bounds[1] is None else min(b, bounds[1])
    return a, b


def binomial_var(mean, n, bounds):
    """Test-sampling variance of a bounded quantity measured on n samples (0 when unknown)."""
    if not n or not _finite(bounds):
        return 0.0
    w = bounds[1] - bounds[0]
    q = min(max((mean - bounds[0]) / w, 0.0), 1.0)
    return q * (1 - q) / n * w * w


@dataclass
class Side:
    value: float
    low: float
    high: float
    includes: list = field(default_factory=list)   # which sources of uncertainty are in it
    n_scale: float | None = None                    # what grows to narrow it (test images or runs)
    n_unit: str = ""

    @property
    def half(self):
        return (self.high - self.low) / 2


def ours(values, n_test=None, boot=None, ci=None, bounds=None, test_sets="shared") -> Side:
    """Our side: the mean over runs/folds with run-to-run and test-set sampling uncertainty."""
    vals = np.asarray(values, float)
    r, mean = len(vals), float(vals.mean())
    v_runs = float(vals.var(ddof=1)) / r if r > 1 else 0.0
    inc = [f"run-to-run over {r} runs/folds"] if r > 1 else []
    if boot is not None and len(boot) > 1:
        v_test = float(np.var(boot, ddof=1))
        inc.append(f"bootstrap of the test predictions ({len(boot)} replicates)")
    elif ci is not None:
        v_test = ((float(ci[1]) - float(ci[0])) / (2 * Z)) ** 2
        inc.append("the run's own 95% CI")
    else:
        n_eff = n_test * (r if test_sets == "disjoint" else 1) if n_test else None
        v_test = binomial_var(mean, n_eff, bounds)
        inc.append(f"binomial test sampling (n_test={n_test})" if v_test > 0 or (n_test and _finite(bounds))
                   else "no test-set sampling (n_test unknown)")
    # only runs vary: their mean's sampling distribution is t with r-1 degrees of freedom
    z = float(sps.t.ppf(0.975, r - 1)) if v_test == 0 and r > 1 else Z
    lo, hi = interval(mean, v_runs + v_test, bounds, z)
    if v_runs + v_test == 0 and n_test and _finite(bounds):   # q at 0 or 1: Wilson on n_test
        w = bounds[1] - bounds[0]
        ql, qh = wilson((mean - bounds[0]) / w, n_test)
        lo, hi = bounds[0] + ql * w, bounds[0] + qh * w
    return Side(mean, lo, hi, inc, n_test or (r if r > 1 else None), "test images" if n_test else "runs")


def paper(claim, test_size=None, bounds=None) -> Side:
    """The paper's side from its printed value, spread and test size (all on the fraction scale)."""
    vals = claim.value if isinstance(claim.value, list) else [claim.value]
    vals = np.asarray([claim.as_fraction(v) for v in vals], float)
    value, var, inc = float(vals.mean()), 0.0, []
    if len(vals) > 1:
        var, inc = float(vals.var(ddof=1)) / len(vals), [f"its {len(vals)} per-run values"]
    elif claim.pm is not None:
        pm, meaning = claim.as_fraction(claim.pm), claim.pm_meaning or "unknown"
        # sem, a 95% CI half-width, else a std (unknown read as one) over n folds/runs
        var = {"sem": pm * pm, "ci95_halfwidth": (pm / Z) ** 2}.get(meaning, pm * pm / (claim.n or 1))
        inc = [f"its ± {claim.pm:g} ({meaning}{', n=' + str(claim.n) if claim.n else ''})"]
    elif claim.ci is not None:
        var, inc = ((claim.as_fraction(claim.ci[1]) - claim.as_fraction(claim.ci[0])) / (2 * Z)) ** 2, \
            ["its printed CI"]
    if claim.ci is None or len(vals) > 1 or claim.pm is not None:   # a printed CI already has it
        v_test = binomial_var(value, test_size, bounds)
        if v_test > 0:
            var += v_test
            inc.append(f"binomial test sampling (test size {test_size})")
    lo, hi = interval(value, var, bounds)
    return Side(value, lo, hi, inc or ["none printed (treated as exact)"])


def tolerance_for(bounds, paper_value, given=None) -> float:
    return float(given) if given is not None else DEFAULT_TOLERANCE * (
        (bounds[1] - bounds[0]) if _finite(bounds) else abs(paper_value))


def compare(o: Side, p: Side, tolerance: float, reasons=()) -> dict:
    """Difference ours − paper with its Newcombe (MOVER) 95% interval, and the verdict."""
    d = o.value - p.value
    lo = d - math.sqrt((o.value - o.low) ** 2 + (p.high - p.value) ** 2)
    hi = d + math.sqrt((o.high - o.value) ** 2 + (p.value - p.low) ** 2)
    out = {"value": d, "ci_low": lo, "ci_high": hi, "tolerance": tolerance,
           "ours_includes": o.includes, "paper_includes": p.includes}
    if reasons:
        out["verdict"] = f"not comparable ({'; '.join(reasons)})"
    elif o.high == o.low:   # one run (or identical runs) and nothing about test sampling
        out["verdict"] = ("inconclusive (our value carries no measured uncertainty: give n_test, "
                          "boot or ci, or more runs)")
    elif lo > 0:
        out["verdict"] = "higher"
    elif hi < 0:
        out["verdict"] = "lower"
    elif -tolerance <= lo and hi <= tolerance:
        out["verdict"] = "consistent"
    else:
        out["verdict"] = f"inconclusive ({_settle(o, p, d, lo, hi, tolerance)})"
    return out


def _settle(o: Side, p: Side, d, lo, hi, tol) -> str:
    """How wide the interval is, and roughly what n of ours would settle it (width ∝ 1/√n)."""
    txt = f"95% CI ±{(hi - lo) / 2:.3g}, wider than ±{tol:.3g} allows"
    target = max(tol - abs(d), abs(d))     # narrow enough to be consistent, or to exclude 0
    if target <= p.half:
        return txt + f"; the paper's own uncertainty (±{p.half:.3g}) alone is too wide to settle it"
    if not o.n_scale or o.half == 0:
        return txt + "; give n_test or more runs to say what would settle it"
    need = math.ceil(o.n_scale * o.half ** 2 / (target ** 2 - p.half ** 2))
    return txt + f"; about {need} {o.n_unit} (now {o.n_scale:g}) would settle it"
