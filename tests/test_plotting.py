import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fuzzyprune import FuzzyCMeans, GAFeatureSelector
from fuzzyprune.plotting import plot_ga_history

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_plot_ga_history_draws_history():
    import matplotlib.pyplot as plt

    X = np.random.default_rng(0).normal(size=(60, 5))
    selector = GAFeatureSelector(
        FuzzyCMeans(2), population_size=4, n_generations=3, random_state=0
    ).fit(X)
    fig, ax = plt.subplots()
    assert plot_ga_history(selector, ax=ax) is ax
    best, mean = ax.get_lines()
    assert_allclose(best.get_xdata(), selector.history_["generation"])
    assert_allclose(best.get_ydata(), selector.history_["best_score"])
    assert_allclose(mean.get_ydata(), selector.history_["mean_score"])
    assert ax.get_ylabel() == "fitness (silhouette)"
    plt.close(fig)


def test_plot_needs_fitted_selector():
    with pytest.raises(NotFittedError):
        plot_ga_history(GAFeatureSelector())


def test_plot_selection_frequency_draws_a_bar_per_feature():
    import pandas as pd

    from fuzzyprune.plotting import plot_selection_frequency

    X = pd.DataFrame(
        np.random.default_rng(0).normal(size=(60, 4)), columns=list("abcd")
    )
    selector = GAFeatureSelector(
        FuzzyCMeans(2),
        population_size=4,
        n_generations=2,
        max_features=2,
        random_state=0,
    ).fit(X)
    ax = plot_selection_frequency(selector)
    bars = sorted(ax.patches, key=lambda bar: bar.get_x())
    np.testing.assert_allclose(
        [bar.get_height() for bar in bars], selector.selection_frequency_
    )
    selected_color = matplotlib.colors.to_rgba("C1")
    selected = [bar.get_facecolor() == selected_color for bar in bars]
    assert selected == list(selector.support_)
    assert 0 < sum(selected) < len(selected)  # both kinds drawn
    # The legend's swatches have the colors of what they name.
    legend = ax.get_legend()
    swatches = {
        text.get_text(): handle.get_facecolor()
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    assert swatches == {
        "selected": selected_color,
        "not selected": matplotlib.colors.to_rgba("C0"),
    }
    assert [tick.get_text() for tick in ax.get_xticklabels()] == list("abcd")
    with pytest.raises(ValueError, match="feature_names has 2 names for 4"):
        plot_selection_frequency(selector, feature_names=["x", "y"])
    with pytest.raises(TypeError, match="GAFeatureSelector"):
        plot_selection_frequency(FuzzyCMeans())
    matplotlib.pyplot.close(ax.figure)


def test_plot_pareto_front_marks_the_front_and_the_selected_subset():
    from fuzzyprune.plotting import plot_pareto_front

    X = np.random.default_rng(0).normal(size=(60, 5))
    selector = GAFeatureSelector(
        FuzzyCMeans(2),
        objectives=("fitness", "n_features"),
        population_size=6,
        n_generations=3,
        random_state=0,
    ).fit(X)
    ax = plot_pareto_front(selector)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(
        line.get_xdata(), selector.pareto_front_["n_features"]
    )
    np.testing.assert_array_equal(line.get_ydata(), selector.pareto_front_["fitness"])
    evaluated, selected = ax.collections
    assert len(evaluated.get_offsets()) == selector.evaluations_["fitness"].size
    np.testing.assert_allclose(
        selected.get_offsets(), [[selector.support_.sum(), selector.best_score_]]
    )
    matplotlib.pyplot.close(ax.figure)


def test_plot_objective_history_draws_the_history():
    import matplotlib.pyplot as plt

    from fuzzyprune.plotting import plot_objective_history

    X = np.random.default_rng(0).normal(size=(60, 3))
    fcm = FuzzyCMeans(3, init="random", max_iter=5, tol=0, random_state=0).fit(X)
    fig, ax = plt.subplots()
    assert plot_objective_history(fcm, ax=ax) is ax
    (line,) = ax.get_lines()
    # The initial centers' objective at 0, then one per update.
    np.testing.assert_array_equal(line.get_xdata(), np.arange(6))
    np.testing.assert_array_equal(line.get_ydata(), fcm.objective_history_)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "center updates"
    assert ax.get_ylabel() == "objective J"
    linear = plot_objective_history(fcm, log_scale=False)
    assert linear is not ax
    assert linear.get_yscale() == "linear"
    # Every sample on a center: J = 0, which a log axis cannot show.
    on_centers = FuzzyCMeans(2, random_state=0).fit(np.repeat(X[:2], 3, axis=0))
    assert on_centers.objective_history_ == [0.0]
    zero = plot_objective_history(on_centers)
    assert zero.get_yscale() == "linear"
    for axes in (ax, linear, zero):
        plt.close(axes.figure)


def test_plot_objective_history_refuses_estimators_without_one():
    from sklearn.cluster import KMeans

    from fuzzyprune.plotting import plot_objective_history

    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(NotFittedError):
        plot_objective_history(FuzzyCMeans(2))
    with pytest.raises(TypeError, match="must be a fitted FuzzyCMeans, got KMeans"):
        plot_objective_history(KMeans(2, n_init=1, random_state=0).fit(X))
    fcm = FuzzyCMeans(2, random_state=0).fit(X)
    for wrapped in (make_pipeline(StandardScaler(), fcm), X):
        with pytest.raises(TypeError, match=r"pipeline\[-1\].*best_estimator_"):
            plot_objective_history(wrapped)
    # A FuzzyCMeans fitted and pickled by a version without it.
    earlier = FuzzyCMeans(2, random_state=0).fit(X)
    del earlier.objective_history_
    with pytest.raises(TypeError, match="FuzzyCMeans has no objective_history_"):
        plot_objective_history(earlier)


def test_plot_objective_history_warns_of_entries_it_cannot_draw():
    import matplotlib.pyplot as plt

    from fuzzyprune.plotting import plot_objective_history

    # J of data at 1e200 exceeds float64's range at every iteration.
    X = np.array([[0.0, 0], [1, 1], [5, 5], [6, 6]]) * 1e200
    fcm = FuzzyCMeans(2, random_state=0).fit(X)
    assert np.isinf(fcm.objective_history_).all()
    n = len(fcm.objective_history_)
    with pytest.warns(UserWarning, match=f"{n} of the {n} entries .* infinite"):
        ax = plot_objective_history(fcm)
    plt.close(ax.figure)
    finite = FuzzyCMeans(2, random_state=0).fit(X / 2.0**700)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plt.close(plot_objective_history(finite).figure)


@pytest.mark.parametrize(
    "plot, kwargs, match",
    [
        ("plot_objective_history", {"ax": "axes"}, "ax must be a matplotlib Axes"),
        ("plot_objective_history", {"log_scale": "no"}, "'log_scale' parameter"),
        ("plot_ga_history", {"ax": "axes"}, "ax must be a matplotlib Axes"),
        ("plot_pareto_front", {"ax": 1}, "ax must be a matplotlib Axes"),
        ("plot_selection_frequency", {"ax": "axes"}, "ax must be a matplotlib"),
        ("plot_selection_frequency", {"feature_names": 5}, "'feature_names'"),
    ],
)
def test_plots_refuse_bad_arguments_before_drawing(plot, kwargs, match):
    import matplotlib.pyplot as plt

    from fuzzyprune import plotting

    X = np.random.default_rng(0).normal(size=(40, 4))
    if plot == "plot_objective_history":
        fitted = FuzzyCMeans(2, random_state=0).fit(X)
    else:
        fitted = GAFeatureSelector(
            FuzzyCMeans(2),
            objectives=("fitness", "n_features"),
            population_size=4,
            n_generations=2,
            random_state=0,
        ).fit(X)
    figures = plt.get_fignums()
    with pytest.raises(TypeError, match=match):
        getattr(plotting, plot)(fitted, **kwargs)
    assert plt.get_fignums() == figures
