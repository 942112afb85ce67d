"""The 36-d CBIS-DDSM clinical multi-hot vector (Vo et al.'s encoding) and its 5 feature groups.

Order: density 1-4 | mass shape (8) | mass margins (5) | calc type (14) | calc distribution (5).
Combined CSV values (``ROUND-OVAL``) split on ``-`` into several hot slots; missing values
(``NA``, ``N/A``, empty) give a zero block; mass rows have zero calc blocks and vice versa.
Density 0 (2 calc-test rows of the real CSVs) is not a BI-RADS density: we encode it like a
missing value (zero density block) rather than guessing a class.
"""
from __future__ import annotations

import numpy as np

from mmfusion.data.common import DatasetError

CLINICAL_VOCAB = {
    "breast_density": ("1", "2", "3", "4"),
    "mass_shape": ("ROUND", "OVAL", "IRREGULAR", "LOBULATED", "ARCHITECTURAL_DISTORTION",
                   "ASYMMETRIC_BREAST_TISSUE", "LYMPH_NODE", "FOCAL_ASYMMETRIC_DENSITY"),
    "mass_margins": ("ILL_DEFINED", "CIRCUMSCRIBED", "SPICULATED", "MICROLOBULATED", "OBSCURED"),
    "calc_type": ("AMORPHOUS", "PUNCTATE", "VASCULAR", "LARGE_RODLIKE", "DYSTROPHIC", "SKIN",
                  "MILK_OF_CALCIUM", "EGGSHELL", "PLEOMORPHIC", "COARSE", "FINE_LINEAR_BRANCHING",
                  "LUCENT_CENTER", "ROUND_AND_REGULAR", "LUCENT_CENTERED"),
    "calc_distribution": ("CLUSTERED", "LINEAR", "REGIONAL", "DIFFUSELY_SCATTERED", "SEGMENTAL"),
}


def _groups() -> dict:
    out, start = {}, 0
    for name, tokens in CLINICAL_VOCAB.items():
        out[name] = slice(start, start + len(tokens))
        start += len(tokens)
    return out


# For grouped SHAP: density 0:4, shape 4:12, margins 12:17, calc type 17:31, calc dist 31:36.
CLINICAL_GROUPS = _groups()
CLINICAL_DIM = 36
CLINICAL_FEATURE_NAMES = tuple(f"{group}={token}" for group, tokens in CLINICAL_VOCAB.items()
                               for token in tokens)
MISSING_TOKENS = {"", "NA", "N/A", "NAN", "NONE"}
MASS_GROUPS = ("mass_shape", "mass_margins")
CALC_GROUPS = ("calc_type", "calc_distribution")
assert len(CLINICAL_FEATURE_NAMES) == CLINICAL_DIM


def _is_missing(value) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    return str(value).strip().upper() in MISSING_TOKENS


def encode_group(group: str, value, *, path=None, row=None) -> np.ndarray:
    """Multi-hot block of one feature group; raises DatasetError naming file, row and token."""
    tokens = CLINICAL_VOCAB[group]
    block = np.zeros(len(tokens), np.float32)
    if _is_missing(value):
        return block
    text = str(value).strip().upper()
    if group == "breast_density":
        text = text.split(".")[0]           # pandas may have read "3" as 3.0
        if text == "0":                     # see module docstring
            return block
        parts = [text]
    else:
        parts = [p.strip() for p in text.split("-") if p.strip()]
    for part in parts:
        if part not in tokens:
            raise DatasetError(f"unknown {group} token {part!r} in {value!r}; expected one of "
                               f"{', '.join(tokens)}", path=path, row=row)
        block[tokens.index(part)] = 1.0
    return block


def encode_clinical_row(abnormality_type: str, breast_density, mass_shape=None, mass_margins=None,
                        calc_type=None, calc_distribution=None, *, path=None, row=None) -> np.ndarray:
    """The 36-d vector of one abnormality. ``abnormality_type`` is 'mass' or 'calc[ification]'."""
    kind = str(abnormality_type).strip().lower()
    if kind not in ("mass", "calc", "calcification"):
        raise DatasetError(f"abnormality type {abnormality_type!r}; expected mass or calcification",
                           path=path, row=row)
    is_mass = kind == "mass"
    values = {"breast_density": breast_density, "mass_shape": mass_shape,
              "mass_margins": mass_margins, "calc_type": calc_type,
              "calc_distribution": calc_distribution}
    vector = np.zeros(CLINICAL_DIM, np.float32)
    for group, span in CLINICAL_GROUPS.items():
        if (group in CALC_GROUPS and is_mass) or (group in MASS_GROUPS and not is_mass):
            continue
        vector[span] = encode_group(group, values[group], path=path, row=row)
    return vector


def encode_clinical(frame) -> np.ndarray:
    """(N, 36) float32 for a frame with the normalised CBIS-DDSM columns.

    Error locations come from ``source_file`` / ``source_row`` columns when present.
    """
    rows = []
    for i, rec in enumerate(frame.to_dict("records")):
        rows.append(encode_clinical_row(
            rec["abnormality_type"], rec.get("breast_density"), rec.get("mass_shape"),
            rec.get("mass_margins"), rec.get("calc_type"), rec.get("calc_distribution"),
            path=rec.get("source_file"), row=rec.get("source_row", i + 1)))
    return np.stack(rows) if rows else np.zeros((0, CLINICAL_DIM), np.float32)


def group_mask(missing_groups) -> np.ndarray:
    """A 36-d 0/1 keep-mask that zeroes the named groups (missing-modality experiments)."""
    keep = np.ones(CLINICAL_DIM, np.float32)
    for group in missing_groups:
        keep[CLINICAL_GROUPS[group]] = 0.0
    return keep
