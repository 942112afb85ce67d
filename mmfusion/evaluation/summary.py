"""The first screen of a report: what ran on what, how many of the paper's numbers held, and the
cells a reviewer checks first (the claims file's ``headline`` and every lower / higher)."""
import json
from collections import Counter
from pathlib import Path

VERDICTS = ("consistent", "lower", "higher", "inconclusive", "not comparable", "not reproduced")
AUDIT_SEVERITIES = ("impossible", "inconsistent", "unverifiable")
MAX_KEY_CELLS = 12


def verdict_class(verdict: str) -> str | None:
    """The summary's word for a row's verdict; None for rows without one (ours only, not paired)."""
    if verdict == "equal" or verdict.startswith("consistent"):
        return "consistent"
    return next((word for word in VERDICTS[1:] if verdict.startswith(word)), None)


def verdict_counts(results: dict) -> dict:
    words = Counter(verdict_class(r["verdict"]) for rows in results["tables"].values() for r in rows)
    return {v: words[v] for v in VERDICTS}


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_facts(run_dir, reproduced: dict) -> dict:
    """Data, config, device, versions, commit and wall time of a run, from its own files."""
    run_dir = Path(run_dir)
    manifest, config = _read(run_dir / "manifest.json"), _read(run_dir / "config.json")
    given = reproduced.get("run") or {}
    wall = given.get("wall_s", _read(run_dir / "timings.json").get("total"))
    device = manifest.get("device") or {}
    gpus = device.get("gpus") or []
    return {"data": given.get("data") or config.get("data") or {},
            "data_fingerprint": manifest.get("data_fingerprint"),
            "config": "quick" if config.get("quick") else "paper", "changed": given.get("changed", {}),
            "device": ", ".join(map(str, gpus)) if gpus else device.get("device", "unknown"),
            "versions": {k: manifest[k] for k in ("tensorflow", "keras", "python", "mmfusion")
                         if k in manifest},
            "commit": manifest.get("git_commit"), "wall_s": wall}


def _data_line(name, d) -> str:
    where = d.get("kaggle") or d.get("root", "?")
    n = f"{d.get('n', '?')} of {d['N']} images" if d.get("N") else f"{d.get('n', '?')} images"
    return f"{name}: {n}{' (synthetic twin)' if d.get('synthetic') else ''}, from {where}"


def _duration(s) -> str:
    if s is None:
        return "unknown"
    s = float(s)
    return f"{s:.0f} s" if s < 120 else (f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.2f} h")


def key_rows(results: dict, claims) -> list:
    """(table, row): the headline cells first, then every lower / higher, at most MAX_KEY_CELLS."""
    wanted = [(h["table"], h["row"], h["column"]) for h in (claims.headline if claims else [])]
    rows = {(t, r["row"], r["column"]): (t, r) for t, rs in results["tables"].items() for r in rs}
    out = [rows[k] for k in wanted if k in rows]
    out += [(t, r) for t, rs in results["tables"].items() for r in rs
            if verdict_class(r["verdict"]) in ("lower", "higher") and (t, r) not in out]
    return out[:MAX_KEY_CELLS], max(0, len(out) - MAX_KEY_CELLS)


def summary_markdown(results: dict, claims, run: dict) -> list:
    from .audit import audit_claims, severity_counts
    from .report import row_cells

    counts = verdict_counts(results)
    data = run.get("data") or {}
    changed = ", ".join(f"{k}={v}" for k, v in (run.get("changed") or {}).items()) or "none"
    versions = ", ".join(f"{k} {v}" for k, v in (run.get("versions") or {}).items()) or "unknown"
    fp = run.get("data_fingerprint")
    flags = results.get("title_flags", "")
    lines = [f"## Summary{flags}", "", "| | |", "|---|---|"]
    if claims is not None:
        lines.append(f"| paper | {claims.citation} |")
    lines += [f"| data | {'; '.join(_data_line(k, d) for k, d in data.items()) or results['dataset']} |",
              f"| data fingerprint | {fp[:16] if fp else 'unknown'} |",
              f"| config | {run.get('config', '?')}; changed options: {changed} |",
              f"| device | {run.get('device', 'unknown')} |", f"| software | {versions} |",
              f"| commit | {run.get('commit') or 'unknown'} |",
              f"| wall time | {_duration(run.get('wall_s'))} |", ""]
    lines.append(f"**Verdicts** ({sum(counts.values())} cells): "
                 + " · ".join(f"{v} {k}" for k, v in counts.items()))
    if claims is not None:
        audit = severity_counts(audit_claims(claims))
        lines += ["", "**Audit of the paper's own numbers**: "
                  + " · ".join(f"{audit[k]} {k}" for k in AUDIT_SEVERITIES)]
    lines += _tolerance_lines(results)
    if results.get("not_comparable"):
        lines += ["", f"Not comparable with the paper: {'; '.join(results['not_comparable'])}."]
    keys, more = key_rows(results, claims)
    if keys:
        lines += ["", f"### Key cells (the headline claims, then every lower / higher){flags}", "",
                  "| table | row | column | paper | ours | ours − paper [95% CI] | verdict |",
                  "|---|---|---|---|---|---|---|"]
        for t, r in keys:
            paper, ours, _, diff = row_cells(r)
            lines.append(f"| {t} | {r['row']} | {r['column']} | {paper} | {ours} | {diff} | {r['verdict']} |")
        if more:
            lines.append(f"\n… and {more} more lower / higher cells in the tables below.")
    return lines


def _tolerance_lines(results: dict) -> list:
    """With a δ set for the run: how many compared cells this test size cannot settle within it."""
    tol = results.get("tolerance")
    if tol is None:
        return []
    diffs = [r["difference"] for rows in results["tables"].values() for r in rows
             if r.get("difference") and not r["difference"].get("exact")]
    wide = sum((d["ci_high"] - d["ci_low"]) / 2 > tol for d in diffs)
    text = f"δ = ±{tol:g} for every cell (the default is 0.2 of a bounded range)"
    if wide:
        text += (f"; {wide} of {len(diffs)} compared cells have a 95% interval wider than ±{tol:g} at this "
                 "test size and run count, so they cannot be called consistent at this δ")
    return ["", text + "."]


def first_screen(report_md: str) -> str:
    """report.md up to its first table section: the title and the summary."""
    lines = report_md.split("\n")
    end = next((i for i, line in enumerate(lines) if line.startswith("## ") and i > 0 and
                not line.startswith("## Summary")), len(lines))
    return "\n".join(lines[:end]).rstrip()
