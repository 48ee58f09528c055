"""One step of fuzzy c-means on a block of rows, for every array namespace.

A step takes a block of samples and the current centers and returns the
block's memberships and its sufficient statistics for the next centers
(:class:`WeightedSums`: weighted sums of rows, sums of weights, a log scale
and the log objective), which merge associatively across blocks. The
numerics live here once: squared distances by the shifted expansion with the
near-zero refinement, memberships and weights from the fuzzifier function,
log-scaled weighted sums.

:func:`array_api_step` is written against the array API, so NumPy, torch (CPU
or GPU), CuPy and array-api-strict run the same code. :func:`numpy_step`, of
the same signature, is NumPy's specialisation: it walks the block in
cache-sized chunks through preallocated buffers and multiplies by stacks of
small products where OpenBLAS is faster that way; the two are tested equal.
"""

import numpy as np
import scipy.sparse as sp

from ._array_api import namespace
from ._chunks import chunks_of
from ._products import rows_times, stack_rows, weighted_sums

# Squared distances are computed as |x - s|^2 - 2 x.(c - s) + |c - s|^2 + 2 s.(c - s)
# with a shift s near the data. Where the result is within this many units of
# rounding of |x| |c - s| it is recomputed directly, so that a sample lying on a
# center gets distance 0 and membership 1 there.
_REFINE_ULPS = {"float32": 2.0**-10, "float64": 2.0**-26}


def dtype_name(dtype):
    """Return ``"float32"`` or ``"float64"`` for a float type of any namespace."""
    return "float32" if "32" in str(dtype) else "float64"


def padded_width(n_clusters):
    """Return the product width NumPy's BLAS is fastest at for ``n_clusters``."""
    # BLAS micro-kernels work on register blocks of 4 columns: the products for
    # 11 clusters are about 20 % faster when padded to 12 with a zero column.
    return n_clusters if n_clusters < 3 else -(-n_clusters // 4) * 4


def log_sum_exp(values, xp):
    """Return ``log(sum(exp(values)))`` of a 1-d array, ``-inf`` if all are."""
    largest = xp.max(values)
    if not bool(xp.isfinite(largest)):
        return largest
    return largest + xp.log(xp.sum(xp.exp(values - largest)))


def _finite_or_zero(log_scale, xp):
    return xp.where(xp.isfinite(log_scale), log_scale, 0.0)


class WeightedSums:
    """Running ``sum_i w_ij x_i`` and ``sum_i w_ij`` for the next centers (eq. 1).

    Weights ``w_ij = s_i g(u_ij)`` arrive as logarithms. Each cluster keeps
    the largest log weight seen so far as its scale and stores sums divided by
    it, as in a streaming log-sum-exp: ``u ** m`` would underflow to 0 for
    large ``m``, and the scale cancels in the ratio that gives the center.
    Sums of independent blocks merge in any grouping.

    Parameters
    ----------
    n_clusters, n_features : int
        Shape of the centers.
    xp : namespace
        Array namespace of the data.
    dtype : dtype of ``xp``
        Type of the sums, float64 where the device has it.
    device : device of ``xp``
        Device of the data.
    """

    def __init__(self, n_clusters, n_features, xp, dtype, device=None):
        self.xp = xp
        self.log_scale = xp.full(n_clusters, -np.inf, dtype=dtype, device=device)
        self.numerator = xp.zeros((n_clusters, n_features), dtype=dtype, device=device)
        self.denominator = xp.zeros(n_clusters, dtype=dtype, device=device)
        # log J of the rows summed so far, a float.
        self.log_objective = -np.inf

    def __getstate__(self):
        # The namespace is a module, which neither pickles nor copies: the
        # arrays name it again (Dask sends sums between processes).
        state = self.__dict__.copy()
        del state["xp"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.xp = namespace(self.numerator)[0]

    def _rescale(self, new_log_scale):
        xp = self.xp
        if not bool(xp.any(new_log_scale > self.log_scale)):
            return
        factor = xp.exp(self.log_scale - _finite_or_zero(new_log_scale, xp))
        self.numerator *= factor[:, None]
        self.denominator *= factor
        self.log_scale = new_log_scale

    def shift_for(self, log_weights):
        """Widen the scale to cover new cluster-major log weights; return it.

        The returned shift, subtracted from the log weights, gives weights of
        at most 1 in the units of the sums.
        """
        xp = self.xp
        self._rescale(xp.maximum(self.log_scale, xp.max(log_weights, axis=1)))
        return _finite_or_zero(self.log_scale, xp)

    def accumulate(self, weighted_rows, weight_totals):
        """Add ``weights @ rows`` and the weights' row sums, in the sums' units."""
        self.numerator += weighted_rows
        self.denominator += weight_totals

    def merge(self, other):
        """Add the sums of another block, accumulated independently."""
        xp = self.xp
        self._rescale(xp.maximum(self.log_scale, other.log_scale))
        factor = xp.exp(other.log_scale - _finite_or_zero(self.log_scale, xp))
        self.numerator += factor[:, None] * other.numerator
        self.denominator += factor * other.denominator
        self.log_objective = float(
            np.logaddexp(self.log_objective, other.log_objective)
        )
        return self

    def centers(self, previous_centers):
        """Return the weighted means; a cluster with no weight keeps its center."""
        xp = self.xp
        empty = self.denominator == 0
        denominator = xp.where(empty, 1.0, self.denominator)
        centers = xp.astype(
            self.numerator / denominator[:, None], previous_centers.dtype
        )
        return xp.where(empty[:, None], previous_centers, centers)


class CenterTerms:
    """Per-center quantities of the squared-distance expansion, for one pass.

    Parameters
    ----------
    centers : array of shape (n_clusters, n_features)
        Centers in working units, of the data's namespace and type.
    shift : array of shape (n_features,)
        The shift near the data, in ``dtype``.
    xp : namespace
    dtype : dtype of ``xp``
        Working type of distances, float64 where the device has it.
    width : int, optional
        Rows of ``scaled``, the centers padded with zero rows (NumPy's BLAS).
    """

    def __init__(self, centers, shift, xp, dtype, width=None):
        n_clusters, n_features = centers.shape
        self.xp = xp
        self.dtype = dtype
        self.centers = centers
        self.n_clusters = n_clusters
        shifted = xp.astype(centers, dtype) - shift
        # Scaling by -2 is exact, and saves a pass over the products.
        scaled = xp.astype(-2.0 * shifted, centers.dtype)
        if width is not None and width > n_clusters:
            # Only NumPy's BLAS gains from padding.
            padding = xp.zeros((width - n_clusters, n_features), dtype=centers.dtype)
            scaled = xp.concat([scaled, padding], axis=0)
        self.scaled = scaled
        self.shifted_norms = xp.sqrt(xp.vecdot(shifted, shifted, axis=-1))
        self.largest_norm = float(xp.max(self.shifted_norms))
        self.offsets = (self.shifted_norms**2 + 2.0 * xp.matmul(shifted, shift))[
            :, None
        ]
        self.refine_ulps = _REFINE_ULPS[dtype_name(centers.dtype)]

    def finish(self, sq, rows, norm_bounds):
        """Complete the expansion ``products + |x - s|^2`` into squared distances.

        Parameters
        ----------
        sq : array of shape (n_clusters, n_rows)
            ``-2 x.(c - s) + |x - s|^2`` in the working type, cluster-major;
            modified in place where the namespace allows.
        rows : array or sparse matrix of shape (n_rows, n_features)
            The samples, in working units.
        norm_bounds : array of shape (n_rows,)
            Upper bounds of ``|x_i|``: entries within rounding of 0 are
            recomputed directly.

        Returns
        -------
        sq : array of shape (n_clusters, n_rows)
            Non-negative squared distances.
        """
        xp = self.xp
        sq += self.offsets
        rounding = self.refine_ulps * norm_bounds
        # A cheap test on each sample's minimum spares most chunks the full
        # test. Both thresholds are >= 0, so every entry that rounding made
        # negative is recomputed: no clamp to 0 is needed.
        if bool(xp.any(xp.min(sq, axis=0) <= rounding * self.largest_norm)):
            near = sq <= self.shifted_norms[:, None] * rounding[None, :]
            clusters, samples = xp.nonzero(near)
            sq[near] = direct_sq_distances(
                _take_rows(rows, samples, xp),
                xp.take(self.centers, clusters, axis=0),
                xp,
                self.dtype,
            )
        return sq


def _take_rows(rows, indices, xp):
    if sp.issparse(rows):
        return rows[np.asarray(indices)].toarray()
    return xp.take(rows, indices, axis=0)


def direct_sq_distances(samples, centers, xp, dtype):
    """Return ``|samples[k] - centers[k]|^2`` row by row, in ``dtype``."""
    differences = xp.astype(samples, dtype) - xp.astype(centers, dtype)
    return xp.vecdot(differences, differences, axis=-1)


class Block:
    """What a step needs about a block of rows beyond the rows themselves.

    Parameters
    ----------
    shifted_sq_norms : array of shape (n_rows,)
        ``|x_i - s|^2`` in working units and type.
    norm_bounds : array of shape (n_rows,)
        Upper bounds of ``|x_i|`` in working units.
    log_sample_weight : array of shape (n_rows,) or None
        Log sample weights.
    scale : callable
        Maps rows of ``X`` (a slice of them) to working units.
    """

    def __init__(self, shifted_sq_norms, norm_bounds, log_sample_weight, scale):
        self.shifted_sq_norms = shifted_sq_norms
        self.norm_bounds = norm_bounds
        self.log_sample_weight = log_sample_weight
        self.scale = scale

    def part(self, rows):
        """Return the block's data for the sub-slice ``rows`` of it."""
        weight = self.log_sample_weight
        return Block(
            self.shifted_sq_norms[rows],
            self.norm_bounds[rows],
            None if weight is None else weight[rows],
            self.scale,
        )


def _weighted_terms(sq, block, fuzzifier, xp):
    """Fuzzifier terms of a chunk, with the sample weights folded in."""
    memberships, log_weights, log_sample_objective = fuzzifier.terms(sq, xp)
    if block.log_sample_weight is not None:
        log_weights += block.log_sample_weight
        log_sample_objective += block.log_sample_weight
    return memberships, log_weights, log_sample_objective


def array_api_sq_distances(rows, block, terms, workspace=None):
    """Squared distances of rows in working units to ``terms``'s centers.

    Parameters
    ----------
    rows : array of shape (n_rows, n_features)
        Samples in working units.
    block : Block
        Their norms and bounds.
    terms : CenterTerms
    workspace : None
        Unused; NumPy's :func:`numpy_sq_distances` takes its buffers here.

    Returns
    -------
    sq : array of shape (n_clusters, n_rows)
        Cluster-major, in the working type.
    """
    xp = terms.xp
    products = xp.matmul(terms.scaled, xp.matrix_transpose(rows))
    sq = xp.astype(products, terms.dtype) + block.shifted_sq_norms
    return terms.finish(sq, rows, block.norm_bounds)


def array_api_add_weighted_rows(sums, log_weights, rows, workspace=None):
    """Add rows weighted by ``exp(log_weights)`` (cluster-major) to ``sums``."""
    xp = sums.xp
    weights = xp.exp(log_weights - sums.shift_for(log_weights)[:, None])
    weights = xp.astype(weights, rows.dtype)
    sums.accumulate(xp.matmul(weights, rows), xp.sum(weights, axis=1))


def array_api_step(
    X, block, terms, fuzzifier, sums=None, memberships=None, workspace=None
):
    """One fuzzy c-means step on a block of rows, in any array namespace.

    Parameters
    ----------
    X : array of shape (n_rows, n_features)
        The block's samples in the data's units, float32 or float64.
    block : Block
        Norms, bounds and log sample weights of the rows, and their scaling.
    terms : CenterTerms
        The current centers.
    fuzzifier : FuzzifierFunction
    sums : WeightedSums or None
        Where to add the block's weighted sums for the next centers; ``None``
        when only memberships and the objective are wanted.
    memberships : array of shape (n_rows, n_clusters) or None
        Written with the block's memberships, in ``X``'s type, if given.
    workspace : None
        Unused; NumPy's :func:`numpy_step` takes its buffers here.

    Returns
    -------
    log_objective : scalar array
        ``log`` of the block's share of the objective (weighted by the
        sample weights), ``-inf`` if it is 0.
    """
    xp = terms.xp
    rows = block.scale(X)
    sq = array_api_sq_distances(rows, block, terms)
    chunk_memberships, log_weights, log_objective = _weighted_terms(
        sq, block, fuzzifier, xp
    )
    if memberships is not None:
        memberships[...] = xp.astype(xp.matrix_transpose(chunk_memberships), X.dtype)
    if sums is not None:
        array_api_add_weighted_rows(sums, log_weights, rows)
    return log_sum_exp(log_objective, xp)


class Workspace:
    """NumPy buffers for the rows and the two products of a chunk."""

    def __init__(self, rows_per_chunk, n_clusters, n_features, dtype, scaled=False):
        width = padded_width(n_clusters)
        # Rows of a chunk brought to the working scale, when the data needs one.
        self.rows = np.empty((rows_per_chunk, n_features), dtype) if scaled else None
        # Cluster-major, like the memberships they come from.
        self.weights = np.zeros((width, rows_per_chunk), dtype=dtype)
        self.products = np.empty((rows_per_chunk, width), dtype=dtype)
        self.sums = np.empty((width, n_features), dtype=dtype)
        self.stack_rows = stack_rows(width, n_features)
        n_products = rows_per_chunk // self.stack_rows if self.stack_rows else 0
        self.partial_sums = np.empty((n_products, width, n_features), dtype=dtype)


def numpy_products(rows, terms, workspace):
    """Return ``rows @ scaled.T`` (sample-major, padded) by NumPy's fastest route."""
    if sp.issparse(rows):
        return np.asarray(rows @ terms.scaled.T)
    return rows_times(
        rows, terms.scaled, workspace.products[: rows.shape[0]], workspace.stack_rows
    )


def numpy_sq_distances(rows, block, terms, workspace):
    """Squared distances of a chunk of rows in working units, cluster-major."""
    products = numpy_products(rows, terms, workspace)
    # Cluster-major and C-ordered: reductions over the clusters of a sample
    # then run along whole rows.
    sq = np.add(
        products[:, : terms.n_clusters].T,
        block.shifted_sq_norms,
        dtype=np.float64,
        order="C",
    )
    return terms.finish(sq, rows, block.norm_bounds)


def numpy_add_weighted_rows(sums, log_weights, rows, workspace):
    """:func:`array_api_add_weighted_rows` through the workspace's buffers."""
    n_clusters, n_rows = log_weights.shape
    weights = workspace.weights[:, :n_rows]
    shift = sums.shift_for(log_weights)
    np.exp(log_weights - shift[:, None], out=weights[:n_clusters])
    if sp.issparse(rows):
        weighted_rows = np.asarray((rows.T @ weights.T).T)
    else:
        weighted_rows = weighted_sums(
            weights, rows, workspace.sums, workspace.partial_sums, workspace.stack_rows
        )
    sums.accumulate(weighted_rows[:n_clusters], weights[:n_clusters].sum(axis=1))


def numpy_step(X, block, terms, fuzzifier, sums=None, memberships=None, workspace=None):
    """:func:`array_api_step` for NumPy arrays and sparse matrices, chunk by chunk.

    Each cache-sized chunk of the block is read once: squared distances (a
    BLAS product), memberships and, while the chunk is still in cache, the
    weighted sums of eq. 1 (a second BLAS product). ``workspace`` holds the
    buffers and the chunk size; the result equals :func:`array_api_step`'s to
    rounding.
    """
    xp = terms.xp
    log_objective = np.empty(X.shape[0])
    for chunk in chunks_of(slice(0, X.shape[0]), workspace.products.shape[0]):
        part = block.part(chunk)
        rows = part.scale(X[chunk], workspace)
        sq = numpy_sq_distances(rows, part, terms, workspace)
        chunk_memberships, log_weights, log_objective[chunk] = _weighted_terms(
            sq, part, fuzzifier, xp
        )
        if memberships is not None:
            memberships[chunk] = chunk_memberships.T
        if sums is not None:
            numpy_add_weighted_rows(sums, log_weights, rows, workspace)
    return log_sum_exp(log_objective, xp)
