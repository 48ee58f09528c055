"""Validity indices of fuzzy partitions, cluster accuracy and scorers.

Indices take memberships (and, for some, the data and centers) directly.
Scorers take a fitted estimator, ``X`` and optionally ``y``, as scikit-learn's
``scoring`` expects: pass them to :class:`~sklearn.model_selection.GridSearchCV`
or :func:`~sklearn.model_selection.cross_validate`. Each scorer also works on a
:class:`~sklearn.pipeline.Pipeline` ending in a fuzzy clusterer, evaluating the
last step on ``X`` transformed by the steps before it. Every scorer follows
scikit-learn's rule that greater is better: indices where smaller is better are
negated and named ``neg_*``. Where an index is undefined for a fold (fewer than
2 clusters among its samples), its scorer warns and returns ``nan``.

Samples, centers, memberships and sample weights must be real numbers:
strings, even ones spelling numbers, and complex numbers are refused, naming
the argument. Only the proportions of sample weights matter: they are divided
by a power of two (exactly) before use, so weights of any finite scale, from
the smallest subnormal to the largest float, give the same index.
"""

import copy
import warnings
from inspect import signature
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import silhouette_samples
from sklearn.metrics._scorer import _BaseScorer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.metadata_routing import _raise_for_params
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._fcm import _relative_weights
from ._fcm_data import MODERATE_EXPONENT, largest_exponent, sq_distances
from ._fcm_step import dtype_name
from ._fuzzifiers import fuzzifier_function
from ._validation import Interval, check_sample_weight, checking

__all__ = [
    "cluster_accuracy",
    "cluster_accuracy_scorer",
    "fuzzy_silhouette_score",
    "fuzzy_silhouette_scorer",
    "get_scorer",
    "modified_partition_coefficient",
    "modified_partition_coefficient_scorer",
    "neg_partition_entropy_scorer",
    "neg_xie_beni_scorer",
    "partition_coefficient",
    "partition_coefficient_scorer",
    "partition_entropy",
    "silhouette_samples_exact",
    "simplified_silhouette_score",
    "simplified_silhouette_scorer",
    "xie_beni_index",
]


# Rows of memberships must sum to 1 within float32 rounding, so memberships
# computed in float32 and stored in float64 are accepted.
_ROW_SUM_TOLERANCE = float(np.sqrt(np.finfo(np.float32).eps))


class _UndefinedIndexError(ValueError):
    """An index undefined for the number of clusters of the partition.

    Scorers turn it into ``nan`` and a warning, as a search over folds expects.
    """


def _check_memberships(memberships):
    """Check that ``memberships`` is a fuzzy partition: rows in [0, 1] summing to 1."""
    with checking(memberships, "memberships"):
        memberships = check_array(
            memberships, dtype=[np.float64, np.float32], input_name="memberships"
        )
    if memberships.min() < 0 or memberships.max() > 1:
        raise ValueError("memberships must lie in [0, 1].")
    sums = memberships.sum(axis=1, dtype=np.float64)
    worst = np.abs(sums - 1).argmax()
    if abs(sums[worst] - 1) > _ROW_SUM_TOLERANCE:
        raise ValueError(
            f"Each row of memberships must sum to 1; row {worst} sums to "
            f"{sums[worst]:.6g}."
        )
    return memberships


def _check_n_clusters(n_clusters, function, minimum=2):
    if n_clusters < minimum:
        raise _UndefinedIndexError(
            f"{function} needs at least {minimum} clusters, got {n_clusters}."
        )


def _check_relative_weights(sample_weight, X):
    """Check sample weights and divide them by a power of two.

    They keep their exact proportions, with the largest in [0.5, 1), so that
    their products and sums neither overflow nor lose their digits to
    underflow, whatever their scale.
    """
    return _relative_weights(check_sample_weight(sample_weight, X))


def _weighted_mean(values, sample_weight):
    """Mean of per-sample ``values`` with checked ``sample_weight``."""
    return float(
        np.average(values, weights=_check_relative_weights(sample_weight, values))
    )


def _check_labels(labels, n_samples, name="labels"):
    """Return discrete labels as a 1-D array of ``n_samples`` values.

    A column vector is accepted with scikit-learn's DataConversionWarning.
    """
    # check_array rejects NaN and infinity before type_of_target casts them.
    with checking(labels, name, text=True):
        labels = check_array(labels, ensure_2d=False, dtype=None, input_name=name)
    if labels.ndim == 2 and labels.shape[1] != 1:
        raise ValueError(f"{name} must be 1-D, got shape {labels.shape}.")
    labels = column_or_1d(labels, warn=True, input_name=name)
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have one value per sample: {n_samples} samples, got "
            f"{labels.shape[0]} {name}."
        )
    kind = type_of_target(labels, input_name=name)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"{name} must be discrete cluster labels, got {kind} values.")
    return labels


def _check_cluster_indices(labels, n_clusters):
    """Check that labels index ``n_clusters`` centers: integers in [0, n_clusters)."""
    expected = (
        f"labels must be integers in [0, {n_clusters - 1}] to index the "
        f"{n_clusters} centers"
    )
    if not np.issubdtype(labels.dtype, np.number):
        raise ValueError(f"{expected}, got values of dtype {labels.dtype}.")
    if not (
        np.all(labels == np.round(labels))
        and labels.min() >= 0
        and labels.max() < n_clusters
    ):
        raise ValueError(
            f"{expected}, got values from {labels.min()} to {labels.max()}."
        )
    return labels.astype(np.intp)


def _check_centers(centers, X):
    """Check ``centers``: finite, in ``X``'s dtype, one column per feature."""
    # Values beyond the range of X's dtype become inf, which the check refuses.
    with checking(centers, "centers"):
        centers = check_array(centers, dtype=X.dtype, input_name="centers")
    if centers.shape[1] != X.shape[1]:
        raise ValueError(
            f"centers must have shape (n_clusters, n_features) with n_features = "
            f"{X.shape[1]}, got {centers.shape}."
        )
    return centers


def _check_samples(X):
    with checking(X, "X"):
        return check_array(
            X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name="X"
        )


def _to_unit_scale(X, centers=None):
    """Divide ``X`` and ``centers`` by a power of two if their size demands it.

    Data far from unit size (beyond ``2 ** ±32`` in float32, ``2 ** ±256``
    in float64) are divided by the power of two of their largest absolute
    value, so that squared distances neither overflow nor underflow (squares
    of float32 values beyond 1.8e19 or below 1e-19 would). Ratios of
    distances are unchanged, exactly, and the dtypes are kept; data of
    moderate size are returned as they are, without a copy.
    """
    exponent = largest_exponent(X, centers)
    if abs(exponent) <= MODERATE_EXPONENT[dtype_name(X.dtype)]:
        return X, centers
    if sp.issparse(X):
        X = X.copy()
        X.data = np.ldexp(X.data, -exponent)
    else:
        X = np.ldexp(X, -exponent)
    if centers is not None:
        centers = np.ldexp(centers, -exponent)
    return X, centers


@validate_params(
    {"memberships": ["array-like"], "sample_weight": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def partition_coefficient(memberships, *, sample_weight=None):
    """Partition coefficient of Bezdek: the mean of squared memberships.

    Ranges from ``1 / n_clusters`` (every membership equal) to 1 (a crisp
    partition); larger is better.

    Parameters
    ----------
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships, each row summing to 1.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero; only
        their proportions matter. ``None`` weighs the samples equally.

    Returns
    -------
    score : float
        ``sum_ij u_ij ** 2 / n_samples``, or with weights
        ``sum_ij w_i u_ij ** 2 / sum_i w_i``.

    Raises
    ------
    ValueError
        If ``memberships`` is not a fuzzy partition (values outside [0, 1],
        NaN, or a row not summing to 1), ``sample_weight`` is not finite, is
        negative, all zero or of the wrong length, or either holds strings or
        complex numbers.

    See Also
    --------
    modified_partition_coefficient : The same rescaled to [0, 1].

    Examples
    --------
    >>> from fuzzyprune.metrics import partition_coefficient
    >>> partition_coefficient([[1.0, 0.0], [0.5, 0.5]])
    0.75
    """
    memberships = _check_memberships(memberships)
    squares = np.einsum("ij,ij->i", memberships, memberships, dtype=np.float64)
    return _weighted_mean(squares, sample_weight)


@validate_params(
    {"memberships": ["array-like"], "sample_weight": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def modified_partition_coefficient(memberships, *, sample_weight=None):
    """Partition coefficient rescaled to [0, 1] (Dave, 1996).

    ``1 - c / (c - 1) * (1 - PC)``: 0 for equal memberships, 1 for a crisp
    partition, whatever the number of clusters ``c``; larger is better.

    Parameters
    ----------
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships, each row summing to 1, with at least 2 clusters.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero; only
        their proportions matter. ``None`` weighs the samples equally.

    Returns
    -------
    score : float
        The modified partition coefficient.

    Raises
    ------
    ValueError
        If ``memberships`` is not a fuzzy partition or has fewer than 2
        clusters, or ``sample_weight`` is invalid (see
        :func:`partition_coefficient`).

    See Also
    --------
    partition_coefficient : The unscaled index.

    Examples
    --------
    >>> from fuzzyprune.metrics import modified_partition_coefficient
    >>> modified_partition_coefficient([[1.0, 0.0], [0.5, 0.5]])
    0.5
    """
    memberships = _check_memberships(memberships)
    n_clusters = memberships.shape[1]
    _check_n_clusters(n_clusters, "modified_partition_coefficient")
    coefficient = partition_coefficient(memberships, sample_weight=sample_weight)
    return 1.0 - n_clusters / (n_clusters - 1) * (1.0 - coefficient)


@validate_params(
    {"memberships": ["array-like"], "sample_weight": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def partition_entropy(memberships, *, sample_weight=None):
    """Partition entropy of Bezdek: the mean entropy of memberships.

    Ranges from 0 (a crisp partition) to ``log(n_clusters)``; smaller is
    better.

    Parameters
    ----------
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships, each row summing to 1.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero; only
        their proportions matter. ``None`` weighs the samples equally.

    Returns
    -------
    entropy : float
        ``-sum_ij u_ij log u_ij / n_samples``, with ``0 log 0 = 0``; with
        weights, the weighted mean of the samples' entropies.

    Raises
    ------
    ValueError
        If ``memberships`` is not a fuzzy partition, or ``sample_weight`` is
        invalid (see :func:`partition_coefficient`).

    Examples
    --------
    >>> from fuzzyprune.metrics import partition_entropy
    >>> round(partition_entropy([[1.0, 0.0], [0.5, 0.5]]), 4)
    0.3466
    """
    memberships = _check_memberships(memberships).astype(np.float64)
    terms = memberships * np.log(
        memberships, where=memberships > 0, out=np.zeros_like(memberships)
    )
    return _weighted_mean(-terms.sum(axis=1), sample_weight)


def _check_fuzzy_partition(X, memberships, centers=None):
    """Check samples, their memberships and, if given, the centers together."""
    X = _check_samples(X)
    memberships = _check_memberships(memberships)
    if memberships.shape[0] != X.shape[0]:
        raise ValueError(
            f"memberships must have one row per sample: X has {X.shape[0]} "
            f"samples, memberships {memberships.shape[0]} rows."
        )
    if centers is None:
        return X, memberships
    centers = _check_centers(centers, X)
    if centers.shape[0] != memberships.shape[1]:
        raise ValueError(
            f"centers must have one row per column of memberships: "
            f"{memberships.shape[1]} clusters, got {centers.shape[0]} centers."
        )
    return X, memberships, centers


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "memberships": ["array-like"],
        "centers": ["array-like"],
        "m": [Interval(Real, 1, None, closed="neither")],
        "fuzzifier": [StrOptions({"power", "polynomial"})],
        "beta": [Interval(Real, 0, 1, closed="left")],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def xie_beni_index(
    X, memberships, centers, *, m=2.0, fuzzifier="power", beta=0.5, sample_weight=None
):
    """Xie-Beni index: compactness over separation of a fuzzy partition.

    The objective ``J = sum_ij g(u_ij) |x_i - c_j|^2`` divided by
    ``n_samples`` times the smallest squared distance between two centers;
    smaller is better.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Samples.

    memberships : array-like of shape (n_samples, n_clusters)
        Memberships of the samples.

    centers : array-like of shape (n_clusters, n_features)
        Cluster centers, at least 2 of them.

    m : float, default=2.0
        Fuzzifier of the power function ``g(u) = u ** m`` weighting the
        memberships (Xie and Beni used 2).

    fuzzifier : {"power", "polynomial"}, default="power"
        Fuzzifier function ``g``, as in :class:`~fuzzyprune.FuzzyCMeans`.

    beta : float, default=0.5
        Parameter of the polynomial function, in [0, 1); ignored by the
        power function.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero, as in
        :meth:`FuzzyCMeans.fit <fuzzyprune.FuzzyCMeans.fit>`: they weigh the
        objective, and ``n_samples`` becomes their sum.

    Returns
    -------
    index : float
        ``sum_ij g(u_ij) |x_i - c_j|^2 / (n_samples min_{j != k} |c_j - c_k|^2)``;
        ``inf`` if two centers coincide. Computed at a scale where squared
        distances neither overflow nor underflow, so the value does not depend
        on the scale of the data.

    Raises
    ------
    ValueError
        If ``X`` or ``centers`` hold NaN or infinity, ``memberships`` is not a
        fuzzy partition of the samples (see :func:`partition_coefficient`),
        the shapes disagree, there are fewer than 2 centers, ``sample_weight``
        is invalid, or an argument holds strings or complex numbers.

    References
    ----------
    .. [1] X. L. Xie and G. Beni, "A validity measure for fuzzy clustering",
       IEEE Trans. PAMI 13(8), 1991.

    Examples
    --------
    >>> from fuzzyprune.metrics import xie_beni_index
    >>> X = [[0.0], [1.0], [9.0], [10.0]]
    >>> memberships = [[1, 0], [1, 0], [0, 1], [0, 1]]
    >>> xie_beni_index(X, memberships, [[0.5], [9.5]])
    0.003086...
    """
    X, memberships, centers = _check_fuzzy_partition(X, memberships, centers)
    _check_n_clusters(centers.shape[0], "xie_beni_index")
    sample_weight = _check_relative_weights(sample_weight, X)
    X, centers = _to_unit_scale(X, centers)
    function = fuzzifier_function(fuzzifier, m, beta)
    weights = np.exp(function.log_weights(memberships.astype(np.float64)))
    compactness = np.einsum(
        "i,ij,ij->", sample_weight, weights, sq_distances(X, centers)
    )
    center_gaps = sq_distances(centers, centers)
    np.fill_diagonal(center_gaps, np.inf)
    separation = center_gaps.min()
    if separation == 0:
        return np.inf
    return float(compactness / (sample_weight.sum() * separation))


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "memberships": ["array-like"],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "sample_size": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def fuzzy_silhouette_score(
    X, memberships, *, alpha=1.0, sample_size=None, random_state=None
):
    """Fuzzy silhouette of Campello and Hruschka (2006).

    The silhouette of each sample (for the crisp partition of largest
    memberships) weighted by ``(u_p - u_q) ** alpha``, the gap between its two
    largest memberships, so samples in the overlap of clusters count less.
    Ranges in [-1, 1]; larger is better.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Samples.

    memberships : array-like of shape (n_samples, n_clusters)
        Memberships of the samples, at least 2 clusters.

    alpha : float, default=1.0
        Exponent of the weights; larger values emphasise clear-cut samples.

    sample_size : int, default=None
        Evaluate on a random subset of this many samples (the silhouette costs
        ``O(n_samples ** 2)``); ``None`` uses all.

    random_state : int, RandomState instance or None, default=None
        Draws the subset when ``sample_size`` is set.

    Returns
    -------
    score : float
        The fuzzy silhouette. When every sample's two largest memberships
        are equal the weights vanish and the plain mean silhouette is returned.

    Raises
    ------
    ValueError
        If ``X`` holds NaN or infinity, ``memberships`` is not a fuzzy
        partition of the samples (see :func:`partition_coefficient`), it has
        fewer than 2 clusters, either holds strings or complex numbers, or
        the samples' largest memberships do not form between 2 and
        ``n_samples - 1`` clusters.

    See Also
    --------
    simplified_silhouette_score : A linear-time silhouette using centers.
    sklearn.metrics.silhouette_score : The crisp silhouette.

    References
    ----------
    .. [1] R. J. G. B. Campello and E. R. Hruschka, "A fuzzy extension of the
       silhouette width criterion for cluster analysis", Fuzzy Sets and
       Systems 157(21), 2006.

    Examples
    --------
    >>> from fuzzyprune.metrics import fuzzy_silhouette_score
    >>> X = [[0.0], [1.0], [9.0], [10.0]]
    >>> memberships = [[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9]]
    >>> round(fuzzy_silhouette_score(X, memberships), 4)
    0.8894
    """
    X, memberships = _check_fuzzy_partition(X, memberships)
    _check_n_clusters(memberships.shape[1], "fuzzy_silhouette_score")
    if sample_size is not None and sample_size < X.shape[0]:
        rows = check_random_state(random_state).choice(
            X.shape[0], sample_size, replace=False
        )
        X, memberships = X[rows], memberships[rows]
    top_two = np.sort(memberships, axis=1)[:, -2:]
    weights = (top_two[:, 1] - top_two[:, 0]) ** alpha
    silhouettes = silhouette_samples_exact(X, memberships.argmax(axis=1))
    if weights.sum() == 0:
        return float(silhouettes.mean())
    return float(np.average(silhouettes, weights=weights))


# Rows per block of the pairwise distances: a block of distances stays within
# 16 MiB (float32) or 32 MiB (float64).
_DISTANCE_BLOCK_ROWS = 2048


def silhouette_samples_exact(X, labels):
    """Return the silhouette of each sample, computed in ``X``'s precision.

    The same values as :func:`sklearn.metrics.silhouette_samples`, without its
    upcast of float32 data to float64: distances come from one product per
    block of rows of the centred data, entries within rounding of zero are
    recomputed directly (so duplicates are exactly 0 apart), and memory is
    bounded by a block of distances. Sparse input is passed to scikit-learn.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Samples.

    labels : array-like of shape (n_samples,)
        Cluster of each sample; between 2 and ``n_samples - 1`` distinct.

    Returns
    -------
    silhouettes : ndarray of shape (n_samples,)
        Silhouette of each sample, in float64; 0 for a sample alone in its
        cluster. Distances are computed at a scale where their squares neither
        overflow nor underflow, so the values do not depend on the scale of
        the data.

    Raises
    ------
    ValueError
        If ``X`` holds NaN, infinity, strings or complex numbers, ``labels``
        are not discrete, hold NaN or complex numbers, are not one per
        sample, or form fewer than 2 or more than ``n_samples - 1`` clusters.

    See Also
    --------
    sklearn.metrics.silhouette_samples : The reference, in float64.
    fuzzy_silhouette_score : Silhouettes weighted by memberships.

    Examples
    --------
    >>> from fuzzyprune.metrics import silhouette_samples_exact
    >>> X = [[0.0], [0.1], [5.0], [5.2]]
    >>> silhouette_samples_exact(X, [0, 0, 1, 1]).round(3)
    array([0.98 , 0.98 , 0.96 , 0.961])
    """
    X = _check_samples(X)
    labels = _check_labels(labels, X.shape[0])
    labels = np.unique(labels, return_inverse=True)[1]
    n_samples, n_clusters = X.shape[0], labels.max() + 1
    if not 2 <= n_clusters < n_samples:
        raise _UndefinedIndexError(
            f"Number of labels is {n_clusters}. Valid values are 2 to "
            f"n_samples - 1 (inclusive)."
        )
    X, _ = _to_unit_scale(X)
    if sp.issparse(X):
        return silhouette_samples(X, labels)
    mean = X.mean(axis=0, dtype=np.float64).astype(X.dtype)
    indicator = np.zeros((n_samples, n_clusters), dtype=X.dtype)
    indicator[np.arange(n_samples), labels] = 1
    # Sum of distances from each sample to the members of each cluster.
    sums = np.zeros((n_samples, n_clusters))
    blocks = [
        slice(start, start + _DISTANCE_BLOCK_ROWS)
        for start in range(0, n_samples, _DISTANCE_BLOCK_ROWS)
    ]
    for rows in blocks:
        centred_rows = X[rows] - mean
        for columns in blocks:
            centred_columns = centred_rows if columns == rows else X[columns] - mean
            distances = _block_distances(centred_rows, centred_columns)
            sums[rows] += distances @ indicator[columns]
    return _silhouettes_from_sums(sums, labels)


def _block_distances(rows, columns):
    """Return the Euclidean distances between two blocks of centred samples.

    ``columns`` is ``rows`` itself for a block on the diagonal.
    """
    same = columns is rows
    row_norms = np.einsum("ij,ij->i", rows, rows)
    column_norms = row_norms if same else np.einsum("ij,ij->i", columns, columns)
    squared = rows @ columns.T
    squared *= -2
    squared += row_norms[:, None]
    squared += column_norms[None, :]
    if same:
        # A sample is exactly 0 from itself; leave it out of the test below.
        np.fill_diagonal(squared, np.inf)
    # Where the expansion is within rounding of zero, its error could be
    # larger than the distance itself: recompute those pairs directly.
    rounding = 8 * np.finfo(rows.dtype).eps * (row_norms.max() + column_norms.max())
    near = squared <= rounding
    if near.any():
        near, far = np.nonzero(near)
        differences = rows[near] - columns[far]
        squared[near, far] = np.einsum("ij,ij->i", differences, differences)
    if same:
        np.fill_diagonal(squared, 0)
    return np.sqrt(squared, out=squared)


def _silhouettes_from_sums(sums, labels):
    samples = np.arange(len(labels))
    counts = np.bincount(labels)
    own_counts = counts[labels]
    within = sums[samples, labels] / np.maximum(own_counts - 1, 1)
    sums[samples, labels] = np.inf
    nearest = (sums / counts).min(axis=1)
    with np.errstate(invalid="ignore"):
        silhouettes = (nearest - within) / np.maximum(within, nearest)
    silhouettes[own_counts == 1] = 0
    return np.nan_to_num(silhouettes)


def _cluster_means(X, labels, sample_weight):
    """Weighted mean of each cluster's rows, one product with the cluster indicator.

    Each cluster's weights are divided by a power of two, to a largest in
    [0.5, 1): the means are exact even for a cluster whose weights are
    beyond float64's range relative to the others'.
    """
    n_clusters = labels.max() + 1
    largest = np.zeros(n_clusters)
    np.maximum.at(largest, labels, sample_weight)
    sample_weight = np.ldexp(sample_weight, -np.frexp(largest)[1][labels])
    indicator = sp.csr_array(
        (sample_weight, (labels, np.arange(labels.size))),
        shape=(n_clusters, labels.size),
    )
    sums = indicator @ X
    sums = sums.toarray() if sp.issparse(sums) else np.asarray(sums)
    weights = np.bincount(labels, weights=sample_weight, minlength=n_clusters)
    return sums / weights[:, None]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "labels": ["array-like"],
        "centers": ["array-like", None],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def simplified_silhouette_score(X, labels, centers=None, *, sample_weight=None):
    """Simplified (centroid) silhouette: the silhouette with centers for clusters.

    For each sample, ``a`` is its distance to its own cluster's center and
    ``b`` the distance to the nearest other center; the score is the mean of
    ``(b - a) / max(a, b)``. It costs ``O(n_samples n_clusters n_features)``
    instead of the exact silhouette's ``O(n_samples ** 2 n_features)`` and
    ranks partitions much like it. Ranges in [-1, 1]; larger is better.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Samples.

    labels : array-like of shape (n_samples,)
        Cluster of each sample: any discrete values, or, when ``centers`` is
        given, the index of its center, an integer in ``0 .. n_clusters - 1``.

    centers : array-like of shape (n_clusters, n_features), default=None
        Cluster centers; ``None`` uses the mean of each cluster's samples.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero, in the
        mean of their silhouettes and, when ``centers`` is ``None``, in the
        means of the clusters (a sample of weight 0 counts as absent);
        ``None`` weighs them equally.

    Returns
    -------
    score : float
        The simplified silhouette. Distances are computed at a scale where
        their squares neither overflow nor underflow, so the value does not
        depend on the scale of the data.

    Raises
    ------
    ValueError
        If ``X`` or ``centers`` hold NaN, infinity, strings or complex
        numbers, ``labels`` are not discrete, hold NaN or complex numbers or
        are not one per sample, a label is not an integer indexing a center
        (when ``centers`` are given), the samples fall in fewer than 2
        clusters, or ``sample_weight`` is invalid (see
        :func:`partition_coefficient`).

    See Also
    --------
    fuzzy_silhouette_score : The exact silhouette weighted by memberships.

    References
    ----------
    .. [1] E. R. Hruschka, R. J. G. B. Campello and L. N. de Castro,
       "Evaluating a clustering of the data: the simplified silhouette",
       Information Sciences 176(7), 2006.

    Examples
    --------
    >>> from fuzzyprune.metrics import simplified_silhouette_score
    >>> X = [[0.0], [1.0], [9.0], [10.0]]
    >>> simplified_silhouette_score(X, [0, 0, 1, 1])
    0.9442...
    """
    X = _check_samples(X)
    labels = _check_labels(labels, X.shape[0])
    sample_weight = check_sample_weight(sample_weight, X)
    if centers is None:
        # Samples of weight 0 count as absent: a cluster of only such samples
        # has no center.
        counted = sample_weight > 0
        X, labels, sample_weight = X[counted], labels[counted], sample_weight[counted]
        labels = np.unique(labels, return_inverse=True)[1]
        X, _ = _to_unit_scale(X)
        centers = _cluster_means(X, labels, sample_weight).astype(X.dtype)
    else:
        centers = _check_centers(centers, X)
        labels = _check_cluster_indices(labels, centers.shape[0])
        X, centers = _to_unit_scale(X, centers)
    _check_n_clusters(np.unique(labels).size, "simplified_silhouette_score")
    distances = np.sqrt(sq_distances(X, centers))
    rows = np.arange(X.shape[0])
    own = distances[rows, labels]
    distances[rows, labels] = np.inf
    nearest_other = distances.min(axis=1)
    largest = np.maximum(own, nearest_other)
    with np.errstate(invalid="ignore", divide="ignore"):
        silhouettes = np.where(largest > 0, (nearest_other - own) / largest, 0.0)
    return float(np.average(silhouettes, weights=_relative_weights(sample_weight)))


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def cluster_accuracy(y_true, y_pred, *, sample_weight=None):
    """Accuracy of clusters after the best one-to-one matching to classes.

    Clusters are matched to classes by the Hungarian algorithm to maximise
    the number of samples whose cluster is matched to their class. Unlike
    mapping each cluster to its majority class, no two clusters can claim the
    same class, so a clustering cannot score well by splitting a large class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Class labels.

    y_pred : array-like of shape (n_samples,)
        Cluster labels; their values need not match the classes'.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero; only
        their proportions matter. ``None`` weighs the samples equally.

    Returns
    -------
    accuracy : float
        Fraction of samples (or of their total weight) in a cluster matched
        to their class, in [0, 1].

    Raises
    ------
    ValueError
        If there are no samples, the labels are not discrete, hold NaN or
        complex numbers or differ in length, or ``sample_weight`` is invalid
        (see :func:`partition_coefficient`).

    Examples
    --------
    >>> from fuzzyprune.metrics import cluster_accuracy
    >>> cluster_accuracy([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.8
    """
    check_consistent_length(y_true, y_pred, sample_weight)
    n_samples = len(y_true)
    classes = _check_labels(y_true, n_samples, name="y_true")
    clusters = _check_labels(y_pred, n_samples, name="y_pred")
    sample_weight = _check_relative_weights(sample_weight, classes)
    contingency = sp.coo_array(
        (
            sample_weight,
            (
                np.unique(classes, return_inverse=True)[1],
                np.unique(clusters, return_inverse=True)[1],
            ),
        )
    ).toarray()
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    return float(contingency[rows, cols].sum() / contingency.sum())


def _last_step(estimator, X):
    """Return the estimator that clusters and ``X`` as that step sees it."""
    if hasattr(estimator, "steps"):
        return estimator[-1], estimator[:-1].transform(X)
    return estimator, X


class _ClusteringScorer(_BaseScorer):
    """A scorer of the partition a fitted clusterer makes of ``X``.

    Called as scikit-learn calls scorers, ``scorer(estimator, X, y=None)``,
    on a fitted clusterer or a pipeline ending in one. Picklable (its score
    function is a module-level function), printed by its name, and it takes
    the metadata its score function does (``sample_weight``) through
    ``set_score_request``. Where the index is undefined for the partition
    (fewer than 2 clusters among the samples), it warns and returns ``nan``,
    as a search over folds expects of a fold that fails.

    Parameters
    ----------
    score_func : callable
        ``score_func(clusterer, X, y, **metadata) -> float``, module-level.
    sign : {1, -1}
        -1 for indices where smaller is better.
    name : str
        The scorer's public name.
    requires : tuple of str
        Methods and fitted attributes the clusterer must have.
    """

    def __init__(self, score_func, sign, name, requires):
        super().__init__(score_func, sign, {}, response_method=requires[0])
        self.__name__ = name
        self._requires = requires

    def __repr__(self):
        return self.__name__

    def __call__(self, estimator, X, y_true=None, *, sample_weight=None, **kwargs):
        """Score the partition that ``estimator`` makes of ``X``.

        Parameters
        ----------
        estimator : estimator
            A fitted clusterer, or a pipeline ending in one.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y_true : array-like of shape (n_samples,), default=None
            Class labels, used only by label-based scorers.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, for scorers whose index takes them.
        **kwargs : dict
            Other metadata, with metadata routing enabled.

        Returns
        -------
        score : float
            Greater is better; ``nan`` where the index is undefined.
        """
        _raise_for_params(kwargs, self, None)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return self._score(None, estimator, X, y_true, **kwargs)

    def _score(self, method_caller, estimator, X, y_true=None, **kwargs):
        clusterer, X = _last_step(estimator, X)
        self._check_clusterer(clusterer)
        try:
            return self._sign * self._score_func(clusterer, X, y_true, **kwargs)
        except _UndefinedIndexError as error:
            warnings.warn(
                f"{self.__name__} is undefined on this partition, returning nan: "
                f"{error}",
                UndefinedMetricWarning,
                stacklevel=2,
            )
            return np.nan

    def _check_clusterer(self, clusterer):
        check_is_fitted(clusterer)
        missing = [name for name in self._requires if not hasattr(clusterer, name)]
        if missing:
            raise TypeError(
                f"{self.__name__} needs a fitted clusterer with "
                f"{' and '.join(self._requires)}, such as "
                f"fuzzyprune.FuzzyCMeans; {type(clusterer).__name__} has no "
                f"{' or '.join(missing)}."
            )

    def set_score_request(self, **kwargs):
        """Request metadata passed to the score function.

        Parameters
        ----------
        **kwargs : dict
            ``param_name=alias`` for the metadata the index takes
            (``sample_weight`` where it does), alias one of ``True``,
            ``False``, ``None`` or a str.

        Returns
        -------
        self : object
            The scorer.

        Raises
        ------
        TypeError
            If the index takes no such metadata.
        """
        accepted = list(signature(self._score_func).parameters)[3:]
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown:
            raise TypeError(
                f"{self.__name__} takes no metadata {unknown}; it takes "
                f"{accepted or 'none'}."
            )
        return super().set_score_request(**kwargs)


def _partition_coefficient_of(clusterer, X, y, sample_weight=None):
    return partition_coefficient(
        clusterer.predict_proba(X), sample_weight=sample_weight
    )


def _modified_partition_coefficient_of(clusterer, X, y, sample_weight=None):
    return modified_partition_coefficient(
        clusterer.predict_proba(X), sample_weight=sample_weight
    )


def _partition_entropy_of(clusterer, X, y, sample_weight=None):
    return partition_entropy(clusterer.predict_proba(X), sample_weight=sample_weight)


# The index with Xie and Beni's weights u ** 2 whatever the clusterer's
# fuzzifier: weighted by u ** m, the compactness shrinks towards 0 as m grows,
# and a search over m would always choose the largest.
def _xie_beni_of(clusterer, X, y, sample_weight=None):
    return xie_beni_index(
        X,
        clusterer.predict_proba(X),
        clusterer.cluster_centers_,
        sample_weight=sample_weight,
    )


def _fuzzy_silhouette_of(clusterer, X, y):
    return fuzzy_silhouette_score(X, clusterer.predict_proba(X))


def _simplified_silhouette_of(clusterer, X, y, sample_weight=None):
    return simplified_silhouette_score(
        X, clusterer.predict(X), clusterer.cluster_centers_, sample_weight=sample_weight
    )


def _cluster_accuracy_of(clusterer, X, y, sample_weight=None):
    if y is None:
        raise ValueError("cluster_accuracy_scorer needs class labels y.")
    return cluster_accuracy(y, clusterer.predict(X), sample_weight=sample_weight)


_MEMBERSHIPS = ("predict_proba",)
_MEMBERSHIPS_AND_CENTERS = ("predict_proba", "cluster_centers_")

partition_coefficient_scorer = _ClusteringScorer(
    _partition_coefficient_of, 1, "partition_coefficient_scorer", _MEMBERSHIPS
)
modified_partition_coefficient_scorer = _ClusteringScorer(
    _modified_partition_coefficient_of,
    1,
    "modified_partition_coefficient_scorer",
    _MEMBERSHIPS,
)
neg_partition_entropy_scorer = _ClusteringScorer(
    _partition_entropy_of, -1, "neg_partition_entropy_scorer", _MEMBERSHIPS
)
neg_xie_beni_scorer = _ClusteringScorer(
    _xie_beni_of, -1, "neg_xie_beni_scorer", _MEMBERSHIPS_AND_CENTERS
)
fuzzy_silhouette_scorer = _ClusteringScorer(
    _fuzzy_silhouette_of, 1, "fuzzy_silhouette_scorer", _MEMBERSHIPS
)
simplified_silhouette_scorer = _ClusteringScorer(
    _simplified_silhouette_of,
    1,
    "simplified_silhouette_scorer",
    ("predict", "cluster_centers_"),
)
cluster_accuracy_scorer = _ClusteringScorer(
    _cluster_accuracy_of, 1, "cluster_accuracy_scorer", ("predict",)
)

_SCORERS = {
    "partition_coefficient": partition_coefficient_scorer,
    "modified_partition_coefficient": modified_partition_coefficient_scorer,
    "neg_partition_entropy": neg_partition_entropy_scorer,
    "neg_xie_beni": neg_xie_beni_scorer,
    "fuzzy_silhouette": fuzzy_silhouette_scorer,
    "simplified_silhouette": simplified_silhouette_scorer,
    "cluster_accuracy": cluster_accuracy_scorer,
}


@validate_params(
    {"scoring": [StrOptions(set(_SCORERS)), str, callable]},
    prefer_skip_nested_validation=True,
)
def get_scorer(scoring):
    """Return a scorer by name: one of this module's, else scikit-learn's.

    Parameters
    ----------
    scoring : str or callable
        ``"partition_coefficient"``, ``"modified_partition_coefficient"``,
        ``"neg_partition_entropy"``, ``"neg_xie_beni"``,
        ``"fuzzy_silhouette"``, ``"simplified_silhouette"``,
        ``"cluster_accuracy"``, any name :func:`sklearn.metrics.get_scorer`
        knows, or a callable ``scorer(estimator, X, y)`` returned as is.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, greater is better. A
        named scorer is a fresh copy, as scikit-learn's are, so that its
        ``set_score_request`` leaves the module's scorer as it was.

    Examples
    --------
    >>> from fuzzyprune.metrics import get_scorer
    >>> get_scorer("neg_xie_beni")
    neg_xie_beni_scorer
    """
    if callable(scoring):
        return scoring
    if scoring in _SCORERS:
        return copy.deepcopy(_SCORERS[scoring])
    return _sklearn_get_scorer(scoring)
