"""CBIS-DDSM: the four case-description CSVs, both on-disk layouts (``cbis_layouts``: TCIA DICOM
tree, Kaggle JPEG copy), labels, clinical vector, splits. One row per abnormality; ``group_id``
is the patient; ``split`` is the official train/test."""
from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.data import splits
from mmfusion.data.cbis_layouts import open_layout
from mmfusion.data.clinical import encode_clinical
from mmfusion.data.common import DatasetError, KaggleData, LoadReport, finish_frame, read_csv, single_copy

KAGGLE = {"cbis-ddsm": KaggleData(("awsaf49/cbis-ddsm-breast-cancer-image-dataset",), "csv/dicom_info.csv",
                                  ("jpeg",))}
CSV_FILES = {(kind, split): f"{kind}_case_description_{split}_set.csv"
             for kind in ("mass", "calc") for split in ("train", "test")}
PATHOLOGIES = ("BENIGN", "BENIGN_WITHOUT_CALLBACK", "MALIGNANT")
BINARY_CLASSES = ("benign", "malignant")
FOUR_CLASSES = ("mass_benign", "mass_malignant", "calc_benign", "calc_malignant")
PATH_COLUMNS = ("image_file_path", "cropped_image_file_path", "roi_mask_file_path")
COMMON_COLUMNS = ("patient_id", "breast_density", "left_or_right_breast", "image_view", "abnormality_id",
                  "abnormality_type", "assessment", "pathology", "subtlety", *PATH_COLUMNS)
KIND_COLUMNS = {"mass": ("mass_shape", "mass_margins"), "calc": ("calc_type", "calc_distribution")}
CLINICAL_COLUMN = "clinical"   # one float32 (36,) array per row; stack with clinical_matrix()


def find_csv_dir(root) -> Path:
    """The folder holding the four case CSVs: root, root/csv, or one level below root."""
    root = Path(root)
    first = CSV_FILES["mass", "train"]
    subdirs = sorted(p for p in root.iterdir() if p.is_dir())
    hits = [c / first for c in (root, root / "csv", *subdirs, *(d / "csv" for d in subdirs))
            if (c / first).is_file()]
    return single_copy(hits, f"CBIS-DDSM case CSV {first}", root,
                       f"no CBIS-DDSM case CSVs ({', '.join(CSV_FILES.values())}) found").parent


def read_case_csv(path, kind: str, split: str) -> pd.DataFrame:
    """One case CSV normalised, plus ``abnormality_type``, ``split``, ``source_file/row``, ``clinical``."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError("CBIS-DDSM case CSV is missing", path=path)
    wanted = COMMON_COLUMNS + KIND_COLUMNS[kind]
    # mass files say "breast_density", calc files "breast density"; "ROI mask file path" etc.
    frame = read_csv(path, wanted, lambda c: "_".join(c.lower().split()))
    frame = pd.DataFrame({c: frame[c].str.strip() for c in wanted})   # the quoted path fields end in "\n"
    frame = frame.assign(abnormality_type=kind, split=split, source_file=str(path),
                         source_row=np.arange(1, len(frame) + 1))
    DatasetError.reject_first(~frame["pathology"].isin(PATHOLOGIES), path, lambda i: f"pathology "
                              f"{frame['pathology'].iloc[i]!r}; expected one of {', '.join(PATHOLOGIES)}")
    frame[CLINICAL_COLUMN] = list(encode_clinical(frame))   # errors name source_file / source_row
    return frame


def read_case_descriptions(root) -> pd.DataFrame:
    """All case CSV rows (no images needed): one row per abnormality, labels and clinical vector."""
    csv_dir = find_csv_dir(root)
    frame = pd.concat([read_case_csv(csv_dir / name, *key) for key, name in CSV_FILES.items()],
                      ignore_index=True)
    malignant = (frame["pathology"] == "MALIGNANT").astype(int)
    frame["label_binary"] = malignant
    frame["label_4class"] = np.where(frame["abnormality_type"] == "mass", 0, 2) + malignant
    prefix = np.where(frame["abnormality_type"] == "mass", "Mass", "Calc")
    split = np.where(frame["split"] == "train", "Training", "Test")
    frame["sample_id"] = [f"{p}-{s}_{pid}_{side}_{view}_{aid}" for p, s, pid, side, view, aid in zip(
        prefix, split, frame["patient_id"], frame["left_or_right_breast"], frame["image_view"],
        frame["abnormality_id"])]
    # Several abnormalities share one mammogram: image-level grouping needs this id.
    frame["full_image_id"] = frame["image_file_path"].str.split("/").str[0]
    frame["group_id"] = frame["patient_id"]
    return frame


def patients_across_split(frame: pd.DataFrame) -> dict:
    """Patients on both sides of the official split (happens when mass and calc are merged)."""
    kind, split, pid = frame["abnormality_type"], frame["split"], frame["patient_id"]
    mass_train, calc_train = (set(pid[(kind == k) & (split == "train")]) for k in ("mass", "calc"))
    mass_test, calc_test = (set(pid[(kind == k) & (split == "test")]) for k in ("mass", "calc"))
    return {"train_and_test": sorted((mass_train | calc_train) & (mass_test | calc_test)),
            "mass_train_calc_test": sorted(mass_train & calc_test),
            "calc_train_mass_test": sorted(calc_train & mass_test),
            "mass_and_calc": sorted((mass_train | mass_test) & (calc_train | calc_test))}


def clinical_matrix(frame: pd.DataFrame) -> np.ndarray:
    return (np.stack(frame[CLINICAL_COLUMN].to_numpy()).astype(np.float32) if len(frame)
            else np.zeros((0, 36), np.float32))


def load(root, labels: str = "binary") -> pd.DataFrame:
    """CBIS-DDSM in either layout, one row per abnormality; rows without images are counted."""
    if labels not in ("binary", "4class"):
        raise DatasetError(f"labels {labels!r}; expected binary or 4class")
    root = Path(root)
    frame = read_case_descriptions(root)
    report = LoadReport("cbis-ddsm", str(root), rows_read=len(frame))
    resolver = open_layout(root)
    found = {}   # sample_id -> (full image, crop, mask)
    for rec in frame.to_dict("records"):
        try:
            found[rec["sample_id"]] = resolver.resolve(rec)
        except FileNotFoundError as err:
            report.skip("image missing", f"{rec['sample_id']}: {err}")
    frame = frame[frame["sample_id"].isin(found)].copy()
    files = [found[s] for s in frame["sample_id"]]
    frame["image_path"] = [str(full) for full, _, _ in files]
    frame["crop_path"] = [str(crop) if crop else "" for _, crop, _ in files]
    frame["mask_paths"] = [[str(mask)] if mask else [] for _, _, mask in files]
    names = BINARY_CLASSES if labels == "binary" else FOUR_CLASSES
    frame["label"] = frame["label_" + labels]
    frame["label_name"] = [names[i] for i in frame["label"]]
    frame["layout"] = resolver.name
    leaks = patients_across_split(frame)
    if leaks["train_and_test"]:
        report.warn(f"{len(leaks['train_and_test'])} patients have abnormalities in both the "
                    "official train and test sets (mass and calc merged): "
                    f"{len(leaks['mass_train_calc_test'])} mass-train/calc-test, "
                    f"{len(leaks['calc_train_mass_test'])} calc-train/mass-test")
    if report.n_skipped == report.rows_read and report.rows_read:
        report.warn(f"no CBIS-DDSM image was found under {root}; every row was skipped")
    return finish_frame(frame, report)


def split_official(frame: pd.DataFrame, val_fraction: float = 0.2, seed: int = 0,
                   drop_leaking_patients: bool = False) -> dict:
    """{'train', 'val', 'test'}: the official test; validation carved from train by patient."""
    is_train = frame["split"].to_numpy() == "train"
    if drop_leaking_patients:
        leak = set(patients_across_split(frame)["train_and_test"])
        is_train &= ~frame["patient_id"].isin(leak).to_numpy()
    train, val = splits.holdout_by_group(np.flatnonzero(is_train), frame["label"].to_numpy(),
                                         frame["group_id"].to_numpy(), fraction=val_fraction, seed=seed)
    return {"train": train, "val": val, "test": np.flatnonzero(frame["split"].to_numpy() == "test")}
