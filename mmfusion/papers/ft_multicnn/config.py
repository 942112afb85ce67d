"""ft-multicnn settings: the paper's protocol (§3.2-3.5, §4.1) and the quick smoke run.

Command: ``mmfusion reproduce ft-multicnn --data-dir HAM10000`` (every row on 5 lesion-grouped
folds and the headline row on 5 image-level folds, 50 epochs at 128 px). Reproduces
papers/ft-multicnn.yaml "Abstract" (FT-MultiCNN accuracy and recall over folds) and "Training
curves" (the §4.3 curve statements: training accuracy of CNN, ResNet50, InceptionV3, FT-MultiCNN,
our validation accuracy beside it); our "Table Results" rows have no paper numbers. ``--quick``:
the HAM10000 twin at 48 px, 2 folds, 1 epoch, CNN + FT-MultiCNN."""
import dataclasses

from mmfusion.experiment import PaperConfig, fidelity
from mmfusion.experiment.config import option

TABLE = "Table Results (ours)"           # the paper prints no results table
IMAGE_LEVEL_TABLE = "Table Results, image-level k-fold (ours)"
INPUTS = ("raw", "heatmap", "overlay")
METADATA = ("seven", "full")
PROTOCOLS = ("lesion", "image")        # k-fold grouped by lesion_id | plain image-level k-fold
NORMALIZE = ("paper", "always")        # paper: albumentations Normalize(p=0.5) on training images


@dataclasses.dataclass(frozen=True)
class Row:
    key: str            # run tag
    model: str          # model.MODELS
    input: str | None   # INPUTS; None: the configured ``input`` (the FT-MultiCNN's own)
    row: str            # table row name
    quick: bool         # trained in quick mode too


ROWS = (
    Row("cnn", "cnn", "raw", "CNN", True),                       # image only; also the CAM source
    Row("resnet50", "resnet50", "raw", "ResNet50", False),
    Row("inceptionv3", "inceptionv3", "raw", "InceptionV3", False),
    Row("multicnn", "multicnn", "raw", "MultiCNN (image + metadata)", False),
    Row("ft_multicnn", "ft_multicnn", None, "FT-MultiCNN", True),
    Row("ft_multicnn_raw", "ft_multicnn", "raw", "FT-MultiCNN (raw input)", False),
    Row("ft_multicnn_heatmap", "ft_multicnn", "heatmap", "FT-MultiCNN (heatmap input)", False),
)
ROW_BY_KEY = {r.key: r for r in ROWS}
HEADLINE = "ft_multicnn"
CURVE_ROWS = ("CNN", "ResNet50", "InceptionV3", "FT-MultiCNN")   # §4.3 names a curve for these
# Metric columns of the table: (column name, classification_metrics key, average)
COLUMNS = (("accuracy", "accuracy", "macro"),
           ("precision", "precision", "macro"), ("recall", "recall", "macro"), ("f1", "f1", "macro"),
           ("precision_weighted", "precision", "weighted"), ("recall_weighted", "recall", "weighted"),
           ("f1_weighted", "f1", "weighted"))


@dataclasses.dataclass(frozen=True)
class FtMultiCnnConfig(PaperConfig):
    dataset: str = option("ham10000", one_of=("ham10000", "isic2019"))
    image_size: int = option(128, at_least=16, why="three 3x3 conv + 2x2 pool blocks need >= 16 px")
    metadata: str = option("seven", one_of=METADATA)
    input: str = option("overlay", one_of=INPUTS)
    folds: int = option(5, at_least=2, why="cross-validation needs at least 2")
    protocols: tuple = option(PROTOCOLS, some_of=PROTOCOLS)
    rows: tuple = option(tuple(r.key for r in ROWS), some_of=tuple(ROW_BY_KEY))
    image_level_rows: tuple = option((HEADLINE,), some_of=tuple(ROW_BY_KEY), empty=True)
    epochs: int = 50
    batch_size: int = 32
    learning_rate: float = 1e-3
    val_fraction: float = 0.1
    dropout: float = 0.5
    backbone: str | None = None
    overlay_alpha: float = 0.4
    augment: bool = True
    normalize: str = option("paper", one_of=NORMALIZE)

    @classmethod
    def quick(cls) -> "FtMultiCnnConfig":
        return cls(image_size=48, folds=2, epochs=1, batch_size=16,
                   rows=tuple(r.key for r in ROWS if r.quick))

    def selected_rows(self) -> list:
        return [ROW_BY_KEY[k] for k in self.rows]

    def input_of(self, row: Row) -> str:
        return row.input or self.input


FIDELITY = fidelity.rows("ft-multicnn")   # papers/ft-multicnn.yaml, fidelity:
