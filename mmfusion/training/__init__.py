"""The one training loop, distribution and run records. ``TrainConfig`` and
the run records import without TensorFlow; ``fit`` and friends import it on first use."""
from mmfusion.training.config import TrainConfig  # noqa: F401
from mmfusion.training.records import (  # noqa: F401
    ResumeMismatchError,
    RunDir,
    RunLockedError,
    check_predictions,
    data_fingerprint,
    new_run_dir,
    predictions_frame,
)

_LAZY = {"fit": "loop", "FitResult": "loop", "predict_proba": "loop", "make_optimizer": "loop",
         "get_strategy": "distribute"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"mmfusion.training.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'mmfusion.training' has no attribute {name!r}")
