"""Explainability: CAM family, Shapley values, LIME, explanation-quality metrics and figures.

Public names: ``GradCAM``, ``GradCAMPlusPlus``, ``ScoreCAM`` (``mmfusion.xai.cam``);
``exact_shapley``, ``kernel_shap``, ``group_attributions``, ``global_importance``,
``tabular_model_fn``, ``explain_tabular``, ``image_kernel_shap`` (``mmfusion.xai.shapley``);
``lime_tabular``, ``lime_image`` (``mmfusion.xai.lime_helpers``); ``deletion_auc``,
``insertion_auc``, ``pointing_game``, ``energy_in_mask``, ``sparsity``, ``randomization_check``
(``mmfusion.xai.metrics``); ``overlay``, ``explanation_grid``, ``shap_bar``, ``shap_beeswarm``
(``mmfusion.xai.figures``); ``examples_per_class`` (``selection``); ``lesion_scores``,
``baseline_scores`` (``lesion``). Imported lazily so that ``import mmfusion.xai`` stays cheap.
"""
import importlib

_WHERE = {
    "GradCAM": "cam", "GradCAMPlusPlus": "cam", "ScoreCAM": "cam", "BaseCAM": "cam",
    "exact_shapley": "shapley", "kernel_shap": "shapley", "group_attributions": "shapley",
    "global_importance": "shapley", "tabular_model_fn": "shapley", "explain_tabular": "shapley",
    "image_kernel_shap": "shapley",
    "lime_tabular": "lime_helpers", "lime_image": "lime_helpers",
    "deletion_auc": "metrics", "insertion_auc": "metrics", "pointing_game": "metrics",
    "energy_in_mask": "metrics", "sparsity": "metrics", "randomization_check": "metrics",
    "overlay": "figures", "explanation_grid": "figures", "shap_bar": "figures",
    "shap_beeswarm": "figures",
    "examples_per_class": "selection",
    "lesion_scores": "lesion", "baseline_scores": "lesion", "random_maps": "lesion",
    "gaussian_blob_maps": "lesion",
}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
