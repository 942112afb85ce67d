"""A paper's whole protocol, end to end (hours): ``python -m mmfusion.bench.protocol --data-dir D``.

Runs ``mmfusion reproduce <paper> --data-dir D --weights none --fresh`` in a child process and
prints one JSON line: wall time, the child's peak RSS, the template's stages (``timings.json``) and,
per fit, its epochs (``history.csv``), training seconds (``fit.json``) and span (from the previous
fit's ``fit.json``, or the run's ``config.json``, to its own, by file times). ``--code DIR`` times
another checkout (the child runs in DIR; the run's manifest must name DIR's commit); ``--run-dir R``
only summarises a run on disk (a resumed run: the last process's stages, no wall time).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from mmfusion.bench.harness import emit, header, load_average, timed
from mmfusion.training.loop import FIT_DONE
from mmfusion.training.records import read_history
from mmfusion.utils.env import git_commit

STAGES = ("data", "training", "evaluation", "explanations", "report")


def stage_split(path) -> dict:
    """One run's ``timings.json`` as the stages, their total, the largest and the rest."""
    timings = json.loads(Path(path).read_text())
    missing = [k for k in (*STAGES, "total") if k not in timings]
    if missing:
        raise ValueError(f"{path}: timings.json lacks {missing}; expected keys {[*STAGES, 'total']}")
    out = {k: float(timings[k]) for k in (*STAGES, "total")}
    out["largest"] = max(STAGES, key=lambda k: out[k])
    out["other"] = out["total"] - sum(out[k] for k in STAGES)   # template work outside the stages
    return out


def per_epoch(fit: str, record: dict, given) -> int | None:
    """A fit's training images per epoch: its fit.json's, else ``given`` (an int, or by path prefix)."""
    if record.get("samples_per_epoch"):
        return record["samples_per_epoch"]
    if not isinstance(given, dict):
        return given
    prefixes = [p for p in given if fit.startswith(p)]
    return given[max(prefixes, key=len)] if prefixes else None


def parse_per_epoch(text: str | None):
    """``--images-per-epoch``: ``1680``, or per fit-path prefix ``stratified=1680,patient=1632``."""
    if not text or "=" not in text:
        return int(text) if text else None
    return {prefix: int(n) for prefix, n in (item.split("=", 1) for item in text.split(","))}


def fit_figures(run_dir, images_per_epoch=None) -> list[dict]:
    """Every finished fit under ``run_dir`` (a ``fit.json``), in the order they finished."""
    fits = []
    config = Path(run_dir) / "config.json"
    previous = config.stat().st_mtime if config.exists() else None
    for done in sorted(Path(run_dir).rglob(FIT_DONE), key=lambda p: p.stat().st_mtime):
        record = json.loads(done.read_text())
        epochs = len(read_history(done.parent / "history.csv"))
        seconds = record.get("train_seconds")
        finished = done.stat().st_mtime
        # from the previous fit's end (the run's start for the first): build, trace, train, evaluate
        span = finished - previous if previous is not None else None
        previous = finished
        name = done.parent.relative_to(run_dir).as_posix()
        images = per_epoch(name, record, images_per_epoch)
        fit = {"fit": name, "epochs": epochs, "images_per_epoch": images,
               "best_epoch": record.get("best_epoch"), "train_seconds": seconds, "span_seconds": span}
        if images and seconds and epochs:
            fit["train_img_s"] = epochs * images / seconds
        if images and span and epochs:
            fit["span_img_s"] = epochs * images / span
        fits.append(fit)
    return fits


def summarise(run_dir, images_per_epoch=None) -> dict:
    """The stages of ``run_dir``'s timings.json (when it finished) and its fits, summed."""
    run_dir = Path(run_dir)
    fits = fit_figures(run_dir, images_per_epoch)
    timed = [f["train_seconds"] for f in fits if f["train_seconds"] is not None]
    spans = [f["span_seconds"] for f in fits]
    out = {"run_dir": str(run_dir), "finished": (run_dir / "timings.json").exists(), "fits": len(fits),
           "epochs": sum(f["epochs"] for f in fits),
           "fits_train_seconds": sum(timed) if len(timed) == len(fits) else None,
           "fits_span_seconds": sum(spans) if fits and None not in spans else None,
           "images": sum(f["epochs"] * f["images_per_epoch"] for f in fits)
           if all(f["images_per_epoch"] for f in fits) else None,
           "per_fit": fits}
    if out["finished"]:
        out.update(stage_split(run_dir / "timings.json"))
    return out


def newest_run(out_dir, paper: str) -> Path:
    runs = sorted((Path(out_dir) / paper).glob("*/config.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise FileNotFoundError(f"{Path(out_dir) / paper}: no run directory (config.json) was written")
    return runs[-1].parent


def run_protocol(args: list[str], out_dir, paper: str, code=None) -> tuple[Path, float, float, int]:
    """``mmfusion <args>`` in a child (in ``code``: paths must be absolute): (run directory, wall s,
    peak RSS GB, exit status)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    cwd = None
    if code:
        cwd = Path(code).resolve()
        env["PYTHONPATH"] = str(cwd)
        imported = subprocess.run([sys.executable, "-c", "import mmfusion; print(mmfusion.__file__)"],
                                  env=env, cwd=cwd, capture_output=True, text=True).stdout.strip()
        if not imported.startswith(str(cwd) + os.sep):   # caught before hours of running, not after
            raise SystemExit(f"--code {code}: the child imports mmfusion from {imported or 'nowhere'}")
    child, wall = timed(lambda: subprocess.run([sys.executable, "-m", "mmfusion", *args], env=env, cwd=cwd,
                                               check=False))
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20   # Linux: KiB
    return newest_run(out_dir, paper), wall, peak_gb, child.returncode


def run_commit(run_dir, code=None) -> str | None:
    """The commit the run's manifest names; with ``code``, it must be that checkout's."""
    manifest = Path(run_dir) / "manifest.json"
    commit = json.loads(manifest.read_text()).get("git_commit") if manifest.exists() else None
    if code and commit != (expected := git_commit(code)):
        raise SystemExit(f"{manifest}: the run names commit {commit}, not {code}'s {expected}: "
                         "the child did not import the checkout given with --code")
    return commit


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmfusion.bench.protocol", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paper", default="mias-xai")
    parser.add_argument("--data-dir", help="the dataset (or its twin) as downloaded")
    parser.add_argument("--out", default="bench-protocol-runs", help="runs are written under OUT/<paper>/")
    parser.add_argument("--code", help="a checkout to time instead of this one (the child's PYTHONPATH)")
    parser.add_argument("--run-dir", help="summarise this run directory instead of running")
    parser.add_argument("--images-per-epoch", type=parse_per_epoch, metavar="N | PREFIX=N,...",
                        help="for fits whose fit.json lacks samples_per_epoch (older runs; mias-xai on "
                             "the real-count twin: stratified=1680,patient=1632)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to mmfusion reproduce")
    parser.add_argument("--quick", action="store_true",
                        help="the quick protocol on the synthetic twin (checks the command, not a figure)")
    args = parser.parse_args(argv)
    if not (args.run_dir or args.data_dir or args.quick):
        parser.error("give --data-dir (run the protocol), --quick or --run-dir (summarise a run)")
    header(quick=args.quick)
    if args.run_dir:
        emit("protocol", f"{args.paper} (summary of a run on disk)",
             **summarise(args.run_dir, args.images_per_epoch))
        return 0
    load_before = load_average()
    out_dir = Path(args.out).resolve()
    data = ["--data-dir", str(Path(args.data_dir).resolve())] if args.data_dir else []
    extra = [a for kv in args.set for a in ("--set", kv)] + (["--quick"] if args.quick else [])
    command = ["reproduce", args.paper, *data, "--weights", "none", "--fresh", "--out", str(out_dir), *extra]
    run_dir, wall, peak_gb, status = run_protocol(command, out_dir, args.paper, args.code)
    commit = run_commit(run_dir, args.code)
    source = f"--data-dir {args.data_dir}" if args.data_dir else "the synthetic twin"
    emit("protocol", f"{args.paper} {source}{' --quick' if args.quick else ''}", exit_status=status,
         wall_s=wall, peak_rss_gb=peak_gb, load_before=load_before, load_after=load_average(),
         code=args.code or "this checkout", git_commit=commit,
         **summarise(run_dir, args.images_per_epoch), command=" ".join(["mmfusion", *command]))
    return status


if __name__ == "__main__":
    sys.exit(main())
