"""Paper claims as data: the ``papers/<paper>.yaml`` schema (docs/claims.md), its validator
and loader. Errors name the file, the line (from the YAML marks), the claim index and the field."""
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SCALES = ("fraction", "percent", "absolute")
PM_MEANINGS = ("std", "sem", "ci95_halfwidth", "unknown")
AVERAGINGS = ("binary", "macro", "weighted", "micro", "per-class", "samples")
# metric: a result of the paper's own tables; text: a result stated only in the running text;
# literature: another study's number (a comparison table or the related-work text)
KINDS = ("metric", "text", "literature", "count", "time_s", "p_value", "statistic", "other")
METRIC_KINDS = ("metric", "text", "literature")
ROUNDINGS = ("round", "truncate")
RELATIONS = ("=", "<", "<=", ">", ">=", "~")     # "p < 0.01", "over 92 %", "about 0.9978"
TOP_REQUIRED = ("paper", "title", "citation", "dataset", "claims")
TOP_OPTIONAL = ("url", "protocol", "configs", "deviations", "notes", "headline", "fidelity")
FIDELITY_KEYS = {"detail", "paper", "ours", "field", "value", "where"}   # experiment.fidelity.Detail
CLAIM_REQUIRED = ("table", "row", "column", "value")


class ClaimsError(ValueError):
    """A claims file does not follow the schema; ``path``, ``line`` (1-based) and ``field`` say where."""

    def __init__(self, message, path=None, line=None, field=None):
        super().__init__(message)
        self.path, self.line, self.field = path, line, field


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
    positive: str | None = None        # the positive class of a binary metric
    ci: list | None = None
    kind: str = "metric"
    test_size: int | None = None
    test_class_counts: dict | None = None
    rounding: str | None = None        # round | truncate | None (unknown: both tried)
    relation: str | None = None        # how the value is stated: "=" (default), "<", ">", "~"
    same_as: dict | None = None        # {table, row, column} of a claim stating the same quantity
    describes: dict | None = None      # {table[, row]}: the table (row) a text number speaks of
    sum_of: list | None = None         # [{table, row, column}, ...] the count is the sum of
    download: str | None = None        # "dataset:key" of audit_counts.DOWNLOAD_COUNTS
    against: list | None = None        # [{table, row}, ...] the baselines a p-value compares with
    sample: str | None = None          # the row under which this value is compared as one of a sample
    tolerance: float | None = None     # δ of the verdict rule for this claim (default: verdict.py's)
    source: str = ""                   # where the paper prints it: "Table 5, row ...", "§III.C text"
    note: str = ""
    index: int = -1                    # position in the file, for messages
    line: int | None = None            # line in the file, for messages
    extra: dict = field(default_factory=dict)

    def ref(self) -> str:
        return f"claim {self.index} ({self.table} / {self.row} / {self.column})"

    def cite(self) -> str:
        """The reference with where the paper prints it (line in the claims file, source)."""
        at = f", line {self.line}" if self.line else ""
        return f"{self.ref()}{at}: {self.source}" if self.source else f"{self.ref()}{at}"

    def as_fraction(self, x=None):
        """``x`` (default: value) on the [0, 1] scale when the claim is printed in percent."""
        x = self.value if x is None else x
        return x / 100.0 if self.scale == "percent" else x

    @property
    def is_scalar(self) -> bool:
        return _is_number(self.value)


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
    headline: list = field(default_factory=list)   # [{table, row, column}]: the summary's key cells
    fidelity: list = field(default_factory=list)   # [{detail, paper, ours, field, value, where}]
    path: Path | None = None
    warnings: list = field(default_factory=list)

    def find(self, table, row, column):
        return [c for c in self.claims if (c.table, c.row, c.column) == (table, row, column)]

    def find_ref(self, ref: dict):
        """Claims a ``{table, row[, column]}`` link points to."""
        return [c for c in self.claims if c.table == ref.get("table") and c.row == ref.get("row", c.row)
                and c.column == ref.get("column", c.column)]

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
    """``$MMFUSION_PAPERS_DIR``, else the repository's ``papers/``, else the copy a wheel installs
    under ``<prefix>/share/mmfusion/papers`` (setup.cfg data_files; Kaggle kernels install a wheel)."""
    if env := os.environ.get("MMFUSION_PAPERS_DIR"):
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
    return _is_number(x) or (isinstance(x, list) and len(x) > 0 and all(map(_is_numeric_tree, x)))


def _is_link(x, keys=("table", "row", "column")):
    return isinstance(x, dict) and set(keys) <= set(x)


def _flat(v):
    return [x for y in v for x in _flat(y)] if isinstance(v, list) else [v]


def _is_int(lo):
    return lambda x: isinstance(x, int) and not isinstance(x, bool) and x >= lo


# optional field -> (test of a non-null value, what was expected)
FIELD_RULES = {
    "scale": (lambda x: x in SCALES, f"one of {SCALES}"),
    "decimals": (_is_int(0), "an integer >= 0"),
    "pm": (lambda x: _is_number(x) and x >= 0, "a number >= 0 or null"),
    "pm_meaning": (lambda x: x in PM_MEANINGS, f"one of {PM_MEANINGS} or null"),
    "n": (_is_int(1), "an integer >= 1 or null"),
    "averaging": (lambda x: x in AVERAGINGS, f"one of {AVERAGINGS} or null"),
    "positive": (lambda x: isinstance(x, str) and x != "", "a class name"),
    "ci": (lambda x: isinstance(x, list) and len(x) == 2 and all(map(_is_number, x)),
           "[low, high] (two numbers) or null"),
    "test_size": (_is_int(1), "an integer >= 1"),
    "test_class_counts": (lambda x: isinstance(x, dict) and all(_is_int(0)(v) for v in x.values()),
                          "a mapping class -> integer count"),
    "rounding": (lambda x: x in ROUNDINGS, f"one of {ROUNDINGS} or null"),
    "relation": (lambda x: x in RELATIONS, f"one of {RELATIONS} or null"),
    "same_as": (_is_link, "a mapping with table, row, column"),
    "describes": (lambda x: _is_link(x, ("table",)), "a mapping with table (and row)"),
    "sum_of": (lambda x: isinstance(x, list) and x and all(map(_is_link, x)),
               "a list of mappings with table, row, column"),
    "download": (lambda x: isinstance(x, str) and x.count(":") == 1, "'dataset:key'"),
    "against": (lambda x: isinstance(x, list) and x and all(_is_link(v, ("table", "row")) for v in x),
                "a list of mappings with table, row"),
    "sample": (lambda x: isinstance(x, str) and x.strip() != "", "a row name for the pooled sample"),
    "tolerance": (lambda x: _is_number(x) and x > 0, "a number > 0"),
    "source": (lambda x: isinstance(x, str), "a string"),
    "note": (lambda x: isinstance(x, str), "a string"),
}


def _claim(raw, i, where, warnings, lines) -> Claim:
    def fail(fld, expected):
        got = raw.get(fld, "<missing>") if isinstance(raw, dict) else raw
        _fail_top(where, f"claims[{i}] field '{fld}': expected {expected}; got {got!r}",
                  lines.get(fld, lines.get(None)), fld)

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
    for f, (ok, expected) in FIELD_RULES.items():
        if raw.get(f) is not None and not ok(raw[f]):
            fail(f, expected)
    if kind in METRIC_KINDS and raw.get("scale") is None:
        fail("scale", f"fraction or percent (required for kind: {kind})")
    known = set(Claim.__dataclass_fields__) - {"index", "extra", "line"}
    extra = {k: v for k, v in raw.items() if k not in known}
    if extra:
        warnings.append(f"{where}: claims[{i}] has unknown fields {sorted(extra)} (kept, not checked)")
    kw = {k: raw[k] for k in known if k in raw and raw[k] is not None}
    kw.update({f: str(raw[f]) for f in ("table", "row", "column")}, kind=kind)
    return Claim(**kw, index=i, line=lines.get(None), extra=extra)


def _fail_top(where, message, line=None, fld=None):
    at = f" (line {line})" if line else ""
    raise ClaimsError(f"{where}{at}: {message}", path=where, line=line, field=fld)


def _check_protocol(protocol, where, top_lines):
    line = top_lines.get("protocol")
    if not isinstance(protocol, dict):
        _fail_top(where, "'protocol' must be a mapping", line, "protocol")
    ts = protocol.get("test_size")
    if ts is not None and not _is_int(1)(ts):
        _fail_top(where, f"protocol.test_size: expected an integer >= 1; got {ts!r}", line, "test_size")
    tcc = protocol.get("test_class_counts")
    if tcc is not None:
        if not FIELD_RULES["test_class_counts"][0](tcc):
            _fail_top(where, "protocol.test_class_counts: expected class -> integer count", line,
                      "test_class_counts")
        if ts is not None and sum(tcc.values()) != ts:
            _fail_top(where, f"protocol.test_class_counts sum to {sum(tcc.values())}, "
                      f"but protocol.test_size is {ts}", line, "test_class_counts")


def validate_claims(data, where: str = "<claims>", lines: dict | None = None) -> Claims:
    """Check a parsed claims mapping; ``lines`` (:func:`yaml_lines`) let errors name the line."""
    lines = lines or {}
    top_lines = lines.get("top", {})
    if not isinstance(data, dict):
        _fail_top(where, f"top level must be a mapping; got {type(data).__name__}", 1)
    for f in TOP_REQUIRED:
        if f not in data or data[f] in (None, ""):
            _fail_top(where, f"top-level field '{f}' is required", top_lines.get(f), f)
    if not isinstance(data["claims"], list):
        _fail_top(where, "'claims' must be a list of mappings", top_lines.get("claims"), "claims")
    protocol = data.get("protocol") or {}
    _check_protocol(protocol, where, top_lines)
    warnings = []
    if unknown := set(data) - set(TOP_REQUIRED) - set(TOP_OPTIONAL):
        warnings.append(f"{where}: unknown top-level fields {sorted(unknown)} (kept, not checked)")
    item_lines = lines.get("claims", [])
    claims = [_claim(raw, i, where, warnings, item_lines[i] if i < len(item_lines) else {})
              for i, raw in enumerate(data["claims"])]
    configs = data.get("configs") or []
    if not isinstance(configs, list):
        _fail_top(where, "'configs' must be a list", top_lines.get("configs"), "configs")
    headline = data.get("headline") or []
    if not (isinstance(headline, list) and all(map(_is_link, headline))):
        _fail_top(where, "'headline' must be a list of mappings with table, row, column",
                  top_lines.get("headline"), "headline")
    fidelity = data.get("fidelity") or []
    if not (isinstance(fidelity, list) and all(
            isinstance(r, dict) and {"detail", "paper"} <= set(r) <= FIDELITY_KEYS for r in fidelity)):
        _fail_top(where, "'fidelity' must be a list of mappings with detail, paper (optional: field, ours, "
                  "value, where)", top_lines.get("fidelity"), "fidelity")
    text = {k: str(data.get(k) or "") for k in ("url", "deviations", "notes")}
    return Claims(**{k: str(data[k]) for k in TOP_REQUIRED[:4]}, **text, claims=claims, protocol=protocol,
                  configs=configs, headline=headline, fidelity=fidelity, warnings=warnings)


def yaml_lines(text: str) -> dict:
    """1-based lines of the top-level keys and, per claim, of the claim (key None) and its fields."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    out = {"top": {}, "claims": []}
    if not isinstance(root, yaml.MappingNode):
        return out
    for k, v in root.value:
        out["top"][k.value] = k.start_mark.line + 1
        if k.value == "claims" and isinstance(v, yaml.SequenceNode):
            for item in v.value:
                fields = {None: item.start_mark.line + 1}
                if isinstance(item, yaml.MappingNode):
                    fields.update({fk.value: fk.start_mark.line + 1 for fk, _ in item.value})
                out["claims"].append(fields)
    return out


def load_claims(paper_or_path) -> Claims:
    """Load and validate ``papers/<paper>.yaml`` (or a path to a YAML file)."""
    p = Path(paper_or_path)
    path = p if p.suffix in (".yaml", ".yml") and p.exists() else papers_dir() / f"{paper_or_path}.yaml"
    if not path.is_file():
        raise ClaimsError(f"no claims file for {paper_or_path!r}: {path} does not exist "
                          f"(available: {', '.join(available_papers()) or 'none'})", path=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        lines = yaml_lines(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        _fail_top(str(path), f"not valid YAML: {e}", mark.line + 1 if mark is not None else None)
    claims = validate_claims(data, where=str(path), lines=lines)
    claims.path = path
    return claims


def claims_summary(paper_or_path) -> dict:
    """``total``, ``numbers`` (values, ± and CI bounds) and a count per kind of a claims file."""
    claims = load_claims(paper_or_path).claims
    kinds = Counter(c.kind for c in claims)
    numbers = sum(len(_flat(c.value)) + (c.pm is not None) + (2 if c.ci else 0) for c in claims)
    return {"total": len(claims), "numbers": numbers, **{k: kinds[k] for k in KINDS if kinds[k]}}
