"""Pareto ranking of feature subsets: fitness (greater is better) against size.

The two objectives of the multi-objective search of
:class:`~fuzzyprune.GAFeatureSelector`, ranked as NSGA-II does (Deb, Pratap,
Agarwal and Meyarivan, "A fast and elitist multiobjective genetic algorithm:
NSGA-II", IEEE Transactions on Evolutionary Computation 6(2), 182-197,
2002): non-dominated sorting into fronts, the crowding distance within a
front, and the crowded-comparison order that combines them.

Fitness is compared through its dense ranks (NaN below ``-inf`` below every
number), so that failed evaluations are dominated rather than poisoning
the comparisons.
"""

import numpy as np


def dominates(fitness_ranks, n_features):
    """Return the matrix ``D[i, j]``: subset ``i`` dominates subset ``j``.

    ``i`` dominates ``j`` when it is at least as fit and at most as large,
    and strictly better in one of the two.
    """
    fitter = fitness_ranks[:, None] >= fitness_ranks[None, :]
    smaller = n_features[:, None] <= n_features[None, :]
    strictly = (fitness_ranks[:, None] > fitness_ranks[None, :]) | (
        n_features[:, None] < n_features[None, :]
    )
    return fitter & smaller & strictly


def front_ranks(fitness_ranks, n_features):
    """Return each subset's front: 0 for the non-dominated, 1 for the next...

    Each front is the set of subsets dominated by none outside the fronts
    before it (Deb et al.'s non-dominated sorting).
    """
    dominated_by = dominates(fitness_ranks, n_features)
    ranks = np.full(fitness_ranks.size, -1)
    remaining = np.ones(fitness_ranks.size, dtype=bool)
    front = 0
    while remaining.any():
        # Dominated by none of the remaining subsets.
        current = remaining & ~dominated_by[remaining].any(axis=0)
        ranks[current] = front
        remaining &= ~current
        front += 1
    return ranks


def crowding_distances(fitness, n_features, ranks):
    """Return the crowding distance of each subset within its front.

    For each objective, a front's subsets are sorted by it; the two at the
    ends get an infinite distance and each other one the gap between its
    neighbours divided by the objective's range on the front, summed over
    the objectives. Non-finite fitness (``-inf``, NaN) counts as below the
    front's lowest finite fitness: such a subset is an end.
    """
    finite = np.isfinite(fitness)
    lowest = fitness[finite].min() - 1.0 if finite.any() else 0.0
    objectives = (np.where(finite, fitness, lowest), n_features.astype(float))
    distances = np.zeros(fitness.size)
    for front in np.unique(ranks):
        members = np.flatnonzero(ranks == front)
        for values in objectives:
            order = members[np.argsort(values[members], kind="stable")]
            span = values[order[-1]] - values[order[0]]
            distances[order[[0, -1]]] = np.inf
            if order.size > 2 and span > 0:
                gaps = values[order[2:]] - values[order[:-2]]
                distances[order[1:-1]] += gaps / span
    return distances


def crowded_order(fitness, fitness_ranks, n_features):
    """Return each subset's place in the crowded-comparison order, 0 first.

    Lower front first; within a front, larger crowding distance first; ties
    keep the subsets' order.
    """
    ranks = front_ranks(fitness_ranks, n_features)
    crowding = crowding_distances(fitness, n_features, ranks)
    order = np.lexsort((-crowding, ranks))
    places = np.empty(order.size, dtype=int)
    places[order] = np.arange(order.size)
    return places
