"""Validity indices of fuzzy partitions, cluster accuracy and scorers.

Indices take memberships (and, for some, the data and centers) directly.
Scorers take a fitted estimator, ``X`` and optionally ``y``, as scikit-learn's
``scoring`` expects: pass them to :class:`~sklearn.model_selection.GridSearchCV`
or :func:`~sklearn.model_selection.cross_validate`. Each scorer also works on a
:class:`~sklearn.pipeline.Pipeline` ending in a fuzzy clusterer, evaluating the
last step on ``X`` transformed by the steps before it. Every scorer follows
scikit-learn's rule that greater is better: indices where smaller is better are
negated and named ``neg_*``.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import silhouette_samples
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array, check_consistent_length

from ._fcm import sq_distances
from ._fuzzifiers import fuzzifier_function

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


def _check_memberships(memberships):
    memberships = check_array(memberships, dtype=[np.float64, np.float32])
    if memberships.min() < 0 or memberships.max() > 1:
        raise ValueError("memberships must lie in [0, 1].")
    return memberships


@validate_params({"memberships": ["array-like"]}, prefer_skip_nested_validation=True)
def partition_coefficient(memberships):
    """Partition coefficient of Bezdek: the mean of squared memberships.

    Ranges from ``1 / n_clusters`` (every membership equal) to 1 (a crisp
    partition); larger is better.

    Parameters
    ----------
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships, each row summing to 1.

    Returns
    -------
    score : float
        ``sum_ij u_ij ** 2 / n_samples``.

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
    return float(np.einsum("ij,ij->", memberships, memberships) / memberships.shape[0])


@validate_params({"memberships": ["array-like"]}, prefer_skip_nested_validation=True)
def modified_partition_coefficient(memberships):
    """Partition coefficient rescaled to [0, 1] (Dave, 1996).

    ``1 - c / (c - 1) * (1 - PC)``: 0 for equal memberships, 1 for a crisp
    partition, whatever the number of clusters ``c``; larger is better.

    Parameters
    ----------
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships, each row summing to 1, with at least 2 clusters.

    Returns
    -------
    score : float
        The modified partition coefficient.

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
    if n_clusters < 2:
        raise ValueError(
            f"memberships must have at least 2 clusters, got {n_clusters}."
        )
    coefficient = partition_coefficient(memberships)
    return 1.0 - n_clusters / (n_clusters - 1) * (1.0 - coefficient)


@validate_params({"memberships": ["array-like"]}, prefer_skip_nested_validation=True)
def partition_entropy(memberships):
    """Partition entropy of Bezdek: the mean entropy of memberships.

    Ranges from 0 (a crisp partition) to ``log(n_clusters)``; smaller is
    better.

    Parameters
    ----------
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships, each row summing to 1.

    Returns
    -------
    entropy : float
        ``-sum_ij u_ij log u_ij / n_samples``, with ``0 log 0 = 0``.

    Examples
    --------
    >>> from fuzzyprune.metrics import partition_entropy
    >>> round(partition_entropy([[1.0, 0.0], [0.5, 0.5]]), 4)
    0.3466
    """
    memberships = _check_memberships(memberships)
    positive = memberships[memberships > 0]
    return float(-(positive * np.log(positive)).sum() / memberships.shape[0])


def _check_fuzzy_partition(X, memberships, centers):
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32])
    memberships = _check_memberships(memberships)
    centers = check_array(centers, dtype=X.dtype)
    check_consistent_length(X, memberships)
    if centers.shape != (memberships.shape[1], X.shape[1]):
        raise ValueError(
            f"centers must have shape (n_clusters, n_features) = "
            f"({memberships.shape[1]}, {X.shape[1]}), got {centers.shape}."
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
    },
    prefer_skip_nested_validation=True,
)
def xie_beni_index(X, memberships, centers, *, m=2.0, fuzzifier="power", beta=0.5):
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

    Returns
    -------
    index : float
        ``sum_ij g(u_ij) |x_i - c_j|^2 / (n_samples min_{j != k} |c_j - c_k|^2)``;
        ``inf`` if two centers coincide.

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
    if centers.shape[0] < 2:
        raise ValueError("xie_beni_index needs at least 2 clusters.")
    function = fuzzifier_function(fuzzifier, m, beta)
    weights = np.exp(function.log_weights(memberships.astype(np.float64)))
    compactness = np.einsum("ij,ij->", weights, sq_distances(X, centers))
    center_gaps = sq_distances(centers, centers)
    np.fill_diagonal(center_gaps, np.inf)
    separation = center_gaps.min()
    if separation == 0:
        return np.inf
    return float(compactness / (X.shape[0] * separation))


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
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32])
    memberships = _check_memberships(memberships)
    check_consistent_length(X, memberships)
    if memberships.shape[1] < 2:
        raise ValueError("fuzzy_silhouette_score needs at least 2 clusters.")
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
        cluster.

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
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32])
    if sp.issparse(X):
        return silhouette_samples(X, labels)
    labels = np.unique(labels, return_inverse=True)[1]
    check_consistent_length(X, labels)
    n_samples, n_clusters = X.shape[0], labels.max() + 1
    if not 2 <= n_clusters < n_samples:
        raise ValueError(
            f"Number of labels is {n_clusters}. Valid values are 2 to "
            f"n_samples - 1 (inclusive)."
        )
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


def _cluster_means(X, labels):
    """Mean of each cluster's rows, as one product with the cluster indicator."""
    n_clusters = labels.max() + 1
    indicator = sp.csr_array(
        (np.ones(labels.size), (labels, np.arange(labels.size))),
        shape=(n_clusters, labels.size),
    )
    sums = indicator @ X
    sums = sums.toarray() if sp.issparse(sums) else np.asarray(sums)
    return sums / np.bincount(labels, minlength=n_clusters)[:, None]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "labels": ["array-like"],
        "centers": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def simplified_silhouette_score(X, labels, centers=None):
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
        Cluster index of each sample, in ``0 .. n_clusters - 1`` when
        ``centers`` is given.

    centers : array-like of shape (n_clusters, n_features), default=None
        Cluster centers; ``None`` uses the mean of each cluster's samples.

    Returns
    -------
    score : float
        The simplified silhouette.

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
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32])
    labels = np.asarray(labels)
    check_consistent_length(X, labels)
    if centers is None:
        labels = np.unique(labels, return_inverse=True)[1]
        centers = _cluster_means(X, labels)
    centers = np.asarray(centers)
    if np.unique(labels).size < 2 or centers.shape[0] < 2:
        raise ValueError("simplified_silhouette_score needs at least 2 clusters.")
    distances = np.sqrt(sq_distances(X, centers))
    rows = np.arange(X.shape[0])
    own = distances[rows, labels]
    distances[rows, labels] = np.inf
    nearest_other = distances.min(axis=1)
    largest = np.maximum(own, nearest_other)
    with np.errstate(invalid="ignore", divide="ignore"):
        silhouettes = np.where(largest > 0, (nearest_other - own) / largest, 0.0)
    return float(silhouettes.mean())


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def cluster_accuracy(y_true, y_pred):
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

    Returns
    -------
    accuracy : float
        Fraction of samples in a cluster matched to their class, in [0, 1].

    Examples
    --------
    >>> from fuzzyprune.metrics import cluster_accuracy
    >>> cluster_accuracy([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.8
    """
    check_consistent_length(y_true, y_pred)
    contingency = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    return float(contingency[rows, cols].sum() / contingency.sum())


def _last_step(estimator, X):
    """Return the estimator that clusters and ``X`` as that step sees it."""
    if hasattr(estimator, "steps"):
        return estimator[-1], estimator[:-1].transform(X)
    return estimator, X


def _scorer(score, name, doc):
    def scorer(estimator, X, y=None):
        return score(*_last_step(estimator, X), y)

    scorer.__name__ = name
    scorer.__doc__ = (
        f"{doc}\n\nParameters\n----------\nestimator : estimator\n"
        "    A fitted fuzzy clusterer, or a pipeline ending in one.\n"
        "X : array-like of shape (n_samples, n_features)\n    Samples.\n"
        "y : array-like of shape (n_samples,), default=None\n"
        "    Class labels, used only by label-based scorers.\n\n"
        "Returns\n-------\nscore : float\n    Greater is better.\n"
    )
    return scorer


partition_coefficient_scorer = _scorer(
    lambda clusterer, X, y: partition_coefficient(clusterer.predict_proba(X)),
    "partition_coefficient_scorer",
    "Partition coefficient of the estimator's memberships of X.",
)
modified_partition_coefficient_scorer = _scorer(
    lambda clusterer, X, y: modified_partition_coefficient(clusterer.predict_proba(X)),
    "modified_partition_coefficient_scorer",
    "Modified partition coefficient of the estimator's memberships of X.",
)
neg_partition_entropy_scorer = _scorer(
    lambda clusterer, X, y: -partition_entropy(clusterer.predict_proba(X)),
    "neg_partition_entropy_scorer",
    "Opposite of the partition entropy of the estimator's memberships of X.",
)


# The index with Xie and Beni's weights u ** 2 whatever the clusterer's
# fuzzifier: weighted by u ** m, the compactness shrinks towards 0 as m grows,
# and a search over m would always choose the largest.
neg_xie_beni_scorer = _scorer(
    lambda clusterer, X, y: (
        -xie_beni_index(X, clusterer.predict_proba(X), clusterer.cluster_centers_)
    ),
    "neg_xie_beni_scorer",
    "Opposite of the Xie-Beni index (weights u ** 2) of the estimator's "
    "partition of X.",
)
fuzzy_silhouette_scorer = _scorer(
    lambda clusterer, X, y: fuzzy_silhouette_score(X, clusterer.predict_proba(X)),
    "fuzzy_silhouette_scorer",
    "Fuzzy silhouette of the estimator's memberships of X.",
)
simplified_silhouette_scorer = _scorer(
    lambda clusterer, X, y: simplified_silhouette_score(
        X, clusterer.predict(X), clusterer.cluster_centers_
    ),
    "simplified_silhouette_scorer",
    "Simplified silhouette of the estimator's clusters of X, using its centers.",
)


def _cluster_accuracy_of(clusterer, X, y):
    if y is None:
        raise ValueError("cluster_accuracy_scorer needs class labels y.")
    return cluster_accuracy(y, clusterer.predict(X))


cluster_accuracy_scorer = _scorer(
    _cluster_accuracy_of,
    "cluster_accuracy_scorer",
    "Hungarian-matched accuracy of the estimator's clusters of X against y.",
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
        ``scorer(estimator, X, y=None) -> float``, greater is better.

    Examples
    --------
    >>> from fuzzyprune.metrics import get_scorer
    >>> get_scorer("neg_xie_beni").__name__
    'neg_xie_beni_scorer'
    """
    if callable(scoring):
        return scoring
    if scoring in _SCORERS:
        return _SCORERS[scoring]
    return _sklearn_get_scorer(scoring)
