"""Benchmarks: ``python -m mmfusion.bench [all|NAME ...] [--quick]`` prints JSON lines and a table.

Each bench is a module with ``run(quick)``. A paper's whole protocol (hours) has its own command,
``python -m mmfusion.bench.protocol``. Measured figures are in ``mmfusion/bench/RESULTS.md``.
"""
BENCHES = ("pipeline", "models", "xai", "smote", "gpu")
