"""``mmfusion merge SHARD_DIR... --out DIR``: shards of one run (same config, data and code, a full
set) joined: every finished fit is copied into a new run directory with the unsharded identity, where
the paper then runs as a resume (fits reloaded; evaluation, explanations and report as unsharded)."""
import json
import shutil
from pathlib import Path

from mmfusion.experiment import reproduce_paper
from mmfusion.experiment.config import shard_of
from mmfusion.registry import ReproduceOptions


def _read(path: Path, name: str) -> dict:
    file = path / name
    if not file.is_file():
        raise ValueError(f"{path}: no {name}; is it a run directory written by `mmfusion reproduce --set "
                         f"shard=I/N`?")
    return json.loads(file.read_text())


def check_shards(dirs) -> tuple[dict, int]:
    """The unsharded identity the shards share, and N; a clear error otherwise."""
    identities, parts = [], {}
    for d in dirs:
        shard, identity = _read(d, "shard.json")["shard"], _read(d, "identity.json")
        identity["config"] = {**identity["config"], "shard": None}
        identities.append(identity)
        i, n = shard_of(shard)
        parts.setdefault(n, {}).setdefault(i, []).append(d)
    for d, identity in zip(dirs[1:], identities[1:]):
        if identity != identities[0]:
            differs = sorted(k for k in identity if identity[k] != identities[0].get(k))
            raise ValueError(f"{d} and {dirs[0]} are shards of different runs ({', '.join(differs)} differ)")
    if len(parts) != 1:
        raise ValueError(f"the shards split the run in different ways: {sorted(parts)} shares")
    (n, got), = parts.items()
    missing = sorted(set(range(1, n + 1)) - set(got))
    twice = sorted(i for i, ds in got.items() if len(ds) > 1)
    if missing or twice:
        raise ValueError(f"shards of {n}: " + "; ".join(filter(None, (
            missing and f"missing {', '.join(f'{i}/{n}' for i in missing)}",
            twice and f"given twice {', '.join(f'{i}/{n}' for i in twice)}"))))
    return identities[0], n


def _options(paper: str, identity: dict, config: dict, out, first: Path):
    """The ReproduceOptions that reproduce this identity (data roots from the first shard)."""
    data = _read(first, "config.json").get("data", {})
    real = [d["root"] for d in data.values() if not d["synthetic"]]
    twins = [Path(d["root"]) for d in data.values() if d["synthetic"]]
    cache = None
    if twins:   # <cache root>/twins/<name>-seed0-n<n>/<loader root>: the merge reuses the same twin
        twin_dir = next(p for p in [twins[0], *twins[0].parents] if p.parent.name == "twins")
        cache = str(twin_dir.parent.parent)
    extra = {k: v for k, v in config.items() if k != "shard"}
    return ReproduceOptions(**{**identity["options"], "paper": paper}, out=str(out), resume=True, extra=extra,
                            data_dir=real[0] if len(real) == 1 else None, cache_dir=cache)


def merge(dirs, out) -> Path:
    from mmfusion.training.records import new_run_dir
    dirs = [Path(d) for d in dirs]
    identity, _ = check_shards(dirs)
    paper = _read(dirs[0], "config.json")["paper"]
    options = _options(paper, identity, identity["config"], out, dirs[0])
    with new_run_dir(out, paper, "quick" if options.quick else "", identity=identity) as run:
        for shard in dirs:
            for done in shard.rglob("fit.json"):
                fit, into = done.parent, run.path / done.parent.relative_to(shard)
                if not (into / "fit.json").exists():    # a shared fit: every shard that trained it has it
                    shutil.copytree(fit, into, dirs_exist_ok=True)
        merged = run.path
    result = reproduce_paper(paper, options)
    if Path(result) != merged:
        raise RuntimeError(f"the merge ran in {result}, not in {merged}: another unfinished run of {paper} "
                           f"is newer under {out}; merge into an empty --out")
    return result
