"""mmfusion: reproductions of five papers on explainable medical-image classification.

The core (data, layers, models, training, xai, evaluation, reporting, CLI) knows no paper;
each paper in ``mmfusion.papers`` composes it. Importing this package is cheap: TensorFlow is
imported only by the modules that need it.
"""

__version__ = "0.1.0"
