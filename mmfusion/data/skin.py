"""HAM10000 and ISIC 2019 as downloaded: ``age`` (NaN when empty), ``sex``, ``site`` for
``data.metadata``; ``group_id`` is the lesion (the image id when empty, counted in attrs['notes'])."""
from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.data.common import DatasetError, KaggleData, LoadReport, finish_frame, read_csv, single_copy

HAM_CLASSES = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
ISIC_CLASSES = ("MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC")
HAM_METADATA = "HAM10000_metadata.csv"
ISIC_TRUTH = "ISIC_2019_Training_GroundTruth.csv"
KAGGLE = {"ham10000": KaggleData(("kmader/skin-cancer-mnist-ham10000",), HAM_METADATA, ("**/ISIC_*.jpg",)),
          "isic2019": KaggleData(("andrewmvd/isic-2019",
                                  "salviohexia/isic-2019-skin-lesion-images-for-classification"))}
ISIC_METADATA = "ISIC_2019_Training_Metadata.csv"


def _find_file(root: Path, name: str, depth: int = 3) -> Path:
    hits = [h for level in range(depth + 1) for h in sorted(root.glob("/".join(["*"] * level + [name])))]
    return single_copy(hits, f"label file {name}", root,
                       f"label file {name} not found (searched {depth} levels deep)")


def index_images(root: Path, suffixes=(".jpg", ".jpeg", ".png")) -> tuple[dict, int]:
    """``({stem: path}, n_copies)``: lower-case duplicate folders counted, other second copies refused."""
    index, folder, copies = {}, {}, 0
    for path in sorted(root.rglob("*"), key=lambda p: (p.parent.name.lower() == p.parent.name, str(p))):
        if path.suffix.lower() not in suffixes or not path.is_file():
            continue
        if path.stem in index:
            if str(folder[path.stem]).lower() != str(path.parent).lower():
                raise DatasetError(f"image {path.stem} is in two copies of the dataset: {folder[path.stem]} "
                                   f"and {path.parent}; point --data-dir at one copy", path=root)
            copies += 1
            continue
        index[path.stem], folder[path.stem] = path.resolve(), path.parent
    return index, copies


def _unique_ids(ids: pd.Series, path: Path, column: str) -> None:
    DatasetError.reject_first(ids.duplicated(), path, lambda i: f"duplicate {column} {ids.iloc[i]!r} (first "
                              f"in row {int(np.flatnonzero(ids == ids.iloc[i])[0]) + 1}); each image must "
                              "be listed once")


def _age(values, path: Path) -> np.ndarray:
    text = pd.Series(values).str.strip()
    out = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    DatasetError.reject_first(out.isna() & text.ne(""), path, lambda i: f"age {values[i]!r} is not a number")
    return out.to_numpy(dtype=float)


def _attach_images(frame, root, report, missing, notes) -> pd.DataFrame:
    if missing not in ("skip", "error"):
        raise DatasetError(f"missing {missing!r}; expected skip or error")
    index, copies = index_images(root)
    notes["duplicate_image_copies_ignored"] = copies
    paths = [index.get(s) for s in frame["sample_id"]]
    absent = [i for i, p in enumerate(paths) if p is None]
    if absent and missing == "error":
        i = absent[0]
        raise DatasetError(f"image {frame['sample_id'].iloc[i]} listed but absent on disk",
                           path=frame["source_file"].iloc[i], row=i + 1)
    for i in absent:
        report.skip("image missing", f"{frame['sample_id'].iloc[i]} (row {i + 1})")
    frame = frame.assign(image_path=[str(p) if p else "" for p in paths])[[p is not None for p in paths]]
    if report.rows_read and len(frame) == 0:
        report.warn(f"no image of {report.dataset} was found under {root}; every row was skipped")
    return frame


def _group(frame: pd.DataFrame, notes: dict) -> pd.DataFrame:
    lesion = frame["lesion_id"].str.strip()
    notes["lesion_id_missing_used_image_id"] = int((lesion == "").sum())
    return frame.assign(group_id=np.where(lesion == "", frame["sample_id"], lesion))


def _finish(frame, report, notes, classes):
    out = finish_frame(frame.assign(label_name=[classes[i] for i in frame["label"]]), report)
    out.attrs.update(notes=notes, classes=list(classes))
    return out


def read_ham10000_metadata(root) -> pd.DataFrame:
    """HAM10000_metadata.csv (no images needed); ``frame.attrs['notes']`` counts empty ages and lesions."""
    root = Path(root)
    path = _find_file(root, HAM_METADATA)
    raw = read_csv(path, ("lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"))
    dx = raw["dx"].str.strip().str.lower()
    DatasetError.reject_first(~dx.isin(HAM_CLASSES), path, lambda i: f"dx {raw['dx'].iloc[i]!r}; expected "
                              f"one of {', '.join(HAM_CLASSES)}")
    image_id = raw["image_id"].str.strip().str.replace(r"\.jpe?g$", "", regex=True)
    _unique_ids(image_id, path, "image_id")
    frame = raw.assign(sample_id=image_id, image_id=image_id, dx=dx, label=[HAM_CLASSES.index(d) for d in dx],
                       age=_age(raw["age"].tolist(), path), source_file=str(path),
                       sex=raw["sex"].str.strip().str.lower().replace("", "unknown"),
                       site=raw["localization"].str.strip().str.lower().replace("", "unknown"))
    notes = {"age_missing": int(np.isnan(frame["age"]).sum())}
    frame = _group(frame, notes)
    frame.attrs["notes"] = notes
    return frame


def load_ham10000(root, missing: str = "skip") -> pd.DataFrame:
    """HAM10000: one row per image (10,015 of 7,470 lesions), found anywhere under ``root``."""
    root = Path(root)
    frame = read_ham10000_metadata(root)
    notes = dict(frame.attrs["notes"])
    report = LoadReport("ham10000", str(root), rows_read=len(frame))
    return _finish(_attach_images(frame, root, report, missing, notes), report, notes, HAM_CLASSES)


def load_isic2019(root, missing: str = "skip") -> pd.DataFrame:
    """ISIC 2019 training set, metadata joined; ``isic_id`` drops ``_downsampled``; UNK rows skipped."""
    root = Path(root)
    truth_path = _find_file(root, ISIC_TRUTH)
    truth = read_csv(truth_path, ("image", *ISIC_CLASSES))
    report = LoadReport("isic2019", str(root), rows_read=len(truth))
    columns = list(ISIC_CLASSES) + (["UNK"] if "UNK" in truth.columns else [])
    try:
        onehot = truth[columns].apply(lambda c: pd.to_numeric(c.str.strip())).to_numpy(float)
    except ValueError as err:
        raise DatasetError(f"label columns must be numbers ({err})", path=truth_path) from None
    bad = ~np.isclose(onehot.sum(axis=1), 1.0) | ~np.isin(onehot, (0.0, 1.0)).all(axis=1)
    DatasetError.reject_first(bad, truth_path,
                              lambda i: f"labels {onehot[i].tolist()} are not one-hot over {columns}")
    label = onehot.argmax(axis=1)
    _unique_ids(truth["image"].str.strip(), truth_path, "image")
    frame = pd.DataFrame({"sample_id": truth["image"].str.strip(), "label": label,
                          "source_file": str(truth_path)})
    frame["isic_id"] = frame["sample_id"].str.replace("_downsampled", "", regex=False)
    unk = label == len(ISIC_CLASSES)
    for i in np.flatnonzero(unk):
        report.skip("UNK label", f"{frame['sample_id'].iloc[i]} (row {i + 1})")
    frame = frame[~unk]
    meta_path = _find_file(root, ISIC_METADATA)
    meta = read_csv(meta_path, ("image",)).rename(columns={"gender": "sex", "age_approx": "age",
                                                            "anatom_site_general": "site"})
    for column in ("age", "sex", "site", "lesion_id"):
        if column not in meta.columns:
            raise DatasetError(f"missing column {column!r} (or its alias)", path=meta_path)
    meta = meta.assign(sample_id=meta["image"].str.strip(), age=_age(meta["age"].tolist(), meta_path),
                       sex=meta["sex"].str.strip().str.lower().replace("", "unknown"),
                       site=meta["site"].str.strip().str.lower().replace("", "unknown"))
    frame = frame.merge(meta[["sample_id", "age", "sex", "site", "lesion_id"]], how="left", on="sample_id")
    notes = {"metadata_row_missing": int(frame["lesion_id"].isna().sum()),
             "age_missing": int(frame["age"].isna().sum())}
    frame = frame.fillna({"sex": "unknown", "site": "unknown", "lesion_id": ""})
    frame = _attach_images(_group(frame, notes), root, report, missing, notes)
    return _finish(frame, report, notes, ISIC_CLASSES)

