"""Patient-metadata vectors for skin-lesion frames (columns ``age``, ``sex``, ``site``).

Full encoding (``MetadataEncoder``): ``age / age_scale`` (0 when missing) + an age-missing flag,
sex one-hot, site one-hot; categories are learned from the training frame, and a value unseen
there gives a zero block (counted in ``unseen``).

The ft-multicnn paper feeds "7 features (age, sex, localization, ...)" without listing them. Our
documented 7-d vector (``encode_seven``):
``[age/100, age_missing, sex_male, sex_female, site_head_neck, site_trunk, site_extremity]``;
sex 'unknown' → both sex slots 0; site 'unknown' → all three site slots 0. HAM10000 and ISIC sites
map to the three body regions as in ``SITE_REGIONS`` (ISIC 'oral/genital' → trunk).
"""
from __future__ import annotations

import collections
import dataclasses

import numpy as np

SEVEN_FEATURES = ("age", "age_missing", "sex_male", "sex_female",
                  "site_head_neck", "site_trunk", "site_extremity")
SITE_REGIONS = {
    # HAM10000 localization
    "scalp": "head_neck", "face": "head_neck", "ear": "head_neck", "neck": "head_neck",
    "back": "trunk", "trunk": "trunk", "chest": "trunk", "abdomen": "trunk", "genital": "trunk",
    "upper extremity": "extremity", "lower extremity": "extremity", "hand": "extremity",
    "foot": "extremity", "acral": "extremity",
    # ISIC 2019 anatom_site_general
    "head/neck": "head_neck", "anterior torso": "trunk", "posterior torso": "trunk",
    "lateral torso": "trunk", "oral/genital": "trunk", "palms/soles": "extremity",
}
MISSING = {"", "unknown", "nan", "none"}


def _norm(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    return str(value).strip().lower()


def _age_columns(frame, age_scale: float) -> np.ndarray:
    age = frame["age"].to_numpy(dtype=float)
    missing = np.isnan(age)
    return np.stack([np.where(missing, 0.0, age / age_scale), missing.astype(float)], axis=1)


def encode_seven(frame) -> np.ndarray:
    """The documented 7-d ft-multicnn vector (see module docstring), float32 (N, 7)."""
    out = np.zeros((len(frame), 7), np.float32)
    out[:, :2] = _age_columns(frame, 100.0)
    sex = [_norm(s) for s in frame["sex"]]
    out[:, 2] = [s == "male" for s in sex]
    out[:, 3] = [s == "female" for s in sex]
    for i, site in enumerate(frame["site"]):
        region = SITE_REGIONS.get(_norm(site))
        if region is not None:
            out[i, 4 + ("head_neck", "trunk", "extremity").index(region)] = 1
    return out


@dataclasses.dataclass
class MetadataEncoder:
    """Age scaled + missing flag, sex one-hot, site one-hot. ``fit`` on training rows only."""

    age_scale: float = 100.0
    sexes: tuple = ()
    sites: tuple = ()
    unseen: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def fit(self, frame) -> "MetadataEncoder":
        self.sexes = tuple(sorted({_norm(s) for s in frame["sex"]} - MISSING))
        self.sites = tuple(sorted({_norm(s) for s in frame["site"]} - MISSING))
        return self

    @property
    def feature_names(self) -> list[str]:
        return (["age", "age_missing"] + [f"sex={s}" for s in self.sexes]
                + [f"site={s}" for s in self.sites])

    @property
    def dim(self) -> int:
        return 2 + len(self.sexes) + len(self.sites)

    def transform(self, frame) -> np.ndarray:
        if not self.sexes and not self.sites:
            raise RuntimeError("MetadataEncoder.transform before fit")
        out = np.zeros((len(frame), self.dim), np.float32)
        out[:, :2] = _age_columns(frame, self.age_scale)
        for offset, vocab, column in ((2, self.sexes, "sex"),
                                      (2 + len(self.sexes), self.sites, "site")):
            for i, value in enumerate(frame[column]):
                value = _norm(value)
                if value in vocab:
                    out[i, offset + vocab.index(value)] = 1
                elif value not in MISSING:
                    self.unseen[f"{column}={value}"] += 1
        return out

    def fit_transform(self, frame) -> np.ndarray:
        return self.fit(frame).transform(frame)

    def get_config(self) -> dict:
        return {"age_scale": self.age_scale, "sexes": list(self.sexes), "sites": list(self.sites)}

    @classmethod
    def from_config(cls, config: dict) -> "MetadataEncoder":
        return cls(config["age_scale"], tuple(config["sexes"]), tuple(config["sites"]))
