"""Callbacks that watch and stop the search of :class:`~fuzzyprune.GAFeatureSelector`.

A callback is any callable given in the selector's ``callbacks``. After each
generation (the initial population is generation 0) it is called with the
state of the search, a dict:

- ``"generation"``: the generation just evaluated;
- ``"best_score"`` and ``"best_support"``: the best fitness so far and the
  mask of its features (a copy);
- ``"history"``: ``history_`` up to this generation;
- ``"evaluations"``: ``evaluations_`` up to this generation;
- ``"elapsed"``: seconds since the search started.

A callback that returns ``True`` stops the search after this generation;
the best subset so far is then selected as usual. Callbacks run in the
process that calls ``fit``, in order, whatever ``n_jobs``.
"""

from numbers import Integral, Real

from ._sklearn_compat import validate_params
from ._validation import Interval


class TimeBudget:
    """Stop the search once it has run for ``seconds``.

    The generation under way is completed, so the search ends within one
    generation of the budget (as ``max_time`` does).

    Parameters
    ----------
    seconds : float
        The budget, greater than 0.

    Raises
    ------
    ValueError
        If ``seconds`` is not a number greater than 0.

    Examples
    --------
    >>> import numpy as np
    >>> from fuzzyprune import FuzzyCMeans, GAFeatureSelector
    >>> from fuzzyprune.ga_callbacks import TimeBudget
    >>> X = np.random.default_rng(0).normal(size=(60, 5))
    >>> selector = GAFeatureSelector(FuzzyCMeans(2), population_size=4,
    ...                              callbacks=[TimeBudget(60)],
    ...                              random_state=0).fit(X)
    >>> selector.history_["generation"].size <= 6
    True
    """

    @validate_params(
        {"seconds": [Interval(Real, 0, None, closed="neither")]},
        prefer_skip_nested_validation=True,
    )
    def __init__(self, seconds):
        self.seconds = seconds

    def __call__(self, state):
        """Return whether the budget is spent."""
        return state["elapsed"] >= self.seconds

    def __repr__(self):
        """Return the call that makes this callback."""
        return f"TimeBudget(seconds={self.seconds!r})"


class EarlyStopping:
    """Stop when the best fitness has not improved enough for a while.

    Parameters
    ----------
    patience : int
        Generations without an improvement of more than ``min_delta`` after
        which the search stops; at least 1.
    min_delta : float, default=0.0
        Smallest rise of the best fitness that counts as an improvement,
        at least 0. With 0, this is the selector's ``n_gen_no_change``.

    Raises
    ------
    ValueError
        If ``patience`` or ``min_delta`` is out of its range.

    Examples
    --------
    >>> import numpy as np
    >>> from fuzzyprune import FuzzyCMeans, GAFeatureSelector
    >>> from fuzzyprune.ga_callbacks import EarlyStopping
    >>> X = np.random.default_rng(0).normal(size=(60, 5))
    >>> selector = GAFeatureSelector(FuzzyCMeans(2), population_size=4,
    ...                              n_generations=30,
    ...                              callbacks=[EarlyStopping(2, 0.01)],
    ...                              random_state=0).fit(X)
    >>> selector.history_["generation"].size < 31
    True
    """

    @validate_params(
        {
            "patience": [Interval(Integral, 1, None, closed="left")],
            "min_delta": [Interval(Real, 0, None, closed="left")],
        },
        prefer_skip_nested_validation=True,
    )
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta

    def __call__(self, state):
        """Return whether ``patience`` generations passed without improvement."""
        best = state["history"]["best_score"]
        if best.size <= self.patience:
            return False
        earlier = best[-self.patience - 1]
        return not best[-1] > earlier + self.min_delta

    def __repr__(self):
        """Return the call that makes this callback."""
        return (
            f"EarlyStopping(patience={self.patience!r}, min_delta={self.min_delta!r})"
        )
