import runpy
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import silhouette_score

from fuzzyprune import FuzzyCMeans
from fuzzyprune.metrics import xie_beni_index

EXAMPLES = Path(__file__).parents[1] / "examples"


def run_example(name, monkeypatch):
    """Run a gallery script headless; return its namespace and figure count."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    monkeypatch.chdir(EXAMPLES)
    namespace = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    n_figures = len(plt.get_fignums())
    plt.close("all")
    return namespace, n_figures


def test_every_example_is_tested():
    tested = {
        "plot_cluster_your_own_data.py",
        "plot_fuzzy_cmeans_validity.py",
        "plot_ga_feature_selection.py",
        "plot_high_dimensional_fuzzy_cmeans.py",
        "plot_pruning_schedules.py",
    }
    assert {path.name for path in EXAMPLES.glob("plot_*.py")} == tested


def test_fuzzy_cmeans_validity_example(monkeypatch, capsys):
    namespace, n_figures = run_example("plot_fuzzy_cmeans_validity.py", monkeypatch)
    assert n_figures == 2
    # The text claims crispness indices always prefer the smallest m.
    coefficients = namespace["indices"]["modified partition coefficient"]
    assert np.all(np.diff(coefficients) < 0)
    # The search picks the m of least Xie-Beni index on held-out folds (with
    # the squared memberships of the scorer, whatever m).
    search, X = namespace["search"], namespace["X"]
    mean_indices = {}
    for m in search.param_grid["m"]:
        indices = []
        for train, test in search.cv.split(X):
            fcm = FuzzyCMeans(3, m=m, random_state=0).fit(X[train])
            memberships = fcm.predict_proba(X[test])
            centers = fcm.cluster_centers_
            indices.append(xie_beni_index(X[test], memberships, centers))
        mean_indices[m] = np.mean(indices)
    assert search.best_params_["m"] == min(mean_indices, key=mean_indices.get)
    output = capsys.readouterr().out
    assert "m chosen by the Xie-Beni index" in output
    # The text claims m = 5 degenerates in these 13 dimensions, and only it.
    assert "m = 5.0: FuzzyCMeans with m=5 found a degenerate partition" in output
    assert "m = 3.0:" not in output


def test_cluster_your_own_data_example(monkeypatch, capsys):
    namespace, n_figures = run_example("plot_cluster_your_own_data.py", monkeypatch)
    assert n_figures == 3
    # The memberships are a DataFrame of X's rows and one column per cluster.
    fcm, X, memberships = namespace["fcm"], namespace["X"], namespace["memberships"]
    assert list(memberships.columns) == list(fcm.get_feature_names_out())
    assert memberships.index.equals(X.index)
    np.testing.assert_array_equal(memberships.to_numpy(), fcm.memberships_)
    # The text claims m="auto" is close to 1 here, and that the least sure
    # samples share their membership among clusters.
    assert fcm.m_ < 1.1
    largest = memberships.max(axis=1)
    ambiguous = namespace["ambiguous"]
    assert set(ambiguous) == set(largest.sort_values().index[:8])
    second = memberships.loc[ambiguous].apply(
        lambda row: row.nlargest(2).iloc[1], axis=1
    )
    assert (second > 0.1).all()
    # The plotted history, falling quickly and then flattening.
    history = fcm.objective_history_
    (line,) = namespace["history_ax"].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), history)
    assert history[0] - history[1] > history[1] - history[-1]
    # The search picks the least Xie-Beni index, a larger m than "auto" with
    # a smaller J_m (not comparable across m) and fewer nearly crisp samples.
    search = namespace["search"]
    results = search.cv_results_
    best = results["params"][np.argmax(results["mean_test_score"])]
    assert search.best_params_ == best
    chosen = search.best_estimator_
    assert chosen.m_ > fcm.m_ and chosen.objective_ < fcm.objective_
    crisp = (chosen.memberships_.max(axis=1) > 0.9).sum()
    assert crisp < (largest > 0.9).sum()
    # The text claims m = 2 collapses in these 64 dimensions.
    output = capsys.readouterr().out
    assert "FuzzyCMeans with m=2 found a degenerate partition" in output
    assert namespace["collapsed"].memberships_.max() < 0.11


@pytest.mark.slow
def test_ga_feature_selection_example(monkeypatch, capsys):
    namespace, n_figures = run_example("plot_ga_feature_selection.py", monkeypatch)
    assert n_figures == 1
    # The text claims the search leaves the noise out and helps the clustering.
    selected = namespace["selected"]
    assert len(selected) >= 2
    assert namespace["n_noise"] == 0
    assert namespace["accuracy_selected"] > namespace["accuracy_all"] + 0.2
    # The fitness is the silhouette, on all the (scaled) columns, of the
    # selected columns' clustering, recomputed here from a fresh fit.
    selector = namespace["selector"]
    columns = namespace["pipeline"][0].transform(namespace["X"])
    labels = clone(selector.estimator_).fit(columns[selected].to_numpy()).labels_
    assert selector.best_score_ == pytest.approx(silhouette_score(columns, labels))
    # ... within the tolerance of the best, and the front flattens as said.
    best = namespace["history"]["best_score"].iloc[-1]
    assert best - 0.005 <= selector.best_score_ < best
    front = namespace["front"]
    assert front["fitness"].iloc[-1] - front["fitness"].iloc[2] < 0.01
    output = capsys.readouterr().out
    assert "0 of them noise" in output
    assert "m=2 found a degenerate partition" in output


@pytest.mark.slow
def test_high_dimensional_example(monkeypatch, capsys):
    namespace, n_figures = run_example(
        "plot_high_dimensional_fuzzy_cmeans.py", monkeypatch
    )
    assert n_figures == 2
    # The text claims distances concentrate and m = 2 is fuzzy at the truth.
    assert np.median(namespace["nearest_over_farthest"]) > 1 / 1.5
    assert namespace["own_membership"].mean() == pytest.approx(0.2, abs=0.05)
    models, warned, ari = namespace["models"], namespace["warned"], namespace["ari"]
    two, auto = models["m=2.0"], models['m="auto"']
    polynomial, larger_beta = models["polynomial"], models["polynomial, beta=0.7"]
    output = capsys.readouterr().out
    # The text claims m = 2 collapses and warns; m="auto" matches k-means.
    assert warned["m=2.0"] and "m=2.0: FuzzyCMeans with m=2 found a degen" in output
    assert two.memberships_.max() < 0.11 and ari["m=2.0"] < ari["KMeans"] - 0.05
    assert not warned['m="auto"'] and auto.m_ < 1.01
    assert auto.partition_coefficient_ > 0.99
    assert ari['m="auto"'] == pytest.approx(ari["KMeans"], abs=0.02)
    assert namespace["agreement"] == 1.0
    # The text claims beta=0.5 is fuzzy but pulls two centers together, and
    # its warning asks for a larger beta, with which none is pulled in.
    assert warned["polynomial"] and "Try a larger beta" in output
    assert polynomial.partition_coefficient_ < 0.8
    assert polynomial.center_separation_ < 0.01
    assert not warned["polynomial, beta=0.7"]
    assert larger_beta.partition_coefficient_ > 0.99
    to_mean = namespace["distances_to_mean"]
    blobs = to_mean(namespace["blob_means"]).min()
    assert to_mean(two.cluster_centers_).max() < 0.1 * blobs
    assert to_mean(auto.cluster_centers_).min() > 0.95 * blobs
    assert to_mean(larger_beta.cluster_centers_).min() > 0.95 * blobs
    assert 2 <= np.sum(to_mean(polynomial.cluster_centers_) < 0.9 * blobs) <= 3
    # The text claims that from m = 1.2 on, and only there, every fit warns
    # with uniform memberships and coinciding centers, and m="auto" is below.
    fuzzifiers = np.array(namespace["fuzzifiers"])
    collapsed = fuzzifiers >= 1.2
    assert np.array_equal(namespace["sweep_warned"], collapsed)
    assert np.all(namespace["coefficients"][collapsed] < 0.1 + 1e-3)
    assert np.all(namespace["separations"][collapsed] < 0.01)
    assert np.all(namespace["coefficients"][fuzzifiers < 1.03] > 0.99)
    assert namespace["m_auto"] < 1.03


@pytest.mark.slow
def test_pruning_schedules_example(monkeypatch, capsys):
    namespace, n_figures = run_example("plot_pruning_schedules.py", monkeypatch)
    assert n_figures == 1
    # The text claims per_epoch compounds past the amount; the others stop at it.
    histories = {
        name: clf.net_.history[:, "sparsity"]
        for name, clf in namespace["schedules"].items()
    }
    assert histories["per_epoch"][-1] == pytest.approx(1 - 0.8**16, abs=1e-3)
    assert histories["gradual"][-1] == pytest.approx(0.8, abs=1e-3)
    assert histories["once"][-1] == pytest.approx(0.8, abs=1e-3)
    scores = namespace["scores"]
    assert scores[1] >= scores[0] - 0.02 and scores[-1] < scores[0] - 0.1
    assert "predictions unchanged: True" in capsys.readouterr().out
