import warnings

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
from sklearn.metrics import silhouette_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from fuzzyprune import FuzzyCMeans, GAFeatureSelector
from fuzzyprune._ga import (
    _crossover,
    _fitness_ranks,
    _Limits,
    _mutate,
    _parsimonious_ranks,
    _repair,
    _Search,
)
from fuzzyprune.metrics import fuzzy_silhouette_score, simplified_silhouette_score


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


def columns_of(X):
    """The column indices that row 0 of a subset of ``indexed_data`` holds."""
    return np.asarray(X[0]).astype(int)


class ColumnFitness:
    """Scorer: a fixed function of the columns; NaN or -inf on chosen columns."""

    def __init__(self, n_features, nan_column=None, inf_column=None, seed=0):
        self.weights = np.random.default_rng(seed).normal(size=n_features)
        self.nan_column = nan_column
        self.inf_column = inf_column

    def of_mask(self, mask):
        columns = np.flatnonzero(mask)
        if self.nan_column in columns:
            return np.nan
        if self.inf_column in columns:
            return -np.inf
        return float(self.weights[columns].sum())

    def __call__(self, estimator, X, y=None):
        mask = np.zeros(self.weights.size, dtype=bool)
        mask[columns_of(X)] = True
        return self.of_mask(mask)


def best_of(scores):
    """The greatest score, NaN below every number (NaN only if all are NaN)."""
    scores = np.asarray(scores, dtype=float)
    known = scores[~np.isnan(scores)]
    return known.max() if known.size else np.nan


@pytest.fixture
def generations(monkeypatch):
    """Record each generation's population as the search evaluates it."""
    populations = []
    evaluate = _Search.evaluate

    def recording(self, population, parallel):
        populations.append(population.copy())
        return evaluate(self, population, parallel)

    monkeypatch.setattr(_Search, "evaluate", recording)
    return populations


def test_keeps_informative_features():
    X, _ = informative_data(n_noise=12, n_per_cluster=20)
    selector = GAFeatureSelector(
        FuzzyCMeans(5, random_state=0),
        population_size=12,
        n_generations=15,
        random_state=0,
    ).fit(X)
    assert selector.support_[:4].all()
    assert selector.support_[4:].sum() <= 1


def _silhouette_of_labels(X, fitted):
    return silhouette_score(X, fitted.labels_)


def _fuzzy_silhouette_of_memberships(X, fitted):
    return fuzzy_silhouette_score(X, fitted.memberships_)


@pytest.mark.parametrize("features", ["all", "selected"])
@pytest.mark.parametrize(
    "scoring, reference",
    [
        ("silhouette", _silhouette_of_labels),
        ("fuzzy_silhouette", _fuzzy_silhouette_of_memberships),
    ],
)
def test_fitness_is_the_silhouette_of_the_refitted_estimator(
    scoring, reference, features
):
    X, _ = informative_data(n_noise=4)
    selector = GAFeatureSelector(
        FuzzyCMeans(5),
        scoring=scoring,
        population_size=6,
        n_generations=2,
        silhouette_features=features,
        silhouette_sample_size=None,
        random_state=0,
    ).fit(X)
    measured_on = X if features == "all" else X[:, selector.support_]
    expected = reference(measured_on, selector.estimator_)
    assert selector.best_score_ == pytest.approx(expected, rel=1e-12)


def test_simplified_silhouette_fitness_uses_centers():
    X, _ = informative_data(n_noise=4)
    selector = GAFeatureSelector(
        FuzzyCMeans(5),
        scoring="simplified_silhouette",
        population_size=6,
        n_generations=2,
        silhouette_features="selected",
        random_state=0,
    ).fit(X)
    fitted = selector.estimator_
    expected = simplified_silhouette_score(
        X[:, selector.support_], fitted.labels_, fitted.cluster_centers_
    )
    assert selector.best_score_ == pytest.approx(expected)


def test_simplified_silhouette_on_all_features_uses_cluster_means():
    # The fit's centers live in the subset's space; on all features the
    # clusters are represented by the means of their rows.
    X, _ = informative_data(n_noise=4)
    selector = GAFeatureSelector(
        FuzzyCMeans(5),
        scoring="simplified_silhouette",
        population_size=6,
        n_generations=2,
        random_state=0,
    ).fit(X)
    expected = simplified_silhouette_score(X, selector.estimator_.labels_)
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
    exact = silhouette_score(X, selector.estimator_.labels_)
    assert selector.best_score_ == pytest.approx(exact, abs=0.02)


def test_supervised_scoring_is_cross_validated():
    X, y = informative_data(n_noise=4, n_per_cluster=10)
    cv = KFold(3, shuffle=True, random_state=0)
    selector = GAFeatureSelector(
        NearestCentroid(),
        scoring="accuracy",
        cv=cv,
        population_size=4,
        n_generations=1,
        random_state=0,
    ).fit(X, y)
    expected = cross_val_score(
        NearestCentroid(), X[:, selector.support_], y, cv=cv
    ).mean()
    assert selector.best_score_ == pytest.approx(expected)
    assert isinstance(selector.estimator_, NearestCentroid)
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
        FunctionTransformer(),
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


def test_history_matches_the_populations(generations):
    # Scores recomputed from the masks, not read from the search's cache:
    # -inf and NaN subsets are left out of the mean and spread, duplicates
    # count, and the best so far is the best of every subset evaluated
    # (without elites, not necessarily in the current population).
    fitness = ColumnFitness(8, nan_column=0, inf_column=1)
    selector = GAFeatureSelector(
        FunctionTransformer(),
        scoring=fitness,
        population_size=8,
        n_generations=4,
        n_elites=0,
        mutation_proba=0.3,
        random_state=1,
    )
    with pytest.warns(UserWarning, match="scored NaN"):
        selector.fit(indexed_data(8))
    history = selector.history_
    assert_array_equal(history["generation"], np.arange(5))
    assert len(generations) == 5
    evaluated = []
    for generation, population in enumerate(generations):
        scores = np.array([fitness.of_mask(mask) for mask in population])
        finite = scores[np.isfinite(scores)]
        assert history["mean_score"][generation] == pytest.approx(finite.mean())
        assert history["std_score"][generation] == pytest.approx(finite.std())
        evaluated.extend(scores)
        assert history["best_score"][generation] == best_of(evaluated)
    assert selector.best_score_ == fitness.of_mask(selector.support_)
    assert selector.best_score_ == history["best_score"][-1]
    assert np.all(history["seconds"] > 0)


@pytest.mark.parametrize("n_elites", [1, 2])
def test_elites_pass_unchanged_into_the_next_generation(generations, n_elites):
    # Random parents, full crossover and heavy mutation: only elitism carries
    # a generation's best subsets over, fittest first, NaN last.
    fitness = ColumnFitness(10, nan_column=0, inf_column=1)
    selector = GAFeatureSelector(
        FunctionTransformer(),
        scoring=fitness,
        population_size=6,
        n_generations=5,
        tournament_size=1,
        crossover_proba=1.0,
        mutation_proba=0.5,
        n_elites=n_elites,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="scored NaN"):
        selector.fit(indexed_data(10))
    for population, following in zip(generations, generations[1:], strict=False):
        scores = np.array([fitness.of_mask(mask) for mask in population])
        ranks = _parsimonious_ranks(scores, population.sum(axis=1))
        order = np.argsort(-ranks, kind="stable")
        assert_array_equal(following[:n_elites], population[order[:n_elites]])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.sampled_from([np.nan, -np.inf, -1.0, 0.0, 0.5, np.inf])
        | st.floats(allow_nan=True, allow_infinity=True),
        min_size=1,
        max_size=8,
    )
)
def test_fitness_ranks_put_nan_below_every_number(scores):
    scores = np.array(scores)
    ranks = _fitness_ranks(scores)
    # NaN sorts as a number below -inf; equal scores share a rank.
    keys = [(0, 0.0) if np.isnan(score) else (1, score) for score in scores]
    for i, j in np.ndindex(scores.size, scores.size):
        assert (ranks[i] > ranks[j]) == (keys[i] > keys[j])
        assert (ranks[i] == ranks[j]) == (keys[i] == keys[j])


def test_tournaments_are_won_by_numbers_over_nan():
    # Ten one-feature subsets, four times over; eight of each ten score NaN.
    # Copies of tournament winners (no crossover, mutation or elites) are a
    # NaN subset only when a tournament of 10 drew no number: 0.8**10 ~ 11 %.
    population = np.tile(np.eye(10, dtype=bool), (4, 1))
    scores = np.tile([np.nan] * 8 + [-np.inf, 0.0], 4)
    selector = GAFeatureSelector(
        population_size=40,
        tournament_size=10,
        crossover_proba=0.0,
        n_elites=0,
    )
    limits = _Limits(1, 10, np.ones(10, dtype=bool))
    children = selector._breed(
        population, scores, 0.0, limits, np.random.default_rng(0)
    )
    winners = children.argmax(axis=1)
    assert np.count_nonzero(winners < 8) <= 10
    # A number drawn beats NaN; 0 is drawn in 65 % of tournaments.
    assert np.count_nonzero(winners == 9) > np.count_nonzero(winners == 8)


def test_nan_fitness_ranks_below_every_number(generations):
    # Every subset with column 0 scores NaN, the first evaluated included:
    # the best subset must still be the best finite one.
    fitness = ColumnFitness(6, nan_column=0)
    selector = GAFeatureSelector(
        FunctionTransformer(),
        scoring=fitness,
        population_size=6,
        n_generations=3,
        init_proba=0.9,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="scored NaN") as caught:
        selector.fit(indexed_data())
    evaluated = {tuple(mask) for population in generations for mask in population}
    scores = {mask: fitness.of_mask(np.array(mask)) for mask in evaluated}
    assert np.isnan(fitness.of_mask(generations[0][0]))
    n_nan = sum(np.isnan(score) for score in scores.values())
    assert len(caught) == 1
    assert str(caught[0].message).startswith(f"{n_nan} of the {len(evaluated)} ")
    assert np.isfinite(selector.best_score_)
    assert selector.best_score_ == max(
        score for score in scores.values() if np.isfinite(score)
    )
    assert selector.best_score_ == fitness.of_mask(selector.support_)
    assert not selector.support_[0]


def test_every_fitness_nan_selects_the_first_subset():
    recorder = SubsetRecorder(score=lambda X: np.nan)
    selector = GAFeatureSelector(
        FunctionTransformer(),
        scoring=recorder,
        population_size=4,
        n_generations=2,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selector.fit(indexed_data())
    assert [str(warning.message) for warning in caught] == [
        f"{len(recorder.subsets)} of the {len(recorder.subsets)} feature subsets "
        "evaluated scored NaN (a failed fit or a scorer returning NaN); the "
        "selected features are the first subset evaluated."
    ]
    assert_array_equal(np.flatnonzero(selector.support_), recorder.subsets[0])
    assert np.isnan(selector.best_score_)
    assert np.all(np.isnan(selector.history_["best_score"]))
    assert np.all(np.isnan(selector.history_["mean_score"]))
    assert selector.transform(indexed_data()).shape[1] == selector.support_.sum()


class FailsOnSomeFolds(NearestCentroid):
    """Fails to fit 3 or more features on training sets of exactly 33 rows."""

    def fit(self, X, y):
        if X.shape[1] >= 3 and X.shape[0] == 33:
            raise ValueError("cannot fit this subset")
        return super().fit(X, y)


def test_failed_cross_validation_folds_rank_below_every_number(generations):
    # 50 rows in 3 folds train on 33, 33 and 34 rows: subsets of 3 or more
    # features fail on two folds and cross_val_score scores them NaN.
    X, y = informative_data(n_informative=4, n_noise=2, n_per_cluster=10)
    cv = KFold(3, shuffle=True, random_state=0)
    selector = GAFeatureSelector(
        FailsOnSomeFolds(),
        scoring="accuracy",
        cv=cv,
        population_size=6,
        n_generations=2,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="scored NaN"):
        selector.fit(X, y)
    assert generations[0][0].sum() >= 3  # the first subset evaluated fails
    assert selector.support_.sum() <= 2
    expected = cross_val_score(NearestCentroid(), X[:, selector.support_], y, cv=cv)
    assert selector.best_score_ == pytest.approx(expected.mean())


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


@pytest.mark.filterwarnings("ignore:GAFeatureSelector has no estimator:UserWarning")
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


class SeedRecorder:
    """Scorer recording the random_state of the pipeline's clusterer."""

    def __init__(self):
        self.seeds = []

    def __call__(self, estimator, X, y=None):
        self.seeds.append(estimator.get_params()["kmeans__random_state"])
        return float(X[1:].std())


def test_every_evaluation_gets_the_same_nested_seed():
    # One seed per fit, set deep inside the pipeline, the same for every
    # subset and for the refit whatever the evaluation order.
    def seeds(random_state, n_jobs=1):
        recorder = SeedRecorder()
        selector = GAFeatureSelector(
            make_pipeline(StandardScaler(), KMeans(2, n_init=1)),
            scoring=recorder,
            population_size=6,
            n_generations=2,
            n_jobs=n_jobs,
            random_state=random_state,
        ).fit(indexed_data())
        return recorder.seeds, selector

    first, selector = seeds(0)
    assert len(first) == selector.n_evaluations_ > 1
    assert len(set(first)) == 1
    assert isinstance(first[0], int)
    assert selector.estimator_[-1].random_state == first[0]
    assert selector.estimator[-1].random_state is None
    threaded, _ = seeds(0, n_jobs=2)
    assert threaded == first
    assert seeds(1)[0][0] != first[0]


def test_nested_seed_makes_fits_reproducible():
    # KMeans with one random start: unseeded, the fitness of each subset
    # would vary from fit to fit.
    X, _ = informative_data(n_informative=3, n_noise=3, n_per_cluster=8)
    params = dict(population_size=6, n_generations=2, random_state=0)
    first = GAFeatureSelector(KMeans(4, n_init=1, init="random"), **params).fit(X)
    again = GAFeatureSelector(KMeans(4, n_init=1, init="random"), **params).fit(X)
    assert_array_equal(first.history_["mean_score"], again.history_["mean_score"])
    seed = first.estimator_.random_state
    by_hand = KMeans(4, n_init=1, init="random", random_state=seed)
    labels = by_hand.fit_predict(X[:, first.support_])
    assert first.best_score_ == pytest.approx(silhouette_score(X, labels))


@pytest.mark.slow
def test_threaded_search_with_a_torch_estimator_is_reproducible():
    # Threads fit networks side by side; each fit must draw only from its
    # own generators, seeded from its random_state.
    from fuzzyprune import PrunedMLPClassifier

    X, y = informative_data(n_informative=2, n_noise=2, n_per_cluster=20)

    def fit(n_jobs):
        return GAFeatureSelector(
            PrunedMLPClassifier(
                hidden_size=8, max_epochs=2, batch_size=10, random_state=0
            ),
            scoring="neg_log_loss",
            cv=2,
            population_size=4,
            n_generations=1,
            n_jobs=n_jobs,
            random_state=0,
        ).fit(X, y)

    sequential = fit(n_jobs=1)
    threaded = fit(n_jobs=2)
    assert_array_equal(threaded.support_, sequential.support_)
    assert_array_equal(
        threaded.history_["mean_score"], sequential.history_["mean_score"]
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


def test_degenerate_clusterings_score_worst_and_warn():
    X, _ = informative_data(n_noise=2)
    selector = GAFeatureSelector(
        KMeans(1, n_init=1), population_size=4, n_generations=1, random_state=0
    )
    # One warning, about the cause, not about the size of what was selected.
    with pytest.warns(UserWarning, match=r"All \d+ feature subsets .* -1.0") as record:
        selector.fit(X)
    assert len(record) == 1
    assert selector.best_score_ == -1.0
    sizes = selector.evaluations_["n_features"]
    assert selector.support_.sum() == sizes.min()


def test_constant_features_score_worst_without_fitting():
    X = np.ones((20, 3))
    recorder = SubsetRecorder()
    selector = GAFeatureSelector(
        KMeans(2, n_init=1), scoring=recorder, population_size=4, n_generations=1
    )
    with pytest.warns(ConvergenceWarning), pytest.warns(UserWarning, match="-inf"):
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


class FitOnly:
    """Has ``fit`` but is no scikit-learn estimator (no get_params)."""

    def fit(self, X, y=None):
        return self


@pytest.mark.parametrize(
    "params, match",
    [
        ({"estimator": "kmeans"}, "'estimator' parameter"),
        ({"estimator": FitOnly()}, "'estimator' parameter"),
        ({"estimator": KMeans}, "estimator instance"),
        ({"scoring": "no_such_score"}, "no_such_score"),
        ({"scoring": ["accuracy"]}, "'scoring' parameter"),
        ({"population_size": 1}, "'population_size' parameter"),
        ({"population_size": 4.0}, "'population_size' parameter"),
        ({"n_generations": -1}, "'n_generations' parameter"),
        ({"init_proba": 0.0}, "'init_proba' parameter"),
        ({"init_proba": np.nan}, "'init_proba' parameter"),
        ({"tournament_size": 0}, "'tournament_size' parameter"),
        ({"tournament_size": 5}, "tournament_size=5 must be <= population_size"),
        ({"crossover": "three_point"}, "'crossover' parameter"),
        ({"crossover_proba": 1.5}, "'crossover_proba' parameter"),
        ({"mutation_proba": -0.1}, "'mutation_proba' parameter"),
        ({"n_elites": -1}, "'n_elites' parameter"),
        ({"n_elites": 4}, "n_elites=4 must be < population_size=4"),
        ({"n_gen_no_change": 0}, "'n_gen_no_change' parameter"),
        ({"min_features": 0}, "'min_features' parameter"),
        ({"min_features": 1.5}, "'min_features' parameter"),
        ({"min_features": 7}, "min_features <= max_features <= n_features=6"),
        ({"min_features": 3, "max_features": 2}, "min_features <= max_features"),
        ({"min_features": 0.5, "max_features": 0.25}, "min_features=0.5"),
        ({"max_features": 0}, "'max_features' parameter"),
        ({"max_features": np.inf}, "'max_features' parameter"),
        ({"max_features": 7}, "max_features <= n_features=6"),
        ({"silhouette_sample_size": 1}, "'silhouette_sample_size' parameter"),
        ({"cv": 1}, "'cv' parameter"),
        ({"n_jobs": 0}, "'n_jobs' parameter"),
        ({"n_jobs": 1.5}, "'n_jobs' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
        ({"verbose": -1}, "'verbose' parameter"),
    ],
)
def test_bad_parameters(params, match, generations):
    params = {"estimator": FunctionTransformer(), "scoring": SubsetRecorder(), **params}
    selector = GAFeatureSelector(population_size=4, n_generations=1)
    selector.set_params(**params)
    with pytest.raises((ValueError, TypeError), match=match):
        selector.fit(indexed_data())
    assert generations == []  # refused before the search began
    assert not hasattr(selector, "support_")


@pytest.mark.parametrize(
    "estimator, scoring, match",
    [
        (StandardScaler(), "silhouette", "labels_ or predict; StandardScaler"),
        (StandardScaler(), "simplified_silhouette", "labels_ or predict"),
        (KMeans(2, n_init=1), "fuzzy_silhouette", "memberships_ or predict_proba"),
    ],
)
def test_scoring_the_estimator_cannot_serve(estimator, scoring, match):
    selector = GAFeatureSelector(
        estimator, scoring=scoring, population_size=4, n_generations=1
    )
    with pytest.raises(TypeError, match=match):
        selector.fit(indexed_data())
    assert not hasattr(selector, "support_")


def dense_float(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def as_frame(X):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])


@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X > 4,
        lambda X: sp.csr_matrix(X > 4),
        lambda X: as_frame(X > 4),
        lambda X: as_frame(X > 4).astype("boolean"),
        lambda X: X.astype(np.int64),
        lambda X: X.astype(np.int8),
        lambda X: np.abs(X).astype(np.uint8),
        lambda X: X.astype(np.float32),
        lambda X: sp.csr_matrix(X.astype(np.float32)),
        lambda X: as_frame(X.astype(np.int64)),
    ],
    ids=[
        "bool",
        "sparse bool",
        "pandas bool",
        "pandas boolean",
        "int64",
        "int8",
        "uint8",
        "float32",
        "sparse float32",
        "pandas int64",
    ],
)
def test_input_dtypes_give_the_result_of_their_float_values(convert):
    # Whole numbers up to a few tens: every dtype holds them exactly.
    X = np.round(informative_data(n_informative=2, n_noise=3, n_per_cluster=10)[0])
    X_converted = convert(X)
    as_float = dense_float(X_converted)
    params = dict(population_size=6, n_generations=2, random_state=0)
    result = GAFeatureSelector(FuzzyCMeans(3), **params).fit(X_converted)
    expected = GAFeatureSelector(FuzzyCMeans(3), **params).fit(as_float)
    assert_array_equal(result.support_, expected.support_)
    assert result.best_score_ == pytest.approx(expected.best_score_, rel=1e-5)
    assert_array_equal(
        dense_float(result.transform(X_converted)), as_float[:, expected.support_]
    )


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
    _repair(population, _Limits(2, 6, np.ones(10, dtype=bool)), rng)
    assert_array_equal(population.sum(axis=1), [2, 5, 6])
    assert_array_equal(population[1], before[1])


def test_repair_switches_on_only_allowed_genes():
    rng = np.random.default_rng(0)
    population = np.zeros((20, 6), dtype=bool)
    population[:, 0] = True  # not allowed: switched off, never back on
    allowed = np.array([False, True, True, True, False, True])
    _repair(population, _Limits(3, 4, allowed), rng)
    assert_array_equal(population.sum(axis=1), 3)
    assert not population[:, ~allowed].any()


def test_constant_features_are_left_out_while_others_suffice():
    # A constant column changes no distance: it never joins a subset, until
    # min_features needs it.
    X, _ = informative_data(n_noise=2, n_per_cluster=10)
    X = np.hstack([X, np.zeros((X.shape[0], 3)), np.full((X.shape[0], 1), 5.0)])
    params = dict(population_size=6, n_generations=3, random_state=0)
    selector = GAFeatureSelector(FuzzyCMeans(5), **params).fit(X)
    assert not selector.support_[6:].any()
    assert (selector.evaluations_["n_features"] <= 6).all()
    selector = GAFeatureSelector(FuzzyCMeans(5), min_features=8, **params).fit(X)
    assert selector.support_.sum() >= 8


def test_in_pipeline_and_grid_search():
    X, y = informative_data(n_noise=6)
    pipeline = make_pipeline(
        GAFeatureSelector(
            FuzzyCMeans(5), population_size=6, n_generations=2, random_state=0
        ),
        FuzzyCMeans(5, random_state=0),
    )
    labels = pipeline.fit_predict(X)
    # The clusterer after the selector sees the selected columns only.
    selected = X[:, pipeline[0].support_]
    assert_array_equal(labels, FuzzyCMeans(5, random_state=0).fit_predict(selected))
    search = GridSearchCV(
        pipeline,
        {"fuzzycmeans__m": [1.5, 2.0]},
        scoring="adjusted_rand_score",
        cv=KFold(2, shuffle=True, random_state=0),
    ).fit(X, y)
    assert search.best_score_ > 0.5
    # Cloned and refitted on all the data, the selector finds what it finds
    # when fitted directly with the same random_state.
    direct = clone(pipeline[0]).fit(X)
    assert_array_equal(search.best_estimator_[0].support_, direct.support_)


@pytest.mark.parametrize("with_targets", [False, True])
def test_pandas_feature_names_and_output(with_targets):
    pd = pytest.importorskip("pandas")
    X, y = informative_data(n_noise=2)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    selector = GAFeatureSelector(
        FuzzyCMeans(5), population_size=6, n_generations=3, random_state=0
    ).set_output(transform="pandas")
    # A pipeline fitted with labels passes them to every step.
    transformed = selector.fit_transform(frame, y if with_targets else None)
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


@pytest.mark.slow  # starts worker processes
@pytest.mark.filterwarnings("ignore:All .* feature subsets evaluated:UserWarning")
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
    from fuzzyprune._ga import _Fitness, _SelectedFeatures

    # 2500 features in 5 groups: with m = 2 fuzzy c-means collapses onto the
    # mean, yet the argmax of its near-uniform memberships still follows the
    # groups, which a silhouette of the labels would rank highly.
    rng = np.random.default_rng(0)
    means = rng.normal(0, 0.5, (5, 2500))
    X = means[np.repeat(np.arange(5), 12)] + rng.normal(size=(60, 2500))
    everything = np.ones(X.shape[1], dtype=bool)

    def fitness(estimator):
        space = _SelectedFeatures(np.arange(60))
        return _Fitness(estimator, "silhouette", space, ~everything, None, {})(
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


class NeedsThreeFeatures(NearestCentroid):
    """Fails to fit fewer than 3 features, on every fold."""

    def fit(self, X, y):
        if X.shape[1] < 3:
            raise ValueError("cannot fit fewer than 3 features")
        return super().fit(X, y)


def test_subsets_failing_on_every_fold_rank_below_every_number():
    # scikit-learn raises when every fold fails; the search scores it NaN.
    X, y = informative_data(n_informative=4, n_noise=2, n_per_cluster=10)
    selector = GAFeatureSelector(
        NeedsThreeFeatures(),
        scoring="accuracy",
        cv=KFold(3),
        population_size=8,
        n_generations=2,
        init_proba=0.4,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selector.fit(X, y)
    assert selector.support_.sum() >= 3 and np.isfinite(selector.best_score_)
    # One summary, not a warning per failed fold.
    assert [str(w.message) for w in caught if "scored NaN" in str(w.message)]
    assert len(caught) == 1


def test_scorer_failing_in_cross_validation_gives_one_warning():
    def failing(estimator, X, y):
        raise ZeroDivisionError

    X, y = informative_data(n_informative=2, n_noise=2, n_per_cluster=10)
    selector = GAFeatureSelector(
        NearestCentroid(), scoring=failing, population_size=4, n_generations=1
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selector.fit(X, y)
    assert [str(w.message)[:30] for w in caught] == [str(caught[0].message)[:30]]
    assert "scored NaN" in str(caught[0].message)


@pytest.mark.parametrize("result", ["a", "0.5", None, np.arange(2), {"a": 1}])
def test_scorer_returning_no_number_is_named(result):
    def scorer(estimator, X, y=None):
        return result

    selector = GAFeatureSelector(
        FunctionTransformer(), scoring=scorer, population_size=4, n_generations=1
    )
    with pytest.raises(TypeError, match=r"scoring=.*scorer.* returned .*not a number"):
        selector.fit(indexed_data())


class _FakeClock:
    """A clock that the scorer below advances by one second per evaluation."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _counting_scorer(clock):
    def scorer(estimator, X, y):
        clock.now += 1.0
        return float(X.shape[1])

    return scorer


def _wine():
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit_transform(load_wine().data)


def test_evaluations_record_every_member_and_each_subset_once():
    # Three features make 7 subsets: a generation of 8 holds duplicates.
    X = _wine()[:, :3]
    selector = GAFeatureSelector(
        FuzzyCMeans(3), population_size=8, n_generations=4, random_state=0
    ).fit(X)
    evaluations = selector.evaluations_
    history = selector.history_
    n_generations = history["generation"].size
    np.testing.assert_array_equal(
        evaluations["generation"], np.repeat(np.arange(n_generations), 8)
    )
    cached = evaluations["cached"]
    assert np.count_nonzero(~cached) == selector.n_evaluations_
    for generation in range(n_generations):
        this = evaluations["generation"] == generation
        assert np.count_nonzero(cached & this) == history["n_cache_hits"][generation]
        fitness = evaluations["fitness"][this]
        assert fitness.mean() == pytest.approx(history["mean_score"][generation])
        best_so_far = evaluations["fitness"][evaluations["generation"] <= generation]
        assert best_so_far.max() == history["best_score"][generation]
    assert evaluations["n_features"].min() >= 1
    assert cached[:8].any()
    # The best subset is among the evaluated ones, with its size.
    best = np.argmax(evaluations["fitness"])
    assert evaluations["n_features"][best] == selector.support_.sum()
    pd = pytest.importorskip("pandas")
    assert len(pd.DataFrame(evaluations)) == 8 * n_generations


def test_max_time_stops_within_one_generation_of_the_budget(monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr("fuzzyprune._ga._clock", clock)
    selector = GAFeatureSelector(
        FuzzyCMeans(3),
        scoring=_counting_scorer(clock),
        population_size=6,
        n_generations=50,
        max_time=10.0,
        random_state=0,
    ).fit(_wine())
    elapsed = np.cumsum(selector.history_["seconds"])
    assert elapsed[-1] >= 10.0
    assert elapsed[-2] < 10.0
    assert elapsed.size < 51


def test_target_score_stops_after_the_generation_that_reaches_it():
    clock = _FakeClock()
    selector = GAFeatureSelector(
        FuzzyCMeans(3),
        scoring=_counting_scorer(clock),
        population_size=6,
        n_generations=50,
        init_proba=0.3,
        target_score=9,
        random_state=0,
    ).fit(_wine())
    best = selector.history_["best_score"]
    assert best[-1] >= 9
    assert (best[:-1] < 9).all()
    assert best.size < 51


def test_callbacks_see_every_generation_and_can_stop_the_search():
    seen = []

    def watch(state):
        seen.append(state)
        return state["generation"] == 2

    selector = GAFeatureSelector(
        FuzzyCMeans(3),
        population_size=6,
        n_generations=8,
        callbacks=[watch],
        random_state=0,
    ).fit(_wine())
    history = selector.history_
    np.testing.assert_array_equal(history["generation"], [0, 1, 2])
    assert [state["generation"] for state in seen] == [0, 1, 2]
    for state in seen:
        generation = state["generation"]
        assert state["best_score"] == history["best_score"][generation]
        assert state["history"]["generation"].size == generation + 1
        assert state["evaluations"]["fitness"].size == 6 * (generation + 1)
    np.testing.assert_array_equal(seen[-1]["best_support"], selector.support_)


def test_callbacks_see_the_last_generation_of_a_full_search():
    seen = []
    GAFeatureSelector(
        FuzzyCMeans(3),
        population_size=4,
        n_generations=2,
        callbacks=lambda state: seen.append(state["generation"]),
        random_state=0,
    ).fit(_wine())
    assert seen == [0, 1, 2]


def test_builtin_callbacks_stop_the_search(monkeypatch):
    from fuzzyprune.ga_callbacks import EarlyStopping, TimeBudget

    clock = _FakeClock()
    monkeypatch.setattr("fuzzyprune._ga._clock", clock)
    params = {
        "estimator": FuzzyCMeans(3),
        "scoring": _counting_scorer(clock),
        "population_size": 6,
        "n_generations": 50,
        "random_state": 0,
    }
    budget = GAFeatureSelector(**params, callbacks=[TimeBudget(10)]).fit(_wine())
    elapsed = np.cumsum(budget.history_["seconds"])
    assert elapsed[-2] < 10 <= elapsed[-1]
    # The counting fitness (the number of features, at most 13) cannot rise
    # by 100: the search stops after one generation without that rise.
    stalled = GAFeatureSelector(**params, callbacks=[EarlyStopping(1, 100)]).fit(
        _wine()
    )
    np.testing.assert_array_equal(stalled.history_["generation"], [0, 1])


@pytest.mark.parametrize(
    "best, stops",
    [
        ([1.0, 1.2, 1.4], True),  # 0.4 in two generations: not more than 0.5
        ([1.0, 1.2, 1.6], False),  # 0.6 in two generations
        ([1.0, 1.0], False),  # fewer than patience generations after the first
        ([1.0, 2.0, 2.0, 2.0], True),
    ],
)
def test_early_stopping_compares_with_the_best_patience_generations_ago(best, stops):
    from fuzzyprune.ga_callbacks import EarlyStopping

    state = {"history": {"best_score": np.array(best)}}
    assert EarlyStopping(2, min_delta=0.5)(state) is stops


@pytest.mark.parametrize(
    "callback", [1, lambda: True, lambda state, extra: True], ids=["1", "0", "2"]
)
def test_callbacks_that_cannot_take_the_state_are_refused_before_the_search(
    callback,
):
    def evaluated(estimator, X, y=None):
        pytest.fail("the search started")

    selector = GAFeatureSelector(
        FuzzyCMeans(3), scoring=evaluated, callbacks=[callback]
    )
    with pytest.raises(TypeError, match="is not a callable of one argument"):
        selector.fit(_wine())


def test_callbacks_may_come_in_a_tuple():
    calls = []
    GAFeatureSelector(
        FuzzyCMeans(3),
        population_size=4,
        n_generations=2,
        callbacks=(calls.append, lambda state, *rest: None),
        random_state=0,
    ).fit(_wine())
    assert [state["generation"] for state in calls] == [0, 1, 2]


def test_selection_frequency_counts_the_members_that_chose_each_feature():
    X = _wine()
    selector = GAFeatureSelector(
        FuzzyCMeans(3), population_size=6, n_generations=3, random_state=0
    ).fit(X)
    frequency = selector.selection_frequency_
    assert frequency.shape == (X.shape[1],)
    assert ((0 <= frequency) & (frequency <= 1)).all()
    # Each member selected n_features features: the frequencies sum to the
    # mean subset size.
    assert frequency.sum() == pytest.approx(selector.evaluations_["n_features"].mean())


def test_parsimonious_ranks_break_ties_by_fewer_features():
    # Hand-computed: fitness first, then size; NaN below -inf below numbers.
    scores = np.array([0.5, 0.5, np.nan, 0.7, -np.inf, 0.5])
    sizes = np.array([3, 2, 1, 5, 1, 2])
    assert_array_equal(_parsimonious_ranks(scores, sizes), [2, 3, 0, 4, 1, 3])


def test_equally_fit_subsets_select_the_smallest():
    # Every subset ties: the smallest evaluated wins, wherever it came.
    selector = GAFeatureSelector(
        KMeans(2, n_init=1),
        scoring=lambda estimator, X, y: 0.0,
        population_size=8,
        n_generations=3,
        min_features=2,
        random_state=0,
    ).fit(indexed_data(8))
    sizes = selector.evaluations_["n_features"]
    assert selector.support_.sum() == sizes.min()
    assert sizes[0] > sizes.min()  # not simply the first subset evaluated


def standardised_wine():
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def cluster_accuracy_of(X, y):
    """Accuracy of the clustering the issue's target uses, against the classes."""
    from fuzzyprune.metrics import cluster_accuracy

    k = np.unique(y).size
    return cluster_accuracy(y, FuzzyCMeans(k, n_init=3, random_state=0).fit_predict(X))


def test_silhouette_on_selected_features_drifts_to_one_feature_and_warns():
    # A silhouette is highest on one feature, where FCM finds well-separated
    # groups that are not the wine classes: given generations enough, the
    # search measured on the selected features ends there (accuracy 0.70
    # against 0.97 with all features), and the one measured on all does not.
    X, y = standardised_wine()
    params = dict(population_size=12, n_generations=15, random_state=0)
    selector = GAFeatureSelector(
        FuzzyCMeans(3), silhouette_features="selected", **params
    )
    with pytest.warns(UserWarning, match=r"single feature \(number \d+\) of 13"):
        selector.fit(X)
    assert cluster_accuracy_of(selector.transform(X), y) < 0.8
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        selector = GAFeatureSelector(FuzzyCMeans(3), **params).fit(X)
    assert selector.support_.sum() > 1
    assert (
        cluster_accuracy_of(selector.transform(X), y)
        >= cluster_accuracy_of(X, y) - 0.05
    )


def test_single_feature_forced_by_the_limits_does_not_warn():
    X, _ = standardised_wine()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        selector = GAFeatureSelector(
            FuzzyCMeans(3),
            population_size=4,
            n_generations=1,
            max_features=1,
            random_state=0,
        ).fit(X)
    assert selector.support_.sum() == 1


def issue_data(name):
    """The data sets of the accuracy target, as the target prepares them."""
    from sklearn.datasets import load_breast_cancer, load_digits

    if name == "wine":
        return standardised_wine()
    if name == "breast cancer":
        X, y = load_breast_cancer(return_X_y=True)
        return StandardScaler().fit_transform(X), y
    X, y = load_digits(return_X_y=True)
    return X / 16, y


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wine", "breast cancer", "digits / 16"])
def test_default_search_keeps_the_accuracy_of_all_features(name):
    # The defaults: the selected features cluster the classes about as well
    # as all features do.
    X, y = issue_data(name)
    k = np.unique(y).size
    selector = GAFeatureSelector(FuzzyCMeans(k, random_state=0), random_state=0)
    selected = selector.fit(X).transform(X)
    assert cluster_accuracy_of(selected, y) >= cluster_accuracy_of(X, y) - 0.05


@pytest.mark.parametrize("scoring", ["silhouette", "fuzzy_silhouette"])
def test_silhouettes_on_all_features_without_kept_distances_agree(monkeypatch, scoring):
    # Past the number of rows whose distances are kept, each subset measures
    # its sampled rows afresh: the same fitness, to rounding.
    X, _ = informative_data(n_noise=4)
    params = dict(
        estimator=FuzzyCMeans(5),
        scoring=scoring,
        population_size=6,
        n_generations=2,
        silhouette_sample_size=150,
        random_state=0,
    )
    kept = GAFeatureSelector(**params).fit(X)
    monkeypatch.setattr("fuzzyprune._ga._MAX_KEPT_DISTANCE_ROWS", 149)
    recomputed = GAFeatureSelector(**params).fit(X)
    assert_array_equal(recomputed.support_, kept.support_)
    np.testing.assert_allclose(
        recomputed.evaluations_["fitness"], kept.evaluations_["fitness"], rtol=1e-12
    )


def test_studys_fitness_gives_the_studys_search():
    # silhouette_features="selected" with init_proba=0.5 is the search of
    # the original study; on standardised wine with this seed it keeps one
    # feature, malic acid, at silhouette 0.634 (as it always did).
    X, _ = standardised_wine()
    selector = GAFeatureSelector(
        FuzzyCMeans(3),
        population_size=12,
        n_generations=6,
        silhouette_features="selected",
        init_proba=0.5,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="single feature"):
        selector.fit(X)
    assert_array_equal(np.flatnonzero(selector.support_), [1])
    assert selector.best_score_ == pytest.approx(0.634046, abs=1e-6)
    assert selector.n_evaluations_ == 61


def test_default_estimator_says_what_it_assumes():
    # A selector cannot see the clusterer after it in a pipeline: without an
    # estimator it says it scores subsets with 8 clusters.
    X, _ = informative_data(n_noise=2, n_per_cluster=10)
    pipeline = make_pipeline(
        GAFeatureSelector(population_size=4, n_generations=1, random_state=0),
        FuzzyCMeans(5, random_state=0),
    )
    with pytest.warns(UserWarning, match="default n_clusters=8") as record:
        pipeline.fit(X)
    assert len(record) == 1
    assert pipeline[0].estimator_.n_clusters == 8


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"target_score": np.nan}, ValueError, "target_score"),
        ({"target_score": True}, ValueError, "target_score"),
        ({"target_score": np.inf}, ValueError, "target_score"),
        ({"objectives": "fitness"}, ValueError, r"objectives='fitness'; expected"),
        (
            {"min_features": 0.5, "max_features": 0.25},
            ValueError,
            "which allow 7 to 3 features",
        ),
    ],
)
def test_search_parameters_are_refused_by_name(params, error, message):
    with pytest.raises(error, match=message):
        GAFeatureSelector(FuzzyCMeans(3), **params).fit(_wine())


def test_fractions_of_features_round_toward_the_limit_they_set():
    # 13 wine features: at least 0.99 of them is 13 (rounded up), at most
    # 0.5 of them is 6 (rounded down).
    sizes = {}
    for name, value in (("min_features", 0.99), ("max_features", 0.5)):
        selector = GAFeatureSelector(
            FuzzyCMeans(3), population_size=4, n_generations=1, random_state=0
        ).set_params(**{name: value})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            sizes[name] = selector.fit(_wine()).evaluations_["n_features"]
    assert (sizes["min_features"] == 13).all()
    assert sizes["max_features"].max() <= 6


@pytest.mark.parametrize("scoring", ["adjusted_rand_score", "cluster_accuracy"])
def test_scorer_comparing_with_targets_needs_y(scoring):
    X, y = informative_data(n_noise=2, n_per_cluster=10)
    selector = GAFeatureSelector(
        FuzzyCMeans(5), scoring=scoring, population_size=4, n_generations=1
    )
    with pytest.raises(ValueError, match=f"scoring='{scoring}' compares .* pass y"):
        selector.fit(X)
    selector.set_params(random_state=0).fit(X, y)  # with targets, it runs
    assert np.isfinite(selector.best_score_)
