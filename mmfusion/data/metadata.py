"""Patient-metadata vectors for skin-lesion frames (columns ``age``, ``sex``, ``site``)."""
import collections
import dataclasses

import numpy as np

MISSING = {"", "unknown", "nan", "none"}


def norm_value(value) -> str:
    missing = value is None or (isinstance(value, float) and np.isnan(value))
    return "unknown" if missing else str(value).strip().lower()


def age_columns(frame, age_scale: float) -> np.ndarray:
    age = frame["age"].to_numpy(dtype=float)
    missing = np.isnan(age)
    return np.stack([np.where(missing, 0.0, age / age_scale), missing.astype(float)], axis=1)


@dataclasses.dataclass
class MetadataEncoder:
    """``age / age_scale``, an age-missing flag, sex and site one-hot (unseen values counted)."""

    age_scale: float = 100.0
    sexes: tuple = ()
    sites: tuple = ()
    unseen: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def fit(self, frame) -> "MetadataEncoder":
        self.sexes = tuple(sorted({norm_value(s) for s in frame["sex"]} - MISSING))
        self.sites = tuple(sorted({norm_value(s) for s in frame["site"]} - MISSING))
        return self

    @property
    def feature_names(self) -> list[str]:
        return ["age", "age_missing"] + [f"sex={s}" for s in self.sexes] + [f"site={s}" for s in self.sites]

    def transform(self, frame) -> np.ndarray:
        if not self.sexes and not self.sites:
            raise RuntimeError("MetadataEncoder.transform before fit")
        out = np.zeros((len(frame), len(self.feature_names)), np.float32)
        out[:, :2] = age_columns(frame, self.age_scale)
        for offset, vocab, column in ((2, self.sexes, "sex"), (2 + len(self.sexes), self.sites, "site")):
            for i, value in enumerate(map(norm_value, frame[column])):
                if value in vocab:
                    out[i, offset + vocab.index(value)] = 1
                elif value not in MISSING:
                    self.unseen[f"{column}={value}"] += 1
        return out

    def get_config(self) -> dict:
        return {"age_scale": self.age_scale, "sexes": list(self.sexes), "sites": list(self.sites)}

    @classmethod
    def from_config(cls, config: dict) -> "MetadataEncoder":
        return cls(config["age_scale"], tuple(config["sexes"]), tuple(config["sites"]))
