"""BUSI as Kaggle ships it: ``Dataset_BUSI_with_GT/{benign,malignant,normal}/``, masks ``benign (1)_mask.png``
and ``benign (1)_mask_1.png``. No patient ids: the group id is the image (its duplicate group with
``duplicates=True``). Labels follow the folder names alphabetically, as Keras' directory loaders do."""
import re
from pathlib import Path

import pandas as pd

from mmfusion.data.common import DatasetError, KaggleData, LoadReport, finish_frame

FOLDER = "Dataset_BUSI_with_GT"
KAGGLE = {"busi": KaggleData(("aryashah2k/breast-ultrasound-images-dataset",
                               "sabahesaraki/breast-ultrasound-images-dataset"), FOLDER)}
CLASSES = ("benign", "malignant", "normal")
_NAME = re.compile(r"^(?P<stem>.+?)(?P<mask>_mask(?:_\d+)?)?$")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def find_folder(root) -> Path:
    root = Path(root)
    for candidate in (root / FOLDER, root):
        if all((candidate / c).is_dir() for c in ("benign", "malignant")):
            return candidate
    raise DatasetError(f"BUSI folders not found: expected {FOLDER}/benign, /malignant, /normal", path=root)


def _scan_class(folder: Path, report: LoadReport) -> list[dict]:
    images, masks = {}, {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            report.skip("not_an_image", str(path))
            continue
        match = _NAME.match(path.stem)
        if match["mask"]:
            masks.setdefault(match["stem"], []).append(path)
        else:
            images[match["stem"]] = path
    for stem in sorted(set(masks) - set(images)):
        for path in masks[stem]:
            report.skip("mask_without_image", str(path))
    rows = []
    for stem, path in images.items():
        mask_paths = sorted(masks.get(stem, []), key=lambda p: (len(p.name), p.name))  # _mask before _mask_1
        if not mask_paths:
            report.warn(f"{path}: no mask file (_mask.png) for this image")
        rows.append({"stem": stem, "image_path": str(path.resolve()),
                     "mask_paths": [str(p.resolve()) for p in mask_paths]})
    return rows


def load(root, include_normal: bool = True, duplicates: bool = False,
         near_duplicate_distance: int = 3) -> pd.DataFrame:
    from mmfusion.data.duplicates import find_duplicates
    from mmfusion.data.images import image_size

    folder = find_folder(root)
    report = LoadReport("busi", str(root))
    classes = CLASSES if include_normal else CLASSES[:2]
    rows = []
    for label, name in enumerate(classes):
        class_dir = folder / name
        if not class_dir.is_dir():
            raise DatasetError(f"class folder {name}/ is missing; expected {', '.join(classes)}", path=folder)
        found = _scan_class(class_dir, report)
        if not found:
            raise DatasetError(f"class {name!r} has no images", path=class_dir)
        rows += [dict(r, label=label, label_name=name) for r in found]
    if not include_normal and (folder / "normal").is_dir():
        n_normal = sum(1 for p in (folder / "normal").iterdir() if "_mask" not in p.stem)
        report.skip("normal_excluded", f"{n_normal} normal images left out (include_normal=False)")
    report.rows_read = len(rows)
    frame = pd.DataFrame(rows).rename(columns={"stem": "sample_id"})
    frame["group_id"] = frame["sample_id"]
    for image, masks in zip(frame["image_path"], frame["mask_paths"]):   # headers only; read_mask resizes
        size = image_size(image)
        for mask, got in ((m, image_size(m)) for m in masks):
            if got != size:
                report.warn(f"{mask}: mask size {got} differs from image size {size} "
                            "(it will be resized nearest-neighbour when read)")
    if duplicates:   # duplicate_group (None for unique images) becomes the group id: copies stay together
        found = find_duplicates(frame["image_path"], max_distance=near_duplicate_distance)
        counts = pd.Series(found.group_ids).value_counts()
        dup = [f"dup-{g}" if counts[g] > 1 else None for g in found.group_ids]
        frame = frame.assign(duplicate_group=dup, group_id=[d or s for d, s in zip(dup, frame["sample_id"])])
        mixed = frame[frame["duplicate_group"].notna()].groupby("duplicate_group")["label"].nunique()
        report.warn(f"duplicates: {found.summary()}; {int((mixed > 1).sum())} groups span two classes")
    return finish_frame(frame, report)
