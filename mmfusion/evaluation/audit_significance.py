"""Significance without data: a p-value claimed against a baseline whose numbers the paper does
not print, or whose numbers are another study's (a paired test needs both models' predictions on
the same test set)."""
from __future__ import annotations

from .audit_checks import Finding
from .audit_xref import literature_twin


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
    twin = literature_twin(claims, base)
    if twin:
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
