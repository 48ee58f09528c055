import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError

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
