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

Under ``sklearn.config_context(array_api_dispatch=True)`` (with the
environment variable ``SCIPY_ARRAY_API=1`` set before SciPy is first
imported), every function here accepts the arrays of any namespace
scikit-learn supports: NumPy, torch tensors on CPU or GPU, CuPy arrays,
array-api-strict arrays. One input of each function sets the namespace and
the device: ``X`` where a function takes it, else the memberships (partition
coefficients and entropy), and ``y_pred`` for :func:`cluster_accuracy`. The
other arrays follow it, as in scikit-learn: arrays of another namespace or
device are moved there, through the host.

The work that grows with the data, the ``O(n_samples n_clusters
n_features)`` distances to centers, the ``O(n_samples ** 2 n_features)``
pairwise distances of the exact silhouettes and every per-sample array, is
done in that namespace on that device. Only scalars and arrays of a few
values per cluster come to the host: the squared distances between centers
(``n_clusters ** 2`` values), a class-by-cluster contingency table, the
largest sample weight of each cluster. Sample weights, when given, are
checked on the host and then moved to the device (``n_samples`` values);
labels given as NumPy arrays (strings included) for data on a device are
numbered on the host and the numbers moved to the device. Indices are
returned as Python floats; :func:`silhouette_samples_exact` returns an array
in ``X``'s namespace and on its device. The scorers take a clusterer fitted
on such arrays, such as :class:`~fuzzyprune.FuzzyCMeans`, with ``X`` of the
same namespace and device.

Without dispatch, and for NumPy inputs with it, NumPy's own code runs (with
in-place products and sparse indicators where they are faster), giving the
same results either way.
"""

import copy
import math
import warnings
from inspect import signature
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import pairwise_distances, silhouette_samples
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
)

from ._array_api import device as device_of
from ._array_api import (
    float_dtype,
    is_numpy_namespace,
    move_to,
    namespace,
    prepared,
    to_numpy,
)
from ._chunks import chunks_of
from ._fcm import _average, _relative_weights, memberships_of
from ._fcm_data import (
    MODERATE_EXPONENT,
    largest_exponent,
    sq_distances,
    times_power_of_two,
)
from ._fcm_step import dtype_name
from ._fuzzifiers import fuzzifier_function
from ._sklearn_compat import (
    StrOptions,
    _BaseScorer,
    _num_samples,
    _raise_for_params,
    column_or_1d,
    validate_params,
)
from ._validation import Interval, check_random_state, check_sample_weight, checking

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


# Rows of memberships must sum to 1 within sqrt(float32 eps), 3.5e-4, so
# memberships computed in float32 and stored in float64 are accepted.
_ROW_SUM_TOLERANCE = float(np.sqrt(np.finfo(np.float32).eps))
# Elements per block of rows of the products with cluster indicators on an
# array API device (64 MiB in float64): memory stays bounded whatever the
# number of samples.
_BLOCK_ELEMENTS = 2**23


class _UndefinedIndexError(ValueError):
    """An index undefined for the number of clusters of the partition.

    Scorers turn it into ``nan`` and a warning, as a search over folds expects.
    """


def _namespace_of(array):
    """Return the namespace of ``array``, whether it is NumPy's, and its device."""
    xp, is_numpy = namespace(array)
    return xp, is_numpy, None if is_numpy else device_of(array)


def _follow(values, xp, device):
    """Return ``values`` in namespace ``xp`` on ``device``, as the input they go with.

    Everything follows the main input of a function (``X``, the memberships
    or the predicted clusters), as in scikit-learn: arrays of another
    namespace or device are moved there, through the host; for NumPy,
    lists and NumPy arrays are returned as they are. A device without
    float64 takes NumPy's float64 values as float32.
    """
    if values is None or sp.issparse(values):
        return values
    if is_numpy_namespace(xp):
        return to_numpy(values)
    return move_to(values, xp, device)


def _check_float_array(values, name, xp, device, dtype=None, accept_sparse=False):
    """Check a 2-D float argument, moved to ``xp`` and ``device`` first.

    ``dtype=None`` keeps float32 and float64 and converts others to float64.
    """
    values = prepared(values, name)
    with checking(values, name):
        values = _follow(values, xp, device)
        return check_array(
            values,
            accept_sparse=accept_sparse,
            dtype=[xp.float64, xp.float32] if dtype is None else dtype,
            input_name=name,
        )


def _check_memberships(memberships, xp=None, device=None):
    """Check that ``memberships`` is a fuzzy partition: rows in [0, 1] summing to 1.

    They are moved to ``xp`` and ``device`` if given, else kept in their own
    namespace.
    """
    if xp is None:
        xp, _, device = _namespace_of(memberships)
    memberships = _check_float_array(memberships, "memberships", xp, device)
    if float(xp.min(memberships)) < 0 or float(xp.max(memberships)) > 1:
        raise ValueError("memberships must lie in [0, 1].")
    sums = xp.sum(memberships, axis=1, dtype=float_dtype(xp, device))
    deviations = xp.abs(sums - 1.0)
    worst = int(xp.argmax(deviations))
    if float(deviations[worst]) > _ROW_SUM_TOLERANCE:
        raise ValueError(
            f"Each row of memberships must sum to 1 (within "
            f"{_ROW_SUM_TOLERANCE:.2g}); row {worst} sums to {float(sums[worst]):.6g}."
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
    underflow, whatever their scale. They follow ``X``'s namespace and
    device.
    """
    return _relative_weights(_check_sample_weight(sample_weight, X))


def _check_sample_weight(sample_weight, X):
    """Check sample weights, returned in ``X``'s namespace and device.

    Weights on ``X``'s device are checked there; weights of another
    namespace or device are checked on the host, then moved to ``X``'s
    device in its working type; equal weights are made there.
    """
    xp, is_numpy, device = _namespace_of(X)
    if sample_weight is None and not is_numpy:
        return xp.ones(X.shape[0], dtype=float_dtype(xp, device), device=device)
    return check_sample_weight(sample_weight, X)


def _weighted_mean(values, sample_weight):
    """Mean of per-sample ``values`` with checked ``sample_weight``, a float."""
    xp, _, _ = _namespace_of(values)
    weights = _check_relative_weights(sample_weight, values)
    return _average(values, weights, xp)


def _check_labels(labels, n_samples, name="labels"):
    """Return discrete labels as a 1-D array of ``n_samples`` values.

    Labels stay in their own namespace. A column vector is accepted with
    scikit-learn's DataConversionWarning.
    """
    labels = prepared(labels, name)
    # check_array rejects NaN and infinity before type_of_target casts them.
    with checking(labels, name, text=True):
        labels = check_array(labels, ensure_2d=False, dtype=None, input_name=name)
    if labels.ndim == 2 and labels.shape[1] != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(labels.shape)}.")
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


def _label_codes(labels, xp, device):
    """Return the index of each label among the distinct labels, and their number.

    The distinct labels are found in the labels' own namespace (they may be
    strings on the host); the indices are returned in ``xp`` on ``device``.
    """
    source, is_numpy, _ = _namespace_of(labels)
    if is_numpy:
        codes = np.unique(labels, return_inverse=True)[1]
    else:
        codes = source.unique_inverse(labels)[1]
    n_distinct = int(source.max(codes)) + 1
    return _follow(codes, xp, device), n_distinct


def _check_cluster_indices(labels, n_clusters):
    """Check that labels index ``n_clusters`` centers: integers in [0, n_clusters)."""
    xp, _, _ = _namespace_of(labels)
    expected = (
        f"labels must be integers in [0, {n_clusters - 1}] to index the "
        f"{n_clusters} centers"
    )
    if not xp.isdtype(labels.dtype, ("integral", "real floating")):
        raise ValueError(f"{expected}, got values of dtype {labels.dtype}.")
    # Labels of floats are whole numbers: _check_labels refuses others.
    number = int if xp.isdtype(labels.dtype, "integral") else float
    lowest, highest = number(xp.min(labels)), number(xp.max(labels))
    if not (lowest >= 0 and highest < n_clusters):
        raise ValueError(f"{expected}, got values from {lowest} to {highest}.")
    return xp.astype(labels, xp.int64)


def _check_centers(centers, X):
    """Check ``centers``: finite, in ``X``'s dtype, namespace and device."""
    xp, _, device = _namespace_of(X)
    # Values beyond the range of X's dtype become inf, which the check refuses.
    centers = _check_float_array(centers, "centers", xp, device, dtype=X.dtype)
    if centers.shape[1] != X.shape[1]:
        raise ValueError(
            f"centers must have shape (n_clusters, n_features) with n_features = "
            f"{X.shape[1]}, got {tuple(centers.shape)}."
        )
    return centers


def _check_samples(X):
    xp, _, device = _namespace_of(X)
    return _check_float_array(X, "X", xp, device, accept_sparse="csr")


def _times_power_of_two(values, exponent):
    """Return ``values * 2 ** exponent`` exactly, in their own namespace."""
    if sp.issparse(values):
        values = values.copy()
        values.data = np.ldexp(values.data, exponent)
        return values
    xp, is_numpy, _ = _namespace_of(values)
    if is_numpy:
        return np.ldexp(values, exponent)
    return times_power_of_two(values, exponent, xp)


def _to_unit_scale(X, centers=None):
    """Divide ``X`` and ``centers`` by a power of two if their size demands it.

    Data far from unit size (beyond ``2 ** ±32`` in float32, ``2 ** ±256``
    in float64) are divided by the power of two of their largest absolute
    value, so that squared distances neither overflow nor underflow (squares
    of float32 values beyond 1.8e19 or below 1e-19 would). Ratios of
    distances are unchanged, exactly, and the dtypes, namespaces and devices
    are kept; data of moderate size are returned as they are, without a copy.
    """
    exponent = largest_exponent(X, centers)
    if abs(exponent) <= MODERATE_EXPONENT[dtype_name(X.dtype)]:
        return X, centers
    if centers is not None:
        centers = _times_power_of_two(centers, -exponent)
    return _times_power_of_two(X, -exponent), centers


def _one_hot(codes, n_columns, dtype, xp):
    """Return the indicator of ``codes`` (integers in [0, n_columns)) by row."""
    columns = xp.arange(n_columns, device=device_of(codes))
    return xp.astype(codes[:, None] == columns[None, :], dtype)


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
        Memberships, each row summing to 1. Under array API dispatch, an
        array of any supported namespace and device, where the index is
        computed.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero; only
        their proportions matter. ``None`` weighs the samples equally. Of
        any namespace: checked on the host and moved to the memberships'
        device.

    Returns
    -------
    score : float
        ``sum_ij u_ij ** 2 / n_samples``, or with weights
        ``sum_ij w_i u_ij ** 2 / sum_i w_i``, a Python float whatever the
        namespace of the memberships.

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
    xp, is_numpy, device = _namespace_of(memberships)
    if is_numpy:
        # One pass, without the temporary array of squares.
        squares = np.einsum("ij,ij->i", memberships, memberships, dtype=np.float64)
    else:
        squares = xp.sum(
            memberships * memberships, axis=1, dtype=float_dtype(xp, device)
        )
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
        Memberships, each row summing to 1, with at least 2 clusters; of
        any namespace and device, as in :func:`partition_coefficient`.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero; only
        their proportions matter. ``None`` weighs the samples equally.
        They follow the memberships' namespace and device.

    Returns
    -------
    score : float
        The modified partition coefficient, a Python float.

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
        Memberships, each row summing to 1; of any namespace and device, as
        in :func:`partition_coefficient`.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero; only
        their proportions matter. ``None`` weighs the samples equally.
        They follow the memberships' namespace and device.

    Returns
    -------
    entropy : float
        ``-sum_ij u_ij log u_ij / n_samples``, with ``0 log 0 = 0``; with
        weights, the weighted mean of the samples' entropies. A Python
        float.

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
    memberships = _check_memberships(memberships)
    xp, is_numpy, device = _namespace_of(memberships)
    memberships = xp.astype(memberships, float_dtype(xp, device))
    # The log of memberships of 0 is taken as 0: 0 log 0 = 0.
    if is_numpy:
        # Logs of the positive memberships only, without a masked copy.
        terms = memberships * np.log(
            memberships, where=memberships > 0, out=np.zeros_like(memberships)
        )
    else:
        terms = memberships * xp.log(xp.where(memberships > 0, memberships, 1.0))
    return _weighted_mean(-xp.sum(terms, axis=1), sample_weight)


def _check_fuzzy_partition(X, memberships, centers=None):
    """Check samples, their memberships and, if given, the centers together."""
    X = _check_samples(X)
    xp, _, device = _namespace_of(X)
    memberships = _check_memberships(memberships, xp, device)
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
        Samples. Under array API dispatch, an array of any supported
        namespace and device, where the distances to the centers and the
        weighted sum are computed.

    memberships : array-like of shape (n_samples, n_clusters)
        Memberships of the samples; they follow ``X``'s namespace and device.

    centers : array-like of shape (n_clusters, n_features)
        Cluster centers, at least 2 of them; they follow ``X``'s namespace
        and device. Only the ``n_clusters ** 2`` squared distances between
        them are finished on the host.

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
        objective, and ``n_samples`` becomes their sum. Of any namespace:
        checked on the host and moved to ``X``'s device.

    Returns
    -------
    index : float
        ``sum_ij g(u_ij) |x_i - c_j|^2 / (n_samples min_{j != k} |c_j - c_k|^2)``;
        ``inf`` if two centers coincide. Computed at a scale where squared
        distances neither overflow nor underflow, so the value does not depend
        on the scale of the data. A Python float.

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
    xp, is_numpy, device = _namespace_of(X)
    sample_weight = _check_relative_weights(sample_weight, X)
    X, centers = _to_unit_scale(X, centers)
    function = fuzzifier_function(fuzzifier, m, beta)
    memberships = xp.astype(memberships, float_dtype(xp, device))
    weights = xp.exp(function.log_weights(memberships, xp))
    sq = sq_distances(X, centers)
    if is_numpy:
        # One pass, without the temporary array of products.
        compactness = np.einsum("i,ij,ij->", sample_weight, weights, sq)
    else:
        compactness = xp.vecdot(sample_weight, xp.vecdot(weights, sq))
    # The few distances between centers are finished on the host.
    center_gaps = to_numpy(sq_distances(centers, centers))
    np.fill_diagonal(center_gaps, np.inf)
    separation = center_gaps.min()
    if separation == 0:
        return np.inf
    return float(compactness) / (float(xp.sum(sample_weight)) * float(separation))


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
        Samples. Under array API dispatch, an array of any supported
        namespace and device, where the silhouettes are computed (see
        :func:`silhouette_samples_exact`).

    memberships : array-like of shape (n_samples, n_clusters)
        Memberships of the samples, at least 2 clusters; they follow ``X``'s
        namespace and device.

    alpha : float, default=1.0
        Exponent of the weights; larger values emphasise clear-cut samples.

    sample_size : int, default=None
        Evaluate on a random subset of this many samples (the silhouette costs
        ``O(n_samples ** 2)``); ``None`` uses all.

    random_state : int, RandomState instance or None, default=None
        Draws the subset when ``sample_size`` is set. The subset is drawn on
        the host, so a seed selects the same samples on every device; their
        ``sample_size`` indices are moved to ``X``'s device.

    Returns
    -------
    score : float
        The fuzzy silhouette, a Python float. When every sample's two
        largest memberships are equal the weights vanish and the plain mean
        silhouette is returned.

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
    xp, _, device = _namespace_of(X)
    if sample_size is not None and sample_size < X.shape[0]:
        # Drawn on the host, whatever the device, so that a seed draws the
        # same samples everywhere.
        rows = check_random_state(random_state).choice(
            X.shape[0], sample_size, replace=False
        )
        rows = _follow(rows, xp, device)
        X, memberships = _take_rows(X, rows), _take_rows(memberships, rows)
    silhouettes = silhouette_samples_exact(X, xp.argmax(memberships, axis=1))
    return _membership_weighted_mean(silhouettes, memberships, alpha)


def _membership_weighted_mean(silhouettes, memberships, alpha=1.0):
    """Mean of ``silhouettes`` weighted by the gap between the two largest memberships.

    The fuzzy silhouette of Campello and Hruschka, from the silhouettes of
    the crisp partition of largest memberships; the plain mean when every
    gap is 0.
    """
    xp, _, _ = _namespace_of(memberships)
    top_two = xp.sort(memberships, axis=1)[:, -2:]
    weights = (top_two[:, 1] - top_two[:, 0]) ** alpha
    if float(xp.sum(weights)) == 0:
        return _average(silhouettes, None, xp)
    return _average(silhouettes, xp.astype(weights, silhouettes.dtype), xp)


def _take_rows(values, rows):
    """Return the rows ``rows`` (integers in ``values``' namespace) of ``values``."""
    if sp.issparse(values):
        return values[rows]
    xp, _, _ = _namespace_of(values)
    return xp.take(values, rows, axis=0)


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
        Samples. Under array API dispatch, an array of any supported
        namespace and device: the pairwise distances, block by block, and
        the silhouettes are computed there; nothing of size ``n_samples``
        goes to the host.

    labels : array-like of shape (n_samples,)
        Cluster of each sample; between 2 and ``n_samples - 1`` distinct. In
        any namespace (NumPy labels may be strings): they are numbered in
        their own and the numbers moved to ``X``'s device.

    Returns
    -------
    silhouettes : array of shape (n_samples,)
        Silhouette of each sample, in float64 (float32 on a device without
        float64), in ``X``'s namespace and on its device; 0 for a sample
        alone in its cluster. Distances are computed at a scale where their
        squares neither overflow nor underflow, so the values do not depend
        on the scale of the data.

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
    xp, is_numpy, device = _namespace_of(X)
    labels, n_clusters = _label_codes(_check_labels(labels, X.shape[0]), xp, device)
    n_samples = X.shape[0]
    if not 2 <= n_clusters < n_samples:
        raise _UndefinedIndexError(
            f"Number of labels is {n_clusters}. Valid values are 2 to "
            f"n_samples - 1 (inclusive)."
        )
    X, _ = _to_unit_scale(X)
    if sp.issparse(X):
        return silhouette_samples(X, labels)
    indicator = _one_hot(labels, n_clusters, X.dtype, xp)
    # Sum of distances from each sample to the members of each cluster.
    sums = xp.zeros(
        (n_samples, n_clusters), dtype=float_dtype(xp, device), device=device
    )
    for rows, columns, distances in _distance_blocks(X):
        sums[rows, :] += xp.matmul(distances, indicator[columns, :])
    return _silhouettes_from_sums(sums, labels, indicator > 0, xp)


def _distance_blocks(X):
    """Yield ``(rows, columns, distances)`` for blocks of the pairwise distances.

    ``X`` is dense and at unit scale; the distances, in its dtype, are those
    of its centred rows (see :func:`_block_distances`), a block of at most
    ``_DISTANCE_BLOCK_ROWS`` squared at a time.
    """
    xp, is_numpy, device = _namespace_of(X)
    dtype = float_dtype(xp, device)
    mean = xp.astype(xp.sum(X, axis=0, dtype=dtype) / X.shape[0], X.dtype)
    blocks = chunks_of(slice(0, X.shape[0]), _DISTANCE_BLOCK_ROWS)
    for rows in blocks:
        centred_rows = X[rows, :] - mean
        for columns in blocks:
            centred_columns = centred_rows if columns == rows else X[columns, :] - mean
            yield (
                rows,
                columns,
                _block_distances(centred_rows, centred_columns, xp, is_numpy),
            )


def _pairwise_distances_exact(X):
    """Return the Euclidean distances among the rows of ``X``, shape (n, n).

    Distances as :func:`silhouette_samples_exact` computes them, in ``X``'s
    float dtype, namespace and device, for data that are measured against
    many partitions (:func:`_silhouettes_of_distances`). Data far from unit
    size are first divided by a power of two, so the distances are those of
    ``X`` times a power of two; silhouettes, ratios of distances, are
    unchanged. Sparse ``X`` gives scikit-learn's dense float64 distances.
    """
    X, _ = _to_unit_scale(_check_samples(X))
    if sp.issparse(X):
        return pairwise_distances(X)
    xp, _, device = _namespace_of(X)
    distances = xp.empty((X.shape[0], X.shape[0]), dtype=X.dtype, device=device)
    for rows, columns, block in _distance_blocks(X):
        distances[rows, columns] = block
    return distances


def _silhouettes_of_distances(distances, labels):
    """Return the silhouette of each sample from their pairwise ``distances``.

    ``labels``, in the namespace and on the device of ``distances``, must form
    between 2 and ``n_samples - 1`` clusters. Each sum of distances is one
    column of a product, the clusters in the order of their first samples,
    so two labellings of one partition make the same product and give the
    same silhouettes to the last bit (some BLAS builds round a column of a
    product differently by its position).
    """
    xp, _, device = _namespace_of(distances)
    codes, n_clusters = _label_codes(labels, xp, device)
    indicator = _one_hot(codes, n_clusters, distances.dtype, xp)
    order = xp.argsort(xp.argmax(indicator, axis=0))
    indicator = xp.take(indicator, order, axis=1)
    codes = xp.take(xp.argsort(order), codes)
    sums = xp.astype(xp.matmul(distances, indicator), float_dtype(xp, device))
    return _silhouettes_from_sums(sums, codes, indicator > 0, xp)


def _block_distances(rows, columns, xp, is_numpy):
    """Return the Euclidean distances between two blocks of centred samples.

    ``columns`` is ``rows`` itself for a block on the diagonal. In place for
    NumPy arrays; the same operations on other namespaces.
    """
    same = columns is rows
    row_norms = _sq_norms(rows, xp, is_numpy)
    column_norms = row_norms if same else _sq_norms(columns, xp, is_numpy)
    squared = xp.matmul(rows, xp.matrix_transpose(columns))
    squared *= -2
    squared += row_norms[:, None]
    squared += column_norms[None, :]
    if same:
        # A sample is exactly 0 from itself; leave it out of the test below.
        squared = _fill_diagonal(squared, math.inf, xp, is_numpy)
    # Where the expansion is within rounding of zero, its error could be
    # larger than the distance itself: recompute those pairs directly.
    largest_norms = float(xp.max(row_norms)) + float(xp.max(column_norms))
    near = squared <= 8 * xp.finfo(rows.dtype).eps * largest_norms
    if bool(xp.any(near)):
        near_rows, near_columns = xp.nonzero(near)
        differences = xp.take(rows, near_rows, axis=0) - xp.take(
            columns, near_columns, axis=0
        )
        squared[near] = _sq_norms(differences, xp, is_numpy)
    if same:
        squared = _fill_diagonal(squared, 0.0, xp, is_numpy)
    return np.sqrt(squared, out=squared) if is_numpy else xp.sqrt(squared)


def _sq_norms(rows, xp, is_numpy):
    """Return the squared norms of ``rows``, in their type."""
    if is_numpy:
        return np.einsum("ij,ij->i", rows, rows)
    return xp.vecdot(rows, rows)


def _fill_diagonal(square, value, xp, is_numpy):
    """Return the square array ``square`` with ``value`` on its diagonal.

    NumPy's is written in place, without a mask.
    """
    if is_numpy:
        np.fill_diagonal(square, value)
        return square
    index = xp.arange(square.shape[0], device=device_of(square))
    return xp.where(index[:, None] == index[None, :], value, square)


def _silhouettes_from_sums(sums, labels, own, xp):
    """Silhouettes from each sample's sums of distances to each cluster.

    ``own`` is the boolean indicator of each sample's cluster.
    """
    counts = xp.sum(xp.astype(own, sums.dtype), axis=0)
    own_counts = xp.take(counts, labels)
    within = xp.sum(xp.where(own, sums, 0.0), axis=1) / xp.where(
        own_counts > 1, own_counts - 1, 1.0
    )
    nearest = xp.min(xp.where(own, math.inf, sums / counts), axis=1)
    with np.errstate(invalid="ignore"):
        silhouettes = (nearest - within) / xp.maximum(within, nearest)
    # 0 for a sample alone in its cluster, and for 0 / 0.
    undefined = (own_counts == 1) | xp.isnan(silhouettes)
    return xp.where(undefined, 0.0, silhouettes)


def _cluster_means(X, labels, sample_weight):
    """Weighted mean of each cluster's rows, one product with the cluster indicator.

    Each cluster's weights are divided by a power of two, to a largest in
    [0.5, 1): the means are exact even for a cluster whose weights are
    beyond float64's range relative to the others'.
    """
    xp, is_numpy, _ = _namespace_of(X)
    n_clusters = int(xp.max(labels)) + 1
    if not is_numpy:
        return _array_api_cluster_means(X, labels, sample_weight, n_clusters)
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


def _array_api_cluster_means(X, labels, sample_weight, n_clusters):
    """:func:`_cluster_means` on an array API device.

    The array API has no scatter-add: the sums are products of the weighted
    cluster indicator with blocks of rows, in the weights' type, so memory
    stays within a block. Only the largest weight of each cluster goes to
    the host, for its exponent.
    """
    xp, _, device = _namespace_of(X)
    dtype = sample_weight.dtype
    blocks = _row_blocks(X.shape[0], X.shape[1] + n_clusters)
    largest = xp.zeros(n_clusters, dtype=dtype, device=device)
    for rows in blocks:
        weighted = _weighted_indicator(labels[rows], sample_weight[rows], n_clusters)
        largest = xp.maximum(largest, xp.max(weighted, axis=0))
    exponents = np.frexp(to_numpy(largest))[1]
    # 2 ** -exponent in two exact factors, each within the type's range.
    half = exponents // 2
    factors = np.ldexp(1.0, [-half, half - exponents]).astype(dtype_name(dtype))
    factors = xp.asarray(factors, device=device)
    sample_weight = sample_weight * xp.take(factors[0, :], labels)
    sample_weight = sample_weight * xp.take(factors[1, :], labels)
    sums = xp.zeros((n_clusters, X.shape[1]), dtype=dtype, device=device)
    totals = xp.zeros(n_clusters, dtype=dtype, device=device)
    for rows in blocks:
        weighted = _weighted_indicator(labels[rows], sample_weight[rows], n_clusters)
        rows_x = xp.astype(X[rows, :], dtype)
        sums += xp.matmul(xp.matrix_transpose(weighted), rows_x)
        totals += xp.sum(weighted, axis=0)
    return sums / totals[:, None]


def _weighted_indicator(labels, sample_weight, n_columns):
    """Return the indicator of ``labels`` by row, times the row's weight."""
    xp, _, _ = _namespace_of(sample_weight)
    indicator = _one_hot(labels, n_columns, sample_weight.dtype, xp)
    return indicator * sample_weight[:, None]


def _row_blocks(n_samples, width):
    """Slices of rows of about ``_BLOCK_ELEMENTS`` values at ``width`` per row."""
    return chunks_of(slice(0, n_samples), max(1, _BLOCK_ELEMENTS // max(width, 1)))


def _counted_samples(X, labels, sample_weight):
    """Drop the samples of weight 0, which count as absent.

    ``labels``, indices of clusters, and ``sample_weight`` are in ``X``'s
    namespace; the clusters left are numbered anew. Nothing is copied when
    every weight is positive.
    """
    xp, _, _ = _namespace_of(sample_weight)
    counted = sample_weight > 0
    if bool(xp.all(counted)):
        return X, labels, sample_weight
    rows = xp.nonzero(counted)[0]
    labels = xp.unique_inverse(xp.take(labels, rows))[1]
    return _take_rows(X, rows), labels, xp.take(sample_weight, rows)


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
        Samples. Under array API dispatch, an array of any supported
        namespace and device, where the cluster means, the distances to the
        centers and the silhouettes are computed; of the cluster means, only
        the largest weight of each cluster goes to the host. Samples of
        weight 0 are left out of a copy of ``X`` on its device.

    labels : array-like of shape (n_samples,)
        Cluster of each sample: any discrete values, or, when ``centers`` is
        given, the index of its center, an integer in ``0 .. n_clusters - 1``.
        In any namespace (NumPy labels may be strings): they are checked and
        numbered in their own, and the numbers moved to ``X``'s device.

    centers : array-like of shape (n_clusters, n_features), default=None
        Cluster centers; ``None`` uses the mean of each cluster's samples.
        They follow ``X``'s namespace and device.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero, in the
        mean of their silhouettes and, when ``centers`` is ``None``, in the
        means of the clusters (a sample of weight 0 counts as absent);
        ``None`` weighs them equally. Of any namespace: checked on the host
        and moved to ``X``'s device.

    Returns
    -------
    score : float
        The simplified silhouette, a Python float. Distances are computed at
        a scale where their squares neither overflow nor underflow, so the
        value does not depend on the scale of the data.

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
    xp, _, device = _namespace_of(X)
    labels = _check_labels(labels, X.shape[0])
    sample_weight = _check_sample_weight(sample_weight, X)
    if centers is None:
        labels = _label_codes(labels, xp, device)[0]
        # A cluster of only samples of weight 0 has no center.
        X, labels, sample_weight = _counted_samples(X, labels, sample_weight)
        X, _ = _to_unit_scale(X)
        centers = xp.astype(_cluster_means(X, labels, sample_weight), X.dtype)
    else:
        centers = _check_centers(centers, X)
        labels = _check_cluster_indices(labels, centers.shape[0])
        labels = _follow(labels, xp, device)
        X, centers = _to_unit_scale(X, centers)
    n_clusters = xp.unique_values(labels).shape[0]
    _check_n_clusters(n_clusters, "simplified_silhouette_score")
    distances = xp.sqrt(sq_distances(X, centers))
    own = labels[:, None] == xp.arange(centers.shape[0], device=device)[None, :]
    own_distance = xp.take_along_axis(distances, labels[:, None], axis=1)[:, 0]
    nearest_other = xp.min(xp.where(own, math.inf, distances), axis=1)
    largest = xp.maximum(own_distance, nearest_other)
    with np.errstate(invalid="ignore", divide="ignore"):
        silhouettes = xp.where(
            largest > 0, (nearest_other - own_distance) / largest, 0.0
        )
    return _average(silhouettes, _relative_weights(sample_weight), xp)


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
        Class labels, in any namespace (NumPy labels may be strings): they
        are numbered in their own and the numbers moved to ``y_pred``'s
        device.

    y_pred : array-like of shape (n_samples,)
        Cluster labels; their values need not match the classes'. Under
        array API dispatch, an array of any supported namespace and device
        (such as :meth:`FuzzyCMeans.predict <fuzzyprune.FuzzyCMeans.predict>`
        returns for data on a device), where the class-by-cluster
        contingency table is computed: one product of the class and cluster
        indicators per block of samples, ``O(n_samples n_classes
        n_clusters)``, as the array API has no scatter-add.

    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights of the samples, not all zero; only
        their proportions matter. ``None`` weighs the samples equally. Of any
        namespace: checked on the host and moved to ``y_pred``'s device.

    Returns
    -------
    accuracy : float
        Fraction of samples (or of their total weight) in a cluster matched
        to their class, in [0, 1], a Python float. The matching runs on the
        host, on the contingency table of ``n_classes * n_clusters`` values.

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
    n_samples = _num_samples(y_true)
    classes = _check_labels(y_true, n_samples, name="y_true")
    clusters = _check_labels(y_pred, n_samples, name="y_pred")
    xp, _, device = _namespace_of(clusters)
    sample_weight = _check_relative_weights(sample_weight, clusters)
    contingency = _contingency(
        _label_codes(classes, xp, device),
        _label_codes(clusters, xp, device),
        sample_weight,
    )
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    return float(contingency[rows, cols].sum() / contingency.sum())


def _contingency(classes, clusters, sample_weight):
    """Return the weight of the samples of each class in each cluster, on the host.

    ``classes`` and ``clusters`` are pairs of indices, in the namespace of
    ``sample_weight``, and their number.
    """
    (classes, n_classes), (clusters, n_clusters) = classes, clusters
    xp, is_numpy, device = _namespace_of(sample_weight)
    if is_numpy:
        return sp.coo_array(
            (sample_weight, (classes, clusters)), shape=(n_classes, n_clusters)
        ).toarray()
    # The array API has no scatter-add: one product of the class and cluster
    # indicators per block of samples, on the device.
    dtype = sample_weight.dtype
    table = xp.zeros((n_classes, n_clusters), dtype=dtype, device=device)
    for rows in _row_blocks(sample_weight.shape[0], n_classes + n_clusters):
        weighted = _weighted_indicator(clusters[rows], sample_weight[rows], n_clusters)
        class_indicator = _one_hot(classes[rows], n_classes, dtype, xp)
        table += xp.matmul(xp.matrix_transpose(class_indicator), weighted)
    return to_numpy(table)


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
    as a search over folds expects of a fold that fails. Under array API
    dispatch, a clusterer fitted on arrays of another namespace or device
    is scored on ``X`` of the same: its memberships, labels and centers stay
    there and the index is computed there (see the module's notes).

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
            Samples, in the namespace and on the device of the clusterer's
            fit.
        y_true : array-like of shape (n_samples,), default=None
            Class labels, used only by label-based scorers; of any
            namespace.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, for scorers whose index takes them; of
            any namespace.
        **kwargs : dict
            Other metadata, with metadata routing enabled.

        Returns
        -------
        score : float
            Greater is better, a Python float; ``nan`` where the index is
            undefined.
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
        memberships_of(clusterer, X), sample_weight=sample_weight
    )


def _modified_partition_coefficient_of(clusterer, X, y, sample_weight=None):
    return modified_partition_coefficient(
        memberships_of(clusterer, X), sample_weight=sample_weight
    )


def _partition_entropy_of(clusterer, X, y, sample_weight=None):
    return partition_entropy(memberships_of(clusterer, X), sample_weight=sample_weight)


# The index with Xie and Beni's weights u ** 2 whatever the clusterer's
# fuzzifier: weighted by u ** m, the compactness shrinks towards 0 as m grows,
# and a search over m would always choose the largest.
def _xie_beni_of(clusterer, X, y, sample_weight=None):
    return xie_beni_index(
        X,
        memberships_of(clusterer, X),
        clusterer.cluster_centers_,
        sample_weight=sample_weight,
    )


def _fuzzy_silhouette_of(clusterer, X, y):
    return fuzzy_silhouette_score(X, memberships_of(clusterer, X))


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
# The scorers that judge a partition alone; the others (scikit-learn's
# included) compare predictions with targets.
_UNSUPERVISED_SCORERS = frozenset(_SCORERS) - {"cluster_accuracy"}


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
        ``set_score_request`` leaves the module's scorer as it was. This
        module's scorers take, under array API dispatch, a clusterer fitted
        on arrays of any supported namespace and device with ``X`` of the
        same, and return Python floats.

    Raises
    ------
    ValueError
        If ``scoring`` names no scorer of this module or scikit-learn's.

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
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError as error:
        # scikit-learn's message lists only its own names.
        raise ValueError(
            f"{scoring!r} is not a known scorer: use one of "
            f"{', '.join(sorted(_SCORERS))} or a name listed by "
            "sklearn.metrics.get_scorer_names()."
        ) from error
