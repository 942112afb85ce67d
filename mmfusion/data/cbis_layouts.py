"""Find the CBIS-DDSM files a CSV row names, in the TCIA DICOM tree or the Kaggle JPEG copy.

CSV paths read ``<PatientFolder>/<StudyInstanceUID>/<SeriesInstanceUID>/000000.dcm``.
TCIA (NBIA retriever): ``CBIS-DDSM/<PatientFolder>/<date>-DDSM-NA-<last 5 of StudyUID>/
<n>.000000-<SeriesDescription>-<last 5 of SeriesUID>/1-1.dcm`` (or the CSV path verbatim).
Kaggle: ``csv/dicom_info.csv`` maps ``image_path = CBIS-DDSM/jpeg/<SeriesUID>/<file>.jpg`` to its
``SeriesDescription``. Crop and mask file names are inconsistent (mass: crop 000000 / mask 000001
in one series, or both 000000 in two series; calc the reverse), so a mask is told from a crop by
SeriesDescription, else by content (binary), never by file name.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from mmfusion.data.common import DatasetError, read_csv

FULL, CROP, MASK = "full mammogram images", "cropped images", "roi mask images"


def _kind(description) -> str | None:
    if description is None or (isinstance(description, float) and np.isnan(description)):
        return None
    text = str(description).strip().lower()
    return {FULL: "full", CROP: "crop", MASK: "mask"}.get(text)


def looks_binary(arr: np.ndarray, tolerance: float = 0.06, share: float = 0.995) -> bool:
    """True when nearly every pixel sits at the image's min or max (JPEG ringing tolerated)."""
    arr = np.asarray(arr, np.float32)
    low, high = float(arr.min()), float(arr.max())
    if high <= low:
        return True
    edge = tolerance * (high - low)
    return float(np.mean((arr <= low + edge) | (arr >= high - edge))) >= share


def split_crop_mask(candidates) -> tuple:
    """``candidates``: [(path, description)] of the crop and mask series; returns (crop, mask).

    SeriesDescription decides when it names exactly one mask; otherwise pixel content does.
    """
    from mmfusion.data.images import read_image

    files = list(dict.fromkeys((Path(p), d) for p, d in candidates))
    paths = list(dict.fromkeys(p for p, _ in files))
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(str(path))
    if len(paths) == 1:
        raise FileNotFoundError(f"only one file for crop and mask: {paths[0]}")
    kinds = {p: _kind(d) for p, d in files}
    masks = [p for p in paths if kinds[p] == "mask"]
    if len(masks) == 1 and len(paths) == 2:
        return next(p for p in paths if p != masks[0]), masks[0]
    binary = [p for p in paths if looks_binary(read_image(p, "gray", dtype=np.float32))]
    if len(binary) != 1:
        raise DatasetError(f"cannot tell the ROI mask from the crop among {[str(p) for p in paths]}"
                           f" ({len(binary)} look binary)")
    others = [p for p in paths if p != binary[0]]
    return others[0], binary[0]


def _uids(csv_path: str):
    parts = str(csv_path).strip().replace("\\", "/").split("/")
    if len(parts) < 4:
        raise DatasetError(f"CBIS-DDSM path {csv_path!r}; expected Folder/StudyUID/SeriesUID/file")
    return parts[0], parts[1], parts[2]


class TciaLayout:
    """The NBIA DICOM tree; folders matched by UID suffix (or the CSV path verbatim)."""

    name = "tcia"

    def __init__(self, root: Path):
        self.root = root
        self.tree = root / "CBIS-DDSM" if (root / "CBIS-DDSM").is_dir() else root

    @functools.lru_cache(maxsize=None)
    def _series_files(self, folder: str, study: str, series: str) -> tuple:
        base = self.tree / folder
        literal = base / study / series
        if literal.is_dir():
            return tuple(sorted(literal.glob("*.dcm")))
        if not base.is_dir():
            raise FileNotFoundError(str(base))
        studies = [d for d in base.iterdir() if d.is_dir() and d.name.endswith("-" + study[-5:])]
        files = []
        for study_dir in studies:
            for d in study_dir.iterdir():
                if d.is_dir() and d.name.endswith("-" + series[-5:]):
                    files += sorted(d.glob("*.dcm"))
        if not files:
            raise FileNotFoundError(f"{base}/*-{study[-5:]}/*-{series[-5:]}/*.dcm")
        return tuple(files)

    @staticmethod
    def _description(path: Path):
        import pydicom

        try:
            return pydicom.dcmread(str(path), stop_before_pixels=True).get("SeriesDescription")
        except Exception as err:  # pydicom raises many types for broken files
            raise DatasetError(f"cannot read DICOM header ({err})", path=path) from None

    def resolve(self, rec: dict):
        full = self._series_files(*_uids(rec["image_file_path"]))
        candidates = []
        for column in ("cropped_image_file_path", "roi_mask_file_path"):
            candidates += [(p, self._description(p))
                           for p in self._series_files(*_uids(rec[column]))]
        crop, mask = split_crop_mask(candidates)
        return full[0], crop, mask


class KaggleLayout:
    """The Kaggle JPEG copy: ``jpeg/<SeriesUID>/1-NNN.jpg`` described by ``csv/dicom_info.csv``."""

    name = "kaggle"

    def __init__(self, root: Path):
        self.root = root
        info_path = root / "csv" / "dicom_info.csv"
        if not info_path.is_file():
            raise DatasetError("Kaggle CBIS-DDSM layout needs csv/dicom_info.csv", path=info_path)
        info = read_csv(info_path, dtype=str, keep_default_na=False, na_values=[""])
        if "image_path" not in info.columns or "SeriesDescription" not in info.columns:
            raise DatasetError("missing column image_path or SeriesDescription", path=info_path)
        self.series: dict = {}
        for image_path, description in zip(info["image_path"], info["SeriesDescription"]):
            parts = str(image_path).strip().replace("\\", "/").split("/")
            if "jpeg" not in parts:
                raise DatasetError(f"image_path {image_path!r}; expected CBIS-DDSM/jpeg/<uid>/<file>",
                                   path=info_path)
            rel = parts[parts.index("jpeg"):]
            self.series.setdefault(rel[1], []).append((root.joinpath(*rel), description))

    def _files(self, csv_path: str) -> list:
        series = _uids(csv_path)[2]
        files = self.series.get(series)
        if files is None:   # not in dicom_info.csv: take what the folder holds, undescribed
            files = [(p, None) for p in sorted((self.root / "jpeg" / series).glob("*.jpg"))]
        if not files:
            raise FileNotFoundError(str(self.root / "jpeg" / series))
        return files

    def resolve(self, rec: dict):
        full = self._files(rec["image_file_path"])
        described = [p for p, d in full if _kind(d) == "full"] or [p for p, _ in full]
        if not described[0].is_file():
            raise FileNotFoundError(str(described[0]))
        candidates = self._files(rec["cropped_image_file_path"]) + self._files(rec["roi_mask_file_path"])
        crop, mask = split_crop_mask(candidates)
        return described[0], crop, mask


class NoImages:
    """CSVs only (e.g. the shared real samples): every row is counted as missing its image."""

    name = "csv-only"

    def __init__(self, root: Path):
        self.root = root

    def resolve(self, rec: dict):
        raise FileNotFoundError(f"no image tree under {self.root} for {rec['image_file_path']}")


def detect_layout(root: Path) -> str:
    if (root / "csv" / "dicom_info.csv").is_file() or (root / "jpeg").is_dir():
        return "kaggle"
    tree = root / "CBIS-DDSM" if (root / "CBIS-DDSM").is_dir() else root
    if any(d.is_dir() and d.name.startswith(("Mass-", "Calc-")) for d in tree.iterdir()):
        return "tcia"
    return "csv-only"


def open_layout(root, layout: str = "auto"):
    root = Path(root)
    layout = detect_layout(root) if layout == "auto" else layout
    classes = {"tcia": TciaLayout, "kaggle": KaggleLayout, "csv-only": NoImages}
    if layout not in classes:
        raise DatasetError(f"layout {layout!r}; expected auto, tcia or kaggle")
    return classes[layout](root)
