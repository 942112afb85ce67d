"""Claims audit: the consistency checks on ``papers/*.yaml``, findings worst first (impossible,
inconsistent, unverifiable, consistent). ``mmfusion audit [PAPER|all] [--json]`` exits 0 when the
audit ran (findings are results, not failures), 2 on bad input (unknown paper, invalid claims
file), 1 on an unexpected failure."""
import json
import sys
import traceback
from dataclasses import asdict

from . import audit_checks as ac
from .audit_checks import SEVERITIES, Finding
from .audit_counts import check_counts
from .audit_witness import check_witness
from .audit_xref import check_significance, check_xref
from .claims import ClaimsError, available_papers, claims_summary, load_claims

__all__ = ["Finding", "audit_claims", "audit_command", "audit_markdown"]

ALL_CHECKS = (check_witness, ac.check_f1, ac.check_grim, ac.check_std, ac.check_ci, ac.check_range,
              ac.check_same_quantity, check_xref, check_counts, check_significance)


def audit_claims(claims) -> list:
    """All findings for loaded Claims, worst first, each citing its claims with line and source."""
    findings = [Finding("schema", "unverifiable", [], w) for w in claims.warnings]
    findings += [f for check in ALL_CHECKS for f in check(claims)]
    cite = {c.ref(): c.cite() for c in claims.claims}
    for f in findings:
        f.paper = claims.paper
        f.claims = [cite.get(r, r) for r in f.claims]
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def severity_counts(findings) -> dict:
    return {s: sum(f.severity == s for f in findings) for s in SEVERITIES}


def _audit(paper):
    claims = load_claims(paper)
    return claims, claims_summary(claims.path), audit_claims(claims)


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
            _, summary, findings = _audit(paper)
        except ClaimsError as e:
            results[paper], status = {"error": str(e), "line": e.line, "field": e.field}, 2
            if not as_json:
                print(f"== {paper}: INVALID CLAIMS FILE\n  {e}", file=out)
            continue
        except Exception as e:  # a bug in a check must not hide the other papers' findings
            results[paper] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
            status = max(status, 1)
            if not as_json:
                print(f"== {paper}: AUDIT FAILED: {type(e).__name__}: {e}", file=out)
            continue
        counts = severity_counts(findings)
        results[paper] = {"counts": summary, "severity_counts": counts,
                          "findings": [asdict(f) for f in findings]}
        if as_json:
            continue
        kinds = ", ".join(f"{v} {k}" for k, v in summary.items() if k not in ("total", "numbers"))
        print(f"== {paper}: {summary['total']} claims ({summary['numbers']} printed numbers: {kinds})",
              file=out)
        print("   findings: " + ", ".join(f"{v} {k}" for k, v in counts.items()), file=out)
        for f in findings:
            print(f"  [{f.severity.upper()}] {f.check}: {f.message}", file=out)
            if f.severity != "consistent":
                if f.arithmetic:
                    print(f"      arithmetic: {f.arithmetic}", file=out)
                for c in f.claims:
                    print(f"      - {c}", file=out)
    if as_json:
        json.dump(results, out, indent=2, default=str)
        print(file=out)
    return status


def audit_markdown(paper) -> str:
    """Markdown audit: claim counts, the witness table, the findings by severity (not the consistent)."""
    claims, summary, findings = _audit(paper)
    lines = [f"## Audit of the paper's numbers ({claims.paper})", "",
             f"{summary['total']} claims, {summary['numbers']} printed numbers; findings: "
             + ", ".join(f"{v} {k}" for k, v in severity_counts(findings).items()), ""]
    if witnesses := [f for f in findings if f.check == "witness"]:
        lines += ["| table | row | printed | verdict | witness confusion matrices (rows true, columns "
                  "predicted) |", "|---|---|---|---|---|"]
        for f in witnesses:
            d = f.details
            if not d.get("witnesses"):
                wit = "**none**" if d.get("count") == 0 else "not enumerated"
            else:
                shown = "; ".join(str(w) for w in d["witnesses"][:3])
                wit = f"exactly one: {shown}" if d["count"] == 1 else f"{d['count']}, e.g. {shown}"
                wit += f" ({', '.join(d['classes'])})"
            lines.append(f"| {d.get('table', '')} | {d.get('row', '')} | {d.get('printed', '')} | "
                         f"{f.severity} | {wit} |")
        lines.append("")
    for sev in SEVERITIES[:-1]:   # all but "consistent"
        if chosen := [f for f in findings if f.severity == sev and f.check != "witness"]:
            lines += [f"### {sev.capitalize()} ({len(chosen)})", ""]
            for f in chosen:
                lines += [f"- **{f.check}**: {f.message}", *(f"  - {c}" for c in f.claims)]
            lines.append("")
    return "\n".join(lines)
