"""Plots of fitted estimators (needs matplotlib, the ``plot`` extra)."""

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
    if not isinstance(selector, GAFeatureSelector):
        raise TypeError(
            f"selector must be a GAFeatureSelector, got {type(selector).__name__}."
        )
    check_is_fitted(selector, "history_")
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


def _scoring_name(scoring):
    if isinstance(scoring, str):
        return scoring
    return getattr(scoring, "__name__", "score")
