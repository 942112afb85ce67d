"""mias-xai settings: the paper's protocol and the quick smoke run.

Command: ``mmfusion reproduce mias-xai --data-dir MIAS`` (2 protocols x 10 runs with the authors'
class weights {1,2,3}, and 10 runs with {1,1,1} on the stratified protocol: 30 fits). Reproduces
papers/mias-xai.yaml "Table Runs" (test accuracy of 10 retrained models, compared as a sample),
"Table Metrics" (averaged macro P/R/F1, accuracy, per-class P/R/F1) and our "Table XAI" (LIME vs
Grad-CAM vs Kernel SHAP: cost and quality, with baselines). ``--quick``: a 64-image twin at 64 px,
6 epochs, 2 runs, a two-candidate class-weight search. Runtimes: ``mmfusion plan mias-xai``.
"""
import dataclasses

from mmfusion.experiment import PaperConfig
from mmfusion.experiment.config import option
from mmfusion.experiment.fidelity import Detail

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
    # final model retrained with seeds seed .. seed + runs - 1
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
        """A 64-image twin at 64 px, 6 epochs (enough to learn the twin's lesions, so the
        explanations have something to show), 2 runs, two class-weight candidates, 6 images."""
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

    def to_dict(self) -> dict:
        out = super().to_dict()
        for name in ("class_weight_candidates", "sensitivity_weights"):
            out[name] = [{str(k): v for k, v in c.items()} for c in getattr(self, name)]
        return out


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


_SRC = "published paper (arXiv 2408.13154, PMLR 248) and the authors' public code"
_P, _X, _PRE = ("papers/mias_xai/pipeline.py", "papers/mias_xai/explain.py",
                "papers/mias_xai/preprocess.py")
FIDELITY = (
    Detail("labels", f"SEVERITY of the first Info.txt row per film ({_SRC}: MIAS.py)",
           where="mmfusion/data/mias.py (label_rule='first')"),
    Detail("preprocessing",
           "resize 224, Otsu + 5x5 close/open + largest contour + 55x55 dilation, CLAHE 2.0 / 8x8",
           field="input_size", value=224, where="mmfusion/data/mammo.py, " + _PRE),
    Detail("ROI crop", "square of side 2r around (x, 224 - y); normal films: central h//4 crop shifted "
           "diagonally onto tissue", "as the paper; the y-flip through data.mias.to_pixels (pixel centres)",
           where=_PRE),
    Detail("dropped films", "abnormal films without coordinates skipped; two crops deleted by hand as black "
           "(roi_images[210], [212] in Data_creation_ROIs.ipynb)", "as the paper: mdb212 and mdb214 "
           "excluded by id (316 crops; test 31/9/8, validation 31/9/7)", "authors_excluded",
           ("mdb212", "mdb214"), _P),
    Detail("split", "70/15/15 stratified two-step train_test_split, random_state 44", field="split_seed",
           value=44, where="mmfusion/" + _PRE + " (paper_two_step_split)"),
    Detail("patient-grouped split", "none (image-level)", "ours, beside it: the two breasts of a patient "
           "on one side", "protocols", ("stratified", "patient"), _PRE),
    Detail("augmentation", "x16: 4 rotations x vertical flip + one brightness (+-15) / contrast (0.5-1.5) "
           "copy; MD5 dedupe; random undersampling", where=_PRE),
    Detail("model", "Sequential CNN, 1,386,177 parameters, inputs / 255", "as the paper (functional graph "
           "of the same layers, for Grad-CAM)", where="papers/mias_xai/model.py"),
    Detail("optimiser", "Adam, lr 1e-4, categorical cross-entropy", field="learning_rate", value=1e-4,
           where=_P),
    Detail("epochs", "<= 50", field="epochs", value=50, where=_P),
    Detail("batch size", "16", field="batch_size", value=16, where=_P),
    Detail("early stopping", "val_loss, patience 10, best weights restored", field="patience", value=10,
           where=_P),
    Detail("class weights", "{1,2,3}: the pick of their grid search over {1,1,1}, {1,2,3}, {2,3,4} (one fit "
           "each, validation balanced accuracy; CNN_model_training.ipynb)", "as the paper: {1,2,3} fixed; "
           "the search is ours on request (--set class_weight_candidates=1,1,1;1,2,3;2,3,4: "
           "class_weight_seeds fits each, mean score)", "class_weight_candidates", (AUTHORS_CLASS_WEIGHT,),
           _P),
    Detail("class-weight sensitivity", "none", "ours: the runs retrained with {1,1,1} on the stratified "
           "split", "sensitivity_weights", (CLASS_WEIGHT_CANDIDATES[0],), _P),
    Detail("runs", "10 retrained models", field="runs", value=10, where=_P),
    Detail("LIME", "library defaults: 1000 samples, quickshift, positive weights", field="lime_samples",
           value=1000, where=_X),
    Detail("Kernel SHAP", "Kernel SHAP (settings not public)", "ours: 1000 coalitions over LIME's quickshift "
           "superpixels", "shap_samples", 1000, _X),
    Detail("Grad-CAM", "Grad-CAM, last convolution", "as the paper (conv3)", where=_X),
    Detail("explanation scores", "none printed", "ours: cost, deletion / insertion AUC, pointing game, "
           "energy in the lesion circle, beside random-map, centred-blob and re-initialised-model "
           "baselines", "curve_steps", 50, _X),
)
