"""Breast MRI (Kaggle): ``Breast Cancer Patients MRI's/{train,validation}/{Healthy,Sick}/*.jpg``.
File names repeat across classes: the sample (and group, no patient ids) id is ``<split>/<class>/<stem>``."""
from pathlib import Path

import pandas as pd

from mmfusion.data.common import DatasetError, KaggleData, LoadReport, finish_frame, single_copy

FOLDER = "Breast Cancer Patients MRI's"
KAGGLE = {"breast-mri": KaggleData(("uzairkhan45/breast-cancer-patients-mris",), FOLDER)}
SPLITS = ("train", "validation")
CLASSES = ("Healthy", "Sick")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def find_folder(root) -> Path:
    root = Path(root)
    subfolders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    hits = [c / "train" for c in (root / FOLDER, root, *subfolders)  # some copies rename the top folder
            if (c / "train").is_dir()]
    return single_copy(hits, "breast-MRI train/ folder", root,
                       f"breast MRI folders not found: expected {FOLDER}/train/{{Healthy,Sick}}/").parent


def load(root, splits=SPLITS) -> pd.DataFrame:
    folder = find_folder(root)
    report = LoadReport("breast-mri", str(root))
    rows = []
    for split in splits:
        for label, name in enumerate(CLASSES):
            class_dir = folder / split / name
            if not class_dir.is_dir():
                raise DatasetError(f"folder {split}/{name}/ is missing; expected {split}/{{Healthy,Sick}}/",
                                   path=folder)
            n_before = len(rows)
            for path in sorted(class_dir.iterdir()):
                if path.suffix.lower() not in IMAGE_SUFFIXES:
                    report.skip("not_an_image", str(path))
                    continue
                sample_id = f"{split}/{name}/{path.stem}"
                rows.append({"sample_id": sample_id, "image_path": str(path.resolve()), "label": label,
                             "label_name": name, "group_id": sample_id, "original_split": split})
            if len(rows) == n_before:
                raise DatasetError(f"class {name!r} has no images in {split}/", path=class_dir)
    report.rows_read = len(rows)
    return finish_frame(pd.DataFrame(rows), report)
