"""Synthetic twins: each dataset written in its exact on-disk format with a learnable signal.

``write_twin(name, out_dir, n=None, seed=0) -> Path`` writes the twin of dataset ``name`` and
returns the root to pass to ``mmfusion.data.load_dataset(name, root)``.
``ensure_twin(name, cache_dir=None, seed=0, n=None) -> Path`` writes it once and reuses it.
Each twin module defines ``write(out_dir, n, seed) -> Path`` and ``DEFAULT_N``.
"""
