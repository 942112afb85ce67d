"""What every loader shares: the error type for bad input and the report of skipped rows."""
import collections
import dataclasses
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("sample_id", "image_path", "label", "group_id")


class DatasetError(ValueError):
    """Bad input. The message names the file, the row (when there is one) and what was expected."""

    def __init__(self, message: str, *, path=None, row=None):
        where = "" if path is None else f"{path}" + ("" if row is None else f", row {row}") + ": "
        super().__init__(where + message)
        self.path, self.row = path, row

    @classmethod
    def reject_first(cls, bad, path, message) -> None:
        """Raise at the first row where ``bad`` holds: ``message(i)``, ``i`` its 0-based position."""
        rows = np.flatnonzero(np.asarray(bad))
        if rows.size:
            raise cls(message(int(rows[0])), path=path, row=int(rows[0]) + 1)


def read_text(path) -> str:
    """A label file's text; bytes that are not UTF-8 stop with the file, line and column."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        col = e.start - data.rfind(b"\n", 0, e.start)
        raise DatasetError(f"byte 0x{data[e.start]:02x} at column {col} is not UTF-8 (tried utf-8, utf-8 "
                           "with BOM); re-save the file as UTF-8 (e.g. iconv -f cp1252 -t utf-8)",
                           path=path, row=data.count(b"\n", 0, e.start) + 1) from None


def read_csv(path, required=(), clean=str.strip, **kwargs) -> pd.DataFrame:
    """The cells as written (strings) through :func:`read_text`, column names ``clean``-ed; a missing
    ``required`` column stops with the file."""
    frame = pd.read_csv(io.StringIO(read_text(path)), dtype=str, keep_default_na=False, **kwargs)
    frame.columns = [clean(str(c)) for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DatasetError(f"missing column(s) {missing}; expected {list(required)}", path=path)
    return frame


def single_copy(hits, what: str, root, missing: str) -> Path:
    """The one place a dataset's marker was found under ``root``: none raises DatasetError(``missing``),
    two copies are refused (unless nested copies of one file)."""
    hits = list(dict.fromkeys(Path(h).resolve() for h in hits))
    if not hits:
        raise DatasetError(missing, path=root)
    if len(hits) > 1:
        nested = all(a.parent in b.parents or a.parent == b.parent for a, b in zip(hits, hits[1:]))
        same = all(h.is_file() for h in hits) and len({h.read_bytes() for h in hits}) == 1
        if not (nested and same):
            raise DatasetError(f"{len(hits)} copies of the {what} found: {', '.join(map(str, hits))}; "
                               "point --data-dir at one copy", path=root)
    return hits[0]


@dataclasses.dataclass(frozen=True)
class KaggleData:
    """Kaggle slugs (the notebooks attach the first) and the root ``marker`` inside a mount (``beside``)."""

    slugs: tuple
    marker: str = ""
    beside: tuple = ()


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


def finish_frame(frame: pd.DataFrame, report: LoadReport) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise AssertionError(f"loader for {report.dataset} did not produce columns {missing}")
    dup = frame.loc[frame["sample_id"].duplicated(), "sample_id"]
    if len(dup):
        raise DatasetError(f"duplicate sample_id {dup.iloc[0]!r}", path=report.root)
    frame = frame.reset_index(drop=True)
    frame.attrs["report"] = report.to_dict()
    return frame
