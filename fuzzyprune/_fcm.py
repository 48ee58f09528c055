"""Fuzzy c-means clustering."""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    validate_data,
)

from ._chunks import (
    N_JOBS_CONSTRAINT,
    chunk_rows,
    chunks_of,
    map_blocks,
    row_blocks,
    row_threading,
    thread_pool,
)
from ._fuzzifiers import fuzzifier_function, schwaemmle_jensen_m
from ._products import rows_times, stack_rows, weighted_sums
from ._validation import (
    Interval,
    check_sample_weight,
    checking,
    external_stacklevel,
    naming_errors,
)

# Squared distances are computed as |x - s|^2 - 2 x.(c - s) + |c - s|^2 + 2 s.(c - s)
# with a shift s near the data. Where the result is within this many units of
# rounding of |x| |c - s| it is recomputed directly, so that a sample lying on a
# center gets distance 0 and membership 1 there.
_REFINE_ULPS = {np.dtype(np.float32): 2.0**-10, np.dtype(np.float64): 2.0**-26}
# Data whose row norms lie within this many binary orders of magnitude of 1 is
# used at its own scale: its squared distances, their products and the
# weighted sums of centers stay far from overflow and underflow. Other data is
# brought to unit size by a power of two.
_MODERATE_EXPONENT = {np.dtype(np.float32): 32, np.dtype(np.float64): 256}


def _padded_width(n_clusters):
    # BLAS micro-kernels work on register blocks of 4 columns: the products for
    # 11 clusters are about 20 % faster when padded to 12 with a zero column.
    return n_clusters if n_clusters < 3 else -(-n_clusters // 4) * 4


def _log_sum_exp(values):
    """Return ``log(sum(exp(values)))`` of a 1-d array, ``-inf`` if all are."""
    largest = values.max()
    if not np.isfinite(largest):
        return largest
    return largest + np.log(np.exp(values - largest).sum())


def _scale_factor(old_log_scale, new_log_scale):
    """Return ``exp(old - new)``, with 0 where nothing was accumulated yet."""
    return np.exp(
        old_log_scale - np.where(np.isfinite(new_log_scale), new_log_scale, 0)
    )


class _WeightedSums:
    """Running ``sum_i w_ij x_i`` and ``sum_i w_ij`` for the next centers (eq. 1).

    Weights ``w_ij = s_i u_ij ** m`` arrive as logarithms. Each cluster keeps the
    largest log weight seen so far as its scale and stores sums divided by it, as
    in a streaming log-sum-exp: ``u ** m`` would underflow to 0 for large ``m``,
    and the scale cancels in the ratio that gives the center.
    """

    def __init__(self, n_clusters, n_features):
        self.log_scale = np.full(n_clusters, -np.inf)
        self.numerator = np.zeros((n_clusters, n_features))
        self.denominator = np.zeros(n_clusters)
        self.log_objective = -np.inf

    def _rescale(self, new_log_scale):
        if not (new_log_scale > self.log_scale).any():
            return
        factor = _scale_factor(self.log_scale, new_log_scale)
        self.numerator *= factor[:, None]
        self.denominator *= factor
        self.log_scale = new_log_scale

    def add(self, X_chunk, log_weights, workspace):
        """Add the weighted rows of one chunk, given cluster-major log weights."""
        self._rescale(np.maximum(self.log_scale, log_weights.max(axis=1)))
        n_clusters, n_rows = log_weights.shape
        weights = workspace.weights[:, :n_rows]
        shift = np.where(np.isfinite(self.log_scale), self.log_scale, 0)
        np.exp(log_weights - shift[:, None], out=weights[:n_clusters])
        self.numerator += _transposed_product(weights, X_chunk, workspace)[:n_clusters]
        self.denominator += weights[:n_clusters].sum(axis=1)

    def merge(self, other):
        """Add the sums of another block, accumulated independently."""
        self._rescale(np.maximum(self.log_scale, other.log_scale))
        factor = _scale_factor(other.log_scale, self.log_scale)
        self.numerator += factor[:, None] * other.numerator
        self.denominator += factor * other.denominator
        self.log_objective = np.logaddexp(self.log_objective, other.log_objective)
        return self

    def centers(self, previous_centers):
        """Return the weighted means; a cluster with no weight keeps its center."""
        empty = self.denominator == 0
        denominator = np.where(empty, 1.0, self.denominator)
        centers = (self.numerator / denominator[:, None]).astype(previous_centers.dtype)
        centers[empty] = previous_centers[empty]
        return centers


class _Workspace:
    """Per-block buffers for the rows and the two products of a chunk."""

    def __init__(self, rows_per_chunk, n_clusters, n_features, dtype, scaled=False):
        width = _padded_width(n_clusters)
        # Rows of a chunk brought to the working scale, when the data needs one.
        self.rows = np.empty((rows_per_chunk, n_features), dtype) if scaled else None
        # Cluster-major, like the memberships they come from.
        self.weights = np.zeros((width, rows_per_chunk), dtype=dtype)
        self.products = np.empty((rows_per_chunk, width), dtype=dtype)
        self.sums = np.empty((width, n_features), dtype=dtype)
        self.stack_rows = stack_rows(width, n_features)
        n_products = rows_per_chunk // self.stack_rows if self.stack_rows else 0
        self.partial_sums = np.empty((n_products, width, n_features), dtype=dtype)


def _transposed_product(weights, X_chunk, workspace):
    """Return ``weights @ X_chunk`` using the workspace's output buffer."""
    if sp.issparse(X_chunk):
        return np.asarray((X_chunk.T @ weights.T).T)
    return weighted_sums(
        weights, X_chunk, workspace.sums, workspace.partial_sums, workspace.stack_rows
    )


class _CenterTerms:
    """Per-center quantities of the squared-distance expansion, for one pass."""

    def __init__(self, centers, shift):
        n_clusters, n_features = centers.shape
        shifted = centers.astype(np.float64) - shift
        self.centers = centers
        self.n_clusters = n_clusters
        # Scaling by -2 is exact, and saves a pass over the products.
        self.scaled = np.zeros((_padded_width(n_clusters), n_features), centers.dtype)
        self.scaled[:n_clusters] = -2.0 * shifted
        self.shifted_norms = np.linalg.norm(shifted, axis=1)
        self.largest_norm = self.shifted_norms.max()
        self.offsets = (self.shifted_norms**2 + 2.0 * (shifted @ shift))[:, None]
        self.refine_ulps = _REFINE_ULPS[centers.dtype]

    def sq_distances(self, X_chunk, shifted_sq_norms, norm_bounds, workspace):
        """Return the chunk's squared distances to the centers, in float64.

        The result is cluster-major, of shape (n_clusters, n_rows).
        ``norm_bounds`` bounds ``|x_i|`` from above: entries within rounding of
        0 are recomputed directly.
        """
        n_rows = X_chunk.shape[0]
        if sp.issparse(X_chunk):
            products = np.asarray(X_chunk @ self.scaled.T)
        else:
            products = rows_times(
                X_chunk, self.scaled, workspace.products[:n_rows], workspace.stack_rows
            )
        sq = np.add(
            products[:, : self.n_clusters].T,
            shifted_sq_norms,
            dtype=np.float64,
            order="C",
        )
        sq += self.offsets
        rounding = self.refine_ulps * norm_bounds
        # A cheap test on each sample's minimum spares most samples the full test.
        rows = np.flatnonzero(sq.min(axis=0) <= rounding * self.largest_norm)
        if rows.size:
            cols, near_rows = np.nonzero(
                sq[:, rows] <= np.outer(self.shifted_norms, rounding[rows])
            )
            rows = rows[near_rows]
            sq[cols, rows] = _direct_sq_distances(X_chunk[rows], self.centers[cols])
        np.maximum(sq, 0.0, out=sq)
        return sq


def sq_distances(X, centers):
    """Return the squared Euclidean distances of the rows of ``X`` to ``centers``.

    Computed chunk by chunk with the accurate expansion used by
    :class:`FuzzyCMeans`, at a working scale where nothing overflows or
    underflows; memory beyond the result is bounded by a chunk.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Samples, float32 or float64.
    centers : ndarray of shape (n_clusters, n_features)
        Centers.

    Returns
    -------
    sq_distances : ndarray of shape (n_samples, n_clusters)
        Squared distances, in float64: ``inf`` where one exceeds float64's
        range, which only float64 data beyond about 1e154 can reach (see
        :func:`scaled_sq_distances`).
    """
    sq, exponent = scaled_sq_distances(X, centers)
    with np.errstate(over="ignore"):
        return np.ldexp(sq, 2 * exponent)


def scaled_sq_distances(X, centers):
    """Return squared distances divided by ``4 ** exponent``, and ``exponent``.

    ``exponent`` is 0 for data and centers of moderate size; otherwise it is
    the binary exponent of their largest absolute value, so that the scaled
    distances neither overflow nor underflow, whatever the scale of the data:
    ratios of distances are then as accurate as at unit scale.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Samples, float32 or float64.
    centers : ndarray of shape (n_clusters, n_features)
        Centers.

    Returns
    -------
    sq_distances : ndarray of shape (n_samples, n_clusters)
        Squared distances times ``4 ** -exponent``, in float64.
    exponent : int
        The scale: the distances are ``2 ** exponent`` times the scaled ones.
    """
    data = _PreparedData(X, centers=centers)
    return data.sq_distances_to(data.to_scaled(centers)), data.exponent


def _direct_sq_distances(samples, centers):
    """Return ``|samples[k] - centers[k]|^2`` row by row, in float64."""
    if sp.issparse(samples):
        samples = samples.toarray()
    differences = samples.astype(np.float64) - centers
    return np.einsum("ij,ij->i", differences, differences)


def _largest_exponent(X, centers):
    """Return the binary exponent of the largest absolute value in X or centers."""
    values = X.data if sp.issparse(X) else X
    largest = max(values.max(initial=0), -values.min(initial=0))
    if centers is not None:
        largest = max(largest, np.abs(np.asarray(centers, dtype=np.float64)).max())
    return int(np.frexp(largest)[1])


class _PreparedData:
    """What a fit computes once about ``X`` and reuses at every iteration.

    Samples and centers are handled in working units, ``2 ** -exponent``
    times the data's own. ``exponent`` is 0, and the rows of ``X`` are used
    in place, unless the data, or ``centers`` to compare with it, lie so far
    from unit size that squared distances, their products or the weighted
    sums of the centers could overflow or underflow; then it is the binary
    exponent of their largest absolute value, and each chunk is scaled into
    a buffer as it is used. Scaling by a power of two is exact: data of any
    size is worked on as exactly the same numbers as at unit size.
    """

    def __init__(self, X, sample_weight=None, n_threads=1, centers=None):
        self.X = X
        self.rows_per_chunk = chunk_rows(X)
        self.blocks = row_blocks(X.shape[0], self.rows_per_chunk)
        self.n_threads = n_threads
        self.exponent = 0
        with thread_pool(n_threads) as executor:
            self._measure(executor)
            if not self._fits(centers):
                self.exponent = _largest_exponent(X, centers)
                # All zero, or moderate data whose measures underflowed.
                if self.exponent:
                    self._measure(executor)
        self.log_sample_weight = None
        if sample_weight is not None:
            with np.errstate(divide="ignore"):
                self.log_sample_weight = np.log(sample_weight.astype(np.float64))

    def _measure(self, executor):
        """Compute the shift and the squared norms of the rows about it.

        Any shift near the data works, as long as it is used consistently: it
        only keeps the expansion of squared distances away from rounding.
        Blocks of rows are spread over ``executor``'s threads, if given.
        """
        n_samples, n_features = self.X.shape
        self.shift = np.zeros(n_features)
        if not sp.issparse(self.X):
            self.shift = self._column_sums(executor) / n_samples
        self.shifted_sq_norms = np.empty(n_samples)
        list(map_blocks(executor, self._shifted_sq_norms, self.blocks))
        with np.errstate(over="ignore", invalid="ignore"):
            shift_norm = np.linalg.norm(self.shift)
        self.norm_bounds = np.sqrt(self.shifted_sq_norms) + shift_norm

    def _column_sums(self, executor):
        """Return the sums of the columns of ``X`` in working units, in float64.

        Overflow at an unsuitable scale is caught by ``_fits``.
        """
        X = self.X
        ones = np.ones(X.shape[0], X.dtype)
        if not self.exponent:
            # One product, which BLAS runs faster than one per chunk.
            with np.errstate(over="ignore", invalid="ignore"):
                return (ones @ X).astype(np.float64)

        def block_sums(block):
            total = np.zeros(X.shape[1])
            for chunk in chunks_of(block, self.rows_per_chunk):
                total += ones[chunk] @ self.chunk(chunk)
            return total

        return functools.reduce(np.add, map_blocks(executor, block_sums, self.blocks))

    def _shifted_sq_norms(self, block):
        shift = self.shift.astype(self.X.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for chunk in chunks_of(block, self.rows_per_chunk):
                rows = self.chunk(chunk)
                if sp.issparse(rows):
                    sq_norms = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()
                else:
                    rows = rows - shift
                    sq_norms = np.einsum("ij,ij->i", rows, rows)
                self.shifted_sq_norms[chunk] = sq_norms

    def _fits(self, centers):
        """Whether the data and ``centers`` can be used at their own scale.

        Their size is judged from the measures just taken, in which an
        overflow shows as infinite and an underflow as too small or 0.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            sizes = [np.sqrt(self.shifted_sq_norms.max()), np.abs(self.shift).max()]
        if centers is not None:
            sizes.append(np.abs(np.asarray(centers, dtype=np.float64)).max())
        limit = 2.0 ** _MODERATE_EXPONENT[self.X.dtype]
        return bool(1 / limit <= max(sizes) <= limit)

    def chunk(self, rows, workspace=None):
        """Return the samples ``rows`` (a slice or indices) in working units.

        A view of ``X`` when no scaling is needed; otherwise written to the
        workspace's buffer if one is given, or to a new array.
        """
        chunk = self.X[rows]
        if not self.exponent:
            return chunk
        if sp.issparse(chunk):
            chunk = chunk.copy()
            np.ldexp(chunk.data, -self.exponent, out=chunk.data)
            return chunk
        out = None if workspace is None else workspace.rows[: chunk.shape[0]]
        return np.ldexp(chunk, -self.exponent, out=out)

    def rows(self, indices):
        """Return a dense copy of the rows ``indices``, in working units."""
        rows = self.chunk(indices)
        return rows.toarray() if sp.issparse(rows) else rows

    def to_scaled(self, centers):
        """Return ``centers``, given in the data's units, in working units."""
        centers = np.asarray(centers, dtype=np.float64)
        return np.ldexp(centers, -self.exponent).astype(self.X.dtype)

    def from_scaled(self, centers):
        """Return ``centers``, given in working units, in the data's units."""
        return np.ldexp(centers, self.exponent).astype(self.X.dtype, copy=False)

    def objective(self, log_objective):
        """Return ``J`` in the data's units from ``log J`` in working units.

        ``inf`` where ``J`` exceeds float64's range, and 0 under it.
        """
        with np.errstate(over="ignore"):
            return float(np.ldexp(np.exp(log_objective), 2 * self.exponent))

    def sq_distances(self, terms, chunk, rows, workspace):
        """Squared distances of the rows ``chunk`` (``rows``) to ``terms``'s centers."""
        return terms.sq_distances(
            rows,
            self.shifted_sq_norms[chunk],
            self.norm_bounds[chunk],
            workspace,
        )

    def sq_distances_to(self, centers, executor=None):
        """Squared distances of all rows to ``centers``, in working units, float64.

        Blocks of rows are spread over ``executor``'s threads, if given.
        """
        terms = _CenterTerms(np.asarray(centers, dtype=self.X.dtype), self.shift)
        result = np.empty((self.X.shape[0], terms.n_clusters))

        def process(block):
            workspace = self.workspace(terms.n_clusters)
            for chunk in chunks_of(block, self.rows_per_chunk):
                rows = self.chunk(chunk, workspace)
                result[chunk] = self.sq_distances(terms, chunk, rows, workspace).T

        list(map_blocks(executor, process, self.blocks))
        return result

    def workspace(self, n_clusters):
        scaled = bool(self.exponent) and not sp.issparse(self.X)
        return _Workspace(
            self.rows_per_chunk, n_clusters, self.X.shape[1], self.X.dtype, scaled
        )

    def add_log_sample_weight(self, log_values, rows):
        """Add the log sample weights of ``rows`` to log values along samples.

        ``log_values`` has the samples on its last axis.
        """
        if self.log_sample_weight is not None:
            log_values += self.log_sample_weight[rows]
        return log_values


def _fcm_pass(data, centers, fuzzifier, memberships, executor, update_centers=True):
    """One pass over the data: memberships of ``centers`` and the next centers.

    Each block of rows is processed by one thread, chunk by chunk: squared
    distances (a BLAS product), memberships (eq. 2 for the power fuzzifier
    function) written to ``memberships``, the objective (eq. 6) and, while the
    chunk is still in cache, the weighted sums of eq. 1 (a second BLAS
    product). Blocks are then reduced in order.

    Returns
    -------
    sums : _WeightedSums
        The accumulated sums, whose ``log_objective`` is ``log J_m`` of
        ``centers`` with their optimal memberships.
    """
    terms = _CenterTerms(centers, data.shift)
    n_clusters, n_features = centers.shape

    def process(block):
        sums = _WeightedSums(n_clusters, n_features)
        workspace = data.workspace(n_clusters)
        log_sample_objective = np.empty(block.stop - block.start)
        for chunk in chunks_of(block, data.rows_per_chunk):
            in_block = slice(chunk.start - block.start, chunk.stop - block.start)
            rows = data.chunk(chunk, workspace)
            sq = data.sq_distances(terms, chunk, rows, workspace)
            chunk_memberships, log_weights, log_sample_objective[in_block] = (
                fuzzifier.terms(sq)
            )
            memberships[chunk] = chunk_memberships.T
            if update_centers:
                log_weights = data.add_log_sample_weight(log_weights, chunk)
                sums.add(rows, log_weights, workspace)
        data.add_log_sample_weight(log_sample_objective, block)
        sums.log_objective = _log_sum_exp(log_sample_objective)
        return sums

    return functools.reduce(
        _WeightedSums.merge, map_blocks(executor, process, data.blocks)
    )


def _converged(log_objective, previous_log_objective, tol):
    """Whether ``J_m`` improved by less than ``tol`` relative to its last value."""
    if log_objective == -np.inf:
        return True
    return np.exp(log_objective - previous_log_objective) >= 1.0 - tol


def _fcm_single(data, initial_centers, fuzzifier, max_iter, tol, verbose):
    """Run fuzzy c-means from initial centers until convergence.

    Returns
    -------
    centers, memberships, log_objective, n_iter
        The final centers, their memberships of the data, ``log J_m`` and the
        number of iterations run.
    """
    centers = initial_centers
    memberships = np.empty((data.X.shape[0], centers.shape[0]), dtype=data.X.dtype)
    previous_log_objective = np.inf
    with thread_pool(data.n_threads) as executor:
        for n_iter in range(1, max_iter + 1):
            sums = _fcm_pass(data, centers, fuzzifier, memberships, executor)
            if verbose:
                objective = data.objective(sums.log_objective)
                print(f"Iteration {n_iter}, objective {objective:.6g}")
            if _converged(sums.log_objective, previous_log_objective, tol):
                if verbose:
                    print(f"Converged at iteration {n_iter}.")
                return centers, memberships, sums.log_objective, n_iter
            previous_log_objective = sums.log_objective
            centers = sums.centers(centers)
        # The last update moved the centers: evaluate memberships for them.
        sums = _fcm_pass(
            data, centers, fuzzifier, memberships, executor, update_centers=False
        )
    return centers, memberships, sums.log_objective, max_iter


def _random_membership_centers(data, n_clusters, fuzzifier, random_state):
    """Centers (eq. 1) of random memberships, the paper's initialisation."""
    rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    memberships = rng.random((data.X.shape[0], n_clusters))
    memberships /= memberships.sum(axis=1, keepdims=True)
    log_weights = data.add_log_sample_weight(
        fuzzifier.log_weights(memberships.T), slice(None)
    )
    n_features = data.X.shape[1]
    sums = _WeightedSums(n_clusters, n_features)
    workspace = data.workspace(n_clusters)
    for chunk in chunks_of(slice(0, data.X.shape[0]), data.rows_per_chunk):
        sums.add(data.chunk(chunk, workspace), log_weights[:, chunk], workspace)
    return sums.centers(np.zeros((n_clusters, n_features), dtype=data.X.dtype))


def _draw_proportional(weights, n_draws, random_state):
    """Draw ``n_draws`` indices with probability proportional to ``weights``."""
    cumulative = np.cumsum(weights)
    draws = random_state.uniform(size=n_draws) * cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, draws), weights.size - 1)


def _kmeans_plusplus(data, n_clusters, random_state, sample_weight):
    """Greedy k-means++ seeding: rows of ``X`` drawn far from the centers so far.

    Each new center is the best, by the resulting weighted potential, of
    ``2 + log(n_clusters)`` rows drawn with probability proportional to their
    weighted squared distance to the nearest center. Distances are computed in
    ``X``'s dtype by the same chunked products as the fit.
    """
    n_samples = data.X.shape[0]
    weights = (
        np.ones(n_samples) if sample_weight is None else sample_weight.astype(float)
    )
    n_trials = 2 + int(np.log(n_clusters))
    chosen = list(_draw_proportional(weights, 1, random_state))
    with thread_pool(data.n_threads) as executor:
        closest = data.sq_distances_to(data.rows(chosen), executor)[:, 0]
        for _ in range(1, n_clusters):
            candidates = _draw_proportional(weights * closest, n_trials, random_state)
            candidate_closest = np.minimum(
                data.sq_distances_to(data.rows(candidates), executor), closest[:, None]
            )
            best = np.argmin(weights @ candidate_closest)
            chosen.append(candidates[best])
            closest = candidate_closest[:, best]
    return data.rows(chosen)


def _initial_centers(data, init, n_clusters, fuzzifier, random_state, sample_weight):
    """Return initial centers for one run, in working units and ``X``'s dtype."""
    if isinstance(init, str) and init == "k-means++":
        return _kmeans_plusplus(data, n_clusters, random_state, sample_weight)
    if isinstance(init, str) and init == "random":
        return _random_membership_centers(data, n_clusters, fuzzifier, random_state)
    if callable(init):
        with naming_errors("init"):
            centers = init(data.X, n_clusters, random_state=random_state)
        init = _check_init(
            centers,
            data.X.dtype,
            n_clusters,
            data.X.shape[1],
        )
    return data.to_scaled(init)


def _check_init(centers, dtype, n_clusters, n_features):
    """Return initial centers given by ``init`` as a C array of ``dtype``.

    Raises
    ------
    ValueError
        If they are not finite numbers of shape (n_clusters, n_features).
    """
    # Values beyond the dtype's range become inf, which the check refuses.
    with checking(centers, "init"):
        centers = check_array(
            centers, dtype=dtype, copy=True, order="C", input_name="init"
        )
    if centers.shape != (n_clusters, n_features):
        raise ValueError(
            f"init: the initial centers have shape {centers.shape}; expected "
            f"(n_clusters, n_features) = ({n_clusters}, {n_features})."
        )
    return centers


def _relative_weights(sample_weight):
    """Return sample weights divided by a power of two to a maximum in [0.5, 1).

    Sums of such weights can neither overflow nor lose all their terms to
    underflow, and they are in exact proportion to the given ones.
    """
    if sample_weight is None:
        return None
    return np.ldexp(sample_weight, -np.frexp(sample_weight.max())[1])


# A partition is degenerate when its memberships are this close to uniform
# (modified partition coefficient, 0 for uniform memberships, 1 for a hard
# partition) or its closest two centers are this close relative to the
# radius of the clusters. Collapsed fits are orders of magnitude below both
# (about 1e-7 and 3e-4 on 2500-dimensional data with m = 2), while even very
# fuzzy fits of real structure stay well above (iris with m = 5: 0.11, 1.8;
# m = 10: 0.02, 1.4).
_UNIFORM_MEMBERSHIPS = 1e-2
_COINCIDENT_CENTERS = 1e-2
# Samples on which the radius of the clusters is estimated.
_RADIUS_SAMPLES = 256


def _partition_coefficient(memberships, sample_weight):
    """Bezdek's partition coefficient ``sum_ij w_i u_ij^2 / sum_i w_i``."""
    squares = np.einsum("ij,ij->i", memberships, memberships, dtype=np.float64)
    return float(np.average(squares, weights=sample_weight))


def _center_separation(X, centers, sample_weight):
    """Distance of the closest two centers over the radius of the clusters.

    The radius is the root-mean-square distance of samples to their nearest
    center, estimated on up to ``_RADIUS_SAMPLES`` evenly spaced rows: the
    spread of the data when the centers have merged, the clusters' own
    spread when they are apart. A far group of samples widens only its own
    cluster, not the yardstick of the others, and no weighting by the
    fuzzifier lets samples lying on a center dominate. ``inf`` for a single
    center, or when the sampled rows all lie on centers; 0 if two centers
    coincide.
    """
    if centers.shape[0] < 2:
        return np.inf
    rows = np.unique(np.linspace(0, X.shape[0] - 1, _RADIUS_SAMPLES).astype(int))
    # Both distances at the same working scale: their ratio holds at any scale.
    nearest, exponent = scaled_sq_distances(X[rows], centers)
    scaled_centers = np.ldexp(centers.astype(np.float64), -exponent)
    gaps = _direct_sq_distances(
        *(scaled_centers[index] for index in np.triu_indices(centers.shape[0], 1))
    )
    if gaps.min() == 0:
        return 0.0
    weights = None if sample_weight is None else sample_weight[rows]
    if weights is not None and not weights.any():
        weights = None
    sq_radius = np.average(nearest.min(axis=1), weights=weights)
    # Samples all but on their centers leave a radius that may be subnormal:
    # the ratio then overflows to inf, which is what it is.
    with np.errstate(over="ignore"):
        return float(np.sqrt(gaps.min() / sq_radius)) if sq_radius > 0 else np.inf


class FuzzyCMeans(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    r"""Fuzzy c-means clustering.

    Every sample belongs to every cluster with a membership in [0, 1], the
    memberships of a sample summing to 1. Centers and memberships are updated
    in turn to minimise the objective

    .. math:: J = \sum_i \sum_j g(u_{ij}) \lVert x_i - c_j \rVert^2

    until it improves by less than ``tol`` (relative) or ``max_iter``
    iterations have run. The fuzzifier function ``g`` sets how soft the
    partition is: by default ``g(u) = u^m`` with the fuzzifier ``m > 1``,
    which approaches k-means close to 1 and makes memberships uniform when
    large; ``fuzzifier="polynomial"`` uses Klawonn and Höppner's function,
    which gives far clusters a membership of exactly 0.

    In high dimensions the usual ``m = 2`` makes every center collapse onto
    the mean of the data; the default ``m="auto"`` chooses a fuzzifier from
    the shape of the data that avoids it, and a collapsed result raises a
    :class:`~sklearn.exceptions.ConvergenceWarning`.

    Each iteration makes one pass over ``X`` in cache-sized chunks of rows,
    split over threads; no copy of ``X`` is made.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (``c``).

    m : float or "auto", default="auto"
        Fuzzifier of ``fuzzifier="power"``, greater than 1. Any such value is
        numerically safe. ``"auto"`` uses ``min(2, m(D, N))``, with
        ``m(D, N)`` Schwämmle and Jensen's fuzzifier for ``N = n_samples``
        and ``D = n_features`` (see Notes): 2, the textbook value, for
        low-dimensional data (iris), and close to 1 for embeddings (1.003
        for 77,516 samples of 2048 features). ``N`` counts rows whatever
        their ``sample_weight``. The value used is ``m_``.

    fuzzifier : {"power", "polynomial"}, default="power"
        Fuzzifier function ``g``: ``"power"`` is ``u ** m`` (Bezdek);
        ``"polynomial"`` is ``(1 - beta) / (1 + beta) u^2 + 2 beta / (1 +
        beta) u`` (Klawonn and Höppner), with which memberships of clusters
        much farther than a sample's nearest are exactly 0, and which does
        not collapse in high dimensions as easily as ``u ** 2``.

    beta : float, default=0.5
        Parameter of ``fuzzifier="polynomial"``, in [0, 1): 0 is fuzzy
        c-means with ``m = 2``, values close to 1 approach k-means. Checked
        but unused by the power function.

    max_iter : int, default=300
        Maximum number of iterations of one run.

    tol : float, default=1e-4
        Stop when the objective improves by less than this fraction of its
        previous value. In [0, 1).

    init : {"k-means++", "random"}, callable or array-like, default="k-means++"
        How the first centers are chosen:

        - ``"k-means++"``: k-means++ seeding on the samples;
        - ``"random"``: centers of random memberships;
        - a callable ``init(X, n_clusters, random_state=...)`` returning centers
          (``random_state`` is passed by keyword);
        - an array of shape (n_clusters, n_features): the initial centers
          (then ``n_init`` must be 1).

    n_init : int, default=1
        Number of runs from different initial centers; the run with the lowest
        objective is kept.

    random_state : int, RandomState instance or None, default=None
        Seeds the initialisations. An int makes ``fit`` reproducible.

    n_jobs : int, default=None
        Number of runs of ``n_init`` done in parallel (joblib threads). Results
        do not depend on it. ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context. Within a run, rows are split
        over as many threads as BLAS may use.

    verbose : int, default=0
        Print the objective at each iteration if positive.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Cluster centers, of ``X``'s dtype.

    memberships_ : ndarray of shape (n_samples, n_clusters)
        Memberships of the training samples to the final centers.

    labels_ : ndarray of shape (n_samples,)
        Cluster of largest membership of each training sample.

    objective_ : float
        Objective ``J`` of the final centers and memberships, in float64:
        ``inf`` (or 0) where ``J`` exceeds (or falls below) float64's range,
        which only float64 data beyond about 1e154 (or below about 1e-154)
        can reach. The fit itself works on ``log J`` and is unaffected.

    n_iter_ : int
        Number of iterations of the kept run.

    m_ : float or None
        Fuzzifier ``m`` used by the power function (the value ``m="auto"``
        chose); ``None`` with ``fuzzifier="polynomial"``.

    partition_coefficient_ : float
        Partition coefficient of the training memberships, ``sum_ij w_i
        u_ij^2 / sum_i w_i`` (``w`` the sample weights): from
        ``1 / n_clusters`` for uniform memberships to 1 for a hard partition.

    center_separation_ : float
        Distance between the closest two centers divided by the radius of
        the clusters: the root-mean-square distance of training samples to
        their nearest center (sample-weighted, estimated on up to 256
        evenly spaced samples). Well above 1 for separated clusters, close to
        0 when centers coincide; ``inf`` for one cluster.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    Warns
    -----
    ConvergenceWarning
        When the fitted partition is degenerate: memberships nearly uniform
        (modified partition coefficient ``(c PC - 1) / (c - 1)`` below 0.01),
        centers nearly coinciding (``center_separation_`` below 0.01), or
        fewer distinct labels than clusters. A partial collapse, where a few
        centers are pulled towards the mean of the data but stay apart, can
        pass these tests.

    See Also
    --------
    sklearn.cluster.KMeans : Hard clustering with the same center updates as
        the limit ``m -> 1``.
    fuzzyprune.metrics : Validity indices for fuzzy partitions.

    Notes
    -----
    Memberships (eq. 2 of the method) are computed from each squared distance
    divided by the smallest one of its sample, in log space, so neither
    overflow nor underflow can occur for any ``m > 1`` or ``beta``. A sample
    lying exactly on a center has membership 1 there.

    Data of any size in its dtype's range is handled alike: data whose
    squared distances could overflow or underflow is worked on scaled by a
    power of two (an exact operation), chunk by chunk, without a copy of
    ``X``. A fit on ``s * X`` has the labels and, to rounding, the
    memberships of the fit on ``X``, centers and distances ``s`` times
    larger and an objective ``s ** 2`` times larger.

    ``m="auto"`` follows Schwämmle and Jensen [3]_, who fitted

    .. math:: m(D, N) = 1 + \left(\frac{1418}{N} + 22.05\right) D^{-2}
              + \left(\frac{12.33}{N} + 0.243\right) D^{-0.0406 \ln N - 0.1134}

    as the smallest fuzzifier at which fuzzy c-means no longer finds
    clusters in randomised data of ``N`` samples and ``D`` features: large
    enough to ignore noise, small enough to keep real structure. Much larger
    values make centers merge onto the grand mean, which in high dimensions
    happens to every ``m`` of common use [4]_. The value is capped at 2.

    ``predict`` assigns each sample to its nearest center, ``predict_proba``
    returns memberships of new samples and ``transform`` their distances to
    the centers.

    References
    ----------
    .. [1] J. C. Bezdek, "Pattern Recognition with Fuzzy Objective Function
       Algorithms", Plenum Press, 1981.
    .. [2] F. Klawonn and F. Höppner, "What is fuzzy about fuzzy clustering?
       Understanding and improving the concept of the fuzzifier", Advances in
       Intelligent Data Analysis V, LNCS 2810, 254-264, 2003.
    .. [3] V. Schwämmle and O. N. Jensen, "A simple and fast method to
       determine the parameters for fuzzy c-means cluster analysis",
       Bioinformatics 26(22), 2841-2848, 2010.
    .. [4] R. Winkler, F. Klawonn and R. Kruse, "Fuzzy c-means in high
       dimensional spaces", International Journal of Fuzzy System
       Applications 1(1), 1-16, 2011.
    .. [5] A. C. Nara, "Image Classification Using Network Pruning and
       Clustering Techniques", Australian National University, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from fuzzyprune import FuzzyCMeans
    >>> X = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 0.0],
    ...               [10.0, 2.0], [10.0, 4.0], [10.0, 0.0]])
    >>> fcm = FuzzyCMeans(n_clusters=2, random_state=0).fit(X)
    >>> fcm.labels_[:3] != fcm.labels_[3:]
    array([ True,  True,  True])
    >>> fcm.m_
    2.0
    >>> fcm.predict_proba([[0.0, 0.0], [12.0, 3.0]]).sum(axis=1)
    array([1., 1.])
    >>> poly = FuzzyCMeans(2, fuzzifier="polynomial", random_state=0).fit(X)
    >>> poly.predict_proba([[1.0, 2.0]])
    array([[1., 0.]])
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "m": [Interval(Real, 1, None, closed="neither"), StrOptions({"auto"})],
        "fuzzifier": [StrOptions({"power", "polynomial"})],
        "beta": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        m="auto",
        fuzzifier="power",
        beta=0.5,
        max_iter=300,
        tol=1e-4,
        init="k-means++",
        n_init=1,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.m = m
        self.fuzzifier = fuzzifier
        self.beta = beta
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.n_init = n_init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _auto_m(self, n_samples, n_features):
        return min(2.0, schwaemmle_jensen_m(n_samples, n_features))

    def _fuzzifier_function(self, n_samples, n_features):
        """Return the fuzzifier function of the parameters and the ``m`` used."""
        m = self._auto_m(n_samples, n_features) if self.m == "auto" else self.m
        function = fuzzifier_function(self.fuzzifier, m, self.beta)
        return function, (float(m) if self.fuzzifier == "power" else None)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute fuzzy c-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples. float32 and float64 are used as they are (no
            copy when C-contiguous); other types become float64.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the objective and centers.

        Returns
        -------
        self : FuzzyCMeans
            Fitted estimator.

        Raises
        ------
        ValueError
            If a parameter is out of its range; if ``X`` is not a finite 2-d
            array of numbers or has fewer samples than ``n_clusters``; if
            ``sample_weight`` is not one finite non-negative number per
            sample with one of them positive; or if initial centers given by
            ``init`` are not finite numbers of shape (n_clusters,
            n_features). Each message names the parameter.
        TypeError
            If ``X`` holds objects that are not numbers.
        """
        X = self._check_data(X, reset=True)
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}."
            )
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        init = self.init
        n_init = self.n_init
        explicit_centers = None
        if not (isinstance(init, str) or callable(init)):
            init = explicit_centers = _check_init(
                init, X.dtype, self.n_clusters, X.shape[1]
            )
            if n_init != 1:
                warnings.warn(
                    f"Explicit initial centers given: running once instead of "
                    f"n_init={n_init}.",
                    RuntimeWarning,
                    stacklevel=external_stacklevel(),
                )
                n_init = 1
        fuzzifier, self.m_ = self._fuzzifier_function(*X.shape)

        random_state = check_random_state(self.random_state)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init)
        n_parallel_runs = min(effective_n_jobs(self.n_jobs), n_init)

        relative_weights = _relative_weights(sample_weight)

        def run(data, seed):
            centers = _initial_centers(
                data,
                init,
                self.n_clusters,
                fuzzifier,
                np.random.RandomState(seed),
                relative_weights,
            )
            return _fcm_single(
                data, centers, fuzzifier, self.max_iter, self.tol, self.verbose
            )

        with row_threading(n_parallel_runs) as n_threads:
            data = _PreparedData(X, sample_weight, n_threads, explicit_centers)
            runs = Parallel(n_jobs=n_parallel_runs, prefer="threads")(
                delayed(run)(data, seed) for seed in seeds
            )
        # The first run of lowest objective wins, whatever the number of jobs.
        centers, memberships, log_objective, n_iter = min(runs, key=lambda run: run[2])

        self.cluster_centers_ = data.from_scaled(centers)
        self.memberships_ = memberships
        self.labels_ = memberships.argmax(axis=1)
        self.objective_ = data.objective(log_objective)
        self.n_iter_ = n_iter
        self.partition_coefficient_ = _partition_coefficient(
            memberships, relative_weights
        )
        self.center_separation_ = _center_separation(
            X, self.cluster_centers_, relative_weights
        )
        self._fitted_fuzzifier = fuzzifier
        self._n_features_out = self.n_clusters
        self._warn_if_degenerate(X.shape)
        return self

    def _partition_problems(self):
        """Describe what makes the fitted partition degenerate; empty if nothing.

        Returns
        -------
        problems : list of str
        """
        n_clusters = self.n_clusters
        problems = []
        if n_clusters < 2:
            return problems
        modified = (n_clusters * self.partition_coefficient_ - 1) / (n_clusters - 1)
        if modified < _UNIFORM_MEMBERSHIPS:
            problems.append(
                f"memberships are nearly uniform (partition coefficient "
                f"{self.partition_coefficient_:.4g}, uniform 1/n_clusters = "
                f"{1 / n_clusters:.4g})"
            )
        if self.center_separation_ < _COINCIDENT_CENTERS:
            problems.append(
                f"centers nearly coincide (the closest two are "
                f"{self.center_separation_:.2g} times the radius of the clusters "
                "apart)"
            )
        n_distinct = np.unique(self.labels_).size
        if n_distinct < n_clusters:
            problems.append(
                f"{n_distinct} distinct clusters found for n_clusters={n_clusters}"
            )
        return problems

    def _setting(self):
        """Return the fuzzifier setting of the fit, as the parameters spell it."""
        if self.fuzzifier == "power" and self.m == "auto":
            return f"m='auto' (m={self.m_:.4g})"
        return self._fitted_fuzzifier.describe()

    def _remedies(self, shape):
        """Return what to try against a degenerate partition of this fit."""
        remedies = []
        auto = self._auto_m(*shape)
        if self.fuzzifier == "polynomial":
            remedies.append("a larger beta")
        elif self.m_ > auto:
            remedies.append(f"m='auto' (m={auto:.4g} here) or a smaller m")
        remedies += [
            "n_init > 1 or another init",
            f"fewer clusters than n_clusters={self.n_clusters}",
        ]
        if self.fuzzifier == "power":
            remedies.append("fuzzifier='polynomial'")
        return remedies

    def _warn_if_degenerate(self, shape):
        problems = self._partition_problems()
        if not problems:
            return
        remedies = self._remedies(shape)
        warnings.warn(
            f"FuzzyCMeans with {self._setting()} found a "
            f"degenerate partition: {'; '.join(problems)}. In high dimensions a "
            "fuzzifier too large for the data makes memberships uniform and "
            "centers merge; data without n_clusters groups, duplicate samples or "
            f"a poor start do too. Try {', '.join(remedies[:-1])} or "
            f"{remedies[-1]}.",
            ConvergenceWarning,
            stacklevel=external_stacklevel(),
        )

    def _check_data(self, X, reset):
        # scikit-learn's finiteness check first sums X, which for finite data
        # near the largest float can overflow to inf - inf; it then checks
        # every value.
        with checking(X, "X"):
            return validate_data(
                self,
                X,
                accept_sparse="csr",
                reset=reset,
                dtype=[np.float64, np.float32],
                order="C",
                accept_large_sparse=False,
            )

    def _check_test_data(self, X):
        check_is_fitted(self)
        return self._check_data(X, reset=False)

    def _evaluate(self, X, sample_weight=None):
        """Memberships of ``X`` to the fitted centers, and the objective ``J``."""
        centers = self.cluster_centers_
        # As many clusters as fitted, whatever n_clusters was set to since.
        memberships = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
        with row_threading() as n_threads:
            data = _PreparedData(X, sample_weight, n_threads, centers)
            with thread_pool(data.n_threads) as executor:
                sums = _fcm_pass(
                    data,
                    data.to_scaled(centers),
                    self._fitted_fuzzifier,
                    memberships,
                    executor,
                    False,
                )
        return memberships, data.objective(sums.log_objective)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return the cluster of largest membership of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster index of each sample.
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict_proba(self, X):
        """Return the memberships of samples to the fitted clusters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        memberships : ndarray of shape (n_samples, n_clusters)
            Memberships in [0, 1], each row summing to 1.
        """
        X = self._check_test_data(X)
        return self._evaluate(X)[0]

    def predict(self, X):
        """Return the cluster of largest membership, i.e. the nearest center.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster index of each sample.
        """
        return self.predict_proba(X).argmax(axis=1)

    def transform(self, X):
        """Return the Euclidean distances of samples to the cluster centers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
            Distance of each sample to each center, of ``X``'s dtype: ``inf``
            beyond its range, which only centers fitted on float64 data can
            reach for float32 ``X``.
        """
        X = self._check_test_data(X)
        # Distances, unlike their squares, fit X's dtype at any scale of X.
        sq, exponent = scaled_sq_distances(X, self.cluster_centers_)
        with np.errstate(over="ignore"):
            return np.ldexp(np.sqrt(sq), exponent).astype(X.dtype)

    def score(self, X, y=None, sample_weight=None):
        """Return the opposite of the objective ``J`` of ``X``.

        Memberships of ``X`` are the optimal ones for the fitted centers, as
        in :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        score : float
            ``-J``; larger is better. ``-inf`` (or 0) where ``J`` exceeds (or
            falls below) float64's range, as for ``objective_``.

        Raises
        ------
        ValueError
            If ``X`` or ``sample_weight`` is invalid, as in :meth:`fit`.
        """
        X = self._check_test_data(X)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        return -self._evaluate(X, sample_weight)[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
