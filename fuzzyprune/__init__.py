"""Fuzzy clustering, genetic feature selection and pruned networks for scikit-learn."""

import importlib

from ._export import SKOPS_TRUSTED_TYPES
from ._fcm import FuzzyCMeans
from ._ga import GAFeatureSelector

__version__ = "0.1.0.dev0"

# The neural-network estimators need torch and skorch, which are slow to
# import: they are loaded on first access only.
_LAZY = {
    "PrunedMLPClassifier": "._mlp",
    "PruningCallback": "._pruning",
    "compact_module": "._pruning",
}

__all__ = [
    "FuzzyCMeans",
    "GAFeatureSelector",
    *_LAZY,
    "SKOPS_TRUSTED_TYPES",
    "__version__",
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
