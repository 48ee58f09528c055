"""Fuzzy c-means on Dask arrays: each pass a graph of block steps, merged as a tree.

A Dask array is never gathered. Every pass over it (measuring the data, the
rounds of k-means|| seeding, each iteration, and the lazy methods) is one
task per block of rows, which runs the in-memory step of :mod:`._fcm_data`
on that block and returns a summary of a few ``n_clusters x n_features``
numbers (:class:`PassStats`); summaries are merged as a tree of fixed shape,
in block order. Results therefore depend on the data and its chunking, never
on the scheduler (threads, processes or a ``distributed`` cluster) or the
number of workers. What every task of a pass needs (the centers) is one node
of the graph, sent to each worker once; what each block needs again at
every pass (its mean and the squared norms of its rows, 8 bytes a row) is
measured once and stays on the worker that measured it.

Dask is imported only when a Dask collection is given.
"""

import copy
import functools
import math
import sys

import numpy as np

from ._fcm_data import (
    MODERATE_EXPONENT,
    PreparedData,
    distances,
    evaluate,
    radius_rows,
)
from ._fcm_data import fcm_pass as block_pass
from ._fcm_init import check_init, kmeans_plusplus, random_membership_sums
from ._fcm_step import WeightedSums, dtype_name, log_sum_exp
from ._validation import check_sample_weight, checking, naming_errors

# Summaries are merged this many at a time, as dask's reductions do.
_FAN_IN = 8
# k-means|| (Bahmani et al. 2012): rounds of sampling and the oversampling
# factor l / n_clusters. Five rounds of 2 n_clusters candidates each gave
# seeding as good as k-means++ in their experiments.
_SEEDING_ROUNDS = 5
_OVERSAMPLING = 2


def is_dask_collection(X):
    """Whether ``X`` is a Dask collection; never imports Dask itself."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(X)


def _delayed(function):
    import dask

    return dask.delayed(function, pure=True)


def _shared(value):
    """Return a graph node holding ``value``, which every task of a pass reads."""
    import dask

    return dask.delayed(value, pure=True, traverse=False)


def _merge_in_order(merge, *parts):
    # The first part is copied: a task must not change its inputs, which the
    # threaded scheduler shares between tasks.
    return functools.reduce(merge, parts[1:], copy.deepcopy(parts[0]))


def _tree(parts, merge):
    """Return the delayed merge of ``parts`` in order, as a tree of fixed shape."""
    merge_parts = _delayed(functools.partial(_merge_in_order, merge))
    while len(parts) > 1:
        parts = [
            merge_parts(*parts[start : start + _FAN_IN])
            for start in range(0, len(parts), _FAN_IN)
        ]
    return parts[0]


def check_dask_array(estimator, X, reset):
    """Validate a Dask array of samples without computing it.

    Values (NaN, infinity) are checked block by block when computed. With
    ``reset``, the estimator's record of the features is left to
    :func:`record_features`, to be called once the values are checked, so
    that a refused fit changes nothing.

    Returns
    -------
    X : dask.array.Array
        Of float32 or float64 (other real types become float64), with one
        chunk of columns.

    Raises
    ------
    TypeError
        If ``X`` is another Dask collection, has blocks other than NumPy
        arrays, or is not of real numbers.
    ValueError
        If ``X`` is not 2-d, its row chunks are unknown, or (``reset`` false)
        it has another number of features than the fit.
    """
    from dask.array import Array

    if not isinstance(X, Array):
        raise TypeError(
            f"X: a Dask collection of type {type(X).__name__} was given; "
            "FuzzyCMeans takes dask.array.Array (a Dask DataFrame converts with "
            ".to_dask_array(lengths=True))."
        )
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-d Dask array, got {X.ndim}-d.")
    if not isinstance(X._meta, np.ndarray):
        raise TypeError(
            f"X: the Dask array's blocks are {type(X._meta).__name__}; only "
            "NumPy blocks are supported."
        )
    if X.dtype.kind not in "biufO":
        raise TypeError(f"X: the Dask array's dtype {X.dtype} is not a real number.")
    if any(math.isnan(rows) for rows in X.chunks[0]):
        raise ValueError(
            "X: the Dask array's row chunks are unknown; call "
            "X.compute_chunk_sizes() first."
        )
    if X.shape[0] == 0:
        raise ValueError("X: the Dask array has 0 samples; at least 1 is required.")
    if not reset:
        record_features(estimator, X, reset=False)
    if X.dtype not in (np.float32, np.float64):
        X = _as_float64(X, "X")
    return X.rechunk({1: -1}) if X.numblocks[1] > 1 else X


def _float64_block(block, name):
    """Return a block of numbers as float64; refuse text, as in memory."""
    with checking(block, name):
        return np.asarray(block, dtype=np.float64)


def _as_float64(values, name):
    """Return a Dask array of real numbers as float64, lazily.

    Object blocks holding strings or complex numbers are refused, naming
    ``name``, when computed, as in memory.
    """
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    return values.map_blocks(_float64_block, name, dtype=np.float64)


def record_features(estimator, X, reset=True):
    """Set (or, without ``reset``, check) ``n_features_in_`` and feature names."""
    from ._sklearn_compat import _check_feature_names, _check_n_features

    _check_n_features(estimator, X, reset=reset)
    _check_feature_names(estimator, X, reset=reset)


def check_dask_sample_weight(sample_weight, X):
    """Return sample weights as a float64 Dask array chunked as ``X``'s rows.

    Weights given in memory are checked at once; Dask weights when computed.

    Raises
    ------
    ValueError
        Naming ``sample_weight``, if the weights are not one finite
        non-negative number per sample.
    """
    import dask.array as da

    if sample_weight is None:
        return None
    if not is_dask_collection(sample_weight):
        weights = check_sample_weight(sample_weight, np.empty((X.shape[0], 0)))
        return da.from_array(weights, chunks=(X.chunks[0],))
    if sample_weight.ndim == 1 and math.isnan(sample_weight.shape[0]):
        raise ValueError(
            "sample_weight: the Dask array's chunks are unknown; call "
            "sample_weight.compute_chunk_sizes() first."
        )
    if sample_weight.shape != (X.shape[0],):
        raise ValueError(
            f"sample_weight: expected shape ({X.shape[0]},), one weight per "
            f"sample, got {sample_weight.shape}."
        )
    return _as_float64(sample_weight, "sample_weight").rechunk((X.chunks[0],))


def _checked_weights(weights):
    if weights is not None and not (
        np.isfinite(weights).all() and (weights >= 0).all()
    ):
        raise ValueError("sample_weight: the weights must be finite and non-negative.")
    return weights


def _as_declared(block, shape, dtype):
    """Return a block of X; raise unless it has the declared shape and dtype."""
    if not isinstance(block, np.ndarray):
        raise ValueError(
            f"X: a block of the Dask array is a {type(block).__name__}, not a "
            "NumPy array."
        )
    if block.shape != shape:
        raise ValueError(
            f"X: a block of the Dask array has shape {block.shape}, where the "
            f"array declares {shape}."
        )
    if block.dtype != dtype:
        raise ValueError(
            f"X: a block of the Dask array is of {block.dtype}, where the array "
            f"declares {dtype}."
        )
    return block


def _checked_block(block, shape, dtype):
    """Return a block of X, checked; raise if it holds NaN or infinity."""
    block = _as_declared(block, shape, dtype)
    # Sums are finite for almost all finite data; only the rest is checked
    # value by value.
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(float(block.sum())) or np.isfinite(block).all():
            return block
    raise ValueError("X: Input X contains NaN or infinity.")


def _relative(weights, exponent):
    """Weights in exact proportion to the given ones, of at most 1."""
    return None if weights is None else np.ldexp(weights, -exponent)


def _measure_block(block, weights, shape, dtype):
    """Measure a block, once for every pass: see :class:`DaskData`.

    ``shape`` and ``dtype`` are the block's, as the Dask array declares them.

    Returns
    -------
    summary : tuple
        The block's largest absolute value, its size (largest distance of a
        row to the block's mean, or entry of it) in the data's units, its
        largest and total weight (1 and its rows without weights), and the
        exponent of its measures.
    measures : tuple
        The mean (``shift``), the squared norms of the rows about it and the
        exponent of the units in which they are measured (see
        :class:`PreparedData`).

    Raises
    ------
    ValueError
        If the block is not as declared or holds NaN or infinity, or its
        weights are negative or not finite.
    """
    block = _as_declared(block, shape, dtype)
    _checked_weights(weights)
    largest = max(float(block.max()), -float(block.min()))
    if not math.isfinite(largest):
        raise ValueError("X: Input X contains NaN or infinity.")
    data = PreparedData(block, n_columns=1)
    with np.errstate(over="ignore"):
        size = float(np.ldexp(data.size(), data.exponent))
    if weights is None:
        weight_summary = (1.0, float(block.shape[0]))
    else:
        weight_summary = (float(weights.max()), float(weights.sum()))
    measures = (data.shift, data.shifted_sq_norms, data.exponent)
    return (largest, size, *weight_summary, data.exponent), measures


def _measure_again(block, exponent):
    """Measure a block in the units ``2 ** exponent`` (see :func:`_measure_block`)."""
    data = PreparedData(block, n_columns=1, exponent=exponent)
    return data.shift, data.shifted_sq_norms, exponent


def _working_exponent(summaries, centers, dtype):
    """Return the exponent of the working units of the whole array.

    As :class:`PreparedData` decides for data in memory, from the blocks'
    summaries: the data's own units (0) unless its size, or that of
    ``centers``, lies so far from 1 that squared distances or weighted sums
    could overflow or underflow; then the binary exponent of the largest
    absolute value.
    """
    largest = max(summary[0] for summary in summaries)
    size = max(summary[1] for summary in summaries)
    if centers is not None:
        largest = size = max(largest, size, float(np.max(np.abs(centers))))
    limit = 2.0 ** MODERATE_EXPONENT[dtype_name(dtype)]
    return 0 if 1 / limit <= size <= limit else math.frexp(largest)[1]


def _prepared(block, weights, measures, n_columns):
    """Return a block as :class:`PreparedData` from its measures."""
    shift, sq_norms, exponent = measures
    return PreparedData(
        block,
        weights,
        n_columns=n_columns,
        exponent=exponent,
        measures=(shift, sq_norms),
    )


class PassStats:
    """What one pass of fuzzy c-means learns from blocks of rows; merges in order.

    Attributes
    ----------
    sums : WeightedSums
        Sums for the next centers and ``log J_m`` of the pass's centers.
    sq_memberships, total_weight : float
        ``sum_i w_i sum_j u_ij^2`` and ``sum_i w_i`` with relative weights,
        for the partition coefficient.
    center_weights : ndarray of shape (n_clusters,)
        ``sum_i w_i u_ij`` with the given weights.
    label_counts : ndarray of shape (n_clusters,)
        Samples whose largest membership is each cluster.
    sample_rows : ndarray of shape (n_sampled, n_features)
        The evenly spaced rows on which the radius of the clusters is
        estimated, in the data's units, and ``sample_weights`` their
        relative weights (``None`` without weights).
    """

    def __init__(self, sums, memberships, weights, relative_weights, sampled, rows):
        self.sums = sums
        squares = np.einsum("ij,ij->i", memberships, memberships, dtype=np.float64)
        if weights is None:
            self.sq_memberships = float(squares.sum())
            self.total_weight = float(memberships.shape[0])
            self.center_weights = memberships.sum(axis=0, dtype=np.float64)
            self.sample_weights = None
        else:
            self.sq_memberships = float(relative_weights @ squares)
            self.total_weight = float(relative_weights.sum())
            # inf beyond float64's range, as in memory.
            with np.errstate(over="ignore"):
                self.center_weights = weights @ memberships.astype(np.float64)
            self.sample_weights = relative_weights[sampled]
        self.label_counts = np.bincount(
            np.argmax(memberships, axis=1), minlength=memberships.shape[1]
        )
        self.sample_rows = rows[sampled]

    @property
    def log_objective(self):
        """``log J_m`` of the pass's centers, in working units."""
        return self.sums.log_objective

    def centers(self, previous_centers):
        """Return the next centers (see :meth:`WeightedSums.centers`)."""
        return self.sums.centers(previous_centers)

    @property
    def partition_coefficient(self):
        """Bezdek's partition coefficient of the pass's memberships."""
        return self.sq_memberships / self.total_weight

    def merge(self, other):
        """Add the statistics of the blocks after these ones."""
        self.sums.merge(other.sums)
        self.sq_memberships += other.sq_memberships
        self.total_weight += other.total_weight
        with np.errstate(over="ignore"):
            self.center_weights = self.center_weights + other.center_weights
        self.label_counts = self.label_counts + other.label_counts
        self.sample_rows = np.concatenate([self.sample_rows, other.sample_rows])
        if self.sample_weights is not None:
            self.sample_weights = np.concatenate(
                [self.sample_weights, other.sample_weights]
            )
        return self


def _fcm_block(block, weights, measures, sampled, weight_exponent, centers, fuzzifier):
    """One fuzzy c-means step on a block: its :class:`PassStats`."""
    data = _prepared(block, weights, measures, len(centers))
    memberships = np.empty((block.shape[0], len(centers)), dtype=block.dtype)
    sums = block_pass(data, centers, fuzzifier, memberships, executor=None)
    relative = _relative(weights, weight_exponent)
    return PassStats(sums, memberships, weights, relative, sampled, block)


def _nearest_weights(block, weights, measures, weight_exponent, candidates):
    """Relative weight of the rows of a block nearest to each candidate."""
    data = _prepared(block, None, measures, len(candidates))
    nearest = np.argmin(data.sq_distances_to(candidates), axis=1)
    return np.bincount(
        nearest, weights=_relative(weights, weight_exponent), minlength=len(candidates)
    ).astype(np.float64)


def _sample_block(block, weights, measures, state, weight_exponent, new, scale):
    """One round of k-means|| on a block.

    Rows are drawn independently with probability ``min(1, scale w_i d_i^2 /
    phi)``, ``d_i`` the distance to the nearest candidate so far and ``phi``
    the sum of ``w_i d_i^2`` over all blocks, which is not yet known: each row
    has a uniform draw ``v_i`` and is drawn when ``phi < t_i = scale w_i
    d_i^2 / v_i``. Since ``phi`` is at least this block's share, only rows
    with ``t_i`` above it can be drawn, ``scale`` of them on average at most;
    they are returned with their ``t_i``.

    Parameters
    ----------
    state : tuple
        The squared distances of the block's rows to the candidates before
        ``new`` (``None`` in the first round), and the seed of its draws.
    new : ndarray of shape (n_new, n_features)
        Candidates drawn in the last round, in working units.

    Returns
    -------
    drawn : tuple
        This block's part of ``phi``, the rows that may be drawn (working
        units) and their thresholds ``t_i``.
    closest : ndarray of shape (n_rows,)
        Squared distance of each row to its nearest candidate, the new ones
        included.
    """
    closest, seed = state
    data = _prepared(block, None, measures, max(len(new), 1))
    if len(new):
        nearest = np.min(data.sq_distances_to(new), axis=1)
        closest = nearest if closest is None else np.minimum(closest, nearest)
    relative = _relative(weights, weight_exponent)
    potential = closest if relative is None else relative * closest
    share = float(potential.sum())
    draws = np.random.default_rng(seed).random(block.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        thresholds = scale * potential / draws
    drawable = np.flatnonzero(thresholds > share)
    return (share, data.rows(drawable), thresholds[drawable]), closest


def _random_membership_sums(block, weights, measures, seed, n_clusters, fuzzifier):
    """Weighted sums of random memberships of a block's rows, from ``seed``."""
    data = _prepared(block, weights, measures, n_clusters)
    rng = np.random.default_rng(seed)
    return random_membership_sums(data, n_clusters, fuzzifier, rng)


def _persisted_pairs(tasks):
    """Run tasks that return (small, large) pairs.

    Returns the small parts, computed, and the large ones persisted: they
    stay where they were computed (on the workers of a cluster).
    """
    import dask

    n_tasks = len(tasks)
    persisted = dask.persist(*[task[0] for task in tasks], *[task[1] for task in tasks])
    return list(dask.compute(*persisted[:n_tasks])), list(persisted[n_tasks:])


class DaskData:
    """A Dask array of samples, measured once, and the passes over it.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Checked by :func:`check_dask_array`.
    sample_weight : dask.array.Array of shape (n_samples,) or None
        Checked by :func:`check_dask_sample_weight`.
    centers : ndarray of shape (n_clusters, n_features), optional
        Initial centers to be compared with the data, in its units.

    Raises
    ------
    ValueError
        When computed blocks hold NaN or infinity, or weights are negative
        or all 0.
    """

    def __init__(self, X, sample_weight=None, centers=None):

        self.X = X
        self.dtype = X.dtype
        self.n_samples = X.shape[0]
        rows = X.chunks[0]
        blocks = X.to_delayed().ravel()
        weight_blocks = (
            [None] * len(blocks)
            if sample_weight is None
            else sample_weight.to_delayed().ravel()
        )
        # Empty blocks hold nothing to merge.
        kept = [index for index, n_rows in enumerate(rows) if n_rows]
        self.blocks = [blocks[index] for index in kept]
        self.weight_blocks = [weight_blocks[index] for index in kept]
        self.block_rows = [rows[index] for index in kept]
        self.offsets = np.cumsum([0, *self.block_rows])
        self.weighted = sample_weight is not None
        summaries, measures = self._measure(centers)
        if self.weighted:
            largest_weight = max(summary[2] for summary in summaries)
            if largest_weight == 0:
                raise ValueError(
                    "sample_weight: all weights are 0; at least one must be positive."
                )
            self.weight_exponent = math.frexp(largest_weight)[1]
        else:
            self.weight_exponent = 0
        self.block_weights = np.array(
            [math.ldexp(summary[3], -self.weight_exponent) for summary in summaries]
        )
        self.measures = measures

    def _measure(self, centers):
        """Measure every block once; return their summaries and measures.

        The measures (a mean per block and a squared norm per row) stay on
        the workers, for every later pass. Blocks measured in units other
        than the array's (far from unit size) are measured again in them.
        """
        import dask

        measure = _delayed(_measure_block)
        n_features = self.X.shape[1]
        tasks = [
            measure(block, weights, (n_rows, n_features), self.dtype)
            for block, weights, n_rows in zip(
                self.blocks, self.weight_blocks, self.block_rows, strict=True
            )
        ]
        summaries, measures = _persisted_pairs(tasks)
        self.exponent = _working_exponent(summaries, centers, self.dtype)
        measure_again = _delayed(_measure_again)
        measures = [
            part if summary[4] == self.exponent else measure_again(block, self.exponent)
            for block, part, summary in zip(
                self.blocks, measures, summaries, strict=True
            )
        ]
        return summaries, list(dask.persist(*measures))

    def to_scaled(self, centers):
        """Return ``centers`` (data units) in working units, of X's dtype."""
        return np.ldexp(np.asarray(centers, dtype=np.float64), -self.exponent).astype(
            self.dtype
        )

    def from_scaled(self, centers):
        """Return ``centers`` (working units) in the data's units."""
        return np.ldexp(centers.astype(np.float64), self.exponent).astype(self.dtype)

    def objective(self, log_objective):
        """``J`` in the data's units from ``log J`` in working units."""
        with np.errstate(over="ignore"):
            return float(np.ldexp(np.exp(log_objective), 2 * self.exponent))

    def _tasks(self, function, *shared, per_block=None):
        """Return ``function(block, weights, measures, [per_block[i],] *shared)``.

        One delayed call per block; values in ``shared`` are single graph
        nodes that every call reads.
        """
        shared = [_shared(value) for value in shared]
        task = _delayed(function)
        extra = (
            [()] * len(self.blocks) if per_block is None else [(a,) for a in per_block]
        )
        return [
            task(block, weights, measures, *argument, *shared)
            for block, weights, measures, argument in zip(
                self.blocks, self.weight_blocks, self.measures, extra, strict=True
            )
        ]

    def _map_reduce(self, function, merge, *shared, per_block=None):
        """Return the merge, in block order, of :meth:`_tasks`' results."""
        import dask

        tasks = self._tasks(function, *shared, per_block=per_block)
        return dask.compute(_tree(tasks, merge))[0]

    def _sampled_rows(self):
        """Per block, the indices of its evenly spaced sample rows."""
        rows = radius_rows(self.n_samples)
        return [
            rows[(rows >= start) & (rows < stop)] - start
            for start, stop in zip(self.offsets[:-1], self.offsets[1:], strict=True)
        ]

    def fcm_pass(self, centers, fuzzifier):
        """Return the :class:`PassStats` of one pass from ``centers``.

        ``centers`` are in working units, of the data's dtype.
        """
        return self._map_reduce(
            _fcm_block,
            PassStats.merge,
            self.weight_exponent,
            centers,
            fuzzifier,
            per_block=self._sampled_rows(),
        )

    def _seeds(self, random_state):
        """Return one random generator seed per block, from ``random_state``."""
        base = int(random_state.randint(np.iinfo(np.int32).max))
        return [(base, index) for index in range(len(self.blocks))]

    def random_membership_centers(self, n_clusters, fuzzifier, random_state):
        """Return centers of random memberships, drawn block by block."""
        sums = self._map_reduce(
            _random_membership_sums,
            WeightedSums.merge,
            n_clusters,
            fuzzifier,
            per_block=self._seeds(random_state),
        )
        no_centers = np.zeros((n_clusters, self.X.shape[1]), dtype=self.dtype)
        return sums.centers(no_centers)

    def initial_centers(self, init, n_clusters, fuzzifier, random_state):
        """Return initial centers of one run, in working units.

        ``"k-means++"`` is done as k-means|| (:meth:`kmeans_parallel`),
        ``"random"`` draws memberships block by block; a callable is called
        with the Dask array.
        """
        if isinstance(init, str) and init == "k-means++":
            return self.kmeans_parallel(n_clusters, random_state)
        if isinstance(init, str) and init == "random":
            return self.random_membership_centers(n_clusters, fuzzifier, random_state)
        if callable(init):
            with naming_errors("init"):
                init = init(self.X, n_clusters, random_state=random_state)
                if is_dask_collection(init):
                    init = init.compute()
            init = check_init(init, self.dtype, n_clusters, self.X.shape[1])
        return self.to_scaled(init)

    def _weighted_row(self, random_state):
        """One row drawn with probability proportional to its weight, scaled."""
        cumulative = np.cumsum(self.block_weights)
        draw = random_state.uniform() * cumulative[-1]
        block = min(
            int(np.searchsorted(cumulative, draw, side="right")), len(cumulative) - 1
        )
        within = draw - (cumulative[block - 1] if block else 0.0)
        start = self.offsets[block]
        if self.weighted:
            weights = np.ldexp(
                self.weight_blocks[block].compute(), -self.weight_exponent
            )
            row = int(np.searchsorted(np.cumsum(weights), within, side="right"))
        else:
            row = int(within)
        row = start + min(row, self.block_rows[block] - 1)
        return self.to_scaled(self.X[row : row + 1].compute())

    def kmeans_parallel(self, n_clusters, random_state):
        """k-means|| seeding (Bahmani et al. 2012), centers in working units.

        A first row drawn by weight; then rounds in which each row is drawn
        independently with probability ``min(1, l w_i d_i^2 / phi)`` (``l =
        2 n_clusters``, ``d_i`` the distance to the nearest candidate so far,
        ``phi`` their weighted sum), one pass over the data each; then every
        candidate is weighted by the rows nearest to it, and k-means++ on the
        weighted candidates gives the centers.
        """
        candidates = new = self._weighted_row(random_state)
        closest = [None] * len(self.blocks)
        for _ in range(_SEEDING_ROUNDS):
            tasks = self._tasks(
                _sample_block,
                self.weight_exponent,
                new,
                _OVERSAMPLING * n_clusters,
                per_block=zip(closest, self._seeds(random_state), strict=True),
            )
            # Distances stay where they were computed, for the next round;
            # only the drawn rows come back.
            drawn, closest = _persisted_pairs(tasks)
            potential = math.fsum(share for share, _, _ in drawn)
            if potential == 0:
                # Every row lies on a candidate.
                break
            new = np.concatenate(
                [rows[thresholds > potential] for _, rows, thresholds in drawn]
            )
            candidates = np.concatenate([candidates, new])
        del closest
        weights = self._map_reduce(
            _nearest_weights, np.add, self.weight_exponent, candidates
        )
        return _recluster(candidates, weights, n_clusters, random_state)


def _recluster(candidates, weights, n_clusters, random_state):
    """k-means++ on weighted candidates; the centers in the candidates' units."""
    data = PreparedData(candidates, weights, n_columns=n_clusters)
    return data.from_scaled(kmeans_plusplus(data, n_clusters, random_state, weights))


def _lazy(X, function, columns, dtype, *shared):
    """Return ``function(block, shape, X.dtype, *shared)`` over X's row blocks.

    Lazily: a Dask array of the results. ``shape`` is the declared shape of
    each block; ``columns`` is the number of columns of the result, ``None``
    for 1-d, and ``dtype`` its type.
    """
    import dask.array as da

    shared = [_shared(value) for value in shared]
    task = _delayed(function)
    parts = []
    for block, n_rows in zip(X.to_delayed().ravel(), X.chunks[0], strict=True):
        shape = (n_rows,) if columns is None else (n_rows, columns)
        parts.append(
            da.from_delayed(
                task(block, (n_rows, X.shape[1]), X.dtype, *shared),
                shape=shape,
                dtype=dtype,
            )
            if n_rows
            else da.empty(shape, dtype=dtype)
        )
    return da.concatenate(parts)


def _block_memberships(block, shape, dtype, centers, fuzzifier):
    block = _checked_block(block, shape, dtype)
    return evaluate(block, centers, fuzzifier)[0]


def _block_distances(block, shape, dtype, centers):
    return distances(_checked_block(block, shape, dtype), centers)


def lazy_memberships(X, centers, fuzzifier):
    """Return the memberships of a Dask array's rows to ``centers``, lazily."""
    return _lazy(X, _block_memberships, len(centers), X.dtype, centers, fuzzifier)


def _labels(memberships):
    return np.argmax(memberships, axis=1)


def lazy_labels(memberships):
    """Return the clusters of largest membership of lazy memberships, lazily."""
    # Dask's own argmax puts a function in the graph that pickle refuses.
    return memberships.map_blocks(_labels, drop_axis=1, dtype=np.intp)


def lazy_distances(X, centers):
    """Return the distances of a Dask array's rows to ``centers``, lazily."""
    return _lazy(X, _block_distances, len(centers), X.dtype, centers)


def _block_log_objective(block, weights, shape, dtype, centers, fuzzifier):
    """Return ``log J_m`` of a block in the data's units, and its total weight."""
    block = _checked_block(block, shape, dtype)
    weights = _checked_weights(weights)
    _, data, log_objective = evaluate(block, centers, fuzzifier, weights)
    total = block.shape[0] if weights is None else math.fsum(weights)
    return log_objective + 2 * data.exponent * math.log(2.0), total


def score(X, sample_weight, centers, fuzzifier):
    """Return the opposite of ``J_m`` of a Dask array, a float.

    Computed by one pass whose blocks return ``log J_m`` and their weight;
    a number, as scikit-learn's model selection requires of ``score``.

    Raises
    ------
    ValueError
        If the blocks are invalid, or the weights are all 0.
    """
    import dask

    shared = [_shared(value) for value in (X.dtype, centers, fuzzifier)]
    task = _delayed(_block_log_objective)
    n_features = X.shape[1]
    weight_blocks = (
        [None] * X.numblocks[0]
        if sample_weight is None
        else sample_weight.to_delayed().ravel()
    )
    parts = dask.compute(
        *[
            task(block, weights, (n_rows, n_features), *shared)
            for block, weights, n_rows in zip(
                X.to_delayed().ravel(), weight_blocks, X.chunks[0], strict=True
            )
            if n_rows
        ]
    )
    if not any(total for _, total in parts):
        raise ValueError(
            "sample_weight: all weights are 0; at least one must be positive."
        )
    with np.errstate(over="ignore"):
        return -float(np.exp(log_sum_exp(np.array([log for log, _ in parts]), np)))
