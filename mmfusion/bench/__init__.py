"""Benchmarks: ``python -m mmfusion.bench [all|NAME ...] [--quick]`` prints JSON lines and a table.

Benches (each a module with ``run(quick)``): ``pipeline`` (input pipeline alone and feeding
training), ``models`` (train / inference images/s, FLOPs, fraction of peak), ``xai``
(explanation seconds per image, batched vs naive), ``smote`` (time and peak memory, uint8 vs
float), ``gpu`` (the GPU figures in one bounded run; ``--quick`` dry-runs it).
A paper's whole protocol takes hours, so it has its own command, outside ``all``:
``python -m mmfusion.bench.protocol --data-dir D`` (``mmfusion.bench.protocol``).
Figures measured here are in ``mmfusion/bench/RESULTS.md``.
"""
BENCHES = ("pipeline", "models", "xai", "smote", "gpu")
