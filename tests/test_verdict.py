"""Verdict rule (mmfusion/evaluation/verdict.py) against statsmodels, scipy and hand-computed numbers."""
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from mmfusion.evaluation import verdict as V
from mmfusion.evaluation.claims import Claim

PAPER_RUNS = [0.792, 0.8125, 0.792, 0.792, 0.833, 0.6875, 0.8125, 0.708, 0.75, 0.771]  # mias-xai


def _claim(value, **kw):
    return Claim("T", "r", "accuracy", value, scale=kw.pop("scale", "fraction"), **kw)


@pytest.mark.parametrize("k,n", [(38, 48), (0, 20), (20, 20), (7, 13)])
def test_wilson_matches_statsmodels(k, n):
    assert V.wilson(k / n, n) == pytest.approx(proportion_confint(k, n, method="wilson"), abs=1e-12)


def test_wilson_on_an_effective_sample_size_by_hand():
    """A non-integer n (the effective size of a mean over runs): Wilson's closed form."""
    q, n, z = 0.792, 47.3, 1.959963984540054
    d = 1 + z * z / n
    centre, half = (q + z * z / (2 * n)) / d, z * math.sqrt(q * (1 - q) / n + z * z / (4 * n * n)) / d
    assert V.wilson(q, n) == pytest.approx((centre - half, centre + half))


@pytest.mark.parametrize("a,b,n", [(38, 37, 48), (45, 30, 60), (5, 19, 20)])
def test_two_proportions_is_newcombe(a, b, n):
    # one run on n_test images vs a paper value on its own n test images: Newcombe's hybrid score CI
    d = V.compare(V.ours([a / n], n_test=n, bounds=[0, 1]), V.paper(_claim(b / n), n, [0, 1]), 0.2)
    lo, hi = confint_proportions_2indep(a, n, b, n, method="newcomb", compare="diff")
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)


def test_real_mias_three_identical_runs_are_consistent_with_the_paper():
    # issue 16: three identical 0.792 on 48 test images were "outside CI" (zero-width t interval)
    ours = V.ours([0.792] * 3, n_test=48, bounds=[0, 1])
    assert (ours.low, ours.high) == pytest.approx(V.wilson(0.792, 48))   # runs add nothing here
    for claim in (_claim(0.77), _claim(PAPER_RUNS),
                  _claim(0.77, pm=float(np.std(PAPER_RUNS, ddof=1)), pm_meaning="std", n=10)):
        d = V.compare(ours, V.paper(claim, 48, [0, 1]), 0.2)
        assert d["verdict"] == "consistent"
        assert d["ci_low"] < 0 < d["ci_high"] and d["ci_high"] < 0.2


def test_paper_per_run_values_and_pm_meanings():
    runs = np.asarray(PAPER_RUNS)
    p = V.paper(_claim(PAPER_RUNS), None, None)          # unbounded: mean ± z·sd/√10
    h = V.Z * runs.std(ddof=1) / math.sqrt(10)
    assert (p.value, p.low, p.high) == pytest.approx((runs.mean(), runs.mean() - h, runs.mean() + h))
    for meaning, sd in (("std", 0.05 / math.sqrt(5)), ("sem", 0.05), ("ci95_halfwidth", 0.05 / V.Z)):
        p = V.paper(_claim(0.8, pm=0.05, pm_meaning=meaning, n=5), None, None)
        assert p.high - p.value == pytest.approx(V.Z * sd)
    p = V.paper(_claim(80.0, scale="percent", pm=5.0, pm_meaning="sem"), None, None)
    assert (p.value, p.high) == pytest.approx((0.8, 0.8 + V.Z * 0.05))


def test_lower_higher_inconclusive_and_what_would_settle_it():
    paper = V.paper(_claim(0.9), None, [0, 1])            # no spread: treated as exact
    assert V.compare(V.ours([0.6], n_test=400, bounds=[0, 1]), paper, 0.2)["verdict"] == "lower"
    assert V.compare(V.ours([0.97], n_test=400, bounds=[0, 1]), paper, 0.2)["verdict"] == "higher"
    d = V.compare(V.ours([0.8], n_test=10, bounds=[0, 1]), paper, 0.2)
    assert d["verdict"].startswith("inconclusive") and "test images (now 10)" in d["verdict"]
    # hand check of the n: our half-width h on 10 images, target max(0.2 - 0.1, 0.1) = 0.1
    lo, hi = V.wilson(0.8, 10)
    need = math.ceil(10 * ((hi - lo) / 2) ** 2 / 0.1 ** 2)
    assert f"about {need} test images" in d["verdict"]
    one = V.compare(V.ours([0.81]), paper, 0.2)           # one value, nothing about its uncertainty
    assert one["verdict"].startswith("inconclusive") and "no measured uncertainty" in one["verdict"]


def test_quick_run_is_never_consistent():
    # issue 16: quick hmcnet, accuracy 0.667 ± 0.471 over 2 folds vs the paper's 0.9972 (± 0.05, 5 folds)
    ours = V.ours([1.0, 1 / 3], n_test=5, bounds=[0, 1])
    paper = V.paper(_claim(0.9972, pm=0.05, pm_meaning="unknown", n=5), None, [0, 1])
    assert V.compare(ours, paper, 0.2, ["quick run"])["verdict"] == "not comparable (quick run)"
    assert 0 <= ours.low < ours.high <= 1 and 0 <= paper.low < paper.high <= 1


def test_bounded_count_never_leaves_its_range():
    # issue 16: a confusion-matrix count 0.5 ± 0.71 (values 0 and 1) got "95% CI [-0.0058, 1.0058]"
    for kw in ({"n_test": 48, "bounds": [0, 48]}, {"bounds": [0, None]}):
        s = V.ours([0, 1], **kw)
        assert s.low >= 0 and s.value == 0.5 and s.high > 0.5
    # runs only, unbounded above: mean ± t(0.975, 1)·sd/√2, clipped at 0 only
    s = V.ours([0, 1], bounds=[0, None])
    assert s.high == pytest.approx(0.5 + stats.t.ppf(0.975, 1) * math.sqrt(0.5) / math.sqrt(2))
    # binomial count of 0 of 48 gets Wilson's [0, 3.84/(48+3.84)]·48, not a zero-width interval
    s = V.ours([0, 0], n_test=48, bounds=[0, 48])
    assert (s.low, s.high) == pytest.approx((0, 48 * V.Z ** 2 / (48 + V.Z ** 2)))


def test_bootstrap_replicates_and_disjoint_folds():
    rng = np.random.default_rng(0)
    boot = rng.normal(0.8, 0.03, 500).clip(0, 1)
    s = V.ours([0.8], boot=boot, bounds=[0, 1])
    n_eff = 0.8 * 0.2 / np.var(boot, ddof=1)
    assert (s.low, s.high) == pytest.approx(V.wilson(0.8, n_eff))
    shared = V.ours([0.8, 0.8, 0.8, 0.8, 0.8], n_test=50, bounds=[0, 1])
    disjoint = V.ours([0.8] * 5, n_test=50, bounds=[0, 1], test_sets="disjoint")
    assert (disjoint.low, disjoint.high) == pytest.approx(V.wilson(0.8, 250))
    assert (shared.low, shared.high) == pytest.approx(V.wilson(0.8, 50))
