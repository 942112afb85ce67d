"""``python -m mmfusion.bench [all|NAME ...] [--quick]``: JSON lines while running, then a table."""
import argparse
import importlib
import os
import sys
import time

from mmfusion.bench import BENCHES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmfusion.bench", description=__doc__)
    parser.add_argument("names", nargs="*", default=["all"], help=f"all or any of {', '.join(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="small sizes (under 5 minutes on 2 CPU cores)")
    args = parser.parse_args(argv)
    names = list(BENCHES) if "all" in args.names else args.names
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {unknown}; expected all or any of {', '.join(BENCHES)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from mmfusion.bench import harness

    harness.header(args.quick)
    for name in names:
        start = time.perf_counter()
        try:
            importlib.import_module(f"mmfusion.bench.{name}").run(args.quick)
        except Exception as err:   # one failing bench must not hide the others' figures
            harness.emit(name, "error", error=f"{type(err).__name__}: {err}")
        harness.emit(name, "wall", seconds=time.perf_counter() - start)
    print()
    print(harness.format_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
