"""Plots of fitted estimators (needs matplotlib, the ``plot`` extra)."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._ga import GAFeatureSelector


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib: pip install 'fuzzyprune[plot]'."
        ) from error
    return plt


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
        If ``selector`` is not a :class:`~fuzzyprune.GAFeatureSelector`.
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
    if ax is None:
        ax = _pyplot().subplots()[1]
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
        If ``selector`` is not a :class:`~fuzzyprune.GAFeatureSelector`.
    ValueError
        If ``feature_names`` has another length than the features.
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
    if ax is None:
        ax = _pyplot().subplots()[1]
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
        If ``selector`` is not a :class:`~fuzzyprune.GAFeatureSelector`.
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
    if ax is None:
        ax = _pyplot().subplots()[1]
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
