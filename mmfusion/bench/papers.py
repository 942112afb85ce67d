"""Each paper's quick run end to end, its wall time split into the template's stages.

``mmfusion reproduce <paper> --quick --fresh`` runs in its own process (a fresh process, as a user
gets: no traced model carried over from another paper); the split comes from the run's
``timings.json`` (data, training, evaluation, explanations, report, total; seconds). A run without
that file is reported with the measured wall time as its total and no split.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mmfusion.bench.harness import emit

STAGES = ("data", "training", "evaluation", "explanations", "report")


def read_timings(out_dir, paper: str, wall: float) -> dict:
    """The newest run's timings.json under ``out_dir/paper``; the wall time when there is none."""
    runs = sorted((Path(out_dir) / paper).glob("*/timings.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        return {"total": wall, "split": "none (no timings.json): total is the process's wall time"}
    return stage_split(runs[-1])


def stage_split(path) -> dict:
    """One run's ``timings.json`` as the stages, their total, the largest and the rest."""
    timings = json.loads(Path(path).read_text())
    missing = [k for k in (*STAGES, "total") if k not in timings]
    if missing:
        raise ValueError(f"{path}: timings.json lacks {missing}; expected keys {[*STAGES, 'total']}")
    total = float(timings["total"])
    out = {k: float(timings[k]) for k in (*STAGES, "total")}
    out["largest"] = max(STAGES, key=lambda k: out[k])
    out["other"] = total - sum(out[k] for k in STAGES)   # template work outside the stages
    return out


def run(quick: bool) -> None:
    from mmfusion.registry import list_papers

    for spec in list_papers():
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "mmfusion", "reproduce", spec.name, "--quick",
                                   "--fresh", "--out", out], capture_output=True, text=True, check=False)
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                emit("papers", f"{spec.name} --quick", error=proc.stderr[-1500:], wall_s=wall)
                continue
            emit("papers", f"{spec.name} --quick", wall_s=wall, **read_timings(out, spec.name, wall),
                 command=f"mmfusion reproduce {spec.name} --quick")
