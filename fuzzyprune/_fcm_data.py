"""Where fuzzy c-means steps run: the data, prepared once, and its passes.

:class:`PreparedData` holds what a fit computes once about ``X`` (a shift
near the data, the squared norms of the rows about it, the working scale)
and runs passes of the step of :mod:`._fcm_step` over it:

- NumPy arrays and sparse matrices: fixed blocks of rows spread over
  threads, each walked in cache-sized chunks (:func:`numpy_step`);
- arrays of any other array API namespace (torch on CPU or GPU, CuPy,
  array-api-strict): blocks of rows sized so that a step's temporaries stay
  within a fraction of ``X``, one device call after another
  (:func:`array_api_step`), the data never leaving its device.

Blocks have a fixed layout and are merged in order, so results do not depend
on the number of threads.
"""

import functools
import math
import operator

import numpy as np
import scipy.sparse as sp

from ._array_api import device, float_dtype, move_to, namespace
from ._chunks import chunk_rows, chunks_of, map_blocks, row_blocks, thread_pool
from ._fcm_step import (
    Block,
    CenterTerms,
    WeightedSums,
    Workspace,
    array_api_add_weighted_rows,
    array_api_sq_distances,
    array_api_step,
    dtype_name,
    numpy_add_weighted_rows,
    numpy_sq_distances,
    numpy_step,
    padded_width,
)

# Data whose row norms lie within this many binary orders of magnitude of 1 is
# used at its own scale: its squared distances, their products and the
# weighted sums of centers stay far from overflow and underflow. Other data is
# brought to unit size by a power of two.
MODERATE_EXPONENT = {"float32": 32, "float64": 256}
# On array API devices, a block of rows is sized so that a step's temporaries
# (a few arrays of one value per row and cluster, and the block itself when
# it is scaled) take at most this fraction of X, and at least the minimum:
# few, large device calls, within the memory of X and a quarter of it.
_DEVICE_BLOCK_SHARE = 0.25
_MIN_DEVICE_BLOCK_BYTES = 32 * 2**20
# Arrays of one value per row and cluster that a step holds at once.
_STEP_TEMPORARIES = 6
# Samples on which the radius of the clusters is estimated.
_RADIUS_SAMPLES = 256


def _device_block_rows(X, n_columns, copies_rows):
    """Rows per device call for ``X``, with ``n_columns`` centers at a time.

    ``copies_rows``: whether a call makes a copy of its rows (to scale them,
    or to shift them while the data is measured).
    """
    n_samples, n_features = X.shape
    itemsize = 4 if dtype_name(X.dtype) == "float32" else 8
    bytes_per_row = 8 * _STEP_TEMPORARIES * n_columns
    if copies_rows:
        bytes_per_row += itemsize * n_features
    budget = max(
        _MIN_DEVICE_BLOCK_BYTES, _DEVICE_BLOCK_SHARE * n_samples * itemsize * n_features
    )
    return int(max(1, min(n_samples, budget // bytes_per_row)))


def times_power_of_two(values, exponent, xp):
    """Return ``values * 2 ** exponent``, exactly, in any array namespace.

    Two factors of half the exponent each stay within float32's range, and
    the intermediate lies between the values and the result.
    """
    half = exponent // 2
    return (values * 2.0**half) * 2.0 ** (exponent - half)


def _largest_magnitude(values):
    """Return the largest absolute value of an array of any namespace, 0 if empty."""
    values = values.data if sp.issparse(values) else values
    if math.prod(values.shape) == 0:
        return 0.0
    xp, _ = namespace(values)
    return max(float(xp.max(values)), -float(xp.min(values)))


def largest_exponent(X, centers=None):
    """Return the binary exponent of the largest absolute value in X or centers."""
    largest = _largest_magnitude(X)
    if centers is not None:
        largest = max(largest, _largest_magnitude(centers))
    return math.frexp(largest)[1]


def sq_distances(X, centers):
    """Return the squared Euclidean distances of the rows of ``X`` to ``centers``.

    Computed block by block with the accurate expansion used by
    :class:`FuzzyCMeans`, at a working scale where nothing overflows or
    underflows; memory beyond the result is bounded by a block.

    Parameters
    ----------
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Samples, float32 or float64, of any array API namespace.
    centers : array of shape (n_clusters, n_features)
        Centers.

    Returns
    -------
    sq_distances : array of shape (n_samples, n_clusters)
        Squared distances, in ``X``'s namespace and device, in float64 (or
        float32 on a device without float64): ``inf`` where one exceeds the
        type's range, which only float64 data beyond about 1e154 can reach
        (see :func:`scaled_sq_distances`).
    """
    sq, exponent = scaled_sq_distances(X, centers)
    with np.errstate(over="ignore"):
        return times_power_of_two(sq, 2 * exponent, namespace(sq)[0])


def scaled_sq_distances(X, centers):
    """Return squared distances divided by ``4 ** exponent``, and ``exponent``.

    ``exponent`` is 0 for data and centers of moderate size; otherwise it is
    the binary exponent of their largest absolute value, so that the scaled
    distances neither overflow nor underflow, whatever the scale of the data:
    ratios of distances are then as accurate as at unit scale.

    Parameters
    ----------
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Samples, float32 or float64, of any array API namespace.
    centers : array of shape (n_clusters, n_features)
        Centers.

    Returns
    -------
    sq_distances : array of shape (n_samples, n_clusters)
        Squared distances times ``4 ** -exponent``, in float64 (or float32 on
        a device without float64), in ``X``'s namespace and device.
    exponent : int
        The scale: the distances are ``2 ** exponent`` times the scaled ones.
    """
    data = PreparedData(X, centers=centers, n_columns=centers.shape[0])
    return data.sq_distances_to(data.to_scaled(centers)), data.exponent


class PreparedData:
    """What a fit computes once about ``X`` and reuses at every iteration.

    Samples and centers are handled in working units, ``2 ** -exponent``
    times the data's own. ``exponent`` is 0, and the rows of ``X`` are used
    in place, unless the data, or ``centers`` to compare with it, lie so far
    from unit size that squared distances, their products or the weighted
    sums of the centers could overflow or underflow; then it is the binary
    exponent of their largest absolute value, and each chunk is scaled as it
    is used. Scaling by a power of two is exact: data of any size is worked
    on as exactly the same numbers as at unit size.

    Parameters
    ----------
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Validated samples, float32 or float64.
    sample_weight : array of shape (n_samples,), optional
        Validated sample weights, in ``X``'s namespace.
    n_threads : int
        Threads for blocks of NumPy data.
    centers : array of shape (n_clusters, n_features), optional
        Centers to be compared with the data, in the data's units.
    n_columns : int
        Most centers compared with the rows at once, which sizes device blocks.
    exponent : int, optional
        The working units to use rather than choose: those of a larger data
        set of which ``X`` is a block, so that the sums of all its blocks
        are in the same units.
    measures : tuple, optional
        ``(shift, shifted_sq_norms)`` of ``X`` at ``exponent``, measured
        before by a :class:`PreparedData` of the same rows (its ``shift``
        and ``shifted_sq_norms``), which are then not measured again.
    """

    def __init__(
        self,
        X,
        sample_weight=None,
        n_threads=1,
        centers=None,
        n_columns=16,
        exponent=None,
        measures=None,
    ):
        self.X = X
        self.xp, self.is_numpy = namespace(X)
        self.device = device(X)
        self.dtype = float_dtype(self.xp, self.device)
        if self.is_numpy:
            self.rows_per_chunk = chunk_rows(X, n_columns)
            self.blocks = row_blocks(X.shape[0], self.rows_per_chunk)
            self.n_threads = n_threads
        else:
            self._set_device_blocks(n_columns, copies_rows=True)
            self.n_threads = 1
        self.exponent = 0 if exponent is None else exponent
        with thread_pool(self.n_threads) as executor:
            if measures is not None:
                self.shift, self.shifted_sq_norms = measures
                self._bound_norms()
            else:
                self._measure(executor)
            if exponent is None and not self._fits(centers):
                self.exponent = largest_exponent(X, centers)
                # All zero, or moderate data whose measures underflowed.
                if self.exponent:
                    self._measure(executor)
        if not (self.is_numpy or self.exponent):
            # Steps on data at its own scale use the rows in place.
            self._set_device_blocks(n_columns, copies_rows=False)
        self.sample_weight = self.log_sample_weight = None
        if sample_weight is not None:
            self.sample_weight = self.xp.astype(sample_weight, self.dtype)
            with np.errstate(divide="ignore"):
                self.log_sample_weight = self.xp.log(self.sample_weight)

    def _set_device_blocks(self, n_columns, copies_rows):
        self.rows_per_chunk = _device_block_rows(self.X, n_columns, copies_rows)
        self.blocks = chunks_of(slice(0, self.X.shape[0]), self.rows_per_chunk)

    @property
    def step(self):
        """The step for this data's namespace: NumPy's own, or the generic one."""
        return numpy_step if self.is_numpy else array_api_step

    def _measure(self, executor):
        """Compute the shift and the squared norms of the rows about it.

        Any shift near the data works, as long as it is used consistently: it
        only keeps the expansion of squared distances away from rounding.
        Blocks of rows are spread over ``executor``'s threads, if given.
        """
        xp = self.xp
        n_samples, n_features = self.X.shape
        self.shift = xp.zeros(n_features, dtype=self.dtype, device=self.device)
        if not sp.issparse(self.X):
            self.shift = self._column_sums(executor) / n_samples
        self.shifted_sq_norms = xp.empty(
            n_samples, dtype=self.dtype, device=self.device
        )
        list(map_blocks(executor, self._shifted_sq_norms, self.blocks))
        self._bound_norms()

    def _bound_norms(self):
        """Bound the norms of the rows by ``|x - s| + |s|``."""
        xp = self.xp
        with np.errstate(over="ignore", invalid="ignore"):
            shift_norm = math.sqrt(float(xp.vecdot(self.shift, self.shift)))
            self.norm_bounds = xp.sqrt(self.shifted_sq_norms) + shift_norm

    def _column_sums(self, executor):
        """Return the sums of the columns of ``X`` in working units and type.

        Overflow at an unsuitable scale is caught by ``_fits``.
        """
        xp, X = self.xp, self.X
        with np.errstate(over="ignore", invalid="ignore"):
            if self.is_numpy and not self.exponent:
                # One product, which BLAS runs faster than one per chunk.
                return (np.ones(X.shape[0], X.dtype) @ X).astype(np.float64)

            def block_sums(block):
                total = xp.zeros(X.shape[1], dtype=self.dtype, device=self.device)
                for chunk in chunks_of(block, self.rows_per_chunk):
                    total += xp.astype(xp.sum(self.chunk(chunk), axis=0), self.dtype)
                return total

            return functools.reduce(
                operator.add, map_blocks(executor, block_sums, self.blocks)
            )

    def _shifted_sq_norms(self, block):
        xp = self.xp
        shift = xp.astype(self.shift, self.X.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for chunk in chunks_of(block, self.rows_per_chunk):
                rows = self.chunk(chunk)
                if sp.issparse(rows):
                    sq_norms = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()
                else:
                    rows = rows - shift
                    sq_norms = xp.vecdot(rows, rows)
                self.shifted_sq_norms[chunk] = xp.astype(sq_norms, self.dtype)

    def size(self):
        """Return the largest distance of a row to the shift, or entry of it.

        In working units; ``inf`` if a measure overflowed.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            return max(
                math.sqrt(float(self.xp.max(self.shifted_sq_norms))),
                _largest_magnitude(self.shift),
            )

    def _fits(self, centers):
        """Whether the data and ``centers`` can be used at their own scale.

        Their size is judged from the measures just taken, in which an
        overflow shows as infinite and an underflow as too small or 0.
        """
        sizes = [self.size()]
        if centers is not None:
            sizes.append(_largest_magnitude(centers))
        limit = 2.0 ** MODERATE_EXPONENT[dtype_name(self.X.dtype)]
        return bool(1 / limit <= max(sizes) <= limit)

    def chunk(self, rows, workspace=None):
        """Return the samples ``rows`` (a slice) in working units.

        A view of ``X`` when no scaling is needed; otherwise written to the
        workspace's buffer if one is given, or to a new array.
        """
        return self.scale(self.X[rows, :], workspace)

    def scale(self, rows, workspace=None):
        """Return rows of ``X`` in working units (see :meth:`chunk`)."""
        if not self.exponent:
            return rows
        if sp.issparse(rows):
            rows = rows.copy()
            np.ldexp(rows.data, -self.exponent, out=rows.data)
            return rows
        if self.is_numpy:
            out = None if workspace is None else workspace.rows[: rows.shape[0]]
            return np.ldexp(rows, -self.exponent, out=out)
        return times_power_of_two(rows, -self.exponent, self.xp)

    def rows(self, indices):
        """Return a dense copy of the rows ``indices`` (ints), in working units."""
        if self.is_numpy:
            rows = self.scale(self.X[np.asarray(indices)])
            return rows.toarray() if sp.issparse(rows) else rows
        indices = self.xp.asarray(indices, device=self.device)
        return self.scale(self.xp.take(self.X, indices, axis=0))

    def block(self, rows):
        """Return the per-row data of the slice ``rows`` for a step."""
        whole = Block(
            self.shifted_sq_norms, self.norm_bounds, self.log_sample_weight, self.scale
        )
        return whole.part(rows)

    def to_scaled(self, centers):
        """Return ``centers``, given in the data's units, in working units."""
        xp = self.xp
        centers = xp.astype(move_to(centers, xp, self.device), self.dtype)
        return xp.astype(times_power_of_two(centers, -self.exponent, xp), self.X.dtype)

    def from_scaled(self, centers):
        """Return ``centers``, given in working units, in the data's units."""
        xp = self.xp
        scaled = times_power_of_two(xp.astype(centers, self.dtype), self.exponent, xp)
        return xp.astype(scaled, self.X.dtype)

    def objective(self, log_objective):
        """Return ``J`` in the data's units from ``log J`` in working units.

        ``inf`` where ``J`` exceeds float64's range, and 0 under it.
        """
        with np.errstate(over="ignore"):
            return float(np.ldexp(np.exp(log_objective), 2 * self.exponent))

    def center_terms(self, centers):
        """Return the expansion terms of ``centers`` (working units)."""
        width = padded_width(centers.shape[0]) if self.is_numpy else None
        return CenterTerms(centers, self.shift, self.xp, self.dtype, width)

    def workspace(self, n_clusters):
        """Return NumPy buffers for one thread's chunks, or ``None`` on a device."""
        if not self.is_numpy:
            return None
        scaled = bool(self.exponent) and not sp.issparse(self.X)
        return Workspace(
            self.rows_per_chunk, n_clusters, self.X.shape[1], self.X.dtype, scaled
        )

    def new_sums(self, n_clusters):
        """Return empty weighted sums for ``n_clusters`` centers."""
        return WeightedSums(
            n_clusters, self.X.shape[1], self.xp, self.dtype, self.device
        )

    def sq_distances_to(self, centers, executor=None):
        """Squared distances of all rows to ``centers``, in working units and type.

        Blocks of rows are spread over ``executor``'s threads, if given.
        """
        xp = self.xp
        terms = self.center_terms(xp.asarray(centers, dtype=self.X.dtype))
        n_columns = terms.n_clusters
        result = xp.empty(
            (self.X.shape[0], n_columns), dtype=self.dtype, device=self.device
        )
        distances = numpy_sq_distances if self.is_numpy else array_api_sq_distances

        def process(block):
            workspace = self.workspace(n_columns)
            for chunk in chunks_of(block, self.rows_per_chunk):
                rows = self.chunk(chunk, workspace)
                sq = distances(rows, self.block(chunk), terms, workspace)
                result[chunk, :] = xp.matrix_transpose(sq)

        list(map_blocks(executor, process, self.blocks))
        return result

    def weighted_sums(self, n_clusters, log_weights_of):
        """Return the sums of the rows weighted by ``exp`` of given log weights.

        ``log_weights_of(chunk)`` returns the cluster-major log weights of
        the rows ``chunk`` (a slice), an array of shape (n_clusters,
        chunk rows) in the working type on the data's device; chunks are
        asked for in order, so the weights can be made as they are used.
        The log sample weights are added to them.
        """
        sums = self.new_sums(n_clusters)
        workspace = self.workspace(n_clusters)
        add = numpy_add_weighted_rows if self.is_numpy else array_api_add_weighted_rows
        for chunk in chunks_of(slice(0, self.X.shape[0]), self.rows_per_chunk):
            log_weights = log_weights_of(chunk)
            if self.log_sample_weight is not None:
                log_weights = log_weights + self.log_sample_weight[chunk]
            add(sums, log_weights, self.chunk(chunk, workspace), workspace)
        return sums


def fcm_pass(data, centers, fuzzifier, memberships, executor, update_centers=True):
    """One pass over the data: memberships of ``centers`` and the next centers.

    Each block of rows is processed by one step (on one thread for NumPy
    data); blocks are then reduced in order.

    Parameters
    ----------
    data : PreparedData
    centers : array of shape (n_clusters, n_features)
        Centers in working units.
    fuzzifier : FuzzifierFunction
    memberships : array of shape (n_samples, n_clusters) or None
        Written with the memberships of ``centers``, if given.
    executor : ThreadPoolExecutor or None
    update_centers : bool
        Whether to accumulate the sums for the next centers.

    Returns
    -------
    sums : WeightedSums
        The accumulated sums, whose ``log_objective`` is ``log J_m`` of
        ``centers`` with their optimal memberships.
    """
    terms = data.center_terms(centers)
    n_clusters = centers.shape[0]

    def process(block):
        sums = data.new_sums(n_clusters)
        sums.log_objective = float(
            data.step(
                data.X[block, :],
                data.block(block),
                terms,
                fuzzifier,
                sums if update_centers else None,
                None if memberships is None else memberships[block, :],
                data.workspace(n_clusters),
            )
        )
        return sums

    return functools.reduce(
        WeightedSums.merge, map_blocks(executor, process, data.blocks)
    )


def converged(log_objective, previous_log_objective, tol):
    """Whether ``J_m`` improved by less than ``tol`` relative to its last value."""
    if log_objective == -np.inf:
        return True
    return np.exp(log_objective - previous_log_objective) >= 1.0 - tol


def iterate(one_pass, centers, max_iter, tol, verbose, objective):
    """Alternate passes and center updates until ``J_m`` stops improving.

    Parameters
    ----------
    one_pass : callable
        Maps centers (working units) to the pass's result, which has a
        ``log_objective`` (``log J_m`` of those centers) and a
        ``centers(previous)`` method giving the next centers.
    centers : array of shape (n_clusters, n_features)
        Initial centers in working units.
    max_iter : int
    tol : float
    verbose : int
        Print the objective at each iteration if positive.
    objective : callable
        Maps ``log J_m`` to ``J_m`` in the data's units, for printing.

    Returns
    -------
    centers : array of shape (n_clusters, n_features)
        The last centers.
    result
        The last pass's result: of ``centers`` if ``has_converged``, of the
        centers before them otherwise.
    log_objectives : list of float
        ``log J_m`` of each pass, in working units: one per iteration run.
    has_converged : bool
    """
    previous_log_objective = np.inf
    log_objectives = []
    for n_iter in range(1, max_iter + 1):
        result = one_pass(centers)
        log_objectives.append(result.log_objective)
        if verbose:
            print(
                f"Iteration {n_iter}, objective {objective(result.log_objective):.6g}"
            )
        if converged(result.log_objective, previous_log_objective, tol):
            if verbose:
                print(f"Converged at iteration {n_iter}.")
            return centers, result, log_objectives, True
        previous_log_objective = result.log_objective
        centers = result.centers(centers)
    return centers, result, log_objectives, False


def distances(X, centers):
    """Return the Euclidean distances of the rows of ``X`` to ``centers``.

    Distances, unlike their squares, fit ``X``'s dtype at any scale of
    ``X``: the result is of ``X``'s dtype, ``inf`` beyond its range, which
    only centers larger than float32's range can reach for float32 ``X``.
    """
    sq, exponent = scaled_sq_distances(X, centers)
    xp, _ = namespace(sq)
    with np.errstate(over="ignore"):
        return xp.astype(times_power_of_two(xp.sqrt(sq), exponent, xp), X.dtype)


def evaluate(X, centers, fuzzifier, sample_weight=None, n_threads=1):
    """Return the memberships of ``X`` to ``centers`` and ``log J_m`` of them.

    Parameters
    ----------
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Validated samples.
    centers : array of shape (n_clusters, n_features)
        Centers in the data's units.
    fuzzifier : FuzzifierFunction
    sample_weight : array of shape (n_samples,), optional
    n_threads : int

    Returns
    -------
    memberships : array of shape (n_samples, n_clusters)
        Of ``X``'s namespace, device and dtype.
    data : PreparedData
        The prepared ``X``, whose ``objective`` maps the log objective to
        the data's units.
    log_objective : float
        ``log J_m`` in working units.
    """
    data = PreparedData(X, sample_weight, n_threads, centers, centers.shape[0])
    memberships = data.xp.empty(
        (X.shape[0], centers.shape[0]), dtype=X.dtype, device=data.device
    )
    with thread_pool(data.n_threads) as executor:
        sums = fcm_pass(
            data, data.to_scaled(centers), fuzzifier, memberships, executor, False
        )
    return memberships, data, sums.log_objective


def radius_rows(n_samples):
    """Return the up to 256 evenly spaced rows that estimate the clusters' radius.

    See ``center_separation_`` of :class:`FuzzyCMeans`.
    """
    return np.unique(np.linspace(0, n_samples - 1, _RADIUS_SAMPLES).astype(int))
