"""Benchmarks: ``python -m mmfusion.bench [all|NAME ...] [--quick]``, each a module with ``run(quick)``.
A paper's whole protocol (hours): ``python -m mmfusion.bench.protocol``. Measured: ``bench/RESULTS.md``."""
BENCHES = ("pipeline", "models", "xai", "smote", "gpu")
