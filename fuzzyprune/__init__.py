"""Fuzzy clustering, genetic feature selection and pruned networks for scikit-learn.

The neural networks, :class:`PrunedMLPClassifier`, :class:`PruningCallback`
and :func:`compact_module`, need torch and skorch, which
``pip install "fuzzyprune[nn]"`` installs; everything else works without
them. Without them, getting one of these names (``hasattr`` included) raises
a ``ModuleNotFoundError`` that gives that command, and ``dir()`` and
``from fuzzyprune import *`` leave them out.
"""

import importlib
import importlib.util
import sys

from ._export import SKOPS_TRUSTED_TYPES
from ._fcm import FuzzyCMeans
from ._ga import GAFeatureSelector

__version__ = "0.1.0.dev0"

# The neural-network estimators need torch and skorch, which are optional and
# slow to import: they are loaded on first access only.
_LAZY = {
    "PrunedMLPClassifier": "._mlp",
    "PruningCallback": "._pruning",
    "compact_module": "._pruning",
}
_NN_PACKAGES = ("torch", "skorch")
_NN_INSTALL = 'pip install "fuzzyprune[nn]"'


def _findable(name):
    """Say whether a top-level module can be imported, without importing it."""
    if name in sys.modules:
        return sys.modules[name] is not None
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # an import hook that refuses the module
        return False


# Without torch and skorch the neural-network names are left out, so that
# `from fuzzyprune import *`, dir() and help(), which fetch every listed name,
# work; fetching one of them by name still explains how to install it.
__all__ = [
    "FuzzyCMeans",
    "GAFeatureSelector",
    *(_LAZY if all(map(_findable, _NN_PACKAGES)) else ()),
    "SKOPS_TRUSTED_TYPES",
    "__version__",
]


def _import_nn(module, user):
    """Import a module of the package that needs torch and skorch.

    Parameters
    ----------
    module : str
        The module, relative to the package, such as ``"._mlp"``.

    user : str
        What needs it, named in the error.

    Returns
    -------
    module : module
        The imported module.

    Raises
    ------
    ModuleNotFoundError
        If torch or skorch is not installed, naming it and the command that
        installs both, from the error of the failed import.
    """
    try:
        return importlib.import_module(module, __name__)
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in _NN_PACKAGES:
            raise
        raise ModuleNotFoundError(
            f"{user} needs torch and skorch: {error}. Install them with "
            f"{_NN_INSTALL} (to choose the CPU or CUDA build of torch, install "
            "torch first: https://pytorch.org/get-started/locally/).",
            name=error.name,
        ) from error


def __getattr__(name):
    # A missing torch raises ModuleNotFoundError, not AttributeError, even
    # under hasattr(): `from fuzzyprune import PrunedMLPClassifier` would
    # replace an AttributeError by "cannot import name", losing the command.
    if name in _LAZY:
        return getattr(_import_nn(_LAZY[name], name), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
