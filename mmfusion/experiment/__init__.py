"""The one experiment template: every paper's ``reproduce`` is ``reproduce(EXPERIMENT, options)``. It
owns the config (validated before anything is written), the data, the run directory (locked; resumed
only when config, data and code match), config.json, manifest.json, resumable fits (``ctx.fit``), the
seed and weights policies, headline files, metrics.json, the report, timings.json and DONE."""
import contextlib
import dataclasses
import hashlib
import importlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Callable

from mmfusion.evaluation.verify import output_hashes
from mmfusion.experiment import fidelity
from mmfusion.experiment.config import PaperConfig, resolve, shard_of
from mmfusion.experiment.context import Context, Shard, ShardComplete
from mmfusion.experiment.data import load_all
from mmfusion.experiment.seeds import fit_seed
from mmfusion.registry import get_paper
from mmfusion.utils.env import code_version
from mmfusion.utils.io import atomic_write_json


@dataclasses.dataclass(frozen=True)
class Experiment:
    name: str                       # the paper's short name
    config: type                    # a PaperConfig subclass
    datasets: Callable              # cfg -> {dataset name: load_dataset keyword options}
    steps: Callable                 # ctx -> None: the paper's protocol (fits, cells, figures)
    plan: Callable | None = None    # ctx -> plan.Plan (ctx.fit trains its fits as declared; no ctx.run yet)
    optional: tuple = ()            # datasets the steps can do without when --data-dir lacks them


def planning_context(experiment: Experiment, options, probing: bool = False) -> Context:
    """The Context ``experiment.plan`` is given: config validated, data loaded, no run directory yet
    (``probing``: `mmfusion plan` builds the fits without weights)."""
    cfg = resolve(experiment.config, options, owner=experiment.name)   # bad options: nothing written yet
    sources, missing = load_all(experiment.datasets(cfg), experiment.optional, cfg, options)
    ctx = Context(experiment.name, options, cfg, None, sources)
    ctx.missing, ctx.probing = missing, probing   # missing: optional dataset -> why it is absent
    return ctx


def reproduce(experiment: Experiment, options) -> Path:
    """Run ``experiment`` with the CLI's ``options``; returns the run directory."""
    from mmfusion.training.records import new_run_dir

    start = time.perf_counter()
    ctx = planning_context(experiment, options)
    cfg, sources = ctx.cfg, ctx.sources
    data_s = time.perf_counter() - start
    if experiment.plan is not None:
        from mmfusion.experiment.plan import as_plan, describe
        from mmfusion.experiment.progress import RunProgress

        plan = as_plan(experiment.plan(ctx))     # asked once: printed, and its fits shard the run
        print(f"{experiment.name}: {describe(plan)}", file=sys.stderr)
        ctx.planned, ctx.progress = plan.fits, RunProgress(len(plan.fits))
    files = [p for s in sources.values() for p in s.frame["image_path"]]
    labels = [p for s in sources.values() for p in s.frame.attrs.get("label_files", ())]
    labels_digest = _labels_digest(sources)
    shard = ctx.shard = _shard(experiment.name, cfg, ctx.planned)
    tag = "-".join(filter(None, ("quick" if options.quick else "", shard and f"shard{shard[0]}of{shard[1]}")))
    run = ctx.run = new_run_dir(options.out, experiment.name, tag, resume=options.resume,
                                identity=_identity(cfg, options, files, labels, labels_digest))
    with run:
        ctx.timings["data"] += data_s
        run.write_config({"paper": experiment.name, "quick": bool(options.quick), "config": cfg.to_dict(),
                          "options": _run_options(options),
                          "data": {k: s.describe() for k, s in sources.items()}})
        reports = {k: s.frame.attrs.get("report") for k, s in sources.items()}
        run.write_manifest(options.seed, data_files=files, label_files=labels,
                           extra={"load_reports": reports, "labels_fingerprint": labels_digest})
        if shard is not None:
            return _run_shard(experiment, ctx)
        experiment.steps(ctx)
        _finish(experiment, ctx, time.perf_counter() - start)
        run.write_json("timings.json", {**ctx.timings, "total": time.perf_counter() - start})
        record_outputs(run.path)
        run.mark_done()
    return run.path


def _shard(name: str, cfg, planned):
    """The Shard for ``--set shard=i/n`` (None unsharded): fits dealt round-robin in steps() order; a
    ``shared`` fit (later fits depend on its result, e.g. mias-xai's class-weight candidates) is trained
    by shard 1 and every shard with a fit after it, so no shard decides on an untrained stand-in."""
    if cfg.shard is None:
        return None
    if planned is None:
        raise ValueError(f"{name} has no plan, so its fits cannot be sharded")
    i, n = shard_of(cfg.shard)
    dealt = [k for k, fit in enumerate(planned) if not fit.shared]
    mine = {k for j, k in enumerate(dealt) if j % n == i - 1}
    own = mine | {k for k, fit in enumerate(planned) if fit.shared and (i == 1 or k < max(mine, default=-1))}
    return Shard(i, n, frozenset(own), max(own, default=None))


def _run_shard(experiment: Experiment, ctx) -> Path:
    """Train this shard's fits and stop: ``mmfusion merge`` joins the shards and reports."""
    i, n = ctx.shard.i, ctx.shard.n
    with contextlib.suppress(ShardComplete):
        if ctx.shard.last is not None:
            experiment.steps(ctx)
    ctx.run.write_json("shard.json", {"shard": f"{i}/{n}", "fits_trained": ctx.fits_trained})
    ctx.say(f"shard {i}/{n} done ({len(ctx.fits_trained)} fits); join the shards with: "
            f"mmfusion merge SHARD_DIR... --out DIR")
    ctx.run.mark_done()
    return ctx.run.path


def _labels_digest(sources) -> str:
    """sha256 of every sample's id, label and group: relabelled or regrouped data is other data."""
    digest = hashlib.sha256()
    for name, source in sorted(sources.items()):
        digest.update(name.encode())
        digest.update(source.frame[["sample_id", "label", "group_id"]].to_csv(index=False).encode())
    return digest.hexdigest()


def _identity(cfg, options, files, labels, labels_digest) -> dict:
    """What a resume must match: config, options, data, code (no commit suffix: docs-only commits pass)."""
    from mmfusion.training.records import data_fingerprint
    return {"config": cfg.to_dict(), "options": _run_options(options),
            "data_fingerprint": data_fingerprint(files, labels), "labels_fingerprint": labels_digest,
            "code_version": re.sub(r"\+g[0-9a-f]+", "", code_version())}


def reproduce_paper(name: str, options) -> Path:
    """``mmfusion reproduce NAME``: the registered paper's EXPERIMENT on the template."""
    return reproduce(get_paper(name).experiment(), options)


def record_outputs(run_dir) -> None:
    """The content hashes ``mmfusion verify`` checks, in manifest.json's ``outputs``."""
    path = Path(run_dir) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["outputs"] = output_hashes(run_dir)
    atomic_write_json(path, manifest)


def _finish(experiment: Experiment, ctx: Context, elapsed: float = None) -> None:
    from mmfusion.evaluation.report import write_report
    if ctx.planned is not None and ctx.fits_seen != len(ctx.planned):
        raise RuntimeError(f"{experiment.name}: steps() made {ctx.fits_seen} fits, its plan() declares "
                           f"{len(ctx.planned)} (next: {ctx.planned[ctx.fits_seen:][:1]})")
    unused = ctx.unused_weights_note()
    if unused:
        ctx.say(unused)
        ctx.note(unused)
    missing = ctx.missing_headline()
    if missing:
        raise RuntimeError(f"{experiment.name}: the pipeline wrote no headline {', '.join(missing)} "
                           "(ctx.headline(...))")
    if ctx.synthetic:
        ctx.note("SYNTHETIC TWIN data: the numbers check the pipeline, not the paper")
    if ctx.quick:
        ctx.note("QUICK run: tiny sizes and epochs; its numbers judge nothing about the paper")
    ctx.run.write_metrics({**ctx.metrics, "notes": ctx.notes})
    full = [s.full_size for s in ctx.sources.values()]
    with ctx.stage("report"):
        rows = getattr(importlib.import_module(experiment.config.__module__), "FIDELITY", ())
        fidelity_section = ("## Fidelity to the paper's protocol (the paper() config)\n\n"
                            + fidelity.markdown(rows) if rows else "")
        base = (experiment.config.quick() if ctx.quick else experiment.config.paper()).to_dict()
        changed = {k: v for k, v in ctx.cfg.to_dict().items() if base.get(k) != v}   # options off the base
        write_report(ctx.run.path, {
            "paper": experiment.name, "dataset": "+".join(ctx.sources),
            "synthetic": ctx.synthetic, "quick": ctx.quick,
            "data": {"n": sum(s.n for s in ctx.sources.values()),
                     "N": sum(full) if all(f is not None for f in full) else None},
            "cells": ctx.cells, "notes": ctx.notes, "appendix": [fidelity_section],
            "run": {"wall_s": elapsed, "changed": changed,
                    "data": {k: s.describe() for k, s in ctx.sources.items()}}},
            tolerance=ctx.options.tolerance)


def _run_options(options) -> dict:
    """The options that shape results (not where files go, not whether to resume)."""
    return {k: v for k, v in dataclasses.asdict(options).items()
            if k not in ("out", "resume", "cache_dir", "data_dir", "data_origin", "extra", "tensorboard",
                         "tolerance")}


__all__ = ["Experiment", "PaperConfig", "Context", "reproduce", "reproduce_paper", "fit_seed"]
