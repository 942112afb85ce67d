"""mias-xai settings: the paper's protocol and the quick smoke run.

Command: ``mmfusion reproduce mias-xai --data-dir MIAS`` (the full protocol: 2 protocols x
(3 class-weight fits + 10 runs) = 26 fits; measured 59 min on 2 CPU cores on the real MIAS, 322
films). Reproduces papers/mias-xai.yaml "Table Runs" (test accuracy of 10 retrained models),
"Table Metrics" (averaged macro P/R/F1, accuracy, per-class P/R/F1) and our "Table XAI"
(LIME vs Grad-CAM vs Kernel SHAP: cost and quality, with baselines). ``--quick``: a 64-image twin
at 64 px, 6 epochs, 2 runs; about a minute here.
"""
from __future__ import annotations

import dataclasses

from mmfusion.experiment import PaperConfig

CLASS_WEIGHT_CANDIDATES = ({0: 1.0, 1: 1.0, 2: 1.0}, {0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 3.0, 2: 4.0})
PROTOCOLS = ("stratified", "patient")


@dataclasses.dataclass(frozen=True)
class MiasConfig(PaperConfig):
    input_size: int = 224          # the crops are resized to this; the CNN's Flatten follows it
    epochs: int = 50
    batch_size: int = 16
    learning_rate: float = 1e-4
    patience: int = 10             # EarlyStopping on val_loss, best weights restored
    runs: int = 10                 # final model retrained with seeds seed .. seed + runs - 1
    class_weight_candidates: tuple = CLASS_WEIGHT_CANDIDATES
    split_seed: int = 44           # the authors' random_state
    protocols: tuple = PROTOCOLS
    explain_images: int | None = None   # test images explained (None: all)
    lime_samples: int = 1000       # LIME's default, as the paper used it
    shap_samples: int = 1000       # Kernel SHAP coalitions per image
    per_call_images: int = 5       # images timed in the authors' per-call style
    curve_steps: int = 50          # deletion / insertion curve steps

    @classmethod
    def quick(cls) -> "MiasConfig":
        """About a minute on 2 CPU cores: a 64-image twin at 64 px, 6 epochs (enough for the CNN
        to learn the twin's lesions, so the explanations have something to show), 2 runs, two
        class-weight candidates, 6 images explained."""
        return cls(input_size=64, epochs=6, patience=2, runs=2, twin_n=64,
                   class_weight_candidates=CLASS_WEIGHT_CANDIDATES[:2], explain_images=6,
                   lime_samples=60, shap_samples=60, per_call_images=2, curve_steps=10)

    @classmethod
    def parsers(cls) -> dict:
        return {"class_weight_candidates": parse_class_weights}

    def validate(self) -> None:
        super().validate()
        if not 1 <= self.runs < 100:
            raise ValueError(f"option runs={self.runs}: must be 1..99 (seeds seed .. seed + runs - 1)")
        if self.input_size < 32:
            raise ValueError(f"option input_size={self.input_size}: the CNN's three 2x2 poolings need >= 32 px")
        bad = [p for p in self.protocols if p not in PROTOCOLS]
        if bad or not self.protocols:
            raise ValueError(f"option protocols={list(self.protocols)}: expected some of {', '.join(PROTOCOLS)}")
        if not self.class_weight_candidates:
            raise ValueError("option class_weight_candidates: at least one candidate is needed")

    def to_dict(self) -> dict:
        out = super().to_dict()
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
