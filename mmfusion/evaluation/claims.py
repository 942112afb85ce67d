"""Paper claims as data: the ``papers/<paper>.yaml`` schema (README "Claims files"), its validator
and loader. Errors name the file, the claim index and the field."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SCALES = ("fraction", "percent", "absolute")
PM_MEANINGS = ("std", "sem", "ci95_halfwidth", "unknown")
AVERAGINGS = ("binary", "macro", "weighted", "micro", "per-class", "samples")
KINDS = ("metric", "count", "time_s", "p_value", "literature", "statistic", "other")
ROUNDINGS = ("round", "truncate")
TOP_REQUIRED = ("paper", "title", "citation", "dataset", "claims")
TOP_OPTIONAL = ("url", "protocol", "configs", "deviations", "notes")
CLAIM_REQUIRED = ("table", "row", "column", "value")


class ClaimsError(ValueError):
    """A claims file does not follow the schema."""


@dataclass
class Claim:
    table: str
    row: str
    column: str
    value: object                      # a number, or a list of numbers (per-run values, matrix)
    scale: str | None = None
    decimals: int | None = None
    pm: float | None = None
    pm_meaning: str | None = None
    n: int | None = None
    averaging: str | None = None
    ci: list | None = None
    kind: str = "metric"
    test_size: int | None = None
    test_class_counts: dict | None = None
    rounding: str | None = None        # round | truncate | None (unknown: both tried)
    same_as: dict | None = None        # {table, row, column} of a claim stating the same quantity
    note: str = ""
    index: int = -1                    # position in the file, for messages
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.table, self.row, self.column)

    def ref(self) -> str:
        return f"claim {self.index} ({self.table} / {self.row} / {self.column})"

    def as_fraction(self, x=None):
        """``x`` (default: value) on the [0, 1] scale when the claim is printed in percent."""
        x = self.value if x is None else x
        return x / 100.0 if self.scale == "percent" else x

    @property
    def is_scalar(self) -> bool:
        return isinstance(self.value, (int, float)) and not isinstance(self.value, bool)


@dataclass
class Claims:
    paper: str
    title: str
    citation: str
    dataset: str
    claims: list
    url: str = ""
    protocol: dict = field(default_factory=dict)
    configs: list = field(default_factory=list)
    deviations: str = ""
    notes: str = ""
    path: Path | None = None
    warnings: list = field(default_factory=list)

    def find(self, table, row, column):
        return [c for c in self.claims if c.key == (table, row, column)]

    def test_size(self, claim: Claim):
        return claim.test_size if claim.test_size is not None else self.protocol.get("test_size")

    def class_counts(self, claim: Claim):
        if claim.test_class_counts:
            return dict(claim.test_class_counts)
        counts = self.protocol.get("test_class_counts")
        if not counts or (claim.test_size is not None and claim.test_size != sum(counts.values())):
            return None  # the claim overrides the test size: the protocol's counts do not apply
        return dict(counts)


def papers_dir() -> Path:
    """``$MMFUSION_PAPERS_DIR``, else the repository's ``papers/`` (a checkout or editable install),
    else the copy a wheel installs under ``<prefix>/share/mmfusion/papers`` (setup.cfg data_files:
    a Kaggle kernel installs mmfusion from a wheel and still needs the claims)."""
    env = os.environ.get("MMFUSION_PAPERS_DIR")
    if env:
        return Path(env)
    import sysconfig

    import mmfusion
    repo = Path(mmfusion.__file__).resolve().parents[1] / "papers"
    installed = Path(sysconfig.get_path("data")) / "share" / "mmfusion" / "papers"
    return repo if repo.is_dir() or not installed.is_dir() else installed


def available_papers() -> list:
    d = papers_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_numeric_tree(x):
    if _is_number(x):
        return True
    return isinstance(x, list) and len(x) > 0 and all(_is_numeric_tree(v) for v in x)


def _claim(raw, i, where, warnings) -> Claim:
    def fail(fld, expected):
        got = raw.get(fld, "<missing>") if isinstance(raw, dict) else raw
        raise ClaimsError(f"{where}: claims[{i}] field '{fld}': expected {expected}; got {got!r}")

    if not isinstance(raw, dict):
        fail("<claim>", "a mapping")
    for f in CLAIM_REQUIRED:
        if f not in raw:
            fail(f, "a value (required)")
    for f in ("table", "row", "column"):
        if not isinstance(raw[f], (str, int, float)) or str(raw[f]).strip() == "":
            fail(f, "a non-empty string")
    if not _is_numeric_tree(raw["value"]):
        fail("value", "a number or a (nested) list of numbers")
    kind = raw.get("kind") or "metric"
    if kind not in KINDS:
        fail("kind", f"one of {KINDS}")
    scale = raw.get("scale")
    if scale is not None and scale not in SCALES:
        fail("scale", f"one of {SCALES}")
    if kind == "metric" and scale is None:
        fail("scale", "fraction or percent (required for kind: metric)")
    if raw.get("decimals") is not None and (not isinstance(raw["decimals"], int) or raw["decimals"] < 0):
        fail("decimals", "an integer >= 0")
    if raw.get("pm") is not None and (not _is_number(raw["pm"]) or raw["pm"] < 0):
        fail("pm", "a number >= 0 or null")
    if raw.get("pm_meaning") is not None and raw["pm_meaning"] not in PM_MEANINGS:
        fail("pm_meaning", f"one of {PM_MEANINGS} or null")
    if raw.get("n") is not None and (not isinstance(raw["n"], int) or raw["n"] < 1):
        fail("n", "an integer >= 1 or null")
    if raw.get("averaging") is not None and raw["averaging"] not in AVERAGINGS:
        fail("averaging", f"one of {AVERAGINGS} or null")
    ci = raw.get("ci")
    if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and all(map(_is_number, ci))):
        fail("ci", "[low, high] (two numbers) or null")
    if raw.get("test_size") is not None and (not isinstance(raw["test_size"], int) or raw["test_size"] < 1):
        fail("test_size", "an integer >= 1")
    tcc = raw.get("test_class_counts")
    if tcc is not None and not (isinstance(tcc, dict) and all(isinstance(v, int) and v >= 0 for v in tcc.values())):
        fail("test_class_counts", "a mapping class -> integer count")
    if raw.get("rounding") is not None and raw["rounding"] not in ROUNDINGS:
        fail("rounding", f"one of {ROUNDINGS} or null")
    same = raw.get("same_as")
    if same is not None and not (isinstance(same, dict) and {"table", "row", "column"} <= set(same)):
        fail("same_as", "a mapping with table, row, column")
    known = set(Claim.__dataclass_fields__) - {"index", "extra"}
    extra = {k: v for k, v in raw.items() if k not in known}
    if extra:
        warnings.append(f"{where}: claims[{i}] has unknown fields {sorted(extra)} (kept, not checked)")
    kw = {k: raw[k] for k in known if k in raw and raw[k] is not None}
    for f in ("table", "row", "column"):
        kw[f] = str(raw[f])
    kw["kind"] = kind
    return Claim(**kw, index=i, extra=extra)


def validate_claims(data, where: str = "<claims>") -> Claims:
    """Check a parsed claims mapping against the schema; return :class:`Claims`."""
    if not isinstance(data, dict):
        raise ClaimsError(f"{where}: top level must be a mapping; got {type(data).__name__}")
    for f in TOP_REQUIRED:
        if f not in data or data[f] in (None, ""):
            raise ClaimsError(f"{where}: top-level field '{f}' is required")
    if not isinstance(data["claims"], list):
        raise ClaimsError(f"{where}: 'claims' must be a list of mappings")
    protocol = data.get("protocol") or {}
    if not isinstance(protocol, dict):
        raise ClaimsError(f"{where}: 'protocol' must be a mapping")
    ts = protocol.get("test_size")
    if ts is not None and (not isinstance(ts, int) or ts < 1):
        raise ClaimsError(f"{where}: protocol.test_size: expected an integer >= 1; got {ts!r}")
    tcc = protocol.get("test_class_counts")
    if tcc is not None:
        if not isinstance(tcc, dict) or not all(isinstance(v, int) and v >= 0 for v in tcc.values()):
            raise ClaimsError(f"{where}: protocol.test_class_counts: expected class -> integer count")
        if ts is not None and sum(tcc.values()) != ts:
            raise ClaimsError(f"{where}: protocol.test_class_counts sum to {sum(tcc.values())}, "
                              f"but protocol.test_size is {ts}")
    warnings = []
    unknown = set(data) - set(TOP_REQUIRED) - set(TOP_OPTIONAL)
    if unknown:
        warnings.append(f"{where}: unknown top-level fields {sorted(unknown)} (kept, not checked)")
    claims = [_claim(raw, i, where, warnings) for i, raw in enumerate(data["claims"])]
    configs = data.get("configs") or []
    if not isinstance(configs, list):
        raise ClaimsError(f"{where}: 'configs' must be a list")
    return Claims(paper=str(data["paper"]), title=str(data["title"]), citation=str(data["citation"]),
                  dataset=str(data["dataset"]), claims=claims, url=str(data.get("url") or ""),
                  protocol=protocol, configs=configs, deviations=str(data.get("deviations") or ""),
                  notes=str(data.get("notes") or ""), warnings=warnings)


def load_claims(paper_or_path) -> Claims:
    """Load and validate ``papers/<paper>.yaml`` (or a path to a YAML file)."""
    p = Path(paper_or_path)
    path = p if p.suffix in (".yaml", ".yml") and p.exists() else papers_dir() / f"{paper_or_path}.yaml"
    if not path.is_file():
        raise ClaimsError(f"no claims file for {paper_or_path!r}: {path} does not exist "
                          f"(available: {', '.join(available_papers()) or 'none'})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ClaimsError(f"{path}: not valid YAML: {e}") from e
    claims = validate_claims(data, where=str(path))
    claims.path = path
    return claims
