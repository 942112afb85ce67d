"""Matplotlib for every figure; the backend is matplotlib's own choice (forcing Agg kills inline
plots in a notebook)."""
from pathlib import Path

from mmfusion.utils.io import atomic_save


def pyplot():
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi: int = 120) -> Path:
    """PNG written atomically; the figure is closed (so a notebook does not show it twice)."""
    try:
        return atomic_save(Path(path),
                           lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight"),
                           suffix=".png")
    finally:
        pyplot().close(fig)
