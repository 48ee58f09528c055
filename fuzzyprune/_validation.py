"""Input checks and warnings shared by the estimators and the metrics.

The checks wrap scikit-learn's own so that every refusal names the argument
and fits on one line; warnings point at the user's line.
"""

import functools
import os
import re
import sys
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state as _check_random_state

from ._array_api import (
    device,
    float_dtype,
    is_array_api_obj,
    namespace,
    prepared,
    to_numpy,
)
from ._sklearn_compat import Interval as _Interval
from ._sklearn_compat import _check_sample_weight


class Interval(_Interval):
    """scikit-learn's parameter interval, refusing bools.

    ``True`` is an ``Integral`` and a ``Real`` to Python, so scikit-learn's
    intervals take it as 1; it is never a meant count, fraction or seed.
    """

    def is_satisfied_by(self, val):
        """Whether ``val`` is a number, not a bool, within the interval."""
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def check_random_state(seed):
    """Return a :class:`numpy.random.RandomState` for ``seed``, never the global one.

    As :func:`sklearn.utils.check_random_state`, except that ``None`` gives
    a generator seeded afresh from the operating system's entropy rather
    than NumPy's global one: a fit never draws from, or advances, the
    random state that the user's own code (``np.random.seed``) relies on.
    """
    if seed is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1))
    return _check_random_state(seed)


def keeps_state_on_error(method):
    """Decorate a fitting method so that an exception leaves the estimator as it was.

    scikit-learn's input validation records ``n_features_in_`` (and the
    feature names) before the rest of a fit can fail, so a failed fit on data
    of another width would leave a fitted estimator that accepts neither the
    old data nor the new. The attributes are restored as they were before
    the call, which only replaces them (it does not modify them in place).
    """

    @functools.wraps(method)
    def fit(estimator, *args, **kwargs):
        saved = estimator.__dict__.copy()
        try:
            return method(estimator, *args, **kwargs)
        except BaseException:
            estimator.__dict__.clear()
            estimator.__dict__.update(saved)
            raise

    return fit


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
    if is_array_api_obj(values) and not isinstance(values, np.ndarray):
        if "complex" in str(values.dtype):
            raise ValueError(
                f"{name} holds complex numbers (dtype {values.dtype}). Complex "
                "data not supported: give real numbers."
            )
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


# Packages whose frames stand between the user's line and a warning: this
# library, and those that call its estimators (fit's validation wrapper, a
# pipeline, a search, a skorch net's training loop).
_INTERNAL_PACKAGES = ("fuzzyprune", "sklearn", "joblib", "skorch")


def external_stacklevel():
    """Return the ``stacklevel`` of the first caller outside the libraries.

    Frames of fuzzyprune, scikit-learn, joblib and skorch are skipped, so a
    warning points at the user's line however the estimator was reached in
    this thread. Only packages already imported are looked for, so this
    imports none.
    """
    internal = tuple(
        os.path.dirname(sys.modules[name].__file__) + os.sep
        for name in _INTERNAL_PACKAGES
        if name in sys.modules
    )
    # Level 1 is the caller of this function: the function that warns.
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(internal):
        frame, level = frame.f_back, level + 1
    return level


def _on_device_of(values, X, xp, is_numpy):
    """Whether ``values`` is an array of ``X``'s library, on its device, not NumPy."""
    return (
        not is_numpy
        and is_array_api_obj(values)
        and namespace(values)[0] is xp
        and device(values) == device(X)
    )


def _check_weights_on_device(sample_weight, X, xp):
    """Check sample weights already on ``X``'s device, there.

    A few reductions, whose answers alone reach the host.
    """
    n_samples = X.shape[0]
    if tuple(sample_weight.shape) != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {tuple(sample_weight.shape)}, expected "
            f"({n_samples},)!"
        )
    # Complex weights were refused with the other paths' message; booleans
    # and integers count as numbers, as NumPy's do.
    weights = xp.astype(sample_weight, float_dtype(xp, device(X)))
    if not bool(xp.all(xp.isfinite(weights))):
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if bool(xp.any(weights < 0)):
        raise ValueError("Negative values in data passed to `sample_weight`.")
    if not bool(xp.any(weights > 0)):
        raise ValueError(
            "sample_weight: Sample weights must contain at least one non-zero number."
        )
    return weights


def check_sample_weight(sample_weight, X):
    """Return sample weights as float64, ones for ``None``; refuse bad ones.

    For ``X`` of another array namespace than NumPy's, the weights are in its
    namespace, on its device, in float64 (float32 on devices without it);
    weights already there are checked there.

    Raises
    ------
    ValueError
        Naming ``sample_weight``, if the weights are not finite, non-negative
        numbers, one per sample of ``X``, with at least one positive.
    """
    sample_weight = prepared(sample_weight, "sample_weight")
    refuse_non_real(sample_weight, "sample_weight")
    xp, is_numpy = namespace(X)
    if _on_device_of(sample_weight, X, xp, is_numpy):
        return _check_weights_on_device(sample_weight, X, xp)
    if not is_numpy:
        # Weights are checked on the host, whatever their namespace, and
        # moved to X's device in its working type.
        weights = check_sample_weight(
            to_numpy(sample_weight), np.empty((X.shape[0], 0))
        )
        return xp.asarray(weights, dtype=float_dtype(xp, device(X)), device=device(X))
    with checking(sample_weight, "sample_weight"):
        return _check_sample_weight(
            to_numpy(sample_weight), X, dtype=np.float64, ensure_non_negative=True
        )
