"""Input checks shared by the estimators and the metrics.

They wrap scikit-learn's own checks so that every refusal names the argument
and fits on one line.
"""

import re
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp


@contextmanager
def naming_errors(name):
    """Make the errors raised within name the argument ``name`` if they do not."""
    try:
        yield
    except (TypeError, ValueError) as error:
        message = str(error)
        if re.search(rf"\b{name}\b", message):
            raise
        kind = ValueError if isinstance(error, ValueError) else TypeError
        raise kind(f"{name}: {message}") from error


def refuse_non_real(values, name, *, text=False):
    """Refuse complex values and, unless ``text``, strings.

    NumPy would parse strings that spell numbers, and scikit-learn's refusal
    of complex values prints the whole array. Lists and object arrays (what
    a data frame with a column of text holds) are judged by the type NumPy
    infers for their values.

    Raises
    ------
    ValueError
        If ``values`` holds complex numbers, or strings or bytes and ``text``
        is false.
    """
    if values is None:
        return
    array = values if sp.issparse(values) else np.asarray(values)
    if array.dtype == object:
        array = np.asarray(array.tolist())
    kind = array.dtype.kind
    if kind in "SU" and not text:
        raise ValueError(
            f"{name} holds strings (dtype {array.dtype}); convert them to "
            "numbers first."
        )
    if kind == "c":
        raise ValueError(
            f"{name} holds complex numbers (dtype {array.dtype}). Complex data "
            "not supported: give real numbers."
        )


@contextmanager
def checking(values, name, *, text=False):
    """Check the argument ``name`` holding ``values`` within this block.

    Complex values are refused, and strings unless ``text``; errors raised
    within name the argument. scikit-learn's finiteness check first sums the
    values, which for finite data near the largest float can overflow to
    ``inf - inf``: the warning that would raise is silenced, as the check
    then looks at every value.
    """
    with naming_errors(name):
        refuse_non_real(values, name, text=text)
        with np.errstate(over="ignore", invalid="ignore"):
            yield


def refuse_bools(caller, **params):
    """Refuse a bool given for a number, naming the parameter.

    scikit-learn's ``Interval(Integral, ...)`` accepts ``True`` as 1, which is
    never a meant seed or count.

    Raises
    ------
    TypeError
        If one of ``params`` is a bool.
    """
    for name, value in params.items():
        if isinstance(value, bool):
            raise TypeError(
                f"The {name!r} parameter of {caller} must be a number, not a "
                f"bool. Got {value!r} instead."
            )
