"""Metrics, significance tests, paper claims as data, the claims audit and run reports.

Names are resolved lazily so that importing this package (e.g. from the CLI) stays instant.
"""
import importlib

_EXPORTS = {
    "classification_metrics": "metrics", "confusion_matrix": "metrics",
    "per_class_report": "metrics", "bootstrap_ci": "metrics", "mean_std": "metrics",
    "metric_function": "metrics", "METRIC_NAMES": "metrics",
    "mcnemar": "stats", "delong": "stats", "wilcoxon": "stats", "friedman_nemenyi": "stats",
    "critical_difference": "stats", "FriedmanNemenyi": "stats",
    "Claim": "claims", "Claims": "claims", "ClaimsError": "claims", "load_claims": "claims",
    "validate_claims": "claims", "papers_dir": "claims", "available_papers": "claims",
    "audit_claims": "audit", "audit_command": "audit", "Finding": "audit",
    "write_report": "report", "report_command": "report",
    "cd_diagram": "figures", "roc_curves": "figures", "confusion_matrix_figure": "figures",
    "learning_curves": "figures",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
