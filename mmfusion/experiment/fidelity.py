"""Each paper's fidelity table (``fidelity:`` in papers/<paper>.yaml, its config's ``FIDELITY``): every
protocol detail -> "as the paper" or "ours, because ...", with the config field that holds it (checked
against ``Config.paper()`` by a test) and the file that implements it; appended to every report."""
import dataclasses

AS_PAPER = "as the paper"


@dataclasses.dataclass(frozen=True)
class Detail:
    detail: str                 # e.g. "optimiser", "input size"
    paper: str                  # what the text says, with where (e.g. "Adam, lr 1e-4 (§3.5)")
    ours: str = AS_PAPER        # AS_PAPER, or "ours, because ..." / what we do instead
    field: str | None = None    # the config field that holds it (checked against paper())
    value: object = None        # that field's value in Config.paper()
    where: str = ""             # the file that implements it


def rows(paper: str) -> tuple:
    """The ``fidelity`` rows of papers/<paper>.yaml (validated with its claims) as Details, YAML lists
    read as tuples."""
    from mmfusion.evaluation.claims import load_claims

    return tuple(Detail(**{k: _tuples(v) for k, v in row.items()}) for row in load_claims(paper).fidelity)


def _tuples(value):
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def check(config, rows) -> list[str]:
    """Rows whose ``field`` does not hold ``value`` in ``config`` (empty when in step)."""
    out = []
    for row in (r for r in rows if r.field is not None):
        if not hasattr(config, row.field):
            out.append(f"{row.detail}: config has no field {row.field!r}")
        elif _norm(getattr(config, row.field)) != _norm(row.value):
            out.append(f"{row.detail}: {row.field} is {getattr(config, row.field)!r} in paper(), the table "
                       f"says {row.value!r}")
    return out


def markdown(rows) -> str:
    lines = ["| detail | the paper | ours | config field | file |", "|---|---|---|---|---|"]
    for r in rows:
        field = f"`{r.field}` = {r.value!r}" if r.field else "—"
        lines.append(f"| {r.detail} | {r.paper} | {r.ours} | {field} | {r.where or '—'} |")
    faithful = sum(r.ours == AS_PAPER for r in rows)
    return "\n".join([f"{faithful} of {len(rows)} protocol details as the paper; the rest are ours, "
                      "each with its reason.", "", *lines])


def _norm(value):
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _norm(v)) for k, v in value.items()))
    return value
