"""hmcnet settings: the paper's protocol (as far as its abstract states it) and the quick smoke run.

Command: ``mmfusion reproduce hmcnet --data-dir MIAS`` (the full protocol: 2 tasks x 7 models x
5 folds = 70 fits of up to 50 epochs at 224 px). Reproduces papers/hmcnet.yaml "Abstract"
(HMC-Net's 5-fold mean accuracy, precision, recall, F1, AUC, specificity on normal vs abnormal;
the Friedman test of HMC-Net vs ResNet50, VGG19, VGG16, ViT), the baseline and ablation rows
beside it, our "Benign vs malignant (ours)" table and our "CAM lesion scores (ours)" table
(Grad-CAM / Grad-CAM++ / Score-CAM against the lesion circles, with random, blob and
re-initialised-model baselines). ``--quick``: the 40-film twin at 32 px, 1 task, 3 models x 2
folds of 1 epoch. Runtimes: ``mmfusion plan hmcnet``.
"""
import dataclasses

from mmfusion.experiment import PaperConfig
from mmfusion.experiment.config import option
from mmfusion.experiment.fidelity import AS_PAPER, Detail
from mmfusion.papers.hmcnet.model import MODELS, AttentionConfig

# MIAS loader labels: 0 normal, 1 benign, 2 malignant.
TASKS = {
    "normal_vs_abnormal": {"keep": (0, 1, 2), "map": {0: 0, 1: 1, 2: 1}, "names": ("normal", "abnormal")},
    "benign_vs_malignant": {"keep": (1, 2), "map": {1: 0, 2: 1}, "names": ("benign", "malignant")},
}
PREPROCESSING = ("resize", "mias-xai")   # mias-xai: mmfusion.data.mammo.enhance (noise removal + CLAHE)
REPORTED = ("accuracy", "precision", "recall", "f1", "auc", "specificity")   # the abstract's metrics
OPTIMIZERS = ("adam", "nadam", "sgd")    # mmfusion.training.TrainConfig's
MIN_INPUT = 32                           # ResNet50 / VGG: five 2x2 downsamplings


@dataclasses.dataclass(frozen=True)
class HmcConfig(PaperConfig):
    tasks: tuple = option(tuple(TASKS), some_of=tuple(TASKS))
    models: tuple = option(MODELS, some_of=MODELS)
    folds: int = option(5, at_least=2, why="cross-validation needs at least 2 folds")
    epochs: int = 50
    batch_size: int = 16
    input_size: int = option(224, at_least=MIN_INPUT, why=f"ResNet50 and VGG need >= {MIN_INPUT} px")
    optimizer: str = option("adam", one_of=OPTIMIZERS)
    learning_rate: float = option(1e-4, above=0)
    patience: int = option(10, at_least=1)   # early stopping on the inner val loss, best weights kept
    # inner validation split of each training fold, by patient
    val_fraction: float = option(0.15, above=0, below=1, why="must lie strictly between 0 and 1")
    preprocessing: str = option("resize", one_of=PREPROCESSING)
    friedman_metric: str = option("accuracy", one_of=REPORTED)
    cam_images: int = option(4, at_least=0)  # test films per fold explained (first model of ``models``)
    # Score-CAM channels kept (None: all 2048 of conv5)
    scorecam_channels: int | None = option(None, at_least=1, why="must be >= 1 (or none for all)")
    eager_cams: bool = False         # CAMs without tf.function (quick: tracing ResNet50 costs more)
    vit: dict = dataclasses.field(default_factory=lambda: dict(patch_size=16, dim=192, depth=6, heads=3))
    attention: dict = dataclasses.field(default_factory=dict)   # AttentionConfig overrides

    @classmethod
    def quick(cls) -> "HmcConfig":
        """The twin at 32 px, normal vs abnormal only, HMC-Net, VGG16 and ViT (the smallest set a
        Friedman test takes), 2 folds of 1 epoch, 1 CAM film."""
        return cls(tasks=("normal_vs_abnormal",), models=("hmcnet", "vgg16", "vit"), folds=2, epochs=1,
                   batch_size=8, input_size=32, patience=1, cam_images=1, scorecam_channels=16,
                   eager_cams=True, vit={"patch_size": 8, "dim": 32, "depth": 2, "heads": 2},
                   attention={"width": 32, "num_heads": 4})

    def validate(self) -> None:
        super().validate()
        try:
            AttentionConfig.from_dict(self.attention)
        except (TypeError, ValueError) as err:
            raise ValueError(f"option attention={self.attention!r}: {err}") from None
        patch = self.vit.get("patch_size", 16)
        if "vit" in self.models and self.input_size % patch:
            raise ValueError(f"option vit={self.vit!r}: input_size {self.input_size} must be a multiple "
                             f"of the ViT patch_size {patch}")


_ABSTRACT = "not stated (only the abstract is public)"
_M, _P, _E, _D = ("mmfusion/papers/hmcnet/model.py", "mmfusion/papers/hmcnet/pipeline.py",
                  "mmfusion/papers/hmcnet/explain.py", "mmfusion/papers/hmcnet/preprocess.py")
_U = "ours, because nothing is stated: "
FIDELITY = (
    Detail("backbone", "ResNet50 (abstract)", AS_PAPER, where=_M),
    Detail("attention modules", "hierarchical self-attention (intra-layer) and multi-scale cross-attention "
           "(inter-layer) embedded in ResNet50 (abstract)", "ours, because the abstract gives one sentence: "
           "self-attention per stage conv3/conv4/conv5, conv5 tokens cross-attend pooled conv3/conv4 "
           "(papers/hmcnet.yaml notes)", where=_M),
    Detail("layer sizes", _ABSTRACT, "ours, because the abstract gives none: attention width 256, 8 heads, "
           "key dim 32, keys/values pooled to 7x7, dropout 0.3 (AttentionConfig defaults)", "attention", {},
           _M),
    Detail("compared models", "baselines ResNet50, VGG19, VGG16, ViT; ablations ResNet50 + hierarchical "
           "attention, ResNet50 + multi-scale attention (abstract)", AS_PAPER, "models", MODELS, _M),
    Detail("ViT variant", "ViT, variant not named", "ours, because unnamed: a small ViT from scratch "
           "(patch 16, dim 192, depth 6, 3 heads)", "vit", {"patch_size": 16, "dim": 192, "depth": 6,
                                                            "heads": 3}, _M),
    Detail("pretrained weights", _ABSTRACT, "ours: ImageNet for ResNet50 / VGG (--weights), none on quick "
           "runs", where="mmfusion/experiment/context.py"),
    Detail("input size", _ABSTRACT, "ours, because ResNet50's native size: 224 px RGB films resized from "
           "1024 px", "input_size", 224, _D),
    Detail("preprocessing", _ABSTRACT, _U + "resize only (`mias-xai` adds mmfusion.data.mammo.enhance: "
           "breast mask + CLAHE)", "preprocessing", "resize", _D),
    Detail("optimiser", _ABSTRACT, _U + "Adam", "optimizer", "adam", _P),
    Detail("learning rate", _ABSTRACT, _U + "1e-4, constant (no schedule)", "learning_rate", 1e-4, _P),
    Detail("epochs", _ABSTRACT, _U + "at most 50", "epochs", 50, _P),
    Detail("batch size", _ABSTRACT, _U + "16", "batch_size", 16, _P),
    Detail("early stopping", "learning curves 'for stable convergence with limited overfitting' (abstract)",
           "ours, because no rule is stated: patience 10 on the inner validation loss, best weights restored",
           "patience", 10, _P),
    Detail("inner validation split", _ABSTRACT, "ours, because early stopping needs one: 15% of each "
           "training fold, by patient, stratified", "val_fraction", 0.15, _P),
    Detail("augmentation", _ABSTRACT, _U + "none", where=_P),
    Detail("split", "5-fold cross-validation (abstract)", AS_PAPER, "folds", 5, _P),
    Detail("fold construction", _ABSTRACT, "ours, because unstated: stratified by label and grouped by "
           "patient (both breasts of a woman in one fold), the same folds for every model",
           where="mmfusion/training/cv.py"),
    Detail("class handling", "binary (specificity is reported); task not named", "ours, because the task is "
           "unstated: normal vs abnormal carries the abstract's numbers; benign vs malignant is our own "
           "table; a film is malignant if any Info.txt row is; no class weights", "tasks", tuple(TASKS), _D),
    Detail("metrics", "mean accuracy, precision, recall, F1, AUC-ROC, specificity over the 5 folds "
           "(abstract)", AS_PAPER, where=_P),
    Detail("spread", "'(± x)', meaning unstated", "ours: sample std (ddof 1) over folds; positive class = "
           "abnormal / malignant", where=_P),
    Detail("statistics", "Friedman test over HMC-Net and the baselines, Nemenyi post-hoc (abstract)",
           AS_PAPER, where="mmfusion/evaluation/stats.py"),
    Detail("Friedman metric", _ABSTRACT, "ours, because unstated: per-fold accuracy; Nemenyi alpha 0.05",
           "friedman_metric", "accuracy", _P),
    Detail("XAI methods", "Grad-CAM, Grad-CAM++, Score-CAM (abstract)", AS_PAPER, where=_E),
    Detail("XAI layer and images", _ABSTRACT, "ours, because unstated: conv5_block3_out of HMC-Net, 4 test "
           "films per fold (lesion films first)", "cam_images", 4, _E),
    Detail("Score-CAM channels", _ABSTRACT, "ours: all 2048 conv5 channels", "scorecam_channels", None, _E),
    Detail("XAI scoring", "none (heatmaps shown only)", "ours: pointing game and energy in the MIAS lesion "
           "circles, beside random maps (mean of 3 seeds), a centred Gaussian blob and each method's map of "
           "a re-initialised model", where=_E),
)
