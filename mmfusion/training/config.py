"""Everything one training run needs to know, as one dataclass (written to config.json)."""
import dataclasses
import numbers
from typing import Callable


@dataclasses.dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"                 # adam | nadam | sgd
    learning_rate: float = 1e-3
    momentum: float = 0.9                   # sgd only
    loss: str = "auto"                      # auto: (sparse_)categorical / binary crossentropy from labels
    metrics: tuple = ("accuracy",)
    schedule: str | None = None             # None (constant) | "plateau" (ReduceLROnPlateau)
    schedule_factor: float = 0.5
    schedule_patience: int = 3
    min_learning_rate: float = 1e-7
    early_stopping_patience: int | None = None
    monitor: str = "val_loss"               # falls back to "loss" when there is no validation data
    restore_best: bool = False              # end with the weights of the best monitored epoch
    class_weight: dict | str | None = None  # {class: weight} | "balanced" | None
    freeze_backbone_epochs: int = 0         # phase 1: backbone frozen for this many epochs
    finetune_learning_rate: float | None = None   # phase 2 learning rate (default: learning_rate)
    mixed_precision: bool = False           # GPU switch
    jit_compile: bool = False               # GPU switch (XLA)
    run_eagerly: bool = False               # quick CPU runs: a big trace costs more than eager steps
    seed: int = 0
    deterministic: bool = True
    shuffle: bool = True
    augment: Callable | None = None         # augment(image, seed) from mmfusion.data.augment
    verbose: int | str = "auto"

    def __post_init__(self):
        """Every bad value is refused here, before a run directory exists (not by Keras mid-run)."""
        if self.optimizer not in ("adam", "nadam", "sgd"):
            raise ValueError(f"optimizer must be adam, nadam or sgd, got {self.optimizer!r}")
        if self.schedule not in (None, "plateau"):
            raise ValueError(f"schedule must be None or 'plateau', got {self.schedule!r}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"epochs and batch_size must be whole numbers >= 1, got {name}={value!r}")
        if not 0 <= self.freeze_backbone_epochs <= self.epochs:
            raise ValueError(f"freeze_backbone_epochs must be in 0..epochs, got "
                             f"{self.freeze_backbone_epochs}")
        for name in ("learning_rate", "finetune_learning_rate", "min_learning_rate"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, numbers.Real) and 0 <= value < float("inf")
                                          and (value > 0 or name == "min_learning_rate")):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not 0 < self.schedule_factor < 1:
            raise ValueError(f"schedule_factor must be in (0, 1), got {self.schedule_factor!r}")
        for name in ("schedule_patience", "early_stopping_patience"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)
                                      or value < 0):
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        if not (self.class_weight is None or self.class_weight == "balanced"
                or isinstance(self.class_weight, dict)):
            raise ValueError(f"class_weight must be None, 'balanced' or {{class: weight}}, got "
                             f"{self.class_weight!r}")
        if not isinstance(self.monitor, str) or not self.monitor:
            raise ValueError(f"monitor must be a metric name such as 'val_loss', got {self.monitor!r}")
        self.metrics = tuple(self.metrics)

    def to_dict(self) -> dict:
        augment = None if self.augment is None else getattr(self.augment, "__qualname__", repr(self.augment))
        return {**dataclasses.asdict(self), "augment": augment}

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)
