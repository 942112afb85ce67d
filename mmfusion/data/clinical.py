"""The 36-d CBIS-DDSM clinical multi-hot vector (Vo et al.'s encoding) and its 5 feature groups:
density 1-4 | mass shape (8) | mass margins (5) | calc type (14) | calc distribution (5).
Combined values (``ROUND-OVAL``) set several slots; missing ones (``NA``, ``N/A``, empty) and the
other kind's groups give zero blocks. Density 0 (2 calc-test rows of the real CSVs) is not a
BI-RADS density: it is encoded like a missing value rather than guessed."""
import itertools

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
_ENDS = tuple(itertools.accumulate(len(tokens) for tokens in CLINICAL_VOCAB.values()))
# For grouped SHAP: density 0:4, shape 4:12, margins 12:17, calc type 17:31, calc dist 31:36.
CLINICAL_GROUPS = {g: slice(end - len(CLINICAL_VOCAB[g]), end) for g, end in zip(CLINICAL_VOCAB, _ENDS)}
CLINICAL_DIM = 36
CLINICAL_FEATURE_NAMES = tuple(f"{group}={token}" for group, tokens in CLINICAL_VOCAB.items()
                               for token in tokens)
MISSING_TOKENS = {"", "NA", "N/A", "NAN", "NONE"}
assert len(CLINICAL_FEATURE_NAMES) == CLINICAL_DIM


def encode_group(group: str, value, *, path=None, row=None) -> np.ndarray:
    """Multi-hot block of one feature group; raises DatasetError naming file, row and token."""
    tokens = CLINICAL_VOCAB[group]
    block = np.zeros(len(tokens), np.float32)
    text = str(value).strip().upper()
    density = group == "breast_density"   # pandas may have read "3" as 3.0; 0: see module docstring
    if text in MISSING_TOKENS or (density and text.split(".")[0] == "0"):   # None and NaN included
        return block
    for part in [text.split(".")[0]] if density else [p.strip() for p in text.split("-") if p.strip()]:
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
    values = (breast_density, mass_shape, mass_margins, calc_type, calc_distribution)   # group order
    other = "calc_" if kind == "mass" else "mass_"   # the other kind's groups stay zero
    vector = np.zeros(CLINICAL_DIM, np.float32)
    for (group, span), value in zip(CLINICAL_GROUPS.items(), values):
        if not group.startswith(other):
            vector[span] = encode_group(group, value, path=path, row=row)
    return vector


def encode_clinical(frame) -> np.ndarray:
    """(N, 36) float32 for a frame of normalised CBIS-DDSM columns (errors name ``source_file/row``)."""
    rows = [encode_clinical_row(rec["abnormality_type"], *(rec.get(g) for g in CLINICAL_VOCAB),
                                path=rec.get("source_file"), row=rec.get("source_row", i + 1))
            for i, rec in enumerate(frame.to_dict("records"))]
    return np.stack(rows) if rows else np.zeros((0, CLINICAL_DIM), np.float32)


def group_mask(missing_groups) -> np.ndarray:
    """A 36-d 0/1 keep-mask that zeroes the named groups (missing-modality experiments)."""
    keep = np.ones(CLINICAL_DIM, np.float32)
    for group in missing_groups:
        keep[CLINICAL_GROUPS[group]] = 0.0
    return keep
