"""``mmfusion verify RUN_DIR``: re-check a finished run without retraining. (1) Every file the run
wrote (but the report, which (3) rebuilds) against the sha256 manifest.json's ``outputs`` recorded;
(2) every cell with a ``derive`` recomputed from predictions.csv; (3) every verdict recomputed from
reproduced.json and the claims file, against results.json. VERIFIED, or each difference (exit 1)."""
import json
import math
import sys
from pathlib import Path

from ..utils.io import atomic_write_json

# derived from the hashed files, so rebuilt (step 3), not hashed; `mmfusion report` rewrites them
REBUILT = ("report.md", "report.html", "results.json")
UNHASHED = ("manifest.json", "DONE", ".lock", *REBUILT)


def output_hashes(run_dir) -> dict:
    """{relative path: sha256} of every file of the run except the manifest and the report."""
    from mmfusion.data.cache import sha256_file  # not at the top: mmfusion.data loads pandas

    run_dir = Path(run_dir)
    return {str(p.relative_to(run_dir)): sha256_file(p) for p in sorted(run_dir.rglob("*"))
            if p.is_file() and p.name not in UNHASHED}


def refresh_hashes(run_dir, names) -> None:
    """Re-record ``names`` (files the report step redraws) in a finished run's manifest."""
    from mmfusion.data.cache import sha256_file

    run_dir = Path(run_dir)
    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    if not manifest.get("outputs"):
        return
    manifest["outputs"].update({n: sha256_file(run_dir / n) for n in names if (run_dir / n).is_file()})
    atomic_write_json(path, manifest)


def derived_values(spec: dict, predictions) -> list:
    """A cell's values from predictions.csv: rows where ``where`` holds, one value per ``by`` group
    (sorted; ``groups`` keeps some), as ``metric`` (macro, or of class ``class``) or the
    ``confusion`` [true, predicted] count."""
    from .metrics import classification_metrics, confusion_matrix, per_class_report

    frame = predictions
    for column, value in (spec.get("where") or {}).items():
        frame = frame[frame[column].astype(str) == str(value)]
    pcols = sorted((c for c in frame.columns if c.startswith("p_")), key=lambda c: int(c[2:]))
    groups = [g for _, g in frame.groupby(spec["by"], sort=True)] if spec.get("by") else [frame]
    if spec.get("groups"):
        groups = [g for g in groups if g[spec["by"]].iloc[0] in spec["groups"]]
    out = []
    for g in groups:
        y, p = g["y_true"].to_numpy(int), g[pcols].to_numpy(float)
        if "confusion" in spec:
            i, j = spec["confusion"]
            out.append(float(confusion_matrix(y, p.argmax(1), len(pcols))[i, j]))
        elif spec.get("class") is not None:
            out.append(float(per_class_report(y, p).iloc[int(spec["class"])][spec["metric"]]))
        else:
            out.append(float(classification_metrics(y, p, spec.get("average", "macro"))[spec["metric"]]))
    return out


def _same(a, b) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) or (x != x and y != y)
                                    for x, y in zip(a, b))


def verify(run_dir) -> dict:
    """{"problems": [text], "files": n, "derived": n, "cells": n, "verdicts": n}."""
    import pandas as pd

    from .results import build_results, claims_for

    run_dir = Path(run_dir)
    problems = []
    recorded = json.loads((run_dir / "manifest.json").read_text()).get("outputs")
    if not recorded:
        raise ValueError(f"{run_dir / 'manifest.json'}: no 'outputs' hashes (an unfinished run, or one "
                         "written before verify existed)")
    now = output_hashes(run_dir)
    for name, digest in recorded.items():
        if name not in now:
            problems.append(f"file {name}: missing")
        elif now[name] != digest:
            problems.append(f"file {name}: content differs from the sha256 recorded in manifest.json")
    problems += [f"file {name}: not in manifest.json's outputs (added after the run)" for name in now
                 if name not in recorded]
    reproduced = json.loads((run_dir / "reproduced.json").read_text())
    pred_path = run_dir / "predictions.csv"
    predictions = pd.read_csv(pred_path) if pred_path.is_file() else None
    cells = [c for c in reproduced["cells"] if c.get("derive") is not None and predictions is not None]
    for cell in cells:
        got = derived_values(cell["derive"], predictions)
        if not _same(got, cell["values"]):
            problems.append(f"cell {cell['table']} / {cell['row']} / {cell['column']}: predictions.csv gives "
                            f"{[round(v, 6) for v in got]}, reproduced.json has "
                            f"{[round(v, 6) for v in cell['values']]}")
    stored = json.loads((run_dir / "results.json").read_text())
    fresh = build_results({**reproduced, "tolerance": stored.get("tolerance")},
                          claims_for(reproduced["paper"]))
    for table, rows in fresh["tables"].items():
        old = {(r["row"], r["column"]): r for r in stored["tables"].get(table, [])}
        for r in rows:
            o = old.get((r["row"], r["column"]))
            if o is None:
                problems.append(f"verdict {table} / {r['row']} / {r['column']}: not in results.json")
            elif o["verdict"] != r["verdict"] or o["paper"] != r["paper"]:
                problems.append(f"verdict {table} / {r['row']} / {r['column']}: results.json says "
                                f"{o['verdict']!r} (paper {o['paper']}), recomputed {r['verdict']!r} (paper "
                                f"{r['paper']})")
    return {"problems": problems, "files": len(recorded), "derived": len(cells),
            "cells": len(reproduced["cells"]), "verdicts": sum(map(len, fresh["tables"].values()))}


def verify_command(run_dir: str, out=None) -> int:
    out = out or sys.stdout
    try:
        result = verify(run_dir)
    except (OSError, ValueError, KeyError) as e:
        print(f"{run_dir}: cannot verify: {e}", file=out)
        return 2
    if result["problems"]:
        print(f"NOT VERIFIED: {run_dir} ({len(result['problems'])} differences)", file=out)
        for p in result["problems"]:
            print(f"  {p}", file=out)
        return 1
    print(f"VERIFIED: {run_dir}: {result['files']} files match their recorded sha256; {result['derived']} of "
          f"{result['cells']} cells recomputed from predictions.csv (the rest come from hashed files); "
          f"{result['verdicts']} verdicts recomputed from reproduced.json and the claims file", file=out)
    return 0
