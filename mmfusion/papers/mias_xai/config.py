"""The experiment's settings: the paper's values and the quick (2-CPU smoke run) values."""
from __future__ import annotations

import dataclasses

from mmfusion.overrides import apply_overrides

CLASS_WEIGHT_CANDIDATES = ({0: 1.0, 1: 1.0, 2: 1.0}, {0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 3.0, 2: 4.0})


@dataclasses.dataclass
class MiasConfig:
    input_size: int = 224          # the crops are resized to this; the CNN's Flatten follows it
    epochs: int = 50
    batch_size: int = 16
    learning_rate: float = 1e-4
    patience: int = 10             # EarlyStopping on val_loss, best weights restored
    runs: int = 10                 # final model retrained with seeds seed .. seed + runs - 1
    class_weight_candidates: tuple = CLASS_WEIGHT_CANDIDATES
    split_seed: int = 44           # the authors' random_state
    protocols: tuple = ("stratified", "patient")
    explain_images: int | None = None   # test images explained (None: all)
    lime_samples: int = 1000       # LIME's default, as the paper used it
    shap_samples: int = 1000       # Kernel SHAP coalitions per image
    per_call_images: int = 5       # images timed in the authors' per-call style
    curve_steps: int = 50          # deletion / insertion curve steps
    twin_n: int | None = None      # images in the synthetic twin (None: its default)
    verbose: int | str = "auto"    # Keras progress: "auto" one line per epoch, 0 silent
    jit_compile: bool = False
    mixed_precision: bool = False

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["class_weight_candidates"] = [{str(k): v for k, v in c.items()} for c in self.class_weight_candidates]
        return out


def parse_class_weights(text) -> tuple:
    """"1,2,3;2,3,4" -> ({0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 3.0, 2: 4.0}); one candidate skips the search."""
    if not isinstance(text, str):
        return tuple(text)
    out = []
    for part in text.split(";"):
        weights = [float(w) for w in part.split(",")]
        if len(weights) != 3:
            raise ValueError(f"class_weight_candidates: expected 3 weights (normal, benign, malignant) "
                             f"per candidate, got {part!r}")
        out.append(dict(enumerate(weights)))
    return tuple(out)


def paper_config() -> MiasConfig:
    return MiasConfig()


def quick_config() -> MiasConfig:
    """About a minute on 2 CPU cores: a 64-image twin at 64 px, 6 epochs (enough for the CNN to
    learn the twin's lesions, so the explanations have something to show), 2 runs, two class-weight
    candidates, 6 images explained."""
    return MiasConfig(input_size=64, epochs=6, patience=2, runs=2, twin_n=64, verbose=0,
                      class_weight_candidates=CLASS_WEIGHT_CANDIDATES[:2], explain_images=6,
                      lime_samples=60, shap_samples=60, per_call_images=2, curve_steps=10)


def from_options(options) -> MiasConfig:
    """The paper's or the quick config, with the CLI's --epochs/--batch-size/--jit/--mixed-precision
    and any ``--set key=value`` (options.extra) applied."""
    config = quick_config() if options.quick else paper_config()
    config = dataclasses.replace(config, jit_compile=bool(options.jit), mixed_precision=bool(options.mixed_precision))
    return apply_overrides(config, options.extra, owner="mias-xai", epochs=options.epochs,
                           batch_size=options.batch_size,
                           parsers={"class_weight_candidates": parse_class_weights})
