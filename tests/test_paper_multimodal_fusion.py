"""multimodal-fusion: model builder (pinned parameter counts, flat backbone), config and its checks."""
import dataclasses
import re

import numpy as np
import pytest
from helpers import assert_keras_roundtrip

keras = pytest.importorskip("keras")

from mmfusion.papers.multimodal_fusion import config  # noqa: E402
from mmfusion.papers.multimodal_fusion.model import FUSIONS, build_fusion_model  # noqa: E402

RESNET50_NOTOP = 23_587_712        # keras.applications.ResNet50 with top 25,636,712 minus 2048*1000+1000


def dense(i, o):
    return i * o + o


def test_full_size_parameter_counts_and_flat_backbone():
    from mmfusion.models import build_backbone

    hp = config.FusionConfig.paper()
    spec = build_backbone("resnet50", (224, 224, 3), weights=None)
    concat = build_fusion_model("concat", hp, backbone=spec)
    expected = RESNET50_NOTOP + dense(2048, 100) + dense(36, 100) + dense(200, 200) + dense(200, 2)
    assert concat.count_params() == expected == 23_836_914
    cross = build_fusion_model("crossattention", hp, backbone=spec)
    tokens = dense(2048, 100) + sum(dense(b - a, 100) for a, b in config.CLINICAL_GROUP_SLICES)
    attention = 4 * dense(100, 100) + 2 * 100          # q, k, v, out + LayerNorm
    assert cross.count_params() == RESNET50_NOTOP + tokens + attention + dense(200, 200) + dense(200, 2)
    # flat: Grad-CAM reaches conv5 directly, and its map is 7x7x2048 at 224 px
    assert cross.get_layer("conv5_block3_out").output.shape[1:] == (7, 7, 2048)
    assert not any(isinstance(layer, keras.Model) for layer in cross.layers)
    # "lower layers" frozen first: the stem and stages conv2-conv3 only, never conv4/conv5
    frozen = cross._mmfusion_backbone
    assert (len(frozen), frozen[0], frozen[-1]) == (80, "conv1_pad", "conv3_block4_out")
    assert not any(n.startswith(("conv4", "conv5")) for n in frozen) and len(spec.layer_names) == 176


QUICK = config.FusionConfig.quick()
X = {"image": np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32"),
     "clinical": (np.random.default_rng(1).random((3, 36)) > 0.7).astype("float32")}


def test_quick_models_parameter_counts_by_hand():
    d, h = QUICK.embed_dim, QUICK.head_hidden
    head = dense(2 * d, h) + dense(h, 2)
    counts = {f: build_fusion_model(f, QUICK).count_params() for f in FUSIONS}
    backbone = counts["image"] - dense(16, d) - dense(d, h) - dense(h, 2)
    assert counts["clinical"] == dense(36, d) + dense(d, h) + dense(h, 2)
    embeds = backbone + dense(16, d) + dense(36, d)
    assert counts["concat"] == embeds + head
    assert counts["gated_crossattention"] == embeds + 2 * dense(d, d) + \
        2 * dense(2 * d, h) + 2 * dense(h, 2)
    assert counts["gated_coattention"] == embeds + 2 * dense(2 * d, d) + \
        2 * dense(2 * d, h) + 2 * dense(h, 2)
    assert counts["gmu"] == embeds + 4 * d * d + dense(d, h) + dense(h, 2)   # no biases
    assert counts["tfn"] == embeds + dense((d + 1) ** 2, h) + dense(h, 2)
    assert counts["mfb"] == embeds + 2 * dense(d, d * QUICK.mfb_factor) + dense(d, h) + dense(h, 2)
    tokens = dense(16, d) + sum(dense(b - a, d) for a, b in config.CLINICAL_GROUP_SLICES)
    assert counts["crossattention"] == backbone + tokens + 4 * dense(d, d) + 2 * d + head
    assert counts["coattention"] == backbone + tokens + 8 * dense(d, d) + 4 * d + head     # eqs. 5-9
    shared = build_fusion_model("coattention", dataclasses.replace(QUICK, coattention_affinity="shared"))
    assert shared.count_params() == counts["coattention"] - 2 * dense(d, d)
    # unweighted: the cross-attention module without Wq, Wk; feature-specific: concat's weights
    assert counts["unweighted"] == counts["crossattention"] - 2 * dense(d, d)
    assert counts["feature_specific"] == counts["concat"]


def test_quick_model_outputs_probabilities_and_roundtrips(tmp_path):
    for fusion in ("crossattention", "gated_coattention"):
        model = build_fusion_model(fusion, QUICK)
        p = np.asarray(model(X, training=False))
        np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
        assert_keras_roundtrip(model, X, tmp_path)


def test_modality_dropout_only_in_training_and_unknown_fusion():
    model = build_fusion_model("concat", QUICK)
    a, b = (np.asarray(model(X, training=False)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="unknown fusion"):
        build_fusion_model("late", QUICK)


def test_feature_specific_model_sees_only_the_selected_groups():
    model = build_fusion_model("feature_specific", QUICK)
    other = X["clinical"].copy()
    keep = np.zeros(36, bool)
    keep[0:12] = True                       # breast_density 0:4, mass_shape 4:12 (QUICK.selected_groups)
    other[:, ~keep] = 1.0 - other[:, ~keep]  # change every unselected column
    np.testing.assert_allclose(np.asarray(model({**X, "clinical": other}, training=False)),
                               np.asarray(model(X, training=False)), atol=1e-6)
    other[:, 0] = 1.0 - other[:, 0]          # a selected column does reach the network
    assert not np.allclose(np.asarray(model({**X, "clinical": other}, training=False)),
                           np.asarray(model(X, training=False)))


def test_rows_table_and_config_checks():
    from mmfusion.experiment.config import resolve
    from mmfusion.registry import ReproduceOptions

    keys = [r.key for r in config.ROWS]
    assert len(set(keys)) == len(keys) and set(r.fusion for r in config.ROWS) == set(FUSIONS)
    assert config.CLINICAL_GROUP_SLICES == ((0, 4), (4, 12), (12, 17), (17, 31), (31, 36))

    def make(quick=False, **extra):
        return resolve(config.FusionConfig, ReproduceOptions("multimodal-fusion", quick=quick, extra=extra),
                       "multimodal-fusion")
    assert [r.key for r in make(True, rows="gmu,tfn").selected_rows()] == ["gmu", "tfn"]
    full = make()
    assert (full.input_size, full.epochs, full.batch_size, full.learning_rate, full.patience) == (224, 100,
                                                                                                  32, 1e-4,
                                                                                                  15)
    assert [r.key for r in full.selected_rows()] == keys
    for extra, message in [({"rows": "late"}, "option rows=['late']: expected some of image_only"),
                           ({"input_size": 8}, "option input_size=8: must be >= 32"),
                           ({"labels": "3class"}, "option labels='3class': expected one of binary, 4class"),
                           ({"selected_groups": "age"}, "option selected_groups=['age']"),
                           ({"freeze_epochs": 200}, "option freeze_epochs=200: must be in 0..epochs"),
                           ({"epochs": 0}, "option epochs=0"),
                           ({"bogus": 1}, "no setting 'bogus'")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            make(**extra)


def _frame(rows):
    import pandas as pd

    from mmfusion.data.clinical import encode_clinical_row

    recs = [dict(sample_id=f"s{i}", abnormality_type=kind, full_image_id=image, abnormality_id=aid,
                 split=split,
                 clinical=encode_clinical_row(kind, density, shape, margins, ctype, dist))
            for i, (kind, image, aid, split, density, shape, margins, ctype, dist) in enumerate(rows)]
    return pd.DataFrame(recs)


ROWS_BY_HAND = [
    ("mass", "Mass-Training_P_1_LEFT_CC", "1", "train", "2", "ROUND", "CIRCUMSCRIBED", None, None),
    ("mass", "Mass-Training_P_1_LEFT_CC", "2", "train", "2", "ROUND-OVAL", "CIRCUMSCRIBED", None, None),
    ("mass", "Mass-Training_P_2_LEFT_CC", "1", "train", "3", "IRREGULAR", "SPICULATED-ILL_DEFINED", None,
     None),
    ("calc", "Calc-Test_P_3_RIGHT_MLO", "1", "test", "1", None, None, "PLEOMORPHIC", "CLUSTERED"),
    ("calc", "Calc-Test_P_3_RIGHT_MLO", "2", "test", "1", None, None, "PUNCTATE", "NA"),
]


def test_single_label_filter_counts_each_dropped_lesion_once():
    from mmfusion.papers.multimodal_fusion.preprocess import single_label

    kept, counts = single_label(_frame(ROWS_BY_HAND))
    assert kept["sample_id"].tolist() == ["s0", "s3", "s4"]
    assert counts == {"multi-label mass_shape": 1, "multi-label mass_margins": 1}


def test_bait_and_switch_withholds_a_fixed_seeded_subset():
    from mmfusion.papers.multimodal_fusion.preprocess import bait_and_switch

    clinical = np.ones((10, 36), np.float32)
    out, idx = bait_and_switch(clinical, 0.3, seed=5)
    assert len(idx) == 3 and (out[idx] == 0).all() and (np.delete(out, idx, 0) == 1).all()
    assert (clinical == 1).all()                                   # the input is not modified
    np.testing.assert_array_equal(bait_and_switch(clinical, 0.3, seed=5)[1], idx)   # same seed, same subset
    assert len(bait_and_switch(clinical, 0.0, seed=5)[1]) == 0


def test_unit_counts_and_one_sample_per_mammogram():
    from mmfusion.papers.multimodal_fusion.preprocess import one_per_mammogram, unit_counts

    frame = _frame(ROWS_BY_HAND)
    assert unit_counts(frame) == {"abnormalities": {"calc test": 2, "mass train": 3},
                                  "mammograms": {"calc test": 1, "mass train": 2}}
    kept, dropped = one_per_mammogram(frame.iloc[::-1])          # order-free: the lowest id wins
    assert sorted(kept["sample_id"]) == ["s0", "s2", "s3"] and dropped == 2


def test_the_papers_counts_are_mammograms_of_the_real_csvs():
    from pathlib import Path

    from mmfusion.data.cbis_ddsm import read_case_descriptions
    from mmfusion.papers.multimodal_fusion.preprocess import single_label, unit_counts

    root = Path(__file__).resolve().parents[2] / "shared" / "data-samples" / "cbis-ddsm"
    if not (root / "csv").is_dir():
        pytest.skip("the real CBIS-DDSM case CSVs are not in ../shared/data-samples")
    frame = read_case_descriptions(root)
    counts = unit_counts(frame)
    # §III.A: "1592 mass and 1511 calcification mammograms ... 1231/361 ... 1227/284"
    assert counts["mammograms"] == {"mass train": 1231, "mass test": 361, "calc train": 1227,
                                    "calc test": 284}
    assert sum(v for k, v in counts["abnormalities"].items() if "test" in k) == 704
    assert len(single_label(frame)[0]) == 3058               # 510 lesions with a combined value
