"""What a paper's pipeline gets from the template: the run, its data, and one way to do each
shared step (seeds, weights, training config, resumable fits, cells, headline files, timings)."""
import contextlib
import dataclasses
import functools
import json
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mmfusion.experiment.seeds import fit_seed
from mmfusion.utils.gpu import jit_compile, tensorboard_callbacks

STAGES = ("data", "training", "evaluation", "explanations", "report")


class ShardComplete(Exception):
    """This shard's last own fit is trained: the rest is other shards' or the merge's."""


class Shard(NamedTuple):
    """``--set shard=i/n``: the fits (indices in steps() order) this shard trains, and its last."""
    i: int
    n: int
    own: frozenset
    last: int | None


class Context:
    def __init__(self, name: str, options, cfg, run, sources: dict):
        self.name, self.options, self.cfg, self.run = name, options, cfg, run
        self.sources = sources                  # dataset name -> DataSource
        self.missing: dict = {}                 # optional dataset absent from --data-dir -> why
        self.cells: list = []                   # reproduced cells (table, row, column, values, ...)
        self.notes, self.metrics, self.timings = [], {}, dict.fromkeys(STAGES, 0.0)
        self._headline, self._weights_used = {}, set()
        self.shard: Shard | None = None         # when sharded: which fits this process trains
        self.fits_trained, self.fits_seen = [], 0    # fits trained here; ctx.fit calls so far
        self.planned = None                     # the plan's PlannedFits, in order (the template sets them)
        self.probing = False                    # planning for `mmfusion plan`: no weights are loaded
        from mmfusion.experiment.progress import RunProgress

        self.progress = RunProgress(None)       # the template sets the planned number of fits

    @property
    def quick(self) -> bool:
        return bool(self.options.quick)

    @property
    def synthetic(self) -> bool:
        return any(s.synthetic for s in self.sources.values())

    @property
    def frame(self):
        """The frame of the paper's one dataset (papers with several use ``sources[name].frame``)."""
        if len(self.sources) != 1:
            raise ValueError(f"{self.name} loads {len(self.sources)} datasets; use ctx.sources[name]")
        return next(iter(self.sources.values())).frame

    @property
    def tag(self) -> str:
        """Suffix for every figure title: a reader of a lone PNG must see what it is not."""
        parts = (["SYNTHETIC TWIN"] if self.synthetic else []) + (["QUICK RUN"] if self.quick else [])
        return (" — " + ", ".join(parts)) if parts else ""

    def seed(self, fold: int = 0, run: int = 0) -> int:
        return fit_seed(self.options.seed, fold, run)

    def weights(self, arch: str | None):
        """The backbone weights for ``arch``: none on a quick run (no download for tiny inputs) or an
        architecture without them; a folder given as --weights holds each backbone's Keras file."""
        from mmfusion.models.backbones import ARCHS

        weights = self.options.weights
        if self.quick or self.probing or arch is None or arch not in ARCHS or not ARCHS[arch].weights_file:
            return None
        if weights and weights != "imagenet" and Path(weights).is_dir():
            weights = str(Path(weights) / ARCHS[arch].weights_file)
        self._weights_used.add(arch)
        return weights

    def train_config(self, **fields):
        """A TrainConfig of the run's epochs, batch size, seed, GPU flags and verbosity; ``fields`` win."""
        from mmfusion.training import TrainConfig
        base = dict(epochs=self.cfg.epochs, batch_size=self.cfg.batch_size, seed=self.seed(),
                    mixed_precision=bool(self.options.mixed_precision),
                    jit_compile=jit_compile(self.options.jit), verbose=0 if self.quick else "auto",
                    run_eagerly=self.quick)
        if getattr(self.options, "deterministic", None) is not None:
            base["deterministic"] = bool(self.options.deterministic)
        return TrainConfig(**{**base, **fields})

    def fit(self, name: str, train, val, build=None, config=None, build_args=None, **changes):
        """``training.fit`` of the plan's next fit, ``name``, in its sub-run, built and configured as its
        PlannedFit declares (``build_args`` and config ``changes``: what only the data decides; ``build``
        and ``config``: for a paper without a plan). Reloaded when an interrupted run finished it."""
        from mmfusion.training import fit
        index, self.fits_seen = self.fits_seen, self.fits_seen + 1
        if self.planned is not None:
            declared = self.planned[index] if index < len(self.planned) else None
            if declared is None or declared.name != name:
                # shards deal fits by plan order, and estimates count them: a drift must stop the run
                raise RuntimeError(f"{self.name}: fit {index + 1} is {name!r}, its plan() declares "
                                   f"{declared.name if declared else 'no more fits'!r}")
            if build is not None or config is not None:
                raise TypeError(f"{self.name}: fit {name!r} is built and configured by its plan()")
            build, config = declared.build, declared.config
        elif build is None or config is None:
            raise TypeError(f"{self.name}: fit {name!r} has no plan, so it needs build and config")
        build = functools.partial(build, **build_args) if build_args else build
        config = dataclasses.replace(config, **changes) if changes else config
        if self.shard and index not in self.shard.own:
            from mmfusion.training.loop import FitResult

            return FitResult(build(), {}, None)   # another shard's fit: an untrained stand-in, never saved
        line = self.progress.callback(index, name)
        callbacks = [line, *tensorboard_callbacks(getattr(self.options, "tensorboard", None),
                                                  f"{self.run.path.name}/{name}")]
        with self.stage("training"):
            result = fit(build, train, val, config, run=self.run.child(name), callbacks=callbacks)
        if line.start is None:
            total = f"/{self.progress.planned}" if self.progress.planned else ""
            self.progress.say(f"fit {index + 1}{total} {name}: trained earlier in this run directory, "
                              "reloaded")
        line.finished()
        self.fits_trained.append(name)
        if self.shard and index == self.shard.last:
            raise ShardComplete(name)
        return result

    def cell(self, table: str, row: str, column: str, values, note: str = "", **extra) -> dict:
        cell = {"table": table, "row": row, "column": column,
                "values": np.atleast_1d(np.asarray(values, dtype=float)).tolist(), "note": note, **extra}
        self.cells.append(cell)
        return cell

    def note(self, text: str) -> None:
        self.notes.append(text)

    def skipped(self, what: str, counts: dict, total: int, details=None) -> None:
        """Samples a step left out: counted on the console, in manifest.json and in the notes."""
        counts = {k: int(v) for k, v in counts.items() if v}
        if not counts:
            return
        text = f"{what}: kept {total - sum(counts.values())} of {total}; skipped " + \
            ", ".join(f"{n} {reason}" for reason, n in counts.items())
        self.say(text)
        self.note(text)
        path = self.run.path / "manifest.json"
        manifest = json.loads(path.read_text())
        manifest.setdefault("skipped", {})[what] = {**counts, **({"details": details} if details else {})}
        self.run.write_json("manifest.json", manifest)

    def headline(self, predictions=None, history=None, model=None) -> None:
        """The top-level predictions.csv / history.csv / model.keras: the paper's headline row."""
        for key, value, write in (("predictions", predictions, "write_predictions"),
                                  ("history", history, "write_history"), ("model", model, "save_model")):
            if value is not None:
                getattr(self.run, write)(value)
                self._headline[key] = True

    def missing_headline(self) -> list:
        return [k for k in ("predictions", "history", "model") if k not in self._headline]

    def unused_weights_note(self) -> str | None:
        weights = self.options.weights
        if weights and weights != "imagenet" and not self._weights_used:
            why = ("a quick run trains from scratch" if self.quick
                   else "no model of this run has pretrained weights")
            return f"--weights {weights} was given but not used ({why})"
        return None

    @contextlib.contextmanager
    def stage(self, name: str):
        """Wall time spent in ``name`` (nested stages count once, in the outer one)."""
        if name not in self.timings:
            raise ValueError(f"unknown stage {name!r}; expected one of {STAGES}")
        if getattr(self, "_in_stage", None):
            yield
            return
        self._in_stage, start = name, time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] += time.perf_counter() - start
            self._in_stage = None

    def say(self, text: str) -> None:
        print(f"{self.name}: {text}", file=sys.stderr)
