"""Find the CBIS-DDSM files a CSV row names (``<Folder>/<StudyUID>/<SeriesUID>/000000.dcm``). TCIA:
``CBIS-DDSM/<Folder>/<date>-DDSM-NA-<StudyUID[-5:]>/<n>.000000-<desc>-<SeriesUID[-5:]>/1-1.dcm``. Kaggle:
``csv/dicom_info.csv`` maps ``CBIS-DDSM/jpeg/<SeriesUID>/<file>`` to its SeriesDescription. Crop and mask
file names are inconsistent: a mask is told from a crop by SeriesDescription, else by content, not name."""
import functools
from pathlib import Path

import numpy as np

from mmfusion.data.common import DatasetError, read_csv

FULL, MASK = "full mammogram images", "roi mask images"   # SeriesDescription, lower-cased


def looks_binary(arr: np.ndarray, tolerance: float = 0.06, share: float = 0.995) -> bool:
    """True when nearly every pixel sits at the image's min or max (JPEG ringing tolerated)."""
    arr = np.asarray(arr, np.float32)
    low, high = float(arr.min()), float(arr.max())
    edge = tolerance * (high - low)   # 0 for a flat image: every pixel sits at min and max
    return float(np.mean((arr <= low + edge) | (arr >= high - edge))) >= share


def split_crop_mask(candidates) -> tuple:
    """(crop, mask) of ``candidates`` [(path, SeriesDescription)], by description, else by content."""
    from mmfusion.data.images import read_image

    descriptions = {Path(p): d for p, d in candidates}   # a file listed twice has one description
    paths = list(descriptions)
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(str(path))
    if len(paths) == 1:
        raise FileNotFoundError(f"only one file for crop and mask: {paths[0]}")
    masks = [p for p in paths if str(descriptions[p]).strip().lower() == MASK]
    if len(masks) == 1 and len(paths) == 2:
        return next(p for p in paths if p != masks[0]), masks[0]
    binary = [p for p in paths if looks_binary(read_image(p, "gray", dtype=np.float32))]
    if len(binary) != 1:
        raise DatasetError(f"cannot tell the ROI mask from the crop among {[str(p) for p in paths]}"
                           f" ({len(binary)} look binary)")
    return next(p for p in paths if p != binary[0]), binary[0]


def _uids(csv_path: str):
    parts = str(csv_path).strip().replace("\\", "/").split("/")
    if len(parts) < 4:
        raise DatasetError(f"CBIS-DDSM path {csv_path!r}; expected Folder/StudyUID/SeriesUID/file")
    return parts[0], parts[1], parts[2]


class TciaLayout:
    """The NBIA DICOM tree; folders matched by UID suffix (or the CSV path verbatim)."""

    name = "tcia"

    def __init__(self, root: Path):
        self.tree = root / "CBIS-DDSM" if (root / "CBIS-DDSM").is_dir() else root

    @functools.lru_cache(maxsize=None)
    def _series_files(self, folder: str, study: str, series: str) -> tuple:
        base = self.tree / folder
        literal = base / study / series
        if literal.is_dir():
            return tuple(sorted(literal.glob("*.dcm")))
        if not base.is_dir():
            raise FileNotFoundError(str(base))
        files = [f for s in base.iterdir() if s.is_dir() and s.name.endswith("-" + study[-5:])
                 for d in s.iterdir() if d.is_dir() and d.name.endswith("-" + series[-5:])
                 for f in sorted(d.glob("*.dcm"))]
        if not files:
            raise FileNotFoundError(f"{base}/*-{study[-5:]}/*-{series[-5:]}/*.dcm")
        return tuple(files)

    def resolve(self, rec: dict):
        from mmfusion.data.images import read_dicom_header

        full = self._series_files(*_uids(rec["image_file_path"]))
        candidates = [(p, read_dicom_header(p, lambda ds: ds.get("SeriesDescription")))
                      for c in ("cropped_image_file_path", "roi_mask_file_path")
                      for p in self._series_files(*_uids(rec[c]))]
        return (full[0], *split_crop_mask(candidates))


class KaggleLayout:
    """The Kaggle JPEG copy: ``jpeg/<SeriesUID>/1-NNN.jpg`` described by ``csv/dicom_info.csv``."""

    name = "kaggle"

    def __init__(self, root: Path):
        self.root = root
        info_path = root / "csv" / "dicom_info.csv"
        if not info_path.is_file():
            raise DatasetError("Kaggle CBIS-DDSM layout needs csv/dicom_info.csv", path=info_path)
        info = read_csv(info_path, na_values=[""])
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
        folder = self.root / "jpeg" / series   # not in dicom_info.csv: take what it holds, undescribed
        files = self.series.get(series) or [(p, None) for p in sorted(folder.glob("*.jpg"))]
        if not files:
            raise FileNotFoundError(str(folder))
        return files

    def resolve(self, rec: dict):
        full = self._files(rec["image_file_path"])
        described = [p for p, d in full if str(d).strip().lower() == FULL] or [p for p, _ in full]
        if not described[0].is_file():
            raise FileNotFoundError(str(described[0]))
        candidates = self._files(rec["cropped_image_file_path"]) + self._files(rec["roi_mask_file_path"])
        return (described[0], *split_crop_mask(candidates))


class NoImages:
    """CSVs only: every row is counted as missing its image."""

    name = "csv-only"

    def __init__(self, root: Path):
        self.root = root

    def resolve(self, rec: dict):
        raise FileNotFoundError(f"no image tree under {self.root} for {rec['image_file_path']}")


def open_layout(root):
    """The Kaggle copy if ``root`` has its csv/dicom_info.csv or jpeg/, else the TCIA tree, else the CSVs."""
    root = Path(root)
    if (root / "csv" / "dicom_info.csv").is_file() or (root / "jpeg").is_dir():
        return KaggleLayout(root)
    tcia = TciaLayout(root)
    studies = (d for d in tcia.tree.iterdir() if d.is_dir() and d.name.startswith(("Mass-", "Calc-")))
    return tcia if any(studies) else NoImages(root)
