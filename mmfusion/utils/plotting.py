"""Matplotlib for every figure: the backend is matplotlib's own choice (Agg without a display,
inline in a notebook), never forced here — forcing Agg on every call killed inline plots."""
from __future__ import annotations

from pathlib import Path

from mmfusion.utils.io import atomic_save


def pyplot():
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi: int = 120) -> Path:
    """PNG written atomically; the figure is closed (so a notebook does not show it twice)."""
    plt = pyplot()
    try:
        return atomic_save(Path(path),
                           lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight"),
                           suffix=".png")
    finally:
        plt.close(fig)
