"""mias-xai settings: the paper's protocol and the quick smoke run.

Command: ``mmfusion reproduce mias-xai --data-dir MIAS`` (2 protocols x 10 runs with the authors'
class weights {1,2,3}, and 10 runs with {1,1,1} on the stratified protocol: 30 fits). Reproduces
papers/mias-xai.yaml "Table Runs" (test accuracy of 10 retrained models, compared as a sample),
"Table Metrics" (averaged macro P/R/F1, accuracy, per-class P/R/F1) and our "Table XAI" (LIME vs
Grad-CAM vs Kernel SHAP: cost and quality, with baselines). ``--quick``: a 64-image twin at 64 px,
6 epochs, 2 runs, a two-candidate class-weight search. Runtimes: ``mmfusion plan mias-xai``."""
import dataclasses

from mmfusion.experiment import PaperConfig, fidelity
from mmfusion.experiment.config import option

CLASS_WEIGHT_CANDIDATES = ({0: 1.0, 1: 1.0, 2: 1.0}, {0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 3.0, 2: 4.0})
AUTHORS_CLASS_WEIGHT = CLASS_WEIGHT_CANDIDATES[1]   # their grid search's pick, used for their 10 runs
PROTOCOLS = ("stratified", "patient")


@dataclasses.dataclass(frozen=True)
class MiasConfig(PaperConfig):
    # the crops are resized to this; the CNN's Flatten follows it
    input_size: int = option(224, at_least=32, why="the CNN's three 2x2 poolings need >= 32 px")
    epochs: int = 50
    batch_size: int = 16
    learning_rate: float = 1e-4
    patience: int = 10             # EarlyStopping on val_loss, best weights restored
    runs: int = option(10, at_least=1, below=100, why="must be 1..99 (seeds seed .. seed + runs - 1)")
    # one candidate: the fixed choice; several: searched, class_weight_seeds fits each
    class_weight_candidates: tuple = (AUTHORS_CLASS_WEIGHT,)
    class_weight_seeds: int = option(3, at_least=1, below=100, why="must be 1..99")
    # retrained `runs` times beside a fixed choice, on the first protocol: the sensitivity table
    sensitivity_weights: tuple = (CLASS_WEIGHT_CANDIDATES[0],)
    split_seed: int = 44           # the authors' random_state
    protocols: tuple = option(PROTOCOLS, some_of=PROTOCOLS)
    explain_images: int | None = None   # test images explained (None: all)
    lime_samples: int = 1000       # LIME's default, as the paper used it
    shap_samples: int = 1000       # Kernel SHAP coalitions per image
    per_call_images: int = 5       # images timed in the authors' per-call style
    curve_steps: int = 50          # deletion / insertion curve steps
    # the authors deleted two crops by position after looking at them ("identifying black images",
    # Data_creation_ROIs.ipynb: roi_images[210], [212]) = mdb212 and mdb214, benign calcifications
    # of radius 3 and 11 px (0.7 and 2.4 px at 224): 316 crops, their 48 = 31/9/8 test images
    authors_excluded: tuple = ("mdb212", "mdb214")

    @classmethod
    def quick(cls) -> "MiasConfig":
        """6 epochs: enough to learn the twin's lesions, so the explanations have something to show."""
        return cls(input_size=64, epochs=6, patience=2, runs=2, twin_n=64,
                   class_weight_candidates=CLASS_WEIGHT_CANDIDATES[:2], class_weight_seeds=1,
                   explain_images=6, lime_samples=60, shap_samples=60, per_call_images=2, curve_steps=10)

    @classmethod
    def parsers(cls) -> dict:
        return {"class_weight_candidates": parse_class_weights, "sensitivity_weights": parse_class_weights}

    def validate(self) -> None:
        super().validate()
        if not self.class_weight_candidates:
            raise ValueError("option class_weight_candidates: at least one candidate is needed")


def parse_class_weights(text) -> tuple:
    """"1,2,3;2,3,4" -> ({0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 3.0, 2: 4.0}); "none" -> ()."""
    if isinstance(text, str) and text.strip().lower() in ("", "none"):
        return ()
    if not isinstance(text, str):   # candidates as mappings (e.g. read back from config.json: str keys)
        return tuple({int(k): float(v) for k, v in dict(c).items()} for c in text)
    out = []
    for part in text.split(";"):
        weights = [float(w) for w in part.split(",")]
        if len(weights) != 3:
            raise ValueError(f"class_weight_candidates: expected 3 weights (normal, benign, malignant) "
                             f"per candidate, got {part!r}")
        out.append(dict(enumerate(weights)))
    return tuple(out)


FIDELITY = fidelity.rows("mias-xai")   # papers/mias-xai.yaml, fidelity:
