"""Cross-references: every number of the running text (``kind: text``) against the table it says
it describes, and any printed row whose numbers it repeats — notably another study's row. Also
significance without data: a p-value against a baseline whose numbers the paper does not print, or
whose numbers are another study's (a paired test needs both models' predictions on one test set)."""
from . import feasibility as fz
from .audit_checks import Finding, _frac_interval, by_row, printed


def same_printing(a, b) -> bool:
    """Same metric, and printed intervals (rounding, percent/fraction, over/about) that overlap."""
    name = fz.canonical_metric(a.column)
    if name is None or name != fz.canonical_metric(b.column) or not (a.is_scalar and b.is_scalar):
        return False
    alo, ahi = _frac_interval(a)
    blo, bhi = _frac_interval(b)
    return alo <= bhi and blo <= ahi


def literature_twin(claims, group, min_matches: int = 2):
    """(table, row, pairs) of another study's row that repeats >= ``min_matches`` of ``group``'s
    numbers (every metric of the group that the row prints must agree), else None."""
    studies = by_row(c for c in claims.claims if c.kind == "literature" and c.is_scalar)
    for (table, row), cs in studies.items():
        pairs, clash = [], False
        for g in group:
            same = [c for c in cs if fz.canonical_metric(c.column) == fz.canonical_metric(g.column)]
            if same and any(same_printing(g, c) for c in same):
                pairs.append((g, same[0]))
            elif same:
                clash = True
        if len(pairs) >= min_matches and not clash:
            return table, row, pairs
    return None


def _describes(claims, c) -> Finding:
    where = c.describes
    cells = [t for t in claims.find_ref(where) if t.kind in ("metric", "literature") and t is not c]
    label = where["table"] + (f" / {where['row']}" if "row" in where else "")
    if fz.canonical_metric(c.column) is None:
        return Finding("xref", "unverifiable", [c.ref()],
                       f"{c.ref()}: {printed(c)} ({c.column}) — no cell of {label} prints this quantity")
    hits = [t for t in cells if same_printing(c, t)]
    if own := [t for t in hits if t.kind == "metric"]:
        return Finding("xref", "consistent", [c.ref()] + [t.ref() for t in own],
                       f"{c.ref()}: {printed(c)} matches {', '.join(t.ref() for t in own)}")
    if hits:
        return Finding("xref", "inconsistent", [c.ref()] + [t.ref() for t in hits],
                       f"{c.ref()}: {printed(c)} matches only another study's row in {label}: "
                       f"{', '.join(t.ref() for t in hits)}")
    elsewhere = [t for t in claims.claims if t not in cells and t is not c
                 and t.kind in ("metric", "literature") and same_printing(c, t)]
    also = f"; equal elsewhere: {', '.join(t.ref() for t in elsewhere[:4])}" if elsewhere else ""
    return Finding("xref", "inconsistent", [c.ref()],
                   f"{c.ref()}: {printed(c)} matches no row of {label} ({len(cells)} cells compared){also}")


def check_xref(claims) -> list:
    out = [_describes(claims, c) for c in claims.claims
           if c.kind == "text" and c.describes and not c.same_as and c.is_scalar]
    for (table, row), group in by_row(c for c in claims.claims if c.kind == "text" and c.is_scalar).items():
        if twin := literature_twin(claims, group):
            t_table, t_row, pairs = twin
            nums = ", ".join(f"{fz.canonical_metric(g.column)} {printed(g)} = {printed(c)}" for g, c in pairs)
            out.append(Finding("xref", "inconsistent",
                               [g.ref() for g, _ in pairs] + [c.ref() for _, c in pairs],
                               f"{table} / {row}: the text's numbers are another study's: row '{t_row}' of "
                               f"{t_table} ({nums})", details={"twin": [t_table, t_row]}))
    return out


def _baseline(claims, p, link) -> Finding:
    base = [c for c in claims.find_ref(link) if c.kind != "p_value" and c.is_scalar]
    name = f"{link['table']} / {link['row']}"
    refs = [p.ref()] + [c.ref() for c in base]
    if not base:
        return Finding("significance", "unverifiable", [p.ref()],
                       f"{p.ref()}: baseline '{name}' has no printed numbers; the test cannot be checked")
    if all(c.kind == "literature" for c in base):
        return Finding("significance", "inconsistent", refs,
                       f"{p.ref()}: baseline '{name}' is another study's numbers: a p-value against it "
                       "needs that study's predictions on this test set")
    if twin := literature_twin(claims, base):
        return Finding("significance", "inconsistent", refs + [c.ref() for _, c in twin[2]],
                       f"{p.ref()}: baseline '{name}' prints the numbers of another study (row "
                       f"'{twin[1]}' of {twin[0]}): significance against numbers that are not the "
                       "paper's own")
    return Finding("significance", "consistent", refs,
                   f"{p.ref()}: baseline '{name}' is the paper's own measurement")


def check_significance(claims) -> list:
    out = []
    for p in claims.claims:
        if p.kind != "p_value":
            continue
        if not p.against:
            out.append(Finding("significance", "unverifiable", [p.ref()],
                               f"{p.ref()}: the claims file names no baseline for this p-value"))
        out.extend(_baseline(claims, p, link) for link in p.against or [])
    return out
