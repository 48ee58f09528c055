"""Fuzzifier functions of fuzzy c-means: how distances become memberships.

Fuzzy c-means minimises ``sum_ij g(u_ij) d_ij^2`` over memberships ``u`` (rows
summing to 1) and centers. The fuzzifier function ``g`` is all that differs
between its variants; each one here maps a chunk's squared distances to

- the memberships that minimise the objective for fixed centers,
- the log weights ``log g(u_ij)`` of the samples in the next centers, and
- the log of each sample's share of the objective, ``log sum_j g(u_ij) d_ij^2``.

The rest of the algorithm (distances, weighted sums, convergence, executors)
never knows which function is in use.

All arrays are cluster-major, one row per cluster and one column per sample:
reductions over the clusters of a sample then run along whole rows, several
times faster in NumPy than along the short rows of the sample-major layout.
"""

import numpy as np

from ._array_api import namespace, nonnegative, scalar_like


def schwaemmle_jensen_m(n_samples, n_features):
    """Return the fuzzifier fitted by Schwämmle and Jensen for data of this shape.

    ``m(D, N) = 1 + (1418 / N + 22.05) D^-2 + (12.33 / N + 0.243)
    D^(-0.0406 ln N - 0.1134)``, the smallest ``m`` at which fuzzy c-means
    no longer finds clusters in randomised data of ``N`` samples and ``D``
    features, fitted over many such data sets: real structure still shows at
    that fuzzifier, while noise alone does not. It falls towards 1 as the
    dimension grows, where the fuzzifiers of common use make every center
    collapse onto the mean of the data.

    Parameters
    ----------
    n_samples : int
        Number of samples ``N``, at least 1.
    n_features : int
        Number of features ``D``, at least 1.

    Returns
    -------
    m : float
        The fuzzifier, greater than 1.

    References
    ----------
    .. [1] V. Schwämmle and O. N. Jensen, "A simple and fast method to
       determine the parameters for fuzzy c-means cluster analysis",
       Bioinformatics 26(22), 2841-2848, 2010 (also ``mestimate`` of the R
       package Mfuzz).
    """
    n, d = float(n_samples), float(n_features)
    return (
        1.0
        + (1418.0 / n + 22.05) * d**-2.0
        + (12.33 / n + 0.243) * d ** (-0.0406 * np.log(n) - 0.1134)
    )


def _on_centers(values, min_sq, on, xp):
    """Set the values of a sample lying on some centers (smallest distance 0).

    Such a sample belongs to the centers it lies on, shared equally. Its
    values there come out of the formulas as ``0 / 0`` or ``inf - inf``, NaN,
    and are set to ``on``; its values at the other centers already are what
    they should be. Without such samples ``values`` is returned as is.
    """
    if not bool(xp.any(min_sq == 0)):
        return values
    return xp.where(xp.isnan(values), scalar_like(on, values, xp), values)


def _log_excess_sq_distances(sq_distances, xp):
    """Return each sample's smallest squared distance and ``log(d_ij / min)``.

    The log excess of a sample lying on some centers is 0 for those and
    ``inf`` for the others. Formed in place: one array of the chunk's size.
    """
    min_sq = xp.min(sq_distances, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_excess = xp.log(sq_distances)
        log_excess -= xp.log(min_sq)
    log_excess = _on_centers(log_excess, min_sq, 0.0, xp)
    return min_sq, log_excess


def _ratios_to_nearest(sq_distances, xp):
    """Return ``min_k d_ik / d_ij`` of each sample ``i`` and cluster ``j``.

    The ratios are in [0, 1]; a sample lying on some centers gets 1 for those
    and 0 for the others.
    """
    min_sq = xp.min(sq_distances, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = min_sq / sq_distances
    return _on_centers(ratio, min_sq, 1.0, xp)


def _nearest_clusters(ratio, beta, xp):
    """Return how many clusters have positive polynomial membership, and their sum.

    Cluster ``j`` of a sample is among its ``k`` nearest with positive
    membership when ``r_j > t = beta S / (1 + beta (k - 1))``, ``S`` the sum
    of their ratios. Dropping a cluster at or under the threshold of a set
    raises the threshold, never above a cluster of the answer, and the
    answer's threshold is at least ``beta`` (that of the nearest cluster
    alone). So, starting from the clusters with ``r_j > beta``, dropping
    those under the threshold until none is ends at the answer, without
    sorting, in one or two rounds in practice and at most ``n_clusters``.

    Returns
    -------
    n_nearest : array of shape (n_samples,)
        Number of clusters of positive membership, as floats.
    total : array of shape (n_samples,)
        Sum of their ratios.
    """
    nearest = xp.astype(ratio > beta, ratio.dtype)
    while True:
        n_nearest = xp.sum(nearest, axis=0)
        nearest *= ratio
        total = xp.sum(nearest, axis=0)
        threshold = beta * total / (1.0 + beta * (n_nearest - 1.0))
        nearest = xp.astype(ratio > threshold, ratio.dtype)
        if bool(xp.all(xp.sum(nearest, axis=0) == n_nearest)):
            return n_nearest, total


class FuzzifierFunction:
    """A fuzzifier function ``g``: the interface the rest of the algorithm sees.

    ``terms(sq_distances, xp)`` takes a chunk's squared distances, an array of
    namespace ``xp`` (NumPy, torch, CuPy, ...; found from the array if not
    given) of shape (n_clusters,
    n_samples), non-negative, in float64 (float32 on devices without
    float64), and returns arrays of the same namespace, device and type:

    - ``memberships``, of the same shape: the optimal memberships for fixed
      centers, each column summing to 1;
    - ``log_weights``, of the same shape: ``log g(u_ij)``, the log weight of
      each sample in the next centers, ``-inf`` where ``g(u_ij)`` is 0;
    - ``log_sample_objective``, of shape (n_samples,): ``log sum_j g(u_ij)
      d_ij``, ``-inf`` for a sample lying on a center.

    ``log_weights(memberships, xp)`` returns ``log g(u)`` of any memberships (the
    centers of random memberships need it), and ``describe()`` the setting as
    the estimator's parameters spell it, for messages.
    """


class PowerFuzzifier(FuzzifierFunction):
    """``g(u) = u ** m``, Bezdek's fuzzy c-means (eqs. 1-2 of the study).

    Memberships ``u_ij = 1 / sum_k (d_ij / d_ik) ** (2 / (m - 1))`` are
    computed from each squared distance relative to its sample's smallest, in
    log space, so no power of a distance is ever formed: this is exact for
    every ``m > 1``, however close to 1 or large.

    Parameters
    ----------
    m : float
        Fuzzifier, greater than 1.
    """

    def __init__(self, m):
        self.m = m

    def describe(self):
        """Return the setting, as the estimator's parameters spell it."""
        return f"m={self.m:.4g}"

    def terms(self, sq_distances, xp=None):
        """Return memberships, ``m log u`` and log sample objectives."""
        xp = xp or namespace(sq_distances)[0]
        m = self.m
        min_sq, log_ratio = _log_excess_sq_distances(sq_distances, xp)
        # log r_ij / (m - 1), r_ij = min_k d_ik / d_ij: the negated excess.
        log_ratio *= -1.0 / (m - 1.0)
        memberships = xp.exp(log_ratio)
        normaliser = xp.sum(memberships, axis=0)
        log_normaliser = xp.log(normaliser)
        with np.errstate(divide="ignore"):
            # With u_ij = r_ij ** (1 / (m - 1)) / s_i and r_ij = min_k d_ik / d_ij,
            # sum_j u_ij ** m d_ij simplifies to min_k d_ik * s_i ** (1 - m).
            log_sample_objective = xp.log(min_sq) + (1.0 - m) * log_normaliser
        memberships /= normaliser
        log_weights = log_ratio
        log_weights -= log_normaliser
        log_weights *= m
        return memberships, log_weights, log_sample_objective

    def log_weights(self, memberships, xp=None):
        """Return ``log g(u)`` of given memberships, ``-inf`` where ``u`` is 0."""
        xp = xp or namespace(memberships)[0]
        with np.errstate(divide="ignore"):
            return self.m * xp.log(memberships)


class PolynomialFuzzifier(FuzzifierFunction):
    """``g(u) = (1 - b) / (1 + b) u^2 + 2 b / (1 + b) u``, Klawonn and Höppner's.

    Unlike ``u ** m``, this function has a positive slope at 0, so the optimal
    memberships of a sample are exactly 0 for clusters much farther than its
    nearest: with ``r_j = min_k d_k^2 / d_j^2`` sorted in decreasing order, the
    ``k`` nearest clusters are those for which
    ``(1 + b (k - 1)) r_k > b (r_1 + ... + r_k)``, and among them

    ``u_j = ((1 + b (k - 1)) r_j - b S) / ((1 - b) S)``, ``S = r_1 + ... + r_k``.

    ``b = 0`` is fuzzy c-means with ``m = 2``; as ``b`` tends to 1 the partition
    becomes hard. Centers are means weighted by ``g(u)``.

    Parameters
    ----------
    beta : float
        In [0, 1).

    References
    ----------
    .. [1] F. Klawonn and F. Höppner, "What is fuzzy about fuzzy clustering?
       Understanding and improving the concept of the fuzzifier", Advances in
       Intelligent Data Analysis V, LNCS 2810, 254-264, 2003.
    .. [2] R. Winkler, F. Klawonn and R. Kruse, "Fuzzy c-means in high
       dimensional spaces", International Journal of Fuzzy System
       Applications 1(1), 1-16, 2011.
    """

    def __init__(self, beta):
        self.beta = beta
        self._quadratic = (1.0 - beta) / (1.0 + beta)
        self._linear = 2.0 * beta / (1.0 + beta)

    def describe(self):
        """Return the setting, as the estimator's parameters spell it."""
        return f"fuzzifier='polynomial', beta={self.beta:.4g}"

    def terms(self, sq_distances, xp=None):
        """Return memberships (0 outside the nearest), ``log g(u)``, objectives."""
        xp = xp or namespace(sq_distances)[0]
        beta = self.beta
        ratio = _ratios_to_nearest(sq_distances, xp)
        n_nearest, total = _nearest_clusters(ratio, beta, xp)
        # The ratios are not needed again: the memberships are formed in place.
        memberships = ratio
        memberships *= 1.0 + beta * (n_nearest - 1)
        memberships -= beta * total
        # Clusters outside the nearest ones come out <= 0; rounding can leave
        # the others a hair off a partition, which renormalising removes.
        memberships = nonnegative(memberships, xp)
        memberships /= xp.sum(memberships, axis=0)
        weights = self._g(memberships)
        with np.errstate(divide="ignore"):
            log_weights = xp.log(weights)
            # g is linear in the squared distances (no power of one is
            # formed), so the objective is summed directly.
            log_sample_objective = xp.log(xp.vecdot(weights, sq_distances, axis=-2))
        return memberships, log_weights, log_sample_objective

    def _g(self, memberships):
        return memberships * (self._quadratic * memberships + self._linear)

    def log_weights(self, memberships, xp=None):
        """Return ``log g(u)`` of given memberships, ``-inf`` where ``u`` is 0."""
        xp = xp or namespace(memberships)[0]
        with np.errstate(divide="ignore"):
            return xp.log(self._g(memberships))


def fuzzifier_function(fuzzifier, m, beta):
    """Return the function named by the estimator's parameters.

    Parameters
    ----------
    fuzzifier : {"power", "polynomial"}
        Which function.
    m : float
        Fuzzifier of the power function, greater than 1.
    beta : float
        Parameter of the polynomial function, in [0, 1).

    Returns
    -------
    function : FuzzifierFunction
    """
    if fuzzifier == "polynomial":
        return PolynomialFuzzifier(float(beta))
    return PowerFuzzifier(float(m))
