"""Claims audit: run the consistency checks on ``papers/*.yaml`` and print the findings.

``mmfusion audit [PAPER|all] [--json]`` calls :func:`audit_command`. Exit codes: 0 the audit ran
(findings are results, not failures), 2 bad input (unknown paper, invalid claims file), 1 an
unexpected failure.
"""
from __future__ import annotations

import json
import sys
import traceback

from .audit_checks import SEVERITIES, Finding, check_f1, check_grim, check_std
from .audit_values import check_ci, check_range, check_same_quantity
from .claims import ClaimsError, available_papers, load_claims

__all__ = ["Finding", "audit_claims", "audit_command"]

ALL_CHECKS = (check_f1, check_grim, check_std, check_ci, check_range, check_same_quantity)


def audit_claims(claims, include_ok: bool = True) -> list:
    """All findings for one loaded :class:`~mmfusion.evaluation.claims.Claims`, worst first."""
    findings = [Finding("schema", "info", [], w) for w in claims.warnings]
    for check in ALL_CHECKS:
        findings.extend(check(claims))
    for f in findings:
        f.paper = claims.paper
    if not include_ok:
        findings = [f for f in findings if f.severity != "ok"]
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def _print_paper(paper, findings, out):
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
    print(f"== {paper}: " + ", ".join(f"{v} {k}" for k, v in counts.items()), file=out)
    for f in findings:
        print(f"  [{f.severity.upper():7}] {f.check}: {f.message}", file=out)
        if f.arithmetic and f.severity != "ok":
            print(f"            arithmetic: {f.arithmetic}", file=out)


def audit_command(target: str = "all", as_json: bool = False, out=None) -> int:
    """Audit one paper's claims file (or "all" present in papers/); print findings."""
    out = out or sys.stdout
    papers = available_papers() if target == "all" else [target]
    if not papers:
        print("no claims files found (papers/*.yaml)", file=out)
        return 2
    results, status = {}, 0
    for paper in papers:
        try:
            claims = load_claims(paper)
            findings = audit_claims(claims)
        except ClaimsError as e:
            results[paper] = {"error": str(e)}
            status = max(status, 2)
            if not as_json:
                print(f"== {paper}: INVALID CLAIMS FILE\n  {e}", file=out)
            continue
        except Exception as e:  # a bug in a check must not hide the other papers' findings
            results[paper] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
            status = 1 if status != 2 else 2
            if not as_json:
                print(f"== {paper}: AUDIT FAILED: {type(e).__name__}: {e}", file=out)
            continue
        results[paper] = {"findings": [f.to_dict() for f in findings]}
        if not as_json:
            _print_paper(paper, findings, out)
    if as_json:
        json.dump(results, out, indent=2, default=str)
        print(file=out)
    return status
