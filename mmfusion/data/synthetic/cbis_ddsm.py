"""CBIS-DDSM twin in both layouts: TCIA (``out_dir/tcia``: CSVs + 16-bit DICOM tree) and Kaggle
(``out_dir/kaggle``: csv/ + jpeg/, the root ``write`` returns). Quirks kept: CRLF, ``NA`` vs ``N/A``,
``breast_density`` vs ``breast density``, quoted paths with a newline, ambiguous crop/mask names. Image and
clinical tokens each look like the other class with probability NOISE, so fusing them beats either alone."""
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from mmfusion.data.lesion_crop import crop_lesion
from mmfusion.data.synthetic import shapes

DEFAULT_N = 60
NOISE = 0.2   # per-modality chance of looking like the other class
SIDE = 128   # keeps all twins under the 20 MB budget (the DICOM tree is 16-bit)
UID_ROOT = "1.3.6.1.4.1.9590.100.1.2."
TOKENS = {  # (benign choices, malignant choices); "NA" is a missing value
    "mass_shape": (["OVAL", "ROUND", "LOBULATED", "ROUND-OVAL", "OVAL"],
                   ["IRREGULAR", "IRREGULAR-ARCHITECTURAL_DISTORTION", "IRREGULAR", "LOBULATED"]),
    "mass_margins": (["CIRCUMSCRIBED", "OBSCURED", "CIRCUMSCRIBED-OBSCURED", "NA"],
                     ["SPICULATED", "ILL_DEFINED", "OBSCURED-ILL_DEFINED-SPICULATED", "SPICULATED"]),
    "calc_type": (["LUCENT_CENTER", "ROUND_AND_REGULAR", "PUNCTATE", "VASCULAR", "COARSE"],
                  ["PLEOMORPHIC", "FINE_LINEAR_BRANCHING", "PUNCTATE-PLEOMORPHIC", "PLEOMORPHIC"]),
    "calc_distribution": (["DIFFUSELY_SCATTERED", "REGIONAL", "NA", "CLUSTERED"],
                          ["CLUSTERED", "LINEAR", "SEGMENTAL", "CLUSTERED-LINEAR"]),
}
MASS_HEADER = ("patient_id,breast_density,left or right breast,image view,abnormality id,"
               "abnormality type,mass shape,mass margins,assessment,pathology,subtlety,"
               "image file path,cropped image file path,ROI mask file path")
CALC_HEADER = MASS_HEADER.replace("breast_density", "breast density").replace(
    "mass shape,mass margins", "calc type,calc distribution")


def _uid(rng, used: set) -> str:
    while True:   # unique last-5 digits: the TCIA folders are matched by them
        digits = rng.integers(0, 10, 36)
        digits[0] = 1 + digits[0] % 9            # a UID component may not start with 0
        uid = UID_ROOT + "".join(str(d) for d in digits)
        if uid[-5:] not in used and uid[-6] != "0":
            used.add(uid[-5:])
            return uid


def _cases(rng, n: int) -> list[dict]:
    cases, used = [], set()
    for i in range(n):
        kind = "mass" if i % 2 == 0 else "calc"
        patient = f"P_{i // 2 + 1:05d}"            # a mass and a calc case per patient ...
        split = "test" if (i // 2) % 4 == 3 or i % 16 == 5 else "train"   # ... a few straddle the split
        label = int(rng.random() < 0.5)
        tok_label = label if rng.random() >= NOISE else 1 - label
        img_label = label if rng.random() >= NOISE else 1 - label
        tok = {k: str(rng.choice(v[tok_label])) for k, v in TOKENS.items()}
        side, view = ("LEFT", "RIGHT")[i % 2], ("CC", "MLO")[(i // 2) % 2]
        folder = (f"{'Mass' if kind == 'mass' else 'Calc'}-{'Training' if split == 'train' else 'Test'}"
                  f"_{patient}_{side}_{view}")
        pathology = "MALIGNANT" if label else ("BENIGN", "BENIGN_WITHOUT_CALLBACK")[int(rng.random() < 0.3)]
        density = "0" if i == 7 else str(rng.integers(1, 5))
        image, mask, _ = shapes.lesion_image(rng, (SIDE, SIDE), img_label)
        two_series = kind == "mass" and i % 10 == 4   # the "both 000000 in two series" rows
        cases.append(dict(kind=kind, patient=patient, split=split, label=label, tokens=tok, side=side,
                          view=view, folder=folder, pathology=pathology, density=density, image=image,
                          mask=mask, crop=crop_lesion(image, mask), two_series=two_series,
                          study=_uid(rng, used), full_series=_uid(rng, used), roi_study=_uid(rng, used),
                          crop_series=_uid(rng, used), mask_series=_uid(rng, used) if two_series else None,
                          assessment=str(rng.integers(4, 6) if label else rng.integers(2, 4)),
                          subtlety=str(rng.integers(1, 6))))
    return cases


def _csv_paths(c: dict) -> tuple[str, str, str]:
    roi = f"{c['folder']}_1/{c['roi_study']}"
    mask_series = c["mask_series"] if c["two_series"] else c["crop_series"]
    crop_no, mask_no = (0, 0) if c["two_series"] else (0, 1) if c["kind"] == "mass" else (1, 0)
    return (f"{c['folder']}/{c['study']}/{c['full_series']}/000000.dcm",
            f"{roi}/{c['crop_series']}/00000{crop_no}.dcm", f"{roi}/{mask_series}/00000{mask_no}.dcm")


def _write_csvs(cases, csv_dir: Path, missing: str) -> None:
    csv_dir.mkdir(parents=True, exist_ok=True)
    for kind, header, columns in (("mass", MASS_HEADER, ("mass_shape", "mass_margins")),
                                  ("calc", CALC_HEADER, ("calc_type", "calc_distribution"))):
        for split in ("train", "test"):
            lines = [header]
            for c in (c for c in cases if c["kind"] == kind and c["split"] == split):
                full, crop, mask = _csv_paths(c)
                fields = [c["patient"], c["density"], c["side"], c["view"], "1",
                          "mass" if kind == "mass" else "calcification",
                          *(missing if c["tokens"][k] == "NA" else c["tokens"][k] for k in columns),
                          c["assessment"], c["pathology"], c["subtlety"], full]
                # the real files quote one path per row with a trailing newline inside the quotes
                fields += [crop, f'"{mask}\n"'] if kind == "mass" else [f'"{crop}\n"', mask]
                lines.append(",".join(fields))
            name = f"{kind}_case_description_{split}_set.csv"
            (csv_dir / name).write_bytes(("\r\n".join(lines) + "\r\n").encode())


def _write_dicom(path: Path, pixels: np.ndarray, description: str, series_uid: str, study_uid: str):
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[str(path)])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SeriesDescription, ds.SeriesInstanceUID, ds.StudyInstanceUID = description, series_uid, study_uid
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    bits = 8 if pixels.dtype == np.uint8 else 16
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def _files(c: dict):
    """(series uid, description, file number, pixels) of the crop and the mask."""
    mask = (c["mask"].astype(np.uint8) * 255)
    crop16 = c["crop"].astype(np.uint16) * 257
    if c["two_series"]:
        return [(c["crop_series"], "cropped images", 1, crop16),
                (c["mask_series"], "ROI mask images", 1, mask)]
    crop_no, mask_no = (1, 2) if c["kind"] == "mass" else (2, 1)
    # one series holds both files and says "ROI mask images" for both: content decides
    return [(c["crop_series"], "ROI mask images", crop_no, crop16),
            (c["crop_series"], "ROI mask images", mask_no, mask)]


def write_tcia(out_dir, cases) -> Path:
    root = Path(out_dir)
    _write_csvs(cases, root, "NA")
    tree = root / "CBIS-DDSM"
    for c in cases:
        study_dir = tree / c["folder"] / f"07-20-2016-DDSM-NA-{c['study'][-5:]}"
        _write_dicom(study_dir / f"1.000000-full mammogram images-{c['full_series'][-5:]}" / "1-1.dcm",
                     c["image"].astype(np.uint16) * 257, "full mammogram images", c["full_series"],
                     c["study"])
        roi_dir = tree / f"{c['folder']}_1" / f"09-06-2017-DDSM-NA-{c['roi_study'][-5:]}"
        for series, description, number, pixels in _files(c):
            _write_dicom(roi_dir / f"1.000000-{description}-{series[-5:]}" / f"1-{number}.dcm",
                         pixels, description, series, c["roi_study"])
    return root


def write_kaggle(out_dir, cases, rng) -> Path:
    root = Path(out_dir)
    _write_csvs(cases, root / "csv", "N/A")
    info, meta = [], []
    for c in cases:
        files = [(c["full_series"], "full mammogram images", 1, c["image"])]
        files += [(s, d, k, (p // 257).astype(np.uint8) if p.dtype == np.uint16 else p)
                  for s, d, k, p in _files(c)]
        for series, description, number, pixels in files:
            name = f"1-{int(rng.integers(1, 300)) * 2 + number - 1:03d}.jpg"
            path = root / "jpeg" / series / name
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(path, quality=95)
            if description != "full mammogram images":   # Kaggle describes each file on its own
                description = "ROI mask images" if pixels.max() == 255 and np.isin(pixels, (0, 255)).all() \
                    else "cropped images"
                if rng.random() < 0.15:
                    description = ""                       # some are NaN in the real file
            info.append({"file_path": f"CBIS-DDSM/dicom/{series}/{name[:-4]}.dcm",
                         "image_path": f"CBIS-DDSM/jpeg/{series}/{name}", "PatientID": c["folder"],
                         "SeriesDescription": description, "SeriesInstanceUID": series,
                         "Rows": pixels.shape[0], "Columns": pixels.shape[1], "Laterality": c["side"][0]})
        meta.append({"SeriesInstanceUID": c["full_series"], "StudyInstanceUID": c["study"],
                     "PatientID": c["folder"], "Series Description": "full mammogram images",
                     "Number of Images": 1})
    pd.DataFrame(info).to_csv(root / "csv" / "dicom_info.csv", index=False)
    pd.DataFrame(meta).to_csv(root / "csv" / "meta.csv", index=False)
    return root


def write(out_dir, n: int = DEFAULT_N, seed: int = 0, layout: str = "both") -> Path:
    if layout not in ("both", "tcia", "kaggle"):
        raise ValueError(f"layout {layout!r}; expected both, tcia or kaggle")
    rng = np.random.default_rng(seed)
    cases = _cases(rng, int(n))
    out_dir = Path(out_dir)
    if layout != "kaggle":
        write_tcia(out_dir / "tcia", cases)
    return out_dir / "tcia" if layout == "tcia" else write_kaggle(out_dir / "kaggle", cases, rng)
