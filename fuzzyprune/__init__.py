"""Fuzzy clustering, genetic feature selection and pruned networks for scikit-learn."""

from ._fcm import FuzzyCMeans
from ._ga import GAFeatureSelector

__version__ = "0.1.0.dev0"

__all__ = ["FuzzyCMeans", "GAFeatureSelector", "__version__"]
