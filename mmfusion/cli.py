"""Command line: ``mmfusion list | fixtures | reproduce | plan | merge | audit | report | verify | kaggle``.

Exit codes: 0 ok, 2 usage or bad input, 1 failure. Only the subcommands that run models import TensorFlow."""
import argparse
import os
import sys
import traceback
from pathlib import Path

from mmfusion.evaluation.summary import first_screen
from mmfusion.evaluation.verify import verify_command
from mmfusion.kaggle import main as kaggle_main
from mmfusion.registry import ReproduceOptions, get_paper, list_papers
from mmfusion.utils import quiet
from mmfusion.utils.gpu import resolve_mixed_precision

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or input: exit code 2."""


def _parse_set(items) -> dict:
    """``--set key=value``: values parsed as YAML scalars (ints, floats, bools, lists)."""
    import yaml

    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def cmd_kaggle(args) -> int:
    try:
        return kaggle_main(args.kaggle_args)
    except SystemExit as exit_:     # its argparse: --help exits 0, bad usage exits 2
        return int(exit_.code or 0)


def cmd_list(args) -> int:
    from mmfusion.evaluation.claims import claims_summary

    papers = list_papers()
    for spec in papers:
        counts = claims_summary(spec.name)
        kinds = ", ".join(f"{n} {k}" for k, n in counts.items() if k not in ("total", "numbers"))
        print(f"{spec.name}\n  {spec.title}\n  datasets: {', '.join(spec.datasets)}\n"
              f"  claims: {counts['total']} ({kinds}); tables: {'; '.join(spec.tables)}")
    print(f"{len(papers)} papers")
    return EXIT_OK


def cmd_fixtures(args) -> int:
    from mmfusion.data import DATASETS
    from mmfusion.data.synthetic import write_twin

    names = [args.dataset] if args.dataset else list(DATASETS)
    for name in names:
        if name not in DATASETS:
            raise UsageError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
        # one folder per dataset: several twins in one folder would mix their files
        root = write_twin(name, Path(args.out) / name, n=args.n, seed=args.seed, **_counts(args.counts, name))
        print(f"{name}: {root}   (pass this as --data-dir)")
    return EXIT_OK


def _counts(text, name) -> dict:
    """``--counts 207,64,51``: the mias twin's normal/benign/malignant films (others take none)."""
    if text is None:
        return {}
    if name != "mias":
        raise UsageError(f"--counts is for the mias twin only (got dataset {name!r})")
    try:
        return {"counts": tuple(int(c) for c in text.split(","))}
    except ValueError:
        raise UsageError(f"--counts expects normal,benign,malignant integers, got {text!r}") from None


def _options(args):
    try:
        spec = get_paper(args.paper)
    except KeyError as err:
        raise UsageError(err.args[0]) from None
    return spec, ReproduceOptions(paper=spec.name, data_dir=args.data_dir, out=args.out, quick=args.quick,
                                  epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                                  weights=None if args.weights.lower() == "none" else args.weights,
                                  mixed_precision=resolve_mixed_precision(args.mixed_precision),
                                  jit=args.jit, deterministic=args.deterministic,
                                  tensorboard=args.tensorboard,
                                  cache_dir=args.cache_dir, resume=not args.fresh, tolerance=args.tolerance,
                                  extra=_parse_set(args.set))


def cmd_plan(args) -> int:
    from mmfusion.experiment.plan import plan_text

    spec, options = _options(args)
    if spec.experiment().plan is None:
        raise UsageError(f"{spec.name} has no plan yet")
    print(plan_text(spec.name, options, measure=not args.no_probe))
    return EXIT_OK


def cmd_merge(args) -> int:
    from mmfusion.experiment.merge import merge

    run_dir = merge(args.shards, args.out)
    report = Path(run_dir) / "report.md"
    if report.is_file():
        print(report.read_text())
    print(f"run directory: {run_dir}")
    return EXIT_OK


def cmd_reproduce(args) -> int:
    spec, options = _options(args)
    from mmfusion.experiment import reproduce_paper

    run_dir = reproduce_paper(spec.name, options)
    report = Path(run_dir) / "report.md"
    if report.is_file():   # the first screen; the tables are in the files
        print(first_screen(report.read_text()))
        print(f"full report: {report} and {report.with_suffix('.html')}")
    print(f"run directory: {run_dir}")
    return EXIT_OK


def cmd_audit(args) -> int:
    from mmfusion.evaluation.audit import audit_command

    return int(audit_command(args.target, args.json, sys.stdout))


def cmd_report(args) -> int:
    from mmfusion.evaluation.report import report_command

    return int(report_command(args.run_dir, sys.stdout, args.tolerance))


def _run_arguments(p) -> None:
    p.add_argument("paper", help="short paper name (see `mmfusion list`)")
    p.add_argument("--data-dir", help="the dataset as downloaded (default: the cached synthetic twin)")
    p.add_argument("--out", default="runs", help="runs are written to OUT/<paper>/<timestamp>/")
    p.add_argument("--quick", action="store_true", help="tiny sizes and epochs (minutes on 2 CPUs)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default="imagenet",
                   help="imagenet | none | path to a local .h5 / .weights.h5 file")
    p.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction, default=None,
                   help="mixed_float16 (default: on only if every GPU has compute capability >= 7.0)")
    p.add_argument("--jit", action="store_true", help="XLA for every model (default: Keras's 'auto')")
    p.add_argument("--deterministic", action=argparse.BooleanOptionalAction, default=None,
                   help="deterministic TF ops (default on: repeatable, slower on GPU)")
    p.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs under DIR")
    p.add_argument("--cache-dir", help="where synthetic twins are cached (default .mmfusion_cache)")
    p.add_argument("--fresh", action="store_true", help="always start a new run directory (default: continue "
                   "the newest unfinished run of this paper, e.g. after a kill or a Kaggle session timeout)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="paper-specific option")
    p.add_argument("--tolerance", type=float, help="δ of the verdict rule for every cell (default: each "
                                                    "claim's, else 0.2 of a bounded range)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mmfusion", description="Reproduce five papers on "
                                     "explainable medical-image classification.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, func, help, **kwargs):
        p = sub.add_parser(name, help=help, **kwargs)
        p.set_defaults(func=func)
        return p

    command("list", cmd_list, "the papers, their datasets and the tables each reproduces")

    p = command("fixtures", cmd_fixtures, "write synthetic twins of the datasets")
    p.add_argument("--out", required=True, help="folder to write the twins into")
    p.add_argument("--dataset", help="only this dataset (default: all)")
    p.add_argument("--n", type=int, default=None, help="samples per twin (default: the twin's own)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--counts", help="mias only: normal,benign,malignant films, e.g. 207,64,51 as the "
                                    "real MIAS (with --n 322) for timing runs")

    _run_arguments(command("reproduce", cmd_reproduce, "run a paper's experiments and write a run directory"))

    p = command("plan", cmd_plan, "what `reproduce` would train, and an estimate on this device")
    _run_arguments(p)
    p.add_argument("--no-probe", action="store_true", help="list the trainings only (no timing probe)")

    p = command("merge", cmd_merge,
                "join the shard run directories of one run (--set shard=I/N) into one run")
    p.add_argument("shards", nargs="+", metavar="SHARD_DIR")
    p.add_argument("--out", required=True, help="the merged run is written to OUT/<paper>/<timestamp>/")

    command("kaggle", cmd_kaggle, "Kaggle / Colab notebooks: render | push | build-wheel", add_help=False)

    p = command("audit", cmd_audit, "check claims files against reproduced results")
    p.add_argument("target", nargs="?", default="all", help="a paper name or 'all'")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("report", cmd_report, "(re)write the report of a run directory")
    p.add_argument("run_dir")
    p.add_argument("--tolerance", type=float, help="δ of the verdict rule for every cell (e.g. 0.05)")

    p = command("verify", lambda args: int(verify_command(args.run_dir, sys.stdout)),
                "re-check a run: file hashes, cells from predictions.csv, verdicts")
    p.add_argument("run_dir")
    return parser


def entry() -> None:
    quiet.install()
    raise SystemExit(main())


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # TensorFlow's C++ start-up chatter
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:   # `kaggle` has its own parser (mmfusion.kaggle.main): its --help and actions pass through
        args = (argparse.Namespace(func=cmd_kaggle, kaggle_args=argv[1:]) if argv[:1] == ["kaggle"]
                else parser.parse_args(argv))
    except SystemExit as exit_:     # argparse: --help exits 0, bad usage exits 2
        return int(exit_.code or 0)
    try:
        return args.func(args)
    except (UsageError, ValueError) as err:   # includes mmfusion.data.DatasetError
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as err:   # noqa: BLE001 - the CLI reports any failure as exit 1
        if os.environ.get("MMFUSION_DEBUG"):
            traceback.print_exc()
        print(f"error: {type(err).__name__}: {err} (set MMFUSION_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
