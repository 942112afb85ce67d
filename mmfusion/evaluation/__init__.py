"""Metrics, significance tests, paper claims as data, the claims audit and run reports.

Names are resolved lazily so that importing this package (e.g. from the CLI) stays instant.
"""
import importlib

_MODULES = {
    "metrics": "classification_metrics confusion_matrix per_class_report bootstrap_ci mean_std "
               "metric_function METRIC_NAMES",
    "stats": "mcnemar delong wilcoxon friedman_nemenyi critical_difference FriedmanNemenyi",
    "claims": "Claim Claims ClaimsError load_claims validate_claims papers_dir available_papers",
    "audit": "audit_claims audit_command Finding",
    "report": "write_report report_command",
    "figures": "cd_diagram roc_curves confusion_matrix_figure learning_curves",
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names.split()}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
