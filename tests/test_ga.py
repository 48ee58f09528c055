import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from joblib import parallel_config
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import silhouette_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from fuzzyprune import FuzzyCMeans, GAFeatureSelector
from fuzzyprune._ga import _crossover, _mutate, _repair
from fuzzyprune.metrics import simplified_silhouette_score


def informative_data(n_informative=4, n_noise=16, n_per_cluster=40, seed=0):
    """Cluster 0 at the origin, cluster j offset along informative feature j.

    Dropping informative feature j merges clusters 0 and j, so every
    informative feature is needed for a good silhouette.
    """
    rng = np.random.default_rng(seed)
    offsets = np.vstack([np.zeros(n_informative), 8.0 * np.eye(n_informative)])
    informative = np.repeat(offsets, n_per_cluster, axis=0)
    informative += rng.normal(size=informative.shape)
    noise = rng.normal(size=(informative.shape[0], n_noise))
    X = np.hstack([informative, noise])
    y = np.repeat(np.arange(n_informative + 1), n_per_cluster)
    return X, y


class SubsetRecorder:
    """Scorer recording which columns each evaluation saw (row 0 holds indices)."""

    def __init__(self, score=lambda X: -X.shape[1]):
        self.subsets = []
        self.score = score

    def __call__(self, estimator, X, y=None):
        self.subsets.append(tuple(np.asarray(X[0]).astype(int)))
        return self.score(X)


def indexed_data(n_features=6, n_samples=30, seed=0):
    X = np.random.default_rng(seed).normal(size=(n_samples, n_features))
    X[0] = np.arange(n_features)
    return X


def test_keeps_informative_features():
    X, _ = informative_data()
    selector = GAFeatureSelector(
        FuzzyCMeans(5, random_state=0),
        population_size=20,
        n_generations=15,
        random_state=0,
    ).fit(X)
    recall = selector.support_[:4].mean()
    assert recall >= 0.9
    assert selector.support_[4:].sum() <= 2


def test_fitness_is_silhouette_of_refitted_estimator():
    X, _ = informative_data(n_noise=4)
    selector = GAFeatureSelector(
        FuzzyCMeans(5),
        population_size=6,
        n_generations=2,
        silhouette_sample_size=None,
        random_state=0,
    ).fit(X)
    X_selected = X[:, selector.support_]
    expected = silhouette_score(X_selected, selector.estimator_.labels_)
    assert selector.best_score_ == pytest.approx(expected)


def test_simplified_silhouette_fitness_uses_centers():
    X, _ = informative_data(n_noise=4)
    selector = GAFeatureSelector(
        FuzzyCMeans(5),
        scoring="simplified_silhouette",
        population_size=6,
        n_generations=2,
        random_state=0,
    ).fit(X)
    fitted = selector.estimator_
    expected = simplified_silhouette_score(
        X[:, selector.support_], fitted.labels_, fitted.cluster_centers_
    )
    assert selector.best_score_ == pytest.approx(expected)


def test_silhouette_sample_is_the_same_for_every_subset():
    # A sample of all but one row changes the silhouette only slightly, while
    # a fresh sample per subset would make equal subsets score differently.
    X, _ = informative_data(n_noise=2)
    selector = GAFeatureSelector(
        FuzzyCMeans(5),
        population_size=8,
        n_generations=3,
        silhouette_sample_size=X.shape[0] - 1,
        random_state=0,
    ).fit(X)
    exact = silhouette_score(X[:, selector.support_], selector.estimator_.labels_)
    assert selector.best_score_ == pytest.approx(exact, abs=0.02)


def test_supervised_scoring_is_cross_validated():
    X, y = informative_data(n_noise=4)
    cv = KFold(3, shuffle=True, random_state=0)
    selector = GAFeatureSelector(
        LogisticRegression(),
        scoring="accuracy",
        cv=cv,
        population_size=4,
        n_generations=1,
        random_state=0,
    ).fit(X, y)
    expected = cross_val_score(
        LogisticRegression(), X[:, selector.support_], y, cv=cv
    ).mean()
    assert selector.best_score_ == pytest.approx(expected)
    assert isinstance(selector.estimator_, LogisticRegression)
    assert selector.estimator_.n_features_in_ == selector.support_.sum()


@settings(max_examples=25, deadline=None)
@given(
    n_features=st.integers(2, 12),
    limits=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    init_proba=st.floats(0.05, 1.0),
    crossover=st.sampled_from(["uniform", "one_point", "two_point"]),
    seed=st.integers(0, 1000),
)
def test_feature_limits_always_hold(n_features, limits, init_proba, crossover, seed):
    min_features, max_features = sorted(min(limit, n_features) for limit in limits)
    recorder = SubsetRecorder()
    selector = GAFeatureSelector(
        KMeans(2, n_init=1),
        scoring=recorder,
        population_size=6,
        n_generations=3,
        init_proba=init_proba,
        crossover=crossover,
        mutation_proba=0.3,
        min_features=min_features,
        max_features=max_features,
        random_state=seed,
    ).fit(indexed_data(n_features))
    sizes = [len(subset) for subset in recorder.subsets]
    assert min(sizes) >= min_features
    assert max(sizes) <= max_features
    assert min_features <= selector.support_.sum() <= max_features


def test_fraction_limits():
    recorder = SubsetRecorder()
    GAFeatureSelector(
        KMeans(2, n_init=1),
        scoring=recorder,
        population_size=6,
        n_generations=2,
        min_features=0.5,
        max_features=0.75,
        random_state=0,
    ).fit(indexed_data(8))
    assert {len(subset) for subset in recorder.subsets} <= {4, 5, 6}


def test_no_subset_is_evaluated_twice():
    # Only 15 non-empty subsets of 4 features exist: repeats must come.
    recorder = SubsetRecorder(score=lambda X: float(X[1:].std()))
    selector = GAFeatureSelector(
        KMeans(2, n_init=1),
        scoring=recorder,
        population_size=10,
        n_generations=6,
        mutation_proba=0.2,
        random_state=0,
    ).fit(indexed_data(4))
    assert len(recorder.subsets) == len(set(recorder.subsets))
    assert selector.n_evaluations_ == len(recorder.subsets)
    history = selector.history_
    assert history["n_evaluations"].sum() == selector.n_evaluations_
    assert history["n_cache_hits"].sum() > 0
    assert_array_equal(history["n_evaluations"] + history["n_cache_hits"], 10)


def test_history_tracks_best_score():
    X, _ = informative_data(n_noise=4)
    selector = GAFeatureSelector(
        FuzzyCMeans(5), population_size=8, n_generations=4, random_state=1
    ).fit(X)
    history = selector.history_
    assert_array_equal(history["generation"], np.arange(5))
    assert np.all(np.diff(history["best_score"]) >= 0)
    assert history["best_score"][-1] == selector.best_score_
    assert np.all(history["mean_score"] <= history["best_score"])
    assert np.all(history["std_score"] >= 0)
    assert np.all(history["seconds"] > 0)


def test_stops_after_n_gen_no_change():
    selector = GAFeatureSelector(
        KMeans(2, n_init=1),
        scoring=lambda estimator, X, y: 0.0,
        population_size=4,
        n_generations=10,
        n_gen_no_change=2,
        random_state=0,
    ).fit(indexed_data())
    # Generation 0 sets the best; generations 1 and 2 do not improve on it.
    assert len(selector.history_["generation"]) == 3


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_result_does_not_depend_on_n_jobs(n_jobs):
    X, _ = informative_data(n_noise=8)
    params = dict(population_size=8, n_generations=3, random_state=3)
    sequential = GAFeatureSelector(FuzzyCMeans(5), n_jobs=1, **params).fit(X)
    parallel = GAFeatureSelector(FuzzyCMeans(5), n_jobs=n_jobs, **params).fit(X)
    assert_array_equal(sequential.support_, parallel.support_)
    assert_array_equal(
        sequential.history_["mean_score"], parallel.history_["mean_score"]
    )


def test_reproducible_and_seed_dependent():
    X, _ = informative_data(n_noise=8)
    params = dict(population_size=6, n_generations=2)
    first = GAFeatureSelector(**params, random_state=0).fit(X)
    again = GAFeatureSelector(**params, random_state=np.random.RandomState(0)).fit(X)
    repeat = GAFeatureSelector(**params, random_state=np.random.RandomState(0)).fit(X)
    other = GAFeatureSelector(**params, random_state=1).fit(X)
    assert_array_equal(
        first.support_, GAFeatureSelector(**params, random_state=0).fit(X).support_
    )
    assert_array_equal(again.history_["mean_score"], repeat.history_["mean_score"])
    assert not np.array_equal(
        first.history_["mean_score"], other.history_["mean_score"]
    )


def test_estimator_random_state_is_seeded_but_not_overridden():
    X, _ = informative_data(n_noise=2)
    selector = GAFeatureSelector(
        FuzzyCMeans(5), population_size=4, n_generations=0, random_state=0
    ).fit(X)
    assert isinstance(selector.estimator_.random_state, int)
    assert selector.estimator is not None
    assert selector.estimator.random_state is None
    fixed = GAFeatureSelector(
        FuzzyCMeans(5, random_state=7), population_size=4, n_generations=0
    ).fit(X)
    assert fixed.estimator_.random_state == 7


def test_degenerate_clusterings_score_worst():
    X, _ = informative_data(n_noise=2)
    selector = GAFeatureSelector(
        KMeans(1, n_init=1), population_size=4, n_generations=1, random_state=0
    ).fit(X)
    assert selector.best_score_ == -1.0


def test_constant_features_score_worst_without_fitting():
    X = np.ones((20, 3))
    recorder = SubsetRecorder()
    selector = GAFeatureSelector(
        KMeans(2, n_init=1), scoring=recorder, population_size=4, n_generations=1
    )
    with pytest.warns(ConvergenceWarning):
        selector.fit(X)
    assert recorder.subsets == []
    assert selector.best_score_ == -np.inf


def test_silhouette_of_constant_features_is_worst():
    X = np.hstack([np.ones((30, 2)), informative_data(2, 0, 10)[0]])
    selector = GAFeatureSelector(
        FuzzyCMeans(3),
        population_size=6,
        n_generations=2,
        max_features=1,
        random_state=0,
    ).fit(X)
    assert not selector.support_[:2].any()
    assert selector.best_score_ > 0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_elites": 4}, "n_elites=4 must be < population_size=4"),
        ({"tournament_size": 5}, "tournament_size=5 must be <= population_size"),
        ({"min_features": 3, "max_features": 2}, "min_features <= max_features"),
        ({"max_features": 7}, "max_features <= n_features=6"),
        ({"population_size": 1}, "'population_size' parameter"),
        ({"crossover_proba": 1.5}, "'crossover_proba' parameter"),
        ({"init_proba": 0.0}, "'init_proba' parameter"),
        ({"crossover": "three_point"}, "'crossover' parameter"),
        ({"min_features": 0}, "'min_features' parameter"),
        ({"scoring": "no_such_score"}, "no_such_score"),
    ],
)
def test_bad_parameters(params, match):
    selector = GAFeatureSelector(
        KMeans(2, n_init=1), **{"population_size": 4, "n_generations": 1, **params}
    )
    with pytest.raises(ValueError, match=match):
        selector.fit(indexed_data())


def test_bad_input():
    selector = GAFeatureSelector(FuzzyCMeans(2))
    X = indexed_data()
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        selector.fit(X)
    with pytest.raises(ValueError, match="n_clusters"):
        GAFeatureSelector(FuzzyCMeans(40), n_generations=0).fit(indexed_data())


@pytest.mark.parametrize("method", ["one_point", "two_point", "uniform"])
def test_crossover_swaps_genes_between_children(method):
    rng = np.random.default_rng(0)
    first = rng.random((50, 20)) < 0.5
    second = rng.random((50, 20)) < 0.5
    children = _crossover(first, second, method, 1.0, rng)
    first_children, second_children = children[:50], children[50:]
    # At each position the two children hold the two parents' genes.
    assert_array_equal(first_children ^ second_children, first ^ second)
    assert_array_equal(first_children | second_children, first | second)
    if method != "uniform":
        # Each first child is its first parent with one segment from the second.
        positions = np.arange(first.shape[1])
        segments = [(start, positions.size) for start in positions]
        if method == "two_point":
            segments = [(a, b) for a in positions for b in positions if a <= b]
        for child, one, other in zip(first_children, first, second, strict=True):
            assert any(
                np.array_equal(
                    child, np.where((positions >= a) & (positions < b), other, one)
                )
                for a, b in segments
            )


def test_no_crossover_copies_parents():
    rng = np.random.default_rng(0)
    first = rng.random((10, 8)) < 0.5
    second = rng.random((10, 8)) < 0.5
    children = _crossover(first, second, "uniform", 0.0, rng)
    assert_array_equal(children, np.vstack([first, second]))


def test_mutation_flips_each_gene_at_its_rate():
    population = np.zeros((200, 500), dtype=bool)
    _mutate(population, 0.01, np.random.default_rng(0))
    # 100,000 genes at rate 0.01: 1000 flips expected, standard deviation ~31.
    assert 850 < population.sum() < 1150
    per_individual = population.sum(axis=1)
    assert per_individual.std() > 1


def test_repair_changes_only_out_of_range_individuals():
    rng = np.random.default_rng(0)
    population = np.zeros((3, 10), dtype=bool)
    population[1, :5] = True
    population[2] = True
    before = population.copy()
    _repair(population, 2, 6, rng)
    assert_array_equal(population.sum(axis=1), [2, 5, 6])
    assert_array_equal(population[1], before[1])


def test_in_pipeline_and_grid_search():
    X, y = informative_data(n_noise=6)
    pipeline = make_pipeline(
        GAFeatureSelector(
            FuzzyCMeans(5), population_size=6, n_generations=2, random_state=0
        ),
        FuzzyCMeans(5, random_state=0),
    )
    labels = pipeline.fit_predict(X)
    assert labels.shape == y.shape
    search = GridSearchCV(
        pipeline,
        {"fuzzycmeans__m": [1.5, 2.0]},
        scoring="adjusted_rand_score",
        cv=KFold(2, shuffle=True, random_state=0),
    ).fit(X, y)
    assert search.best_params_["fuzzycmeans__m"] in (1.5, 2.0)
    assert search.best_score_ > 0.5


def test_pandas_feature_names_and_output():
    pd = pytest.importorskip("pandas")
    X, _ = informative_data(n_noise=2)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    selector = GAFeatureSelector(
        FuzzyCMeans(5), population_size=6, n_generations=3, random_state=0
    ).set_output(transform="pandas")
    transformed = selector.fit_transform(frame)
    names = selector.get_feature_names_out()
    assert_array_equal(names, frame.columns[selector.support_])
    assert list(transformed.columns) == list(names)
    assert_array_equal(selector.feature_names_in_, frame.columns)


def test_sparse_input_matches_dense():
    X, _ = informative_data(n_noise=2)
    params = dict(population_size=4, n_generations=1, random_state=0)
    dense = GAFeatureSelector(FuzzyCMeans(5), **params).fit(X)
    sparse = GAFeatureSelector(FuzzyCMeans(5), **params).fit(sp.csr_matrix(X))
    assert_array_equal(dense.support_, sparse.support_)
    assert sparse.best_score_ == pytest.approx(dense.best_score_)


def test_fit_params_reach_the_estimator():
    X, _ = informative_data(n_noise=2)
    weights = np.ones(X.shape[0])
    weights[:40] = 0.0
    params = dict(population_size=4, n_generations=0, random_state=0)
    weighted = GAFeatureSelector(FuzzyCMeans(5), **params).fit(X, sample_weight=weights)
    unweighted = GAFeatureSelector(FuzzyCMeans(5), **params).fit(X)
    assert weighted.best_score_ != unweighted.best_score_

    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(ValueError, match="sample_weight"):
            GAFeatureSelector(FuzzyCMeans(5), **params).fit(X, sample_weight=weights)
        requesting = FuzzyCMeans(5).set_fit_request(sample_weight=True)
        routed = GAFeatureSelector(requesting, **params).fit(X, sample_weight=weights)
    assert routed.best_score_ == weighted.best_score_


def test_progress_bar(capsys):
    GAFeatureSelector(
        KMeans(2, n_init=1), population_size=4, n_generations=2, verbose=1
    ).fit(indexed_data())
    assert "3/3" in capsys.readouterr().err


def test_clone_keeps_parameters_only():
    selector = GAFeatureSelector(FuzzyCMeans(3), population_size=4, n_generations=0)
    selector.fit(informative_data(2, 0, 10)[0])
    cloned = clone(selector)
    assert not hasattr(cloned, "support_")
    assert cloned.get_params()["population_size"] == 4


def test_dask_backend_gives_the_same_result():
    distributed = pytest.importorskip("distributed")
    X, _ = informative_data(n_noise=4)
    params = dict(population_size=6, n_generations=2, random_state=0)
    expected = GAFeatureSelector(FuzzyCMeans(5), **params).fit(X)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        parallel_config(backend="dask"),
    ):
        result = GAFeatureSelector(FuzzyCMeans(5), n_jobs=2, **params).fit(X)
    assert_array_equal(result.support_, expected.support_)
    assert result.best_score_ == expected.best_score_


def test_candidate_warnings_stay_silent_in_worker_processes(capfd):
    # Three distinct rows: every fit of 5 clusters warns about merged clusters.
    X = np.repeat(np.eye(3, 6), 20, axis=0) + 1e-3 * np.arange(6)
    params = dict(population_size=4, n_generations=1, random_state=0)
    expected = GAFeatureSelector(FuzzyCMeans(5, max_iter=5), **params)
    with pytest.warns(ConvergenceWarning):  # only the final refit warns
        expected.fit(X)
    with parallel_config(backend="loky"), pytest.warns(ConvergenceWarning):
        result = GAFeatureSelector(FuzzyCMeans(5, max_iter=5), n_jobs=2, **params)
        result.fit(X)
    assert "ConvergenceWarning" not in capfd.readouterr().err
    assert_array_equal(result.support_, expected.support_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_collapsed_candidate_scores_the_worst():
    from fuzzyprune._ga import _Fitness

    # 2500 features in 5 groups: with m = 2 fuzzy c-means collapses onto the
    # mean, yet the argmax of its near-uniform memberships still follows the
    # groups, which a silhouette of the labels would rank highly.
    rng = np.random.default_rng(0)
    means = rng.normal(0, 0.5, (5, 2500))
    X = means[np.repeat(np.arange(5), 12)] + rng.normal(size=(60, 2500))
    everything = np.ones(X.shape[1], dtype=bool)

    def fitness(estimator):
        return _Fitness(estimator, "silhouette", np.arange(60), ~everything, None, {})(
            X, None, everything
        )

    collapsed = FuzzyCMeans(5, m=2.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="degenerate"):
        labels = clone(collapsed).fit(X).labels_
    assert silhouette_score(X, labels) > 0  # what the labels alone would get
    assert fitness(collapsed) == -1.0
    assert fitness(make_pipeline(collapsed)) == -1.0
    assert fitness(FuzzyCMeans(5, random_state=0)) == pytest.approx(
        silhouette_score(X, FuzzyCMeans(5, random_state=0).fit(X).labels_)
    )
