"""Significance tests against scipy / statsmodels references, Demšar's CD table and a bootstrap."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import roc_auc_score

from mmfusion.evaluation import critical_difference, delong, friedman_nemenyi, mcnemar, wilcoxon
from mmfusion.evaluation.figures import cd_diagram


def _pairs(b, c, both=20, neither=5):
    y = np.zeros(b + c + both + neither, int)
    a = np.r_[np.zeros(b), np.ones(c), np.zeros(both), np.ones(neither)].astype(int)
    bb = np.r_[np.ones(b), np.zeros(c), np.zeros(both), np.ones(neither)].astype(int)
    return y, a, bb


def test_mcnemar_exact_below_25_discordant():
    y, a, b = _pairs(b=9, c=2)
    res = mcnemar(y, a, b)
    assert res["exact"] and (res["b"], res["c"]) == (9, 2)
    assert res["pvalue"] == pytest.approx(sps.binomtest(2, 11, 0.5).pvalue)


def test_mcnemar_chi2_with_correction():
    y, a, b = _pairs(b=30, c=12)
    res = mcnemar(y, a, b)
    stat = (abs(30 - 12) - 1) ** 2 / 42
    assert not res["exact"]
    assert res["statistic"] == pytest.approx(stat)
    assert res["pvalue"] == pytest.approx(sps.chi2.sf(stat, 1))


def test_delong_matches_sklearn_auc_and_bootstrap_se():
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 2, n)
    s1 = y + rng.normal(0, 1.0, n)
    s2 = 0.6 * s1 + y * 0.3 + rng.normal(0, 0.8, n)  # correlated second model
    res = delong(y, s1, s2)
    assert res["auc_a"] == pytest.approx(roc_auc_score(y, s1), abs=1e-12)
    assert res["auc_b"] == pytest.approx(roc_auc_score(y, s2), abs=1e-12)
    diffs = []
    for _ in range(1500):
        i = rng.integers(0, n, n)
        diffs.append(roc_auc_score(y[i], s1[i]) - roc_auc_score(y[i], s2[i]))
    assert np.sqrt(res["var_diff"]) == pytest.approx(np.std(diffs, ddof=1), rel=0.12)
    assert 0 <= res["pvalue"] <= 1


def test_wilcoxon_wraps_scipy():
    a, b = [0.9, 0.8, 0.85, 0.7, 0.95, 0.6], [0.85, 0.7, 0.86, 0.6, 0.9, 0.5]
    ref = sps.wilcoxon(a, b)
    assert wilcoxon(a, b) == {"statistic": pytest.approx(ref.statistic), "pvalue": pytest.approx(ref.pvalue)}


@pytest.mark.parametrize("k,q", [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (10, 3.164)])
def test_critical_difference_matches_demsar_table(k, q):
    n = 10
    assert critical_difference(k, n) == pytest.approx(q * np.sqrt(k * (k + 1) / (6 * n)), rel=1e-3)


def test_friedman_nemenyi_and_cd_diagram(tmp_path):
    scores = {"A": [0.90, 0.92, 0.91, 0.93, 0.94], "B": [0.85, 0.86, 0.88, 0.84, 0.87],
              "C": [0.80, 0.87, 0.79, 0.82, 0.80], "D": [0.70, 0.72, 0.71, 0.69, 0.73]}
    res = friedman_nemenyi(scores)
    ref = sps.friedmanchisquare(*scores.values())
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.pvalue == pytest.approx(ref.pvalue)
    # ranks by hand: A always 1, D always 4, B/C swap on fold 2 (0.86 < 0.87)
    assert res.avg_ranks.to_dict() == pytest.approx({"A": 1.0, "B": 2.2, "C": 2.8, "D": 4.0})
    assert res.nemenyi_p.loc["A", "D"] < 0.05 < res.nemenyi_p.loc["A", "B"]
    assert res.cd == pytest.approx(2.569 * np.sqrt(4 * 5 / 30), rel=1e-3)
    same = friedman_nemenyi(pd.DataFrame(scores).T)
    assert same.statistic == res.statistic
    path = cd_diagram(res, tmp_path / "figures" / "cd.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("seed", range(6))
def test_nemenyi_separates_exactly_the_pairs_beyond_the_cd(seed):
    """scikit-posthocs draws the diagram's bars from the Nemenyi p-values; they are Demšar's bars
    (ranks closer than the CD) when p < alpha holds exactly for the pairs farther apart than the CD."""
    rng = np.random.default_rng(seed)
    scores = {m: (rng.normal(0.8 + 0.02 * i, 0.03, 10)).tolist() for i, m in enumerate("ABCDE")}
    res = friedman_nemenyi(scores)
    for a in scores:
        for b in scores:
            gap = abs(res.avg_ranks[a] - res.avg_ranks[b])
            if a != b and abs(gap - res.cd) > 1e-6:
                assert (res.nemenyi_p.loc[a, b] < res.alpha) == (gap > res.cd), (a, b, gap, res.cd)


def test_friedman_needs_three_models():
    with pytest.raises(ValueError, match=">= 3 models"):
        friedman_nemenyi({"A": [1, 2], "B": [2, 3]})
