"""Genetic feature selection scored by the quality of a clustering."""

import inspect
import threading
import time
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    clone,
    is_classifier,
    is_regressor,
)
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.feature_selection import SelectorMixin
from sklearn.model_selection import check_cv, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ._array_api import (
    device,
    is_array_api_obj,
    move_to,
    namespace,
    prepared,
    to_numpy,
)
from ._chunks import N_JOBS_CONSTRAINT, single_threaded_blas
from ._doc_link import DocumentationLinkMixin
from ._fcm import FuzzyCMeans, memberships_of
from ._pareto import crowded_order, front_ranks
from ._sklearn_compat import (
    HasMethods,
    RealNotInt,
    StrOptions,
    _fit_context,
    _routing_enabled,
    get_tags,
)
from ._validation import Interval, checking, keeps_state_on_error
from .metrics import (
    _UNSUPERVISED_SCORERS,
    _check_memberships,
    _membership_weighted_mean,
    _pairwise_distances_exact,
    _silhouettes_of_distances,
    get_scorer,
    silhouette_samples_exact,
    simplified_silhouette_score,
)

_WORST_SILHOUETTE = -1.0


def _take(array, indices, axis=0):
    """Return the entries of ``array`` at ``indices`` along ``axis``.

    ``array`` is a NumPy array, a sparse matrix or an array of another
    namespace, whose device the result keeps; ``indices``, integers, move
    there if they are elsewhere (a NumPy index array for a device array).
    """
    if isinstance(array, np.ndarray) or sp.issparse(array):
        # NumPy's own indexing: no namespace look-up per subset.
        return array[indices] if axis == 0 else array[:, indices]
    xp, _ = namespace(array)
    return xp.take(array, move_to(indices, xp, device(array)), axis=axis)


def _in_namespace_of(values, X):
    """Return ``values`` as an array of ``X``'s namespace, on its device.

    A NumPy array for NumPy or sparse ``X``. For ``X`` on a device, values
    already there are returned as they are; small ones on the host (sampled
    rows, labels of an estimator without array API support) move there,
    rather than ``X`` to the host.
    """
    xp, is_numpy = namespace(X)
    if is_numpy:
        return np.asarray(values)
    return move_to(values, xp, device(X))


def _supports_array_api(estimator):
    """Whether an estimator fits arrays of any array API library.

    A pipeline does when each of its steps does (its own tag says no).
    """
    if isinstance(estimator, Pipeline):
        return all(
            step in (None, "passthrough") or _supports_array_api(step)
            for _, step in estimator.steps
        )
    return get_tags(estimator).array_api_support


def _targets_on_device_of(y, X):
    """Return numeric targets on ``X``'s device; others (text) as they are.

    The estimator and scorers then get ``y`` where they get ``X``.
    """
    if y is None:
        return None
    on_host = isinstance(y, np.ndarray) or not is_array_api_obj(y)
    if on_host and not np.issubdtype(np.asarray(y).dtype, np.number):
        return y
    xp, _ = namespace(X)
    return move_to(y, xp, device(X))


def _cluster_labels(fitted, X):
    labels = getattr(fitted, "labels_", None)
    if labels is None:
        if not hasattr(fitted, "predict"):
            raise TypeError(
                "The silhouette scorings need an estimator with labels_ or "
                f"predict; {type(fitted).__name__} has neither. Pass a clusterer "
                "or set scoring to a scorer name or callable."
            )
        labels = fitted.predict(X)
    return _in_namespace_of(labels, X)


def _n_distinct(labels):
    if isinstance(labels, np.ndarray):
        # A third of the time the array API wrapper of NumPy takes.
        return np.unique(labels).size
    xp, _ = namespace(labels)
    return xp.unique_values(labels).shape[0]


def _mean(values):
    xp, _ = namespace(values)
    return float(xp.mean(values))


def _labels_on_rows(fitted, X_selected, rows):
    """Cluster labels of the sampled rows, or None if they form no partition."""
    labels = _take(_cluster_labels(fitted, X_selected), rows)
    if not 2 <= _n_distinct(labels) < rows.shape[0]:
        return None
    return labels


def _silhouette_fitness(fitted, X, X_selected, space):
    labels = _labels_on_rows(fitted, X_selected, space.rows)
    if labels is None:
        return None
    return _mean(space.silhouettes(X, X_selected, labels))


def _simplified_silhouette_fitness(fitted, X, X_selected, space):
    labels = _cluster_labels(fitted, X_selected)
    if _n_distinct(labels) < 2:
        return None
    return space.simplified_silhouette(X, X_selected, labels, fitted)


def _fuzzy_silhouette_fitness(fitted, X, X_selected, space):
    memberships = getattr(fitted, "memberships_", None)
    if memberships is None:
        if not hasattr(fitted, "predict_proba"):
            raise TypeError(
                "scoring='fuzzy_silhouette' needs an estimator with memberships_ "
                f"or predict_proba; {type(fitted).__name__} has neither."
            )
        memberships = memberships_of(fitted, _take(X_selected, space.rows))
    else:
        memberships = _take(memberships, space.rows)
    memberships = _check_memberships(_in_namespace_of(memberships, X_selected))
    xp, _ = namespace(memberships)
    labels = xp.argmax(memberships, axis=1)
    if not 2 <= _n_distinct(labels) < space.rows.shape[0]:
        return None
    silhouettes = space.silhouettes(X, X_selected, labels)
    return _membership_weighted_mean(silhouettes, memberships)


# Fitness computed from the fitted clusterer's own labels, centers or
# memberships, so no scoring pass repeats the work of the fit.
_CLUSTERING_FITNESS = {
    "silhouette": _silhouette_fitness,
    "simplified_silhouette": _simplified_silhouette_fitness,
    "fuzzy_silhouette": _fuzzy_silhouette_fitness,
}

# Sampled rows up to which the distances among them on all features are kept
# for the whole search: 4096 ** 2 distances take 128 MiB in float64.
_MAX_KEPT_DISTANCE_ROWS = 4096


class _SelectedFeatures:
    """Silhouettes of a subset's clusters measured on the subset's features.

    The fitness of the paper [2]; it favours fewer features, on which
    clusters are more easily separated (see ``silhouette_features``).
    """

    def __init__(self, rows):
        self.rows = rows

    def silhouettes(self, X, X_selected, labels):
        """Silhouette of each sampled row, for its label."""
        return silhouette_samples_exact(_take(X_selected, self.rows), labels)

    def simplified_silhouette(self, X, X_selected, labels, fitted):
        """Simplified silhouette of all rows, with the fit's centers if any."""
        centers = getattr(fitted, "cluster_centers_", None)
        return simplified_silhouette_score(X_selected, labels, centers)


class _AllFeatures:
    """Silhouettes of a subset's clusters measured on all features of ``X``.

    The distances among the sampled rows on all features do not depend on
    the subset: they are computed once per search and each subset then
    costs one product of them with its cluster indicator. Beyond
    ``_MAX_KEPT_DISTANCE_ROWS`` rows they are recomputed for each subset, in
    memory bounded by blocks.
    """

    def __init__(self, X, rows, keep_distances):
        self.rows = rows
        self.distances = None
        if keep_distances and rows.shape[0] <= _MAX_KEPT_DISTANCE_ROWS:
            self.distances = _pairwise_distances_exact(_take(X, rows))

    def silhouettes(self, X, X_selected, labels):
        """Silhouette of each sampled row, for its label."""
        if self.distances is None:
            return silhouette_samples_exact(_take(X, self.rows), labels)
        labels = _in_namespace_of(labels, self.distances)
        return _silhouettes_of_distances(self.distances, labels)

    def simplified_silhouette(self, X, X_selected, labels, fitted):
        """Simplified silhouette of all rows, with the clusters' means on all features.

        The fit's centers live in the subset's space, so they are not used.
        """
        return simplified_silhouette_score(X, labels)


class _ColumnBuffers(threading.local):
    """One reusable output array per thread for the selected columns.

    Writing each subset into memory the process already holds is an order of
    magnitude faster than into a fresh allocation, whose pages the system
    must first map.
    """

    data = None

    def take(self, X, columns):
        size = X.shape[0] * columns.size
        if self.data is None or self.data.size < size:
            self.data = np.empty(size, dtype=X.dtype)
        selected = self.data[:size].reshape(X.shape[0], columns.size)
        return np.take(X, columns, axis=1, out=selected, mode="clip")


def _partition_is_degenerate(fitted):
    """Whether a fitted clusterer, or a pipeline's last step, reports collapse.

    Estimators that report it (:class:`FuzzyCMeans`: centers merged onto the
    mean, uniform memberships) give labels whose silhouette can look good,
    as argmax picks up differences far below the data's spread.
    """
    clusterer = fitted[-1] if hasattr(fitted, "steps") else fitted
    problems = getattr(clusterer, "_partition_problems", None)
    return problems is not None and bool(problems())


def _is_clustering_fitness(scoring):
    return isinstance(scoring, str) and scoring in _CLUSTERING_FITNESS


class _Fitness:
    """Fitness of a feature subset: a clone of the estimator fitted and scored on it.

    Parameters
    ----------
    estimator : estimator
        Unfitted template, cloned for every subset.
    scoring : str or callable
        A key of ``_CLUSTERING_FITNESS``, or a scorer name or callable.
    space : _SelectedFeatures or _AllFeatures
        Where the silhouettes measure the clusters, and the rows (in the
        namespace and on the device of the data) on which the sample-based
        ones (exact and fuzzy silhouettes) are computed.
    constant_columns : ndarray of bool
        Columns with a single value; a subset of only these scores the worst.
    cv : cross-validation splitter or None
        Cross-validate the scorer instead of scoring the fit on its own data.
    fit_params : dict
        Passed to the estimator's ``fit``; with ``cv``, to
        :func:`sklearn.model_selection.cross_val_score`, which routes them.
    """

    def __init__(self, estimator, scoring, space, constant_columns, cv, fit_params):
        self.estimator = estimator
        self.scoring = scoring
        self.space = space
        self.constant_columns = constant_columns
        self.cv = cv
        self.fit_params = fit_params
        self.worst = _WORST_SILHOUETTE if _is_clustering_fitness(scoring) else -np.inf
        self._buffers = _ColumnBuffers()

    def _select(self, X, columns):
        # Only NumPy has ``out=``; other namespaces select on X's device.
        if isinstance(X, np.ndarray):
            return self._buffers.take(X, columns)
        return _take(X, columns, axis=1)

    def _score(self, fitted, X, X_selected, y):
        if _is_clustering_fitness(self.scoring):
            return _CLUSTERING_FITNESS[self.scoring](fitted, X, X_selected, self.space)
        return get_scorer(self.scoring)(fitted, X_selected, y)

    def __call__(self, X, y, mask):
        columns = np.flatnonzero(mask)
        if self.constant_columns[columns].all():
            return self.worst
        X_selected = self._select(X, columns)
        if self.cv is not None:
            try:
                scores = cross_val_score(
                    clone(self.estimator),
                    X_selected,
                    y,
                    scoring=get_scorer(self.scoring),
                    cv=self.cv,
                    params=self.fit_params,
                )
            except ValueError as error:
                # scikit-learn raises when every fold's fit failed: the subset
                # cannot be scored, as when some folds fail.
                if "fits failed" not in str(error):
                    raise
                return np.nan
            return float(np.mean(scores))
        fitted = clone(self.estimator).fit(X_selected, y, **self.fit_params)
        if _partition_is_degenerate(fitted):
            return self.worst
        score = self._score(fitted, X, X_selected, y)
        if score is None and _is_clustering_fitness(self.scoring):
            return self.worst  # a partition the silhouette is undefined for
        return _as_number(score, self.scoring)

    def __getstate__(self):
        # Per-thread buffers stay with the process that filled them.
        state = self.__dict__.copy()
        del state["_buffers"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._buffers = _ColumnBuffers()


def _feature_count(value, n_features, round_up):
    """Return a feature count given as an int or a fraction of ``n_features``.

    A fraction is rounded up for a lower limit and down for an upper one, so
    the limits never admit less than a minimum or more than a maximum asks.
    """
    if isinstance(value, Integral):
        return int(value)
    count = value * n_features
    return max(1, int(np.ceil(count) if round_up else np.floor(count)))


def _fitness_ranks(scores):
    """Dense ranks of the scores, greater is fitter, NaN below every number.

    ``-inf`` ranks below every finite score and NaN (a failed fit or scorer)
    below ``-inf``; a comparison of the scores themselves would rank NaN
    anywhere.
    """
    ranks = np.full(scores.shape, -1)
    known = ~np.isnan(scores)
    ranks[known] = np.unique(scores[known], return_inverse=True)[1]
    return ranks


def _parsimonious_ranks(scores, sizes):
    """Dense ranks by fitness, then by fewer features among equally fit subsets.

    Lexicographic parsimony pressure (Luke and Panait, 2002): size decides
    only between equal fitnesses, so the search prefers the smaller of
    subsets that, for instance, give the same partition.
    """
    return np.unique(
        _fitness_ranks(scores) * (sizes.max() + 1) - sizes, return_inverse=True
    )[1]


def _is_better(score, size, best, best_size):
    """Whether a subset ranks strictly above the best so far.

    Fitter, or as fit with fewer features; NaN ranks below every number.
    """
    if np.isnan(best):
        return not np.isnan(score)
    return score > best or (score == best and size < best_size)


def _tournament(ranks, n_winners, tournament_size, rng):
    """Return the winners of ``n_winners`` tournaments of random contestants."""
    contestants = rng.integers(ranks.size, size=(n_winners, tournament_size))
    best = ranks[contestants].argmax(axis=1)
    return contestants[np.arange(n_winners), best]


def _crossover_masks(n_pairs, n_features, method, crossover_proba, rng):
    """Genes each first child takes from the second parent (and vice versa)."""
    if method == "uniform" or n_features < 2:
        from_other = rng.random((n_pairs, n_features)) < 0.5
    else:
        n_cuts = 1 if method == "one_point" else 2
        cuts = np.sort(rng.integers(1, n_features, size=(n_pairs, n_cuts)), axis=1)
        positions = np.arange(n_features)
        from_other = positions >= cuts[:, :1]
        if n_cuts == 2:
            from_other &= positions < cuts[:, 1:]
    from_other &= (rng.random(n_pairs) < crossover_proba)[:, None]
    return from_other


def _crossover(first_parents, second_parents, method, crossover_proba, rng):
    """Two children per pair of parents."""
    from_other = _crossover_masks(*first_parents.shape, method, crossover_proba, rng)
    return np.vstack(
        [
            np.where(from_other, second_parents, first_parents),
            np.where(from_other, first_parents, second_parents),
        ]
    )


def _mutate(population, mutation_proba, rng):
    """Flip each gene independently with probability ``mutation_proba``."""
    population ^= rng.random(population.shape) < mutation_proba


class _Limits(NamedTuple):
    """What a subset may be: its fewest and most features, and which ones."""

    min_features: int
    max_features: int
    # Genes that may be on: all but the constant features, while enough
    # others are left to reach min_features.
    allowed: np.ndarray


def _repair(population, limits, rng):
    """Bring every subset within the limits, in place.

    Genes not allowed are switched off, then random genes on or off until
    every count lies between the fewest and most features.
    """
    population &= limits.allowed
    counts = population.sum(axis=1)
    low, high = limits.min_features, limits.max_features
    for row in np.flatnonzero((counts < low) | (counts > high)):
        individual = population[row]
        if counts[row] < low:
            candidates = ~individual & limits.allowed
            change, value = low - counts[row], True
        else:
            candidates, change, value = individual, counts[row] - high, False
        chosen = rng.choice(np.flatnonzero(candidates), change, replace=False)
        individual[chosen] = value


def _limits(min_features, max_features, constant_columns):
    """Limits of a search: constant features are left out while they can be.

    A constant feature changes no distance, so it only adds baggage to a
    subset, unless too few others remain to reach ``min_features``.
    """
    allowed = ~constant_columns
    if allowed.sum() < min_features:
        allowed = np.ones_like(allowed)
    return _Limits(min_features, max_features, allowed)


def _generator(random_state):
    """Return a numpy Generator from an int, a RandomState instance or None."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


def _with_seeded_randomness(estimator, rng):
    """Give every unset ``random_state`` of the estimator one fixed seed.

    All subsets are then fitted from the same random draws, so their fitness
    differs by the features alone and the selection is reproducible.
    """
    seed = int(rng.integers(np.iinfo(np.int32).max))
    unset = {
        name: seed
        for name, value in estimator.get_params(deep=True).items()
        if (name == "random_state" or name.endswith("__random_state")) and value is None
    }
    return estimator.set_params(**unset)


def _constant_columns(X):
    """Return a NumPy mask of the columns holding a single value.

    Comparing extremes works for any numeric dtype; the array API defines no
    maximum of booleans, whose columns are constant if all or none are set.
    Only the mask leaves ``X``'s device.
    """
    if sp.issparse(X):
        highest, lowest = X.max(axis=0), X.min(axis=0)
        return highest.toarray().ravel() == lowest.toarray().ravel()
    xp, _ = namespace(X)
    if xp.isdtype(X.dtype, "bool"):
        return to_numpy(xp.all(X, axis=0) | ~xp.any(X, axis=0))
    return to_numpy(xp.max(X, axis=0) == xp.min(X, axis=0))


def _takes_one_argument(function):
    """Whether ``function`` can be called with one positional argument.

    True when its signature cannot be read (some builtins and extensions).
    """
    try:
        inspect.signature(function).bind(None)
    except TypeError:
        return False
    except ValueError:
        pass  # no signature to read
    return True


def _clock():
    """Return the seconds of a monotonic clock, for the search's timings."""
    return time.perf_counter()


class _History:
    """Per-generation record of the search."""

    keys = (
        "best_score",
        "mean_score",
        "std_score",
        "n_evaluations",
        "n_cache_hits",
        "seconds",
    )

    def __init__(self):
        self.records = {key: [] for key in self.keys}
        self.started = _clock()

    def add(self, best_score, scores, n_evaluations, n_cache_hits):
        finite = scores[np.isfinite(scores)]
        now = _clock()
        values = (
            best_score,
            finite.mean() if finite.size else np.nan,
            finite.std() if finite.size else np.nan,
            n_evaluations,
            n_cache_hits,
            now - self.started,
        )
        self.started = now
        for key, value in zip(self.keys, values, strict=True):
            self.records[key].append(value)

    def as_arrays(self):
        history = {"generation": np.arange(len(self.records["best_score"]))}
        history.update({key: np.asarray(self.records[key]) for key in self.keys})
        return history


# What the search may optimise: the fitness, or the fitness against the size.
_OBJECTIVES = (("fitness",), ("fitness", "n_features"))


class _Evaluations:
    """Record of every member of every generation of the search."""

    def __init__(self):
        self.parts = {"generation": [], "fitness": [], "n_features": [], "cached": []}
        self.selected = None

    def add(self, generation, population, scores, cached):
        self.parts["generation"].append(np.full(scores.size, generation))
        self.parts["fitness"].append(scores)
        self.parts["n_features"].append(population.sum(axis=1))
        self.parts["cached"].append(np.asarray(cached, dtype=bool))
        counts = population.sum(axis=0)
        self.selected = counts if self.selected is None else self.selected + counts

    def as_arrays(self):
        return {key: np.concatenate(parts) for key, parts in self.parts.items()}

    def selection_frequency(self):
        """Fraction of the members recorded that selected each feature."""
        n_members = sum(part.size for part in self.parts["fitness"])
        return self.selected / n_members


class GAFeatureSelector(
    DocumentationLinkMixin, SelectorMixin, MetaEstimatorMixin, BaseEstimator
):
    """Select features with a genetic algorithm scored by clustering quality.

    Each candidate subset of features (a chromosome: one bit per feature) is
    scored by fitting a clone of ``estimator`` on those features and scoring
    the fit, by default by the silhouette of its clusters. A population of
    subsets evolves as a genetic algorithm [1]_ does, by tournament
    selection (fewer features winning among equally fit subsets [4]_),
    crossover, per-gene bit-flip mutation and elitism; every subset's
    fitness is computed once per ``fit`` and cached. The best subset found
    is kept and ``estimator`` refitted on it.

    Parameters
    ----------
    estimator : estimator, default=None
        Clusterer (or any scikit-learn estimator) fitted on each candidate
        subset. ``None`` uses :class:`~fuzzyprune.FuzzyCMeans` with its
        defaults, 8 clusters, and warns at ``fit`` that it does: a selector
        cannot see the later steps of a pipeline, so pass the clusterer they
        use, e.g.
        ``make_pipeline(GAFeatureSelector(FuzzyCMeans(11)), FuzzyCMeans(11))``.
        Every unset ``random_state`` in it, nested ones such as a pipeline
        step's included, gets one seed drawn from ``random_state``, the same
        for every subset and for the final refit, so a fitness does not
        depend on the order in which subsets are evaluated or on
        ``n_jobs``. A ``random_state`` already set is kept.

    scoring : str or callable, default="silhouette"
        Fitness of a subset, greater is better:

        - ``"silhouette"``: exact silhouette of the fitted clusters, on the
          same ``silhouette_sample_size`` rows for every subset;
        - ``"simplified_silhouette"``: silhouette with distances to the
          cluster means instead of to all samples, on all rows; linear in
          ``n_samples``;
        - ``"fuzzy_silhouette"``: fuzzy silhouette of the memberships
          (``memberships_`` or ``predict_proba``) on the sampled rows;
        - any name known to :func:`fuzzyprune.metrics.get_scorer` (which
          includes scikit-learn's) or a callable ``scorer(estimator, X, y)``.

        The three silhouettes measure the clusters found on the subset on
        the features that ``silhouette_features`` names, all of them by
        default. They need an estimator with ``labels_`` or ``predict``,
        and ``"fuzzy_silhouette"`` one with ``memberships_`` or
        ``predict_proba``. A NaN fitness (a scorer returning NaN, or a failed
        cross-validation fit, which scores NaN) ranks below every number,
        ``-inf`` included.

        With ``y`` given and a classifier or regressor for ``estimator``, the
        scorer is cross-validated with ``cv``; otherwise it scores the fit on
        the data it was fitted on.

    population_size : int, default=20
        Number of subsets per generation.

    n_generations : int, default=5
        Number of generations bred after the initial population.

    init_proba : float, default=0.8
        Probability of each feature being on in the initial population. The
        search then starts near the full set and removes features, rather
        than starting from half of them.

    tournament_size : int, default=3
        Subsets drawn (with replacement) for each tournament; the fittest
        becomes a parent. At most ``population_size``.

    crossover : {"uniform", "one_point", "two_point"}, default="uniform"
        How two parents' genes are recombined into two children.

    crossover_proba : float, default=0.8
        Probability that a pair of parents is recombined rather than copied.

    mutation_proba : float, default=None
        Probability of flipping each gene of a child. ``None`` means
        ``1 / n_features``: one flip per child on average.

    n_elites : int, default=1
        Fittest subsets carried unchanged into the next generation. Less than
        ``population_size``.

    n_gen_no_change : int, default=None
        Stop after this many generations without improving the best fitness.
        ``None`` runs all ``n_generations``.

    max_time : float, default=None
        Stop after the generation during which this many seconds of search
        have passed (the generation under way is completed, so the search
        ends within one generation of the budget). ``None``: no limit.

    target_score : float, default=None
        Stop after the generation in which a subset reaches this fitness, a
        finite number. ``None``: no target.

    callbacks : callable or list of callable, default=None
        Called in order after each generation with the state of the search
        (a dict: the generation, the best fitness and features so far, the
        history and evaluations so far, the seconds elapsed); one returning
        ``True`` stops the search. :mod:`fuzzyprune.ga_callbacks` has a time
        budget and early stopping with a minimum improvement. Like every
        parameter, callbacks are deep-copied by :func:`~sklearn.base.clone`
        (so in :class:`~sklearn.model_selection.GridSearchCV`): a callback
        object that records the search records it in its copy, while one
        that appends to a list defined outside it, or a closure, records
        every fit.

    objectives : tuple of str, default=("fitness",)
        What the search optimises: ``("fitness",)``, the fitness alone, or
        ``("fitness", "n_features")``, the fitness against the number of
        features, by NSGA-II (see Notes): a Pareto front of subsets from
        which ``support_`` is chosen by ``fitness_tolerance``.

    fitness_tolerance : float, default=0.0
        With ``objectives=("fitness", "n_features")``, ``support_`` is the
        smallest subset of ``pareto_front_`` whose fitness is within this
        much (in the scoring's units) of the best fitness found. 0 selects
        the fittest subset, the smallest of equally fit ones. Unused by the
        single-objective search.

    min_features : int or float, default=1
        Fewest features a subset may have; a float in (0, 1] is a fraction of
        the features, rounded up. Children outside the limits are repaired
        by switching random genes on or off.

    max_features : int or float, default=None
        Most features a subset may have; a float in (0, 1] is a fraction of
        the features, rounded down (at least 1). ``None`` means all
        features.

    silhouette_features : {"all", "selected"}, default="all"
        Features on which the silhouette scorings measure the clusters that
        the estimator finds on a subset:

        - ``"all"``: on all features of ``X``, as given. Fewer features
          earn a higher fitness only by giving a better partition of the
          data (criteria measured in each subset's own space are biased
          toward fewer dimensions [5]_), and equally good subsets tie (the
          smaller one is kept). The
          distances among the ``silhouette_sample_size`` rows on all
          features are computed once per ``fit`` (up to 4096 rows; more are
          recomputed for each subset); the simplified silhouette measures
          all rows against the clusters' means on all features.
        - ``"selected"``: on the subset's own features, the fitness of [2]_.
          A silhouette is usually higher in fewer dimensions, where a
          feature or two often split into well-separated but meaningless
          groups, so this search drifts to very small subsets (see the user
          guide for measurements).

        Scorer names and callables are unaffected. ``fuzzyprune
        reproduce`` runs the paper's search: ``silhouette_features=
        "selected"``, ``init_proba=0.5``.

    silhouette_sample_size : int, default=1000
        Number of rows, drawn once per ``fit``, on which ``"silhouette"`` and
        ``"fuzzy_silhouette"`` are computed (their cost is quadratic in the
        rows). ``None`` uses all rows.

    cv : int, cross-validation generator or iterable, default=5
        Cross-validation of supervised scoring (see ``scoring``).

    n_jobs : int, default=None
        Subsets of a generation evaluated in parallel through joblib (threads
        unless a :func:`joblib.parallel_config` backend says otherwise, such
        as Dask's). Results do not depend on it. ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context; each fit then uses the cores
        itself, but ``-1`` is usually faster, at the cost of one copy of the
        selected columns per worker.

    random_state : int, RandomState instance or None, default=None
        Seeds the search (a :class:`numpy.random.Generator` is derived from
        it; no global random state is used) and the estimator's unset
        ``random_state``.

    verbose : int, default=0
        Show a progress bar over generations if positive.

    Attributes
    ----------
    support_ : ndarray of shape (`n_features_in_`,)
        Mask of the selected features: the fittest subset evaluated, the
        smallest of equally fit ones (the first evaluated of those).

    best_score_ : float
        Fitness of the selected subset; NaN only when every subset scored
        NaN.

    estimator_ : estimator
        Clone of the estimator fitted on the selected features.

    history_ : dict of ndarray
        Per generation (generation 0 is the initial population):
        ``generation``; ``best_score``, the best fitness evaluated up to and
        including that generation (NaN while every subset so far scored
        NaN); ``mean_score`` and ``std_score`` of the population's finite
        scores, counting each member, duplicates included (``-inf`` and NaN
        scores are left out; both are NaN in a generation without a finite
        score); ``n_evaluations`` (subsets newly evaluated),
        ``n_cache_hits`` (subsets whose fitness was already known) and
        ``seconds``, the time the generation took. Suitable for
        :class:`pandas.DataFrame`.

    n_evaluations_ : int
        Number of distinct subsets evaluated.

    pareto_front_ : dict of ndarray
        The subsets evaluated that no other evaluated subset dominates (is
        at least as fit and at most as large, and fitter or smaller), by
        increasing size, then decreasing fitness: ``mask`` (an array of
        shape (n_subsets, `n_features_in_`)), ``fitness`` and
        ``n_features``. Subsets of equal size and fitness are all kept, in
        the order they were first evaluated. Kept by both searches; the
        multi-objective one chooses ``support_`` on it (the first of equal
        subsets).

    selection_frequency_ : ndarray of shape (`n_features_in_`,)
        Fraction of the members of all generations that selected each
        feature (:func:`fuzzyprune.plotting.plot_selection_frequency` draws
        it).

    evaluations_ : dict of ndarray
        One entry per member of every generation, in order: ``generation``,
        ``fitness``, ``n_features`` (of the subset) and ``cached``, whether
        its fitness was already known (a subset met before, or a duplicate
        within its generation) rather than evaluated for it. The entries
        with ``cached`` false are the ``n_evaluations_`` distinct subsets,
        each once. Suitable for :class:`pandas.DataFrame`.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.feature_selection.SequentialFeatureSelector : Greedy supervised
        feature selection.
    fuzzyprune.plotting.plot_ga_history : Fitness over the generations.

    Notes
    -----
    With ``objectives=("fitness", "n_features")`` the search is NSGA-II
    [3]_: parents win tournaments in the crowded-comparison order (lower
    non-dominated front first, then larger crowding distance), children are
    bred with the same operators, and the next population is the best
    ``population_size`` of parents and children in that order (elitism by
    rank, ``n_elites`` unused). ``history_``'s ``mean_score`` and
    ``std_score`` are then those of each generation's children.

    A subset whose fit yields a single cluster, or made only of constant
    features, scores -1 (the worst silhouette), or ``-inf`` with other
    scorings, instead of raising. So does a subset on which the estimator (or
    a pipeline's last step) reports a degenerate partition, as
    :class:`FuzzyCMeans` does when its centers collapse onto the mean of the
    data: the labels of a collapsed fit follow differences far below the
    spread of the data, and their silhouette would rank a failed clustering
    above real ones. (With ``cv``, fits happen inside the cross-validation
    and are scored as they are.) Convergence warnings of the fits on
    candidate subsets are silenced; those of the final refit are not.

    A subset that scores NaN, such as one with a failed cross-validation fit
    (:func:`~sklearn.model_selection.cross_val_score` scores failed fits NaN),
    ranks below every other in the tournaments, the elitism and the choice
    of the best subset, and one warning says how many did. If every subset
    scores NaN, the first subset evaluated (the first of the initial
    population) is selected: it is as good as any, and within the feature
    limits, which the full set may not be.

    With ``sklearn.config_context(array_api_dispatch=True)``, ``X`` of
    another array API namespace (torch on CPU or GPU, CuPy, array-api-strict)
    stays on its device throughout the search: each subset's columns, the
    rows sampled for the silhouettes and the cross-validation folds are
    taken there with ``xp.take``, and the estimator, which must support the
    array API as :class:`FuzzyCMeans` does (its ``array_api_support`` tag,
    or every step's for a pipeline; others are refused with a
    ``ValueError``), fits there. The scoring gets
    the device arrays: the silhouettes of :mod:`fuzzyprune.metrics`, the
    estimator's ``score`` and scikit-learn's metrics with array API support
    compute there. Numeric ``y`` (of any library, or a list) is moved to
    ``X``'s device once; text labels stay on the host. Only small arrays
    cross between host and device: each subset's column indices and, once,
    the sampled rows go to the device; the mask
    of constant features, once, and each fitness, a number, come back
    (scikit-learn's stratified folds also read ``y`` on the host, once per
    subset). The search never copies ``X`` or its columns to the host; a
    scorer without array API support that did so itself would move
    ``n_samples * n_selected_features`` values per subset. ``support_`` is
    a NumPy mask; :meth:`transform` and :meth:`inverse_transform` return
    arrays of the input's namespace and device. NumPy input keeps its own
    path, where each subset's columns are written into a buffer reused by
    each thread: other namespaces, without ``out=``, allocate them afresh.

    References
    ----------
    .. [1] D. E. Goldberg, "Genetic Algorithms in Search, Optimization and
       Machine Learning", Addison-Wesley, 1989.
    .. [2] A. C. Nara, "Image Classification Using Network Pruning and
       Clustering Techniques", Australian National University, 2021.
    .. [3] K. Deb, A. Pratap, S. Agarwal and T. Meyarivan, "A fast and elitist
       multiobjective genetic algorithm: NSGA-II", IEEE Transactions on
       Evolutionary Computation 6(2), 182-197, 2002.
    .. [4] S. Luke and L. Panait, "Lexicographic parsimony pressure",
       Proceedings of GECCO, 829-836, 2002.
    .. [5] J. G. Dy and C. E. Brodley, "Feature selection for unsupervised
       learning", Journal of Machine Learning Research 5, 845-889, 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from fuzzyprune import FuzzyCMeans, GAFeatureSelector
    >>> rng = np.random.default_rng(0)
    >>> centers = np.repeat([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]], 40, axis=0)
    >>> X = np.hstack([centers + rng.normal(size=(120, 2)),
    ...                rng.normal(size=(120, 4))])
    >>> selector = GAFeatureSelector(FuzzyCMeans(3), population_size=10,
    ...                              n_generations=4, random_state=0).fit(X)
    >>> selector.get_support()
    array([ True,  True, False, False, False, False])
    >>> selector.transform(X).shape
    (120, 2)
    """

    _parameter_constraints: dict = {
        # Cloned, and its random_state seeded, through get_params/set_params.
        "estimator": [HasMethods(["fit", "get_params", "set_params"]), None],
        "scoring": [StrOptions(set(_CLUSTERING_FITNESS)), str, callable],
        "population_size": [Interval(Integral, 2, None, closed="left")],
        "n_generations": [Interval(Integral, 0, None, closed="left")],
        "init_proba": [Interval(Real, 0, 1, closed="right")],
        "tournament_size": [Interval(Integral, 1, None, closed="left")],
        "crossover": [StrOptions({"uniform", "one_point", "two_point"})],
        "crossover_proba": [Interval(Real, 0, 1, closed="both")],
        "mutation_proba": [Interval(Real, 0, 1, closed="both"), None],
        "n_elites": [Interval(Integral, 0, None, closed="left")],
        "n_gen_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
        "target_score": [Interval(Real, None, None, closed="neither"), None],
        "callbacks": [callable, list, tuple, None],
        # Checked against the searches there are, naming them, at fit.
        "objectives": [tuple, list, str],
        "fitness_tolerance": [Interval(Real, 0, None, closed="left")],
        "min_features": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "max_features": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "silhouette_features": [StrOptions({"all", "selected"})],
        "silhouette_sample_size": [Interval(Integral, 2, None, closed="left"), None],
        "cv": ["cv_object"],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        scoring="silhouette",
        population_size=20,
        n_generations=5,
        init_proba=0.8,
        tournament_size=3,
        crossover="uniform",
        crossover_proba=0.8,
        mutation_proba=None,
        n_elites=1,
        n_gen_no_change=None,
        max_time=None,
        target_score=None,
        callbacks=None,
        objectives=("fitness",),
        fitness_tolerance=0.0,
        min_features=1,
        max_features=None,
        silhouette_features="all",
        silhouette_sample_size=1000,
        cv=5,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.scoring = scoring
        self.population_size = population_size
        self.n_generations = n_generations
        self.init_proba = init_proba
        self.tournament_size = tournament_size
        self.crossover = crossover
        self.crossover_proba = crossover_proba
        self.mutation_proba = mutation_proba
        self.n_elites = n_elites
        self.n_gen_no_change = n_gen_no_change
        self.max_time = max_time
        self.target_score = target_score
        self.callbacks = callbacks
        self.objectives = objectives
        self.fitness_tolerance = fitness_tolerance
        self.min_features = min_features
        self.max_features = max_features
        self.silhouette_features = silhouette_features
        self.silhouette_sample_size = silhouette_sample_size
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _template(self):
        return FuzzyCMeans() if self.estimator is None else self.estimator

    def _check_search_params(self, n_features):
        if self.n_elites >= self.population_size:
            raise ValueError(
                f"n_elites={self.n_elites} must be < "
                f"population_size={self.population_size}."
            )
        if self.tournament_size > self.population_size:
            raise ValueError(
                f"tournament_size={self.tournament_size} must be <= "
                f"population_size={self.population_size}."
            )
        if tuple(self.objectives) not in _OBJECTIVES:
            raise ValueError(
                f"objectives={self.objectives!r}; expected one of "
                f"{', '.join(map(repr, _OBJECTIVES))}."
            )
        min_features = _feature_count(self.min_features, n_features, round_up=True)
        max_features = (
            n_features
            if self.max_features is None
            else _feature_count(self.max_features, n_features, round_up=False)
        )
        if not min_features <= max_features <= n_features:
            raise ValueError(
                f"Need min_features <= max_features <= n_features={n_features}; "
                f"got min_features={self.min_features}, "
                f"max_features={self.max_features}, which allow "
                f"{min_features} to {max_features} features."
            )
        return min_features, max_features

    def _uses_cv(self, y):
        template = self._template()
        return (
            y is not None
            and not _is_clustering_fitness(self.scoring)
            and (is_classifier(template) or is_regressor(template))
        )

    def _make_fitness(self, X, y, rng, fit_params, params):
        template = _with_seeded_randomness(clone(self._template()), rng)
        n_samples = X.shape[0]
        if self.silhouette_sample_size is None or (
            self.silhouette_sample_size >= n_samples
        ):
            rows = np.arange(n_samples)
        else:
            rows = np.sort(
                rng.choice(n_samples, self.silhouette_sample_size, replace=False)
            )
        if not _is_clustering_fitness(self.scoring):
            get_scorer(self.scoring)  # an unknown name fails here, before any fit
            self._check_targets_for(y)
        if self._uses_cv(y):
            cv = check_cv(self.cv, y, classifier=is_classifier(template))
            fit_params = params
        else:
            cv = None
        # The sampled rows move to X's device once, not once per subset.
        rows = _in_namespace_of(rows, X)
        if self.silhouette_features == "selected":
            space = _SelectedFeatures(rows)
        else:
            # The simplified silhouette uses all rows, not distances among some.
            keep_distances = self.scoring in ("silhouette", "fuzzy_silhouette")
            space = _AllFeatures(X, rows, keep_distances)
        return _Fitness(
            template, self.scoring, space, _constant_columns(X), cv, fit_params
        )

    @_fit_context(
        # The estimator's parameters are validated by its own fit.
        prefer_skip_nested_validation=False
    )
    @keeps_state_on_error
    def fit(self, X, y=None, **params):
        """Search for the fittest subset of features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples: booleans, integers or floats. Each subset
            reaches the estimator in this dtype, and in this namespace and
            on this device under array API dispatch (see Notes).

        y : array-like of shape (n_samples,), default=None
            Targets, passed to the estimator's ``fit`` and to the scorer;
            ``None`` for unsupervised scoring.

        **params : dict
            Passed to the estimator's ``fit`` (for instance
            ``sample_weight``). With metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``) they are
            routed to the estimator, the scorer and the cross-validation
            splitter as each requests.

        Returns
        -------
        self : GAFeatureSelector
            Fitted selector.

        Raises
        ------
        TypeError
            If an element of ``callbacks`` is not callable.
        ValueError
            If ``n_elites >= population_size``, ``tournament_size >
            population_size``, the feature limits do not satisfy
            ``min_features <= max_features <= n_features``, ``scoring``
            names no known scorer or, without ``y``, one that compares with
            targets, or ``objectives`` is neither
            ``("fitness",)`` nor ``("fitness", "n_features")``.
        TypeError
            If ``scoring`` is a silhouette and the fitted estimator has no
            labels (``labels_`` or ``predict``) or, for
            ``"fuzzy_silhouette"``, no memberships (``memberships_`` or
            ``predict_proba``).

        Warns
        -----
        UserWarning
            If some subsets scored NaN, saying how many and what was
            selected; if every subset scored the worst fitness (-1 for the
            silhouettes, ``-inf`` for other scorings); if a silhouette
            scoring selected a single feature of
            several, unless ``max_features`` is 1; and if ``estimator`` is
            ``None``, saying that ``FuzzyCMeans()`` with 8 clusters scores
            the subsets.
        """
        tags = self.__sklearn_tags__()
        check = {
            "accept_sparse": "csr",
            "ensure_all_finite": not tags.input_tags.allow_nan,
        }
        X, y = prepared(X, "X"), prepared(y, "y")
        if not namespace(X)[1]:
            self._check_array_api_estimator()
            y = _targets_on_device_of(y, X)
        with checking(X, "X"):
            X = validate_data(self, X, **check)
        if y is not None:
            with checking(y, "y", text=True):
                # Checked as validate_data checks y, without its check of
                # X's feature names, which would forget those of X.
                y = check_array(
                    y, accept_sparse="csr", ensure_2d=False, dtype=None, input_name="y"
                )
                check_consistent_length(X, y)
        feature_range = self._check_search_params(X.shape[1])
        callbacks = self._checked_callbacks()
        self._warn_about_default_estimator()
        if _routing_enabled():
            fit_params = process_routing(self, "fit", **params).estimator.fit
        else:
            fit_params = params

        rng = _generator(self.random_state)
        fitness = self._make_fitness(X, y, rng, fit_params, params)
        limits = _limits(*feature_range, fitness.constant_columns)
        population = rng.random((self.population_size, X.shape[1])) < self.init_proba
        _repair(population, limits, rng)
        mutation_proba = (
            1.0 / X.shape[1] if self.mutation_proba is None else self.mutation_proba
        )
        search = _Search(fitness, X, y)
        with (
            warnings.catch_warnings(),
            _progress_bar(self.n_generations + 1, self.verbose) as progress,
            self._parallel() as parallel,
        ):
            warnings.simplefilter("ignore", ConvergenceWarning)
            # Failed cross-validation fits score NaN; one warning sums them up.
            warnings.simplefilter("ignore", FitFailedWarning)
            warnings.filterwarnings("ignore", "Scoring failed", UserWarning)
            scores = search.evaluate(population, parallel)
            progress.update()
            progress.set_postfix(best=f"{search.best_score:.4g}")
            for _ in range(self.n_generations):
                if self._should_stop(search, callbacks):
                    break
                if self._is_multi_objective():
                    population, scores = self._nsga2_generation(
                        search,
                        parallel,
                        population,
                        scores,
                        mutation_proba,
                        limits,
                        rng,
                    )
                else:
                    population = self._breed(
                        population, scores, mutation_proba, limits, rng
                    )
                    scores = search.evaluate(population, parallel)
                progress.update()
                progress.set_postfix(best=f"{search.best_score:.4g}")
            else:
                # The last generation's callbacks see it too.
                self._should_stop(search, callbacks)
            # After an early stop the bar ends full, at the generations run.
            progress.total = progress.n
            progress.refresh()
        search.warn_about_nan_scores()
        all_worst = search.warn_if_all_scored(fitness.worst)

        self.pareto_front_ = search.pareto_front()
        self.support_, self.best_score_ = search.best_mask, search.best_score
        if self._is_multi_objective():
            self.support_, self.best_score_ = self._choose_on_front()
        if not all_worst:
            self._warn_if_single_feature(limits.max_features)
        self.history_ = search.history.as_arrays()
        self.n_evaluations_ = len(search.cache)
        self.evaluations_ = search.evaluations.as_arrays()
        self.selection_frequency_ = search.evaluations.selection_frequency()
        self.estimator_ = clone(fitness.estimator).fit(
            _take(X, np.flatnonzero(self.support_), axis=1), y, **fit_params
        )
        return self

    def _is_multi_objective(self):
        return tuple(self.objectives) == ("fitness", "n_features")

    def _children(self, population, order, mutation_proba, limits, rng):
        """Children of tournament winners by ``order`` (greater wins).

        Crossover, mutation and repair as the single-objective search.
        """
        n_children = population.shape[0] - (
            0 if self._is_multi_objective() else self.n_elites
        )
        n_pairs = (n_children + 1) // 2
        parents = _tournament(order, 2 * n_pairs, self.tournament_size, rng)
        children = _crossover(
            population[parents[:n_pairs]],
            population[parents[n_pairs:]],
            self.crossover,
            self.crossover_proba,
            rng,
        )[:n_children]
        _mutate(children, mutation_proba, rng)
        _repair(children, limits, rng)
        return children

    def _nsga2_generation(
        self, search, parallel, population, scores, mutation_proba, limits, rng
    ):
        """One NSGA-II generation: children, then the best of both by rank.

        Parents are chosen by tournaments in the crowded-comparison order;
        the next population is the first ``population_size`` of parents and
        children together in that order (elitism by rank).
        """
        places = crowded_order(scores, _fitness_ranks(scores), population.sum(axis=1))
        children = self._children(population, -places, mutation_proba, limits, rng)
        child_scores = search.evaluate(children, parallel)
        both = np.vstack([population, children])
        both_scores = np.concatenate([scores, child_scores])
        places = crowded_order(
            both_scores, _fitness_ranks(both_scores), both.sum(axis=1)
        )
        survivors = np.argsort(places)[: population.shape[0]]
        return both[survivors], both_scores[survivors]

    def _choose_on_front(self):
        """Return the smallest subset on the front within tolerance of the best."""
        fitness = self.pareto_front_["fitness"]
        best = np.nanmax(fitness) if not np.isnan(fitness).all() else np.nan
        if np.isnan(best):
            return self.support_, self.best_score_
        chosen = np.flatnonzero(fitness >= best - self.fitness_tolerance)[0]
        return self.pareto_front_["mask"][chosen].copy(), float(fitness[chosen])

    def _check_targets_for(self, y):
        """Refuse a named scorer that compares with targets when there are none."""
        if (
            y is None
            and isinstance(self.scoring, str)
            and self.scoring not in _UNSUPERVISED_SCORERS
        ):
            raise ValueError(
                f"scoring={self.scoring!r} compares predictions with targets: "
                "pass y to fit, or use a scoring that judges the clusters "
                "alone, such as 'silhouette' or 'neg_xie_beni'."
            )

    def _warn_about_default_estimator(self):
        """Say what ``estimator=None`` assumes, which a pipeline cannot correct.

        A selector does not see the steps after it, so the 8 clusters of
        ``FuzzyCMeans()`` may differ from those of the clusterer that uses
        the selected features.
        """
        if self.estimator is not None:
            return
        warnings.warn(
            "GAFeatureSelector has no estimator, so it scores feature subsets "
            "by the clusters of FuzzyCMeans() with its default n_clusters=8, "
            "whatever the later steps of a pipeline use. Pass the clusterer "
            "to score with, e.g. GAFeatureSelector(FuzzyCMeans(11)).",
            UserWarning,
            stacklevel=3,
        )

    def _warn_if_single_feature(self, max_features):
        """Warn when a silhouette chose one feature of several, unforced by limits.

        One feature often splits into well-separated groups that have little
        to do with the structure of the data; the warning says so, and how
        to keep more.
        """
        if (
            not _is_clustering_fitness(self.scoring)
            or self.support_.sum() != 1
            or max_features == 1
        ):
            return
        names = getattr(self, "feature_names_in_", None)
        index = int(np.flatnonzero(self.support_)[0])
        name = repr(names[index]) if names is not None else f"number {index}"
        hint = (
            " A silhouette measured on the selected features alone "
            "(silhouette_features='selected') favours single features."
            if self.silhouette_features == "selected"
            else ""
        )
        warnings.warn(
            f"GAFeatureSelector selected a single feature ({name}) of "
            f"{self.n_features_in_}: clusters of one feature rarely describe the "
            f"data.{hint} Check pareto_front_, or set min_features to keep more.",
            UserWarning,
            stacklevel=3,
        )

    def _checked_callbacks(self):
        """Return ``callbacks`` as a list, each checked to take the state.

        Checked before the search, rather than failing after its first
        generation.
        """
        if self.callbacks is None:
            return []
        callbacks = [self.callbacks] if callable(self.callbacks) else self.callbacks
        for callback in callbacks:
            if not callable(callback) or not _takes_one_argument(callback):
                raise TypeError(
                    f"callbacks: {callback!r} is not a callable of one argument; "
                    "give callables called with the state of the search (a "
                    "dict) after each generation."
                )
        return list(callbacks)

    def _should_stop(self, search, callbacks):
        """Whether a stopping rule or a callback ends the search now.

        Every callback is called, even after an earlier one asked to stop.
        """
        # The state copies the records so far: built only for callbacks.
        state = search.state() if callbacks else None
        stops = [bool(callback(state)) for callback in callbacks]
        if any(stops) or search.stalled(self.n_gen_no_change):
            return True
        if self.max_time is not None and search.elapsed() >= self.max_time:
            return True
        return self.target_score is not None and search.best_score >= self.target_score

    def _parallel(self):
        parallel = Parallel(n_jobs=self.n_jobs, prefer="threads")
        if effective_n_jobs(self.n_jobs) == 1:
            return parallel
        return _ParallelWithSingleThreadedBlas(parallel)

    def _breed(self, population, scores, mutation_proba, limits, rng):
        """Next generation: the elites, then children of tournament winners."""
        ranks = _parsimonious_ranks(scores, population.sum(axis=1))
        elites = population[np.argsort(-ranks, kind="stable")[: self.n_elites]]
        children = self._children(population, ranks, mutation_proba, limits, rng)
        return np.vstack([elites, children])

    def _check_array_api_estimator(self):
        """Refuse an estimator that cannot fit arrays of other libraries."""
        template = self._template()
        if not _supports_array_api(template):
            raise ValueError(
                f"estimator: {type(template).__name__} does not support the "
                "array API (its array_api_support tag is False), so it cannot "
                "fit the subsets of X, an array of another library than NumPy "
                "under array API dispatch. Use an estimator that does, such as "
                "FuzzyCMeans, or fit on NumPy data."
            )

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_

    def inverse_transform(self, X):
        """Put the selected features back in place, with zeros elsewhere.

        Parameters
        ----------
        X : array of shape (n_samples, n_selected_features)
            Selected features, of any array API library under dispatch.

        Returns
        -------
        X_original : array of shape (n_samples, n_features)
            ``X`` with zero columns where features were not selected, of
            ``X``'s library and device.
        """
        xp, is_numpy = namespace(X)
        if is_numpy:
            return super().inverse_transform(X)
        check_is_fitted(self)
        X = check_array(X, dtype=None, input_name="X")
        support = self.support_
        n_selected = int(support.sum())
        if X.ndim != 2 or X.shape[1] != n_selected:
            raise ValueError(
                f"X has shape {tuple(X.shape)}; expected (n_samples, "
                f"{n_selected}), the number of selected features."
            )
        # Each original column is taken from X, or from a zero column.
        zeros = xp.zeros((X.shape[0], 1), dtype=X.dtype, device=device(X))
        source = np.where(support, np.cumsum(support) - 1, n_selected)
        source = xp.asarray(source, device=device(X))
        return xp.take(xp.concat([X, zeros], axis=1), source, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator_tags = get_tags(self._template())
        tags.input_tags.allow_nan = estimator_tags.input_tags.allow_nan
        tags.input_tags.sparse = estimator_tags.input_tags.sparse
        tags.target_tags.required = False
        return tags

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routes ``fit`` parameters to the estimator's ``fit``, the
            splitter's ``split`` and the scorer.
        """
        template = self._template()
        router = MetadataRouter(owner=self).add(
            estimator=template,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        if not _is_clustering_fitness(self.scoring):
            router.add(
                splitter=check_cv(self.cv, classifier=is_classifier(template)),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            router.add(
                scorer=get_scorer(self.scoring),
                method_mapping=MethodMapping().add(caller="fit", callee="score"),
            )
        return router


class _ParallelWithSingleThreadedBlas:
    """A joblib ``Parallel`` whose threads do not each start BLAS threads."""

    def __init__(self, parallel):
        self.parallel = parallel
        self.blas_limit = single_threaded_blas()

    def __enter__(self):
        self.blas_limit.__enter__()
        return self.parallel.__enter__()

    def __exit__(self, *exc_info):
        try:
            return self.parallel.__exit__(*exc_info)
        finally:
            self.blas_limit.__exit__(*exc_info)


def _progress_bar(total, verbose):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not verbose, desc="GAFeatureSelector", unit="gen")


def _as_number(score, scoring):
    """Return ``score`` as a float, or raise naming the scoring that gave it.

    Text is refused although ``float`` would parse ``"0.5"``: a scorer
    returning a string (or ``None``, a forgotten ``return``) is a mistake.
    """
    problem = TypeError()
    if not isinstance(score, (str, bytes)):
        try:
            return float(score)
        except (TypeError, ValueError) as error:
            problem = error
    raise TypeError(
        f"scoring={scoring!r} returned {type(score).__name__} "
        f"{str(score)[:50]!r}, not a number."
    ) from problem


def _evaluate(fitness, X, y, mask):
    return fitness(X, y, mask)


class _Search:
    """Fitness cache, best subset so far and history of one ``fit``."""

    def __init__(self, fitness, X, y):
        self.fitness = fitness
        self.X = X
        self.y = y
        self.cache = {}
        self.best_score = np.nan
        self.best_mask = None
        self.history = _History()
        self.evaluations = _Evaluations()
        self.n_gen_no_change = 0
        self.started = _clock()

    def state(self):
        """Return what callbacks are told after a generation (a dict)."""
        history = self.history.as_arrays()
        return {
            "generation": int(history["generation"][-1]),
            "best_score": self.best_score,
            "best_support": self.best_mask.copy(),
            "history": history,
            "evaluations": self.evaluations.as_arrays(),
            "elapsed": self.elapsed(),
        }

    def elapsed(self):
        """Return the seconds since the search started."""
        return _clock() - self.started

    def evaluate(self, population, parallel):
        """Fitness of each subset, evaluating only those never seen."""
        keys = [np.packbits(individual).tobytes() for individual in population]
        unseen = {}
        cached = []
        for key, individual in zip(keys, population, strict=True):
            cached.append(key in self.cache or key in unseen)
            if key not in self.cache:
                unseen.setdefault(key, individual)
        new_scores = parallel(
            delayed(_evaluate)(self.fitness, self.X, self.y, individual)
            for individual in unseen.values()
        )
        first, best_before = self.best_mask is None, self.best_score
        for (key, individual), score in zip(unseen.items(), new_scores, strict=True):
            self.cache[key] = score
            # Strictly better: among equals the first evaluated is kept.
            if self.best_mask is None or _is_better(
                score, individual.sum(), self.best_score, self.best_mask.sum()
            ):
                self.best_score, self.best_mask = score, individual.copy()
        # A smaller subset of equal fitness is no progress of the fitness.
        improved = first or _is_better(self.best_score, 0, best_before, 0)
        self.n_gen_no_change = 0 if improved else self.n_gen_no_change + 1
        scores = np.array([self.cache[key] for key in keys], dtype=float)
        generation = len(self.history.records["best_score"])
        self.evaluations.add(generation, population, scores, cached)
        self.history.add(self.best_score, scores, len(unseen), len(keys) - len(unseen))
        return scores

    def pareto_front(self):
        """Return the evaluated subsets on the Pareto front of fitness and size."""
        n_features = self.best_mask.size
        keys = list(self.cache)
        masks = np.array(
            [
                np.unpackbits(np.frombuffer(key, dtype=np.uint8), count=n_features)
                for key in keys
            ],
            dtype=bool,
        ).reshape(len(keys), n_features)
        fitness = np.fromiter(self.cache.values(), dtype=float, count=len(keys))
        sizes = masks.sum(axis=1)
        front = np.flatnonzero(front_ranks(_fitness_ranks(fitness), sizes) == 0)
        front = front[np.lexsort((-_fitness_ranks(fitness)[front], sizes[front]))]
        return {
            "mask": masks[front],
            "fitness": fitness[front],
            "n_features": sizes[front],
        }

    def stalled(self, n_gen_no_change):
        return n_gen_no_change is not None and self.n_gen_no_change >= n_gen_no_change

    def warn_if_all_scored(self, worst):
        """Warn if every subset scored ``worst``; return whether they did."""
        scores = np.fromiter(self.cache.values(), dtype=float, count=len(self.cache))
        if not np.all(scores == worst):
            return False
        warnings.warn(
            f"All {scores.size} feature subsets evaluated scored the worst "
            f"fitness, {worst}: the estimator found a single cluster or a "
            "degenerate partition on each (too many clusters, or a fuzzifier "
            "too large for the data?), or their features are constant; the "
            "selected features are the smallest subset evaluated.",
            UserWarning,
            stacklevel=3,
        )
        return True

    def warn_about_nan_scores(self):
        """Warn once if any subset scored NaN, saying what was selected."""
        scores = np.fromiter(self.cache.values(), dtype=float, count=len(self.cache))
        n_nan = np.count_nonzero(np.isnan(scores))
        if n_nan == 0:
            return
        if n_nan == scores.size:
            outcome = "the selected features are the first subset evaluated"
        else:
            outcome = "they rank below every other subset"
        warnings.warn(
            f"{n_nan} of the {scores.size} feature subsets evaluated scored NaN "
            "(a failed fit or a scorer returning NaN); "
            f"{outcome}.",
            UserWarning,
            stacklevel=2,
        )
