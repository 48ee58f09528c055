"""Pareto ranking (NSGA-II) and the multi-objective search of GAFeatureSelector."""

import itertools

import numpy as np
import pytest
from sklearn.cluster import KMeans

from fuzzyprune import FuzzyCMeans, GAFeatureSelector
from fuzzyprune._pareto import (
    crowded_order,
    crowding_distances,
    dominates,
    front_ranks,
)

# (fitness, size) of five subsets: A (0.9, 3), B (0.8, 2), C (0.7, 3),
# D (0.5, 1), E (0.6, 2). A beats C; B beats C and E; nothing beats A, B, D.
FITNESS = np.array([0.9, 0.8, 0.7, 0.5, 0.6])
SIZES = np.array([3, 2, 3, 1, 2])


def test_dominance_and_fronts_by_hand():
    ranks_of_fitness = np.argsort(np.argsort(FITNESS))
    expected = np.zeros((5, 5), dtype=bool)
    expected[0, 2] = expected[1, 2] = expected[1, 4] = True
    np.testing.assert_array_equal(dominates(ranks_of_fitness, SIZES), expected)
    np.testing.assert_array_equal(front_ranks(ranks_of_fitness, SIZES), [0, 0, 1, 0, 1])


def test_crowding_distance_by_hand():
    ranks = np.array([0, 0, 1, 0, 1])
    # Front 0 sorted by fitness is D, B, A and by size D, B, A: B's gaps are
    # (0.9 - 0.5) / (0.9 - 0.5) and (3 - 1) / (3 - 1). Ends are infinite.
    np.testing.assert_allclose(
        crowding_distances(FITNESS, SIZES, ranks), [np.inf, 2.0, np.inf, np.inf, np.inf]
    )


def test_crowded_order_by_hand():
    ranks_of_fitness = np.argsort(np.argsort(FITNESS))
    # Front 0 first (A and D, infinite, in their order, then B), then C, E.
    np.testing.assert_array_equal(
        crowded_order(FITNESS, ranks_of_fitness, SIZES), [0, 2, 3, 1, 4]
    )


def test_failed_fitness_is_dominated_and_an_end_of_its_front():
    fitness = np.array([np.nan, 0.5, -np.inf, 0.7])
    sizes = np.array([1, 2, 1, 3])
    ranks_of_fitness = np.array([-1, 1, 0, 2])
    ranks = front_ranks(ranks_of_fitness, sizes)
    # -inf beats NaN at the same size; both are beaten by nothing smaller.
    np.testing.assert_array_equal(ranks, [1, 0, 0, 0])
    distances = crowding_distances(fitness, sizes, ranks)
    assert np.isinf(distances[[0, 2, 3]]).all() and np.isfinite(distances[1])


def _weighted_columns(weights, n_samples=40):
    """Data whose column j has mean weights[j], and a fitness that sums them."""
    rng = np.random.default_rng(0)
    X = weights + 0.01 * rng.normal(size=(n_samples, weights.size))

    def fitness(estimator, X, y):
        # Not additive: a penalty on pairs makes the front irregular.
        means = X.mean(axis=0)
        return float(means.sum() - 0.1 * means.size**2)

    return X, fitness


def _brute_force_front(X, fitness):
    n_features = X.shape[1]
    masks, scores = [], []
    for size in range(1, n_features + 1):
        for columns in itertools.combinations(range(n_features), size):
            mask = np.zeros(n_features, dtype=bool)
            mask[list(columns)] = True
            masks.append(mask)
            scores.append(fitness(None, X[:, mask], None))
    masks, scores = np.array(masks), np.array(scores)
    sizes = masks.sum(axis=1)
    ranks = front_ranks(np.argsort(np.argsort(scores)), sizes)
    return {tuple(mask) for mask in masks[ranks == 0]}


def test_multi_objective_front_equals_the_brute_force_front():
    weights = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.05, 0.6])
    X, fitness = _weighted_columns(weights)
    selector = GAFeatureSelector(
        KMeans(2, n_init=1),
        scoring=fitness,
        objectives=("fitness", "n_features"),
        population_size=16,
        n_generations=15,
        random_state=0,
    ).fit(X)
    front = selector.pareto_front_
    assert {tuple(mask) for mask in front["mask"]} == _brute_force_front(X, fitness)
    # By increasing size, fitness rising along the front.
    assert (np.diff(front["n_features"]) > 0).all()
    assert (np.diff(front["fitness"]) > 0).all()
    np.testing.assert_array_equal(front["n_features"], front["mask"].sum(axis=1))


def test_tolerance_chooses_the_smallest_subset_near_the_best():
    weights = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2])
    X, fitness = _weighted_columns(weights)
    params = {
        "estimator": KMeans(2, n_init=1),
        "scoring": fitness,
        "objectives": ("fitness", "n_features"),
        "population_size": 12,
        "n_generations": 10,
        "random_state": 0,
    }
    exact = GAFeatureSelector(**params).fit(X)
    front = exact.pareto_front_
    assert exact.best_score_ == front["fitness"].max()
    # The best is 0.9 + 0.7 - 0.4 = 1.2 (two features); one feature: 0.8.
    tolerance = 0.45
    near = GAFeatureSelector(**params, fitness_tolerance=tolerance).fit(X)
    within = front["fitness"] >= front["fitness"].max() - tolerance
    assert near.support_.sum() == front["n_features"][within].min()
    assert near.support_.sum() < exact.support_.sum()
    np.testing.assert_array_equal(near.transform(X), X[:, near.support_])


def test_multi_objective_search_is_reproducible_and_independent_of_n_jobs():
    X = np.random.default_rng(0).normal(size=(80, 6))
    X[:40, :2] += 4
    params = {
        "objectives": ("fitness", "n_features"),
        "population_size": 8,
        "n_generations": 3,
        "random_state": 0,
    }
    first = GAFeatureSelector(FuzzyCMeans(2), **params).fit(X)
    again = GAFeatureSelector(FuzzyCMeans(2), **params, n_jobs=2).fit(X)
    np.testing.assert_array_equal(first.support_, again.support_)
    np.testing.assert_array_equal(
        first.pareto_front_["mask"], again.pareto_front_["mask"]
    )
    np.testing.assert_array_equal(
        first.evaluations_["fitness"], again.evaluations_["fitness"]
    )


def test_multi_objective_search_never_loses_its_fittest_subset(monkeypatch):
    """The fittest subset, an end of the first front, survives every generation.

    A next population of the children only (no elitism by rank) would drop
    to a worse best whenever all the children are worse than the best parent.
    """
    weights = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.15, 0.25])
    rng = np.random.default_rng(0)
    X = weights + 0.01 * rng.normal(size=(30, weights.size))

    def fitness(estimator, X, y):
        # Deterministic but rugged: a child is often worse than its parents.
        total = X.mean(axis=0).sum()
        return float(total - 0.1 * X.shape[1] ** 2 + 0.3 * np.sin(1000 * total))

    bests = []
    generation = GAFeatureSelector._nsga2_generation

    def recorded(self, search, parallel, population, scores, *args):
        if not bests:
            bests.append(scores.max())
        population, scores = generation(
            self, search, parallel, population, scores, *args
        )
        bests.append(scores.max())
        return population, scores

    monkeypatch.setattr(GAFeatureSelector, "_nsga2_generation", recorded)
    n_generations = 10
    selector = GAFeatureSelector(
        KMeans(2, n_init=1),
        scoring=fitness,
        objectives=("fitness", "n_features"),
        population_size=8,
        n_generations=n_generations,
        random_state=0,
    ).fit(X)
    assert len(bests) == n_generations + 1
    assert (np.diff(bests) >= 0).all()
    # The population always holds the best subset evaluated so far.
    np.testing.assert_array_equal(bests, selector.history_["best_score"])
    # Not vacuous: in some generation every child was worse than the best parent.
    evaluations = selector.evaluations_
    best_child = [
        evaluations["fitness"][evaluations["generation"] == g].max()
        for g in range(1, n_generations + 1)
    ]
    assert (np.array(best_child) < bests[:-1]).any()


def test_unknown_objectives_are_refused():
    with pytest.raises(ValueError, match="objectives=.*expected one of"):
        GAFeatureSelector(objectives=("n_features",)).fit(np.eye(5))
