"""mmfusion: reproductions of five papers on explainable medical-image classification. The core
knows no paper; each paper in ``mmfusion.papers`` composes it. Importing this package is cheap."""

__version__ = "0.1.0"
