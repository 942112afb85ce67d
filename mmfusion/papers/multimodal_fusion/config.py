"""multimodal-fusion settings: the paper's protocol and the quick smoke run.

Command: ``mmfusion reproduce multimodal-fusion --data-dir CBIS`` (12 fits of ResNet50 at 224 px,
<= 100 epochs each). Reproduces papers/multimodal-fusion.yaml Table 1 "Our Framework", Table 2
(all five rows: unweighted, feature-specific, concatenation, co-attention, cross-attention),
McNemar of cross-attention against every simpler row, and ours: "Table 1 (ours)" (image only,
clinical only), "Table 2 (ours)" (gated co-/cross-attention, GMU, MFB, TFN), "Robustness (ours)"
(missing clinical data) and the XAI figures. ``--quick``: the CBIS twin, a tiny ViT at 32 px,
2 epochs, six rows."""
import dataclasses

from mmfusion.data.clinical import CLINICAL_GROUPS
from mmfusion.experiment import PaperConfig, fidelity
from mmfusion.experiment.config import option

CLINICAL_GROUP_NAMES = tuple(CLINICAL_GROUPS)
CLINICAL_GROUP_SLICES = tuple((s.start, s.stop) for s in CLINICAL_GROUPS.values())


@dataclasses.dataclass(frozen=True)
class Row:
    key: str            # sub-run name and model name
    fusion: str         # model.FUSIONS
    table: str
    row: str


ROWS = (
    Row("image_only", "image", "Table 1 (ours)", "Image only"),
    Row("clinical_only", "clinical", "Table 1 (ours)", "Clinical only"),
    Row("unweighted", "unweighted", "Table 2", "Integrated but unweighted approach"),
    Row("feature_specific", "feature_specific", "Table 2", "Feature-Specific Modality Integration"),
    Row("concat", "concat", "Table 2", "Simple Concatenating Strategy"),
    Row("coattention", "coattention", "Table 2", "Co-attention feature fusion strategy"),
    Row("crossattention", "crossattention", "Table 2", "Our Framework (Cross-attention)"),
    Row("gated_coattention", "gated_coattention", "Table 2 (ours)", "Gated co-attention"),
    Row("gated_crossattention", "gated_crossattention", "Table 2 (ours)", "Gated cross-attention"),
    Row("gmu", "gmu", "Table 2 (ours)", "GMU"),
    Row("mfb", "mfb", "Table 2 (ours)", "MFB"),
    Row("tfn", "tfn", "Table 2 (ours)", "TFN"),
)
ROW_KEYS = tuple(r.key for r in ROWS)
QUICK_ROWS = ("image_only", "clinical_only", "unweighted", "feature_specific", "concat", "crossattention")
BEST = "crossattention"                        # the paper's framework; its Table 1 row again
# where the paper prints the framework's numbers again (papers/CELL_KEYS.md): (table, row, columns)
BEST_AGAIN = (("Table 1", "Our Framework", ("auc", "f1", "accuracy", "precision", "recall")),
              ("Table 3", "Our Proposed Multimodal framework", ("accuracy", "auc", "f1", "precision")),
              ("§III.C.2 text", "proposed cross-attention fusion",
               ("auc", "f1", "accuracy", "precision", "recall")))
MCNEMAR_CLAIM = ("§III.C.2 text", "McNemar cross-attention vs unimodal and simpler fusion baselines")
METRIC_COLUMNS = ("auc", "f1", "accuracy", "precision", "recall")
CI_COLUMNS = ("auc", "f1")                     # the paper prints bootstrap CIs for these
MISSING_RATES = (0.0, 0.3, 0.5, 1.0)           # share of test samples without clinical features
MISSING_GROUP_COUNTS = (0, 1, 2, 3, 4, 5)      # k of the 5 feature groups zeroed on every sample
LABELS = ("binary", "4class")
IMAGE_TOKENS, CLINICAL_TOKENS = ("spatial", "pooled"), ("groups", "vector")
DIRECTIONS = ("image<-clinical", "clinical<-image")
AFFINITIES = ("separate", "shared")
UNITS = ("mammogram", "abnormality")


@dataclasses.dataclass(frozen=True)
class FusionConfig(PaperConfig):
    labels: str = option("binary", one_of=LABELS)  # benign/malignant, or mass/calc x benign/malignant
    single_label_only: bool = True             # drop lesions with a combined clinical value (ROUND-OVAL)
    unit: str = option("mammogram", one_of=UNITS)  # one sample per mammogram (the paper's counts) or lesion
    rows: tuple = option(ROW_KEYS, some_of=ROW_KEYS)
    backbone: str = "resnet50"
    backbone_kw: dict = dataclasses.field(default_factory=dict)
    input_size: int = option(224, at_least=32, why="must be >= 32 (the backbones' smallest input)")
    embed_dim: int = option(100, at_least=1)  # d of eqs. 2-3
    token_dim: int = option(100, at_least=1)
    image_tokens: str = option("spatial", one_of=IMAGE_TOKENS)        # conv-map tokens or the embedding
    clinical_tokens: str = option("groups", one_of=CLINICAL_TOKENS)   # one token per group or one
    direction: str = option("image<-clinical", one_of=DIRECTIONS)   # image queries, clinical keys/values
    coattention_affinity: str = option("separate", one_of=AFFINITIES)  # eqs. 5-6: S_ec, S_ce; or one S
    head_hidden: int = option(200, at_least=1)
    dropout: float = option(0.5, at_least=0.0, below=1.0)
    l2: float = 1e-4
    modality_dropout: float = option(0.3, at_least=0.0, below=1.0)
    bait_switch: bool = True        # clinical vector withheld for a fixed subset of training samples
    bait_switch_fraction: float = option(0.3, at_least=0.0, below=1.0)  # that share (the paper gives none)
    mfb_factor: int = option(5, at_least=1)
    selected_groups: tuple = option(("breast_density", "mass_shape"),   # "selected clinical features"
                                    some_of=CLINICAL_GROUP_NAMES)
    learning_rate: float = 1e-4
    epochs: int = 100
    batch_size: int = 32
    freeze_epochs: int = 10
    freeze_stages: tuple = ("conv1", "pool1", "conv2", "conv3")   # "lower layers": stem + stages 2-3 of 5
    reduce_lr_factor: float = 0.1
    reduce_lr_patience: int = 10
    patience: int = 15
    val_fraction: float = option(0.2, at_least=0.0, below=1.0)
    flip: bool = True
    rotation_deg: float = 30.0
    # crops keep 90-100 % of the side
    random_crop: float = option(0.9, above=0.0, at_most=1.0, why="the kept share must be in (0, 1]")
    bootstrap: int = option(1000, at_least=1)
    shap_cases: int = option(200, at_least=1)
    lime_samples: int = option(1000, at_least=1)

    @classmethod
    def quick(cls) -> "FusionConfig":
        return cls(backbone="vit", backbone_kw=dict(patch_size=8, dim=16, depth=1, heads=2), input_size=32,
                   embed_dim=16, token_dim=16, head_hidden=16, batch_size=16, epochs=2, freeze_epochs=0,
                   bootstrap=100, shap_cases=8, lime_samples=100, rows=QUICK_ROWS)

    def validate(self) -> None:
        super().validate()
        if not 0 <= self.freeze_epochs <= self.epochs:
            raise ValueError(f"option freeze_epochs={self.freeze_epochs}: must be in 0..epochs "
                             f"({self.epochs})")

    @property
    def num_classes(self) -> int:
        return 2 if self.labels == "binary" else 4

    @property
    def average(self) -> str:
        return "binary" if self.labels == "binary" else "macro"

    def selected_rows(self) -> list[Row]:
        return [r for r in ROWS if r.key in self.rows]


FIDELITY = fidelity.rows("multimodal-fusion")   # papers/multimodal-fusion.yaml, fidelity:
