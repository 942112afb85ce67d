"""Explainability: CAM family, Shapley values, LIME, explanation-quality metrics and figures.

Public names are imported lazily from their modules so that ``import mmfusion.xai`` stays cheap."""
import importlib

_WHERE = {name: module for module, names in {
    "cam": ("GradCAM", "GradCAMPlusPlus", "ScoreCAM", "BaseCAM"),
    "shapley": ("exact_shapley", "kernel_shap", "group_attributions", "global_importance",
                "tabular_model_fn", "explain_tabular", "image_kernel_shap"),
    "lime_helpers": ("lime_tabular", "lime_image"),
    "metrics": ("deletion_auc", "insertion_auc", "pointing_game", "energy_in_mask", "sparsity",
                "randomization_check"),
    "figures": ("overlay", "explanation_grid", "shap_bar", "shap_beeswarm"),
    "selection": ("examples_per_class",),
    "lesion": ("lesion_scores", "baseline_scores", "random_maps", "gaussian_blob_maps"),
}.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
