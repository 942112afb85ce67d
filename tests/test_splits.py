"""Splitters against sklearn references, group integrity, and the leakage check."""
import numpy as np
import pytest
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split

from mmfusion.data.common import DatasetError
from mmfusion.data.splits import (
    LeakageError,
    check_leakage,
    holdout_by_group,
    kfold_splits,
    merge_groups,
    train_val_test_split,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    labels = rng.choice(3, size=300, p=[0.6, 0.25, 0.15])
    groups = np.repeat(np.arange(150), 2)   # two images per patient (left/right breast)
    labels = labels.reshape(150, 2)[:, 0].repeat(2)
    return labels, groups


def test_ungrouped_split_equals_sklearn_two_calls(data):
    labels, _ = data
    out = train_val_test_split(labels, seed=5)
    idx = np.arange(len(labels))
    rest, test = train_test_split(idx, test_size=0.15, stratify=labels, random_state=5)
    train, val = train_test_split(rest, test_size=0.15 / 0.85, stratify=labels[rest], random_state=5)
    for side, ref in (("train", train), ("val", val), ("test", test)):
        np.testing.assert_array_equal(out[side], np.sort(ref))


def test_grouped_split_keeps_patients_and_ratios(data):
    labels, groups = data
    out = train_val_test_split(labels, groups, seed=1)
    sides = {s: set(groups[i]) for s, i in out.items()}
    assert not (sides["train"] & sides["val"]) and not (sides["train"] & sides["test"])
    assert not (sides["val"] & sides["test"])
    assert sum(map(len, out.values())) == len(labels)
    for side, ratio in (("train", 0.7), ("val", 0.15), ("test", 0.15)):
        assert len(out[side]) == pytest.approx(ratio * len(labels), abs=4)
        for c in range(3):  # per-class proportions within a patient pair of the target
            assert (labels[out[side]] == c).sum() == pytest.approx(ratio * (labels == c).sum(), abs=2.01)
    assert {k: list(v) for k, v in train_val_test_split(labels, groups, seed=1).items()} == \
        {k: list(v) for k, v in out.items()}  # deterministic


def test_kfold_matches_sklearn(data):
    labels, groups = data
    folds = kfold_splits(labels, groups, k=5, seed=2)
    ref = StratifiedGroupKFold(5, shuffle=True, random_state=2).split(np.zeros(len(labels)), labels, groups)
    for (tr, te), (rtr, rte) in zip(folds, ref):
        np.testing.assert_array_equal(te, rte)
        assert not set(groups[tr]) & set(groups[te])
    plain = kfold_splits(labels, k=4, seed=2)
    ref = StratifiedKFold(4, shuffle=True, random_state=2).split(np.zeros(len(labels)), labels)
    for (tr, te), (rtr, rte) in zip(plain, ref):
        np.testing.assert_array_equal(te, rte)
    assert sorted(np.concatenate([te for _, te in plain]).tolist()) == list(range(len(labels)))


def test_holdout_by_group(data):
    labels, groups = data
    train_idx = np.arange(0, 200)
    tr, val = holdout_by_group(train_idx, labels, groups, fraction=0.2, seed=0)
    assert set(tr) | set(val) == set(train_idx) and not set(tr) & set(val)
    assert not set(groups[tr]) & set(groups[val])
    assert len(val) == pytest.approx(40, abs=3)


def test_leakage_check_catches_planted_leak(data):
    labels, groups = data
    out = train_val_test_split(labels, groups, seed=0)
    check_leakage(out, {"patient": groups})
    leaked = dict(out)
    moved = out["train"][0]
    partner = np.flatnonzero(groups == groups[moved])
    partner = partner[partner != moved][0]
    leaked["test"] = np.append(np.setdiff1d(out["test"], [partner]), moved)
    leaked["train"] = np.setdiff1d(np.append(out["train"], partner), [moved])
    with pytest.raises(LeakageError, match=rf"patient {int(groups[moved])} is on both 'train' and 'test'"):
        check_leakage(leaked, {"patient": groups})
    with pytest.raises(LeakageError, match="sample index"):
        check_leakage({"train": [0, 1], "test": [1, 2]})
    assert issubclass(LeakageError, DatasetError)
    # missing group values (no duplicate) never count as a shared group
    check_leakage({"a": [0], "b": [1]}, {"duplicate": np.array([None, None], dtype=object)})


def test_merge_groups_joins_patient_and_duplicate_kinds():
    patient = np.array(["p1", "p1", "p2", "p3", "p4"], dtype=object)
    dup = np.array([None, None, 7, None, 7], dtype=object)   # image of p2 duplicates one of p4
    comp = merge_groups(patient, dup)
    assert comp[0] == comp[1] and comp[2] == comp[4] and len({comp[0], comp[2], comp[3]}) == 3
