"""Plots of fitted estimators (needs matplotlib, the ``plot`` extra)."""

import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._fcm import FuzzyCMeans
from ._ga import GAFeatureSelector
from ._sklearn_compat import validate_params


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib: pip install 'fuzzyprune[plot]'."
        ) from error
    return plt


def _axes(ax):
    """Return ``ax``, or new axes if it is None; refuse anything else."""
    if ax is None:
        return _pyplot().subplots()[1]
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {ax!r:.80}.")
    return ax


def plot_ga_history(selector, *, ax=None):
    """Plot the fitness of a fitted genetic feature selector by generation.

    Draws the best fitness found so far and the population's mean fitness,
    with a band of one standard deviation around the mean.

    Parameters
    ----------
    selector : GAFeatureSelector
        A fitted selector.

    ax : matplotlib Axes, default=None
        Axes to draw on; ``None`` creates a figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``selector`` is not a :class:`~fuzzyprune.GAFeatureSelector` or
        ``ax`` not a matplotlib Axes.
    sklearn.exceptions.NotFittedError
        If ``selector`` is not fitted.

    See Also
    --------
    fuzzyprune.GAFeatureSelector : The selector whose ``history_`` is drawn.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from fuzzyprune import FuzzyCMeans, GAFeatureSelector
    >>> from fuzzyprune.plotting import plot_ga_history
    >>> X = np.random.default_rng(0).normal(size=(60, 5))
    >>> selector = GAFeatureSelector(FuzzyCMeans(2), population_size=4,
    ...                              n_generations=3, random_state=0).fit(X)
    >>> ax = plot_ga_history(selector)
    >>> [line.get_label() for line in ax.get_lines()]
    ['best so far', 'population mean']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    _check_selector(selector)
    ax = _axes(ax)
    history = selector.history_
    generations = history["generation"]
    mean, std = history["mean_score"], history["std_score"]
    ax.plot(generations, history["best_score"], marker="o", label="best so far")
    ax.plot(generations, mean, linestyle="--", label="population mean")
    ax.fill_between(generations, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("generation")
    ax.set_ylabel(f"fitness ({_scoring_name(selector.scoring)})")
    ax.legend()
    return ax


@validate_params(
    {"feature_names": ["array-like", None]}, prefer_skip_nested_validation=True
)
def plot_selection_frequency(selector, *, ax=None, feature_names=None):
    """Plot how often the search selected each feature.

    Bars are ``selection_frequency_``, the fraction of the members of all
    generations that selected each feature; the features of ``support_``
    are drawn in a second color.

    Parameters
    ----------
    selector : GAFeatureSelector
        A fitted selector.

    ax : matplotlib Axes, default=None
        Axes to draw on; ``None`` creates a figure.

    feature_names : sequence of str, default=None
        Tick labels; ``None`` uses ``feature_names_in_`` if the selector has
        it, else no labels (the feature indices on the axis).

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``selector`` is not a :class:`~fuzzyprune.GAFeatureSelector` or
        ``ax`` not a matplotlib Axes.
    ValueError
        If ``feature_names`` is not a sequence or has another length than
        the features.
    sklearn.exceptions.NotFittedError
        If ``selector`` is not fitted.

    See Also
    --------
    plot_ga_history : The fitness by generation.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from fuzzyprune import FuzzyCMeans, GAFeatureSelector
    >>> from fuzzyprune.plotting import plot_selection_frequency
    >>> X = np.random.default_rng(0).normal(size=(60, 5))
    >>> selector = GAFeatureSelector(FuzzyCMeans(2), population_size=4,
    ...                              n_generations=3, random_state=0).fit(X)
    >>> ax = plot_selection_frequency(selector)
    >>> len(ax.patches)
    5
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    _check_selector(selector)
    frequency = selector.selection_frequency_
    if feature_names is None:
        feature_names = getattr(selector, "feature_names_in_", None)
    if feature_names is not None and len(feature_names) != frequency.size:
        raise ValueError(
            f"feature_names has {len(feature_names)} names for "
            f"{frequency.size} features."
        )
    ax = _axes(ax)
    positions = np.arange(frequency.size)
    for chosen, color, label in (
        (False, "C0", "not selected"),
        (True, "C1", "selected"),
    ):
        # One call per kind, so that the legend shows each kind's color.
        kind = selector.support_ == chosen
        ax.bar(positions[kind], frequency[kind], color=color, label=label)
    if feature_names is not None:
        ax.set_xticks(positions, feature_names, rotation=90)
    ax.set_xlabel("feature")
    ax.set_ylabel("selection frequency")
    ax.set_ylim(0, 1)
    ax.legend()
    return ax


def plot_pareto_front(selector, *, ax=None):
    """Plot fitness against subset size: every evaluation and the Pareto front.

    Every subset evaluated is a faint dot (``evaluations_``), the subsets of
    ``pareto_front_`` are joined by a line, and ``support_`` is circled.

    Parameters
    ----------
    selector : GAFeatureSelector
        A fitted selector, of either search (see its ``objectives``).

    ax : matplotlib Axes, default=None
        Axes to draw on; ``None`` creates a figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Raises
    ------
    TypeError
        If ``selector`` is not a :class:`~fuzzyprune.GAFeatureSelector` or
        ``ax`` not a matplotlib Axes.
    sklearn.exceptions.NotFittedError
        If ``selector`` is not fitted.

    See Also
    --------
    plot_ga_history : The fitness by generation.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from fuzzyprune import FuzzyCMeans, GAFeatureSelector
    >>> from fuzzyprune.plotting import plot_pareto_front
    >>> X = np.random.default_rng(0).normal(size=(60, 5))
    >>> selector = GAFeatureSelector(
    ...     FuzzyCMeans(2), objectives=("fitness", "n_features"),
    ...     population_size=4, n_generations=3, random_state=0).fit(X)
    >>> ax = plot_pareto_front(selector)
    >>> [line.get_label() for line in ax.get_lines()]
    ['Pareto front']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    _check_selector(selector)
    ax = _axes(ax)
    evaluated = selector.evaluations_
    front = selector.pareto_front_
    ax.scatter(
        evaluated["n_features"], evaluated["fitness"], alpha=0.2, label="evaluated"
    )
    ax.plot(front["n_features"], front["fitness"], marker="o", label="Pareto front")
    ax.scatter(
        [selector.support_.sum()],
        [selector.best_score_],
        s=200,
        facecolors="none",
        edgecolors="C3",
        label="selected",
    )
    ax.set_xlabel("number of features")
    ax.set_ylabel(f"fitness ({_scoring_name(selector.scoring)})")
    ax.legend()
    return ax


@validate_params({"log_scale": ["boolean"]}, prefer_skip_nested_validation=True)
def plot_objective_history(estimator, *, ax=None, log_scale=True):
    """Plot the objective of a fitted fuzzy c-means along its iterations.

    Draws ``objective_history_``: the objective ``J`` of the initial
    centers (at 0) and of the centers after each update, down to
    ``objective_``, that of the result.

    Parameters
    ----------
    estimator : FuzzyCMeans
        A fitted :class:`~fuzzyprune.FuzzyCMeans`.

    ax : matplotlib Axes, default=None
        Axes to draw on; ``None`` creates a figure.

    log_scale : bool, default=True
        Draw the objective on a logarithmic axis, where equal steps are
        equal relative improvements: those that ``tol`` judges, and the
        small late ones stay visible beside the large first ones. A
        history with an objective of 0 (every sample on a center), which
        such an axis cannot show, is drawn on a linear one.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` is not a :class:`~fuzzyprune.FuzzyCMeans` (pass a
        pipeline's last step, ``pipeline[-1]``, or a search's
        ``best_estimator_``) or was fitted by a version without
        ``objective_history_``; if ``ax`` is not a matplotlib Axes.
    ValueError
        If ``log_scale`` is not a bool.

    Warns
    -----
    UserWarning
        If some entries are infinite (the objective beyond float64's range,
        see ``objective_``): they cannot be drawn.

    See Also
    --------
    fuzzyprune.FuzzyCMeans : The clusterer whose ``objective_history_`` is
        drawn.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from fuzzyprune import FuzzyCMeans
    >>> from fuzzyprune.plotting import plot_objective_history
    >>> fcm = FuzzyCMeans(3, init="random", random_state=0).fit(load_iris().data)
    >>> ax = plot_objective_history(fcm)
    >>> bool(ax.get_lines()[0].get_ydata()[-1] == fcm.objective_)
    True
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    if not isinstance(estimator, FuzzyCMeans):
        raise TypeError(
            "estimator must be a fitted FuzzyCMeans, got "
            f"{type(estimator).__name__}; for a pipeline pass its last step "
            "(pipeline[-1]), for a search its best_estimator_."
        )
    check_is_fitted(estimator)
    history = getattr(estimator, "objective_history_", None)
    if history is None:
        raise TypeError(
            f"{type(estimator).__name__} has no objective_history_: "
            "plot_objective_history draws that of a FuzzyCMeans fitted by this "
            "version of fuzzyprune."
        )
    ax = _axes(ax)
    from matplotlib.ticker import MaxNLocator

    if not np.all(np.isfinite(history)):
        warnings.warn(
            f"{np.sum(~np.isfinite(history))} of the {len(history)} entries of "
            "objective_history_ are infinite (the objective exceeds float64's "
            "range) and are not drawn; a fit on the data divided by a power of "
            "two s has the same memberships and an objective s ** 2 smaller.",
            UserWarning,
            stacklevel=2,
        )
    ax.plot(np.arange(len(history)), history, marker="o")
    if log_scale and min(history) > 0:
        ax.set_yscale("log")
    # Whole numbers of updates only, however few.
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("center updates")
    ax.set_ylabel("objective J")
    return ax


def _check_selector(selector):
    """Refuse anything but a fitted GAFeatureSelector."""
    if not isinstance(selector, GAFeatureSelector):
        raise TypeError(
            f"selector must be a GAFeatureSelector, got {type(selector).__name__}."
        )
    check_is_fitted(selector, "history_")


def _scoring_name(scoring):
    if isinstance(scoring, str):
        return scoring
    return getattr(scoring, "__name__", "score")
