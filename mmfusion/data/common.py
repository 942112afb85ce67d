"""What every loader shares: the error type for bad input and the report of skipped rows."""
from __future__ import annotations

import collections
import dataclasses
import warnings

import pandas as pd

REQUIRED_COLUMNS = ("sample_id", "image_path", "label", "group_id")


class DatasetError(ValueError):
    """Bad input. The message names the file, the row (when there is one) and what was expected."""

    def __init__(self, message: str, *, path=None, row=None):
        where = ""
        if path is not None:
            where = f"{path}"
            if row is not None:
                where += f", row {row}"
            where += ": "
        super().__init__(where + message)
        self.path, self.row = path, row


@dataclasses.dataclass
class LoadReport:
    """Counts everything a loader read and everything it skipped (never drop rows silently)."""

    dataset: str
    root: str
    rows_read: int = 0
    skipped: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    details: list = dataclasses.field(default_factory=list)   # one line per skipped item
    warnings: list = dataclasses.field(default_factory=list)

    def skip(self, reason: str, detail: str) -> None:
        self.skipped[reason] += 1
        self.details.append(f"{reason}: {detail}")

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        warnings.warn(message, stacklevel=3)

    @property
    def n_skipped(self) -> int:
        return int(sum(self.skipped.values()))

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "root": self.root, "rows_read": self.rows_read,
                "skipped": dict(self.skipped), "n_skipped": self.n_skipped,
                "details": list(self.details), "warnings": list(self.warnings)}

    def summary(self) -> str:
        if not self.skipped:
            return f"{self.dataset}: read {self.rows_read} rows, skipped none"
        parts = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return f"{self.dataset}: read {self.rows_read} rows, skipped {self.n_skipped} ({parts})"


def finish_frame(frame: pd.DataFrame, report: LoadReport) -> pd.DataFrame:
    """Check the shared columns and attach the report as ``frame.attrs['report']``."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise AssertionError(f"loader for {report.dataset} did not produce columns {missing}")
    if frame["sample_id"].duplicated().any():
        dup = frame.loc[frame["sample_id"].duplicated(), "sample_id"].iloc[0]
        raise DatasetError(f"duplicate sample_id {dup!r}", path=report.root)
    frame = frame.reset_index(drop=True)
    frame.attrs["report"] = report.to_dict()
    return frame
