"""Significance tests: McNemar (statsmodels), DeLong, Wilcoxon and Friedman (scipy), Nemenyi
(scikit-posthocs) with the critical difference of Demšar (2006)."""
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps


def mcnemar(y_true, pred_a, pred_b) -> dict:
    """McNemar test on paired predictions; exact binomial when discordant pairs < 25, else chi² with
    continuity correction. b = a right & b wrong, c = a wrong & b right."""
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    y = np.asarray(y_true).ravel()
    a = np.asarray(pred_a).ravel() == y
    b = np.asarray(pred_b).ravel() == y
    if not (len(y) == len(a) == len(b)):
        raise ValueError(f"lengths differ: y_true {len(y)}, pred_a {len(a)}, pred_b {len(b)}")
    table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
    n01, n10 = int(table[0, 1]), int(table[1, 0])
    exact = (n01 + n10) < 25
    res = sm_mcnemar(table, exact=exact, correction=True)
    return {"statistic": float(res.statistic), "pvalue": float(res.pvalue), "exact": exact,
            "b": n01, "c": n10, "table": table.tolist()}


def delong(y_true, score_a, score_b) -> dict:
    """DeLong et al. (1988) test of two correlated ROC AUCs (fast form of Sun & Xu 2014): both AUCs,
    their covariance matrix, z and the two-sided p-value."""
    y = np.asarray(y_true).astype(int).ravel()
    scores = np.vstack([np.asarray(score_a, float).ravel(), np.asarray(score_b, float).ravel()])
    if scores.shape[1] != len(y) or set(np.unique(y)) - {0, 1}:
        raise ValueError("delong needs binary y_true (0/1) and two score vectors of the same length")
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"delong needs >= 2 positives and negatives; got {m} and {n}")
    tx, ty, tz = (sps.rankdata(s, method="average", axis=1) for s in (pos, neg, np.hstack([pos, neg])))
    aucs = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2) / n
    v01 = (tz[:, :m] - tx) / n            # structural components of positives
    v10 = 1.0 - (tz[:, m:] - ty) / m      # ... and of negatives
    cov = np.cov(v01) / m + np.cov(v10) / n
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    diff = aucs[0] - aucs[1]
    z = diff / np.sqrt(var) if var > 0 else (0.0 if diff == 0 else np.inf * np.sign(diff))
    p = float(2 * sps.norm.sf(abs(z)))
    return {"auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "diff": float(diff),
            "var_diff": float(var), "cov": cov.tolist(), "z": float(z), "pvalue": p}


def wilcoxon(a, b=None, **kwargs) -> dict:
    """scipy Wilcoxon signed-rank test of paired samples (or of ``a`` against 0)."""
    res = sps.wilcoxon(a, b, **kwargs)
    return {"statistic": float(res.statistic), "pvalue": float(res.pvalue)}


def critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference q_alpha * sqrt(k(k+1) / 6N), q from the studentized range."""
    q = sps.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n)))


@dataclass
class FriedmanNemenyi:
    statistic: float
    pvalue: float
    avg_ranks: pd.Series               # model -> average rank (1 = best)
    nemenyi_p: pd.DataFrame            # model × model p-values
    cd: float
    n_folds: int
    alpha: float = 0.05

    def to_dict(self) -> dict:
        return {"statistic": self.statistic, "pvalue": self.pvalue, "cd": self.cd,
                "n_folds": self.n_folds, "alpha": self.alpha,
                "avg_ranks": self.avg_ranks.to_dict(), "nemenyi_p": self.nemenyi_p.to_dict()}


def friedman_nemenyi(scores, alpha: float = 0.05, higher_is_better: bool = True) -> FriedmanNemenyi:
    """Friedman, Nemenyi and the CD over ``scores`` (model rows x fold columns, or {model: [scores]})."""
    import scikit_posthocs as sp

    frame = pd.DataFrame(scores).T if isinstance(scores, dict) else pd.DataFrame(scores)
    if frame.isna().any().any():
        raise ValueError("scores contain NaN; every model needs a score on every fold")
    k, n = frame.shape
    if k < 3:
        raise ValueError(f"Friedman needs >= 3 models; got {k}")
    if n < 2:
        raise ValueError(f"Friedman needs >= 2 folds; got {n}")
    stat, p = sps.friedmanchisquare(*frame.to_numpy())
    blocks = frame.T  # folds × models, as scikit-posthocs expects
    ranks = (-blocks if higher_is_better else blocks).rank(axis=1, method="average")
    nemenyi = sp.posthoc_nemenyi_friedman(blocks.to_numpy())
    nemenyi.index = nemenyi.columns = list(frame.index)
    return FriedmanNemenyi(float(stat), float(p), ranks.mean(axis=0).sort_values(), nemenyi,
                           critical_difference(k, n, alpha), n, alpha)
