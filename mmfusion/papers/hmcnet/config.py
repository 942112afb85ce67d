"""hmcnet settings: the paper's protocol (as far as its abstract states it) and the quick smoke run.

Command: ``mmfusion reproduce hmcnet --data-dir MIAS`` (the full protocol: 2 tasks x 7 models x
5 folds = 70 fits of up to 50 epochs at 224 px). Reproduces papers/hmcnet.yaml "Abstract"
(HMC-Net's 5-fold mean accuracy, precision, recall, F1, AUC, specificity on normal vs abnormal;
the Friedman test of HMC-Net vs ResNet50, VGG19, VGG16, ViT), the baseline and ablation rows
beside it, our "Benign vs malignant (ours)" table and our "CAM lesion scores (ours)" table
(Grad-CAM / Grad-CAM++ / Score-CAM against the lesion circles, with random, blob and
re-initialised-model baselines). ``--quick``: the 40-film twin at 32 px, 1 task, 3 models x 2
folds of 1 epoch. Runtimes: ``mmfusion plan hmcnet``."""
import dataclasses

from mmfusion.experiment import PaperConfig, fidelity
from mmfusion.experiment.config import option
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
        """HMC-Net, VGG16 and ViT: the smallest set a Friedman test takes."""
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


FIDELITY = fidelity.rows("hmcnet")   # papers/hmcnet.yaml, fidelity:
