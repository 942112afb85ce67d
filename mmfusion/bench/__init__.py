"""Benchmarks: ``python -m mmfusion.bench [all|NAME ...] [--quick]`` prints JSON lines and a table.

Benches (each a module with ``run(quick)``): ``pipeline`` (input pipeline alone and feeding
training), ``models`` (train / inference images/s, FLOPs, fraction of peak), ``xai``
(explanation seconds per image, batched vs naive), ``smote`` (time and peak memory, uint8 vs
float). Figures measured here are in ``mmfusion/bench/RESULTS.md``.
"""
BENCHES = ("pipeline", "models", "xai", "smote")
