"""Fuzzy c-means clustering."""

import copy
import functools
import math
import warnings
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ._array_api import (
    check_same_namespace,
    device,
    float_dtype,
    namespace,
    prepared,
    to_numpy,
)
from ._chunks import N_JOBS_CONSTRAINT, row_threading, thread_pool
from ._doc_link import DocumentationLinkMixin
from ._fcm_dask import (
    DaskData,
    check_dask_array,
    check_dask_sample_weight,
    is_dask_collection,
    lazy_distances,
    lazy_labels,
    lazy_memberships,
    record_features,
)
from ._fcm_dask import score as dask_score
from ._fcm_data import (
    PreparedData,
    distances,
    evaluate,
    fcm_pass,
    iterate,
    radius_rows,
    scaled_sq_distances,
    sq_distances,
    times_power_of_two,
)
from ._fcm_init import check_init, initial_centers
from ._fcm_step import dtype_name
from ._fuzzifiers import fuzzifier_function, schwaemmle_jensen_m
from ._sklearn_compat import StrOptions, _fit_context, _wrap_data_with_container
from ._validation import (
    Interval,
    check_random_state,
    check_sample_weight,
    checking,
    external_stacklevel,
    keeps_state_on_error,
)


def _row_threading(X, n_parallel_runs=1):
    """Plan the threads of NumPy data (see ``row_threading``).

    Arrays of other libraries run on their own threads or device; BLAS is
    left as it is for them.
    """
    return row_threading(n_parallel_runs) if namespace(X)[1] else nullcontext(1)


def _fcm_single(data, initial_centers, fuzzifier, max_iter, tol, verbose):
    """Run fuzzy c-means from initial centers until convergence.

    Returns
    -------
    centers, memberships, log_objectives, n_iter
        The final centers, their memberships of the data, ``log J_m`` of the
        centers each iteration started from and, if the run stopped at
        ``max_iter``, of the final ones (the last entry is always the
        result's; see ``objective_history_``), and the number of iterations.
    """
    xp = data.xp
    # NumPy's memberships are written as each pass goes, where they are still
    # in cache; elsewhere only the last pass computes them, so that a device
    # holds X and at most one block's temporaries while iterating.
    memberships = xp.empty(
        (data.X.shape[0], initial_centers.shape[0]),
        dtype=data.X.dtype,
        device=data.device,
    )
    kept = memberships if data.is_numpy else None
    with thread_pool(data.n_threads) as executor:

        def one_pass(centers):
            return fcm_pass(data, centers, fuzzifier, kept, executor)

        centers, sums, log_objectives, has_converged = iterate(
            one_pass, initial_centers, max_iter, tol, verbose, data.objective
        )
        n_iter = len(log_objectives)
        # Otherwise the memberships are not yet those of the final centers.
        if not (has_converged and kept is not None):
            sums = fcm_pass(data, centers, fuzzifier, memberships, executor, False)
        if not has_converged:
            # Stopped by max_iter: the last iteration moved the centers again.
            log_objectives.append(sums.log_objective)
    return centers, memberships, log_objectives, n_iter


def _dask_fcm_single(data, initial_centers, fuzzifier, max_iter, tol, verbose):
    """:func:`_fcm_single` on a Dask array: one graph per pass.

    Returns
    -------
    centers, stats, log_objectives, n_iter
        As :func:`_fcm_single`, with the last pass's :class:`PassStats`
        (memberships stay lazy).
    """
    centers, stats, log_objectives, has_converged = iterate(
        functools.partial(data.fcm_pass, fuzzifier=fuzzifier),
        initial_centers,
        max_iter,
        tol,
        verbose,
        data.objective,
    )
    n_iter = len(log_objectives)
    if not has_converged:
        stats = data.fcm_pass(centers, fuzzifier)
        log_objectives.append(stats.log_objective)
    return centers, stats, log_objectives, n_iter


# Fitted attributes that are lazy Dask arrays after a fit on a Dask array.
_LAZY_ATTRIBUTES = ("memberships_", "labels_")
# Parameters that set the fuzzifier function, fixed by a fit's first batch.
_FUZZIFIER_PARAMS = ("m", "fuzzifier", "beta")
# Objectives of runs within this relative difference are ties: they differ by
# rounding, which differs between namespaces and devices.
_TIED_OBJECTIVES = {"float32": 1e-5, "float64": 1e-10}


def _best_run(runs, dtype):
    """Return the first run of lowest objective, counting rounding as ties.

    So the same run wins whatever the number of jobs, and on every array
    namespace and device.
    """
    lowest = min(run[2][-1] for run in runs)
    tie = _TIED_OBJECTIVES[dtype_name(dtype)]
    return next(run for run in runs if run[2][-1] <= lowest + tie)


def _relative_weights(sample_weight):
    """Return sample weights divided by a power of two to a maximum in [0.5, 1).

    Sums of such weights can neither overflow nor lose all their terms to
    underflow, and they are in exact proportion to the given ones.
    """
    if sample_weight is None:
        return None
    xp, _ = namespace(sample_weight)
    exponent = math.frexp(float(xp.max(sample_weight)))[1]
    return times_power_of_two(sample_weight, -exponent, xp)


def _average(values, weights, xp):
    """Return the mean of ``values``, weighted by ``weights`` if given, a float."""
    if weights is None:
        return float(xp.mean(values))
    return float(xp.sum(values * weights) / xp.sum(weights))


# A partition is degenerate when its memberships are this close to uniform
# (modified partition coefficient, 0 for uniform memberships, 1 for a hard
# partition) or its closest two centers are this close relative to the
# radius of the clusters. Collapsed fits are orders of magnitude below both
# (about 1e-7 and 3e-4 on 2500-dimensional data with m = 2), while even very
# fuzzy fits of real structure stay well above (iris with m = 5: 0.11, 1.8;
# m = 10: 0.02, 1.4).
_UNIFORM_MEMBERSHIPS = 1e-2
_COINCIDENT_CENTERS = 1e-2


def _partition_coefficient(memberships, sample_weight):
    """Bezdek's partition coefficient ``sum_ij w_i u_ij^2 / sum_i w_i``."""
    xp, _ = namespace(memberships)
    # Sums of a few squares at most 1 lose nothing in float32; the average is
    # taken in the sample weights' type (float64 where the device has it).
    squares = xp.vecdot(memberships, memberships)
    if sample_weight is not None:
        squares = xp.astype(squares, sample_weight.dtype)
    return _average(squares, sample_weight, xp)


def _radius_sample(X, sample_weight):
    """Return the rows of ``X`` that estimate the radius, and their weights."""
    rows = radius_rows(X.shape[0])
    xp, is_numpy = namespace(X)
    if not is_numpy:
        rows = xp.asarray(rows, device=device(X))
    sample = X[rows] if is_numpy else xp.take(X, rows, axis=0)
    weights = None if sample_weight is None else to_numpy(sample_weight)[to_numpy(rows)]
    return sample, weights


def _center_separation(sample, centers, sample_weight):
    """Distance of the closest two centers over the radius of the clusters.

    The radius is the root-mean-square distance of samples to their nearest
    center, estimated on the rows ``sample`` (up to 256 evenly spaced rows,
    see :func:`radius_rows`, of weights ``sample_weight``, NumPy or
    ``None``): the spread of the data when the centers have merged, the
    clusters' own spread when they are apart. A far group of samples widens
    only its own cluster, not the yardstick of the others, and no weighting
    by the fuzzifier lets samples lying on a center dominate. ``inf`` for a
    single center, or when the sampled rows all lie on centers; 0 if two
    centers coincide.
    """
    if centers.shape[0] < 2:
        return np.inf
    xp, _ = namespace(sample)
    on = device(sample)
    # Both distances at the same working scale: their ratio holds at any scale.
    nearest, exponent = scaled_sq_distances(sample, centers)
    nearest = to_numpy(nearest)
    centers = xp.astype(centers, float_dtype(xp, on))
    scaled_centers = times_power_of_two(centers, -exponent, xp)
    # Squared distances between centers by the same refined expansion (exact
    # 0 for coincident centers), in memory of c x c rather than of all pairs.
    gaps = sq_distances(scaled_centers, scaled_centers)
    itself = xp.astype(xp.eye(centers.shape[0], device=on), xp.bool)
    closest = float(xp.min(xp.where(itself, math.inf, gaps)))
    if closest == 0:
        return 0.0
    weights = sample_weight
    if weights is not None and not weights.any():
        weights = None
    sq_radius = np.average(nearest.min(axis=1), weights=weights)
    # Samples all but on their centers leave a radius that may be subnormal:
    # the ratio then overflows to inf, which is what it is.
    with np.errstate(over="ignore"):
        return float(np.sqrt(closest / sq_radius)) if sq_radius > 0 else np.inf


class FuzzyCMeans(
    DocumentationLinkMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    ClusterMixin,
    BaseEstimator,
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
    split over threads; no copy of ``X`` is made. Under
    ``sklearn.config_context(array_api_dispatch=True)``, arrays of other
    array API libraries (torch on CPU or GPU, CuPy, array-api-strict) are
    fitted on their own device; Dask arrays are fitted block by block on the
    active Dask scheduler, never gathered (see Notes).

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
          (one run is then made: ``n_init`` > 1 warns and is ignored).

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
    cluster_centers_ : array of shape (n_clusters, n_features)
        Cluster centers, of ``X``'s dtype (and, under array API dispatch, of
        its library and device, as the other array attributes).

    memberships_ : array of shape (n_samples, n_clusters)
        Memberships of the training samples to the final centers.

    labels_ : array of shape (n_samples,)
        Cluster of largest membership of each training sample.

    objective_ : float
        Objective ``J`` of the final centers and memberships, in float64:
        ``inf`` (or 0) where ``J`` exceeds (or falls below) float64's range:
        float64 data beyond about 1e154 (or below about 1e-154), sample
        weights near float64's largest value, or a fuzzifier so large that
        every ``u ** m`` underflows (``m`` of several hundred). The fit
        itself works on ``log J`` and is unaffected.

    objective_history_ : list of float
        Objective ``J`` along the kept run, in float64 and in host memory
        whatever the library of ``X`` (a list, as scikit-learn keeps such
        histories): entry ``k`` is ``J`` of the centers after ``k`` updates
        (entry 0: the initial centers) with their memberships, the value
        that ``verbose`` prints at iteration ``k + 1``. A run that converged
        has ``n_iter_`` entries; a run stopped by ``max_iter`` has one more,
        of the centers its last iteration computed. The last entry is
        ``objective_``, and no entry is larger than the one before it, to
        rounding. ``inf`` and 0 as for ``objective_``. After
        :meth:`partial_fit`, the run of the last batch (clustered with the
        weighted previous centers, as ``objective_``).

    n_iter_ : int
        Number of iterations of the kept run.

    n_steps_ : int
        Number of batches seen: 1 after :meth:`fit`, one more after each
        :meth:`partial_fit`.

    center_weights_ : array of shape (n_clusters,)
        Total membership of each cluster, ``sum_i w_i u_ij`` over every
        sample seen (``w`` the sample weights): the weight of each center
        when :meth:`partial_fit` clusters a new batch with it. Sums to the
        total sample weight seen.

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

    With ``array_api_dispatch=True`` (and ``SCIPY_ARRAY_API=1`` set before
    SciPy is imported, as scikit-learn requires), ``X`` may be an array of
    any array API library scikit-learn supports; everything is computed on
    its device by one array API implementation of the iteration, and the
    fitted array attributes and the results of the methods are arrays of
    that library on that device. The numbers equal the NumPy fit's to
    rounding. ``sample_weight`` and initial centers may be of any library:
    they are moved to ``X``'s device. A fitted estimator's methods refuse
    data of another library or device with a ``ValueError``.

    A Dask array ``X`` (of NumPy blocks; ``pip install "fuzzyprune[dask]"``)
    is fitted by passes of one task per block of rows, each returning its
    weighted sums per cluster, merged as a tree in block order: results
    depend only on the data and its chunking, not on the scheduler, and
    equal the in-memory fit from the same initial centers to rounding.
    ``init="k-means++"`` is done as k-means|| [6]_ and ``init="random"``
    draws memberships block by block. ``memberships_`` and ``labels_`` are
    then lazy Dask arrays, left out when the estimator is pickled (they
    would carry the training data's graph; ``predict(X)`` gives them
    again); ``predict``, ``predict_proba`` and ``transform`` of a Dask
    array return lazy Dask arrays, and ``score`` computes a float. ``n_jobs``
    is not used: the scheduler places the blocks.

    ``predict`` assigns each sample to its nearest center, ``predict_proba``
    returns memberships of new samples and ``transform`` their distances to
    the centers; the last two follow ``set_output`` (DataFrames under
    ``set_output(transform="pandas")``, columns ``get_feature_names_out()``).

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
    .. [6] B. Bahmani, B. Moseley, A. Vattani, R. Kumar and S. Vassilvitskii,
       "Scalable k-means++", Proceedings of the VLDB Endowment 5(7),
       622-633, 2012.

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
    >>> fcm.objective_history_[-1] == fcm.objective_
    True
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
    @keeps_state_on_error
    def fit(self, X, y=None, sample_weight=None):
        """Compute fuzzy c-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples. float32 and float64 are used as they are (no
            copy when C-contiguous); other types become float64. Under
            array API dispatch, an array of any supported library, fitted on
            its device. A Dask array is fitted block by block (see Notes).

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
        if is_dask_collection(X):
            return self._fit_dask(X, sample_weight)
        X = self._check_data(X, reset=True)
        sample_weight = self._check_first_batch(X, sample_weight)
        fuzzifier, m = self._fuzzifier_function(*X.shape)
        data, run = self._fit_runs(X, sample_weight, fuzzifier)
        self.m_ = m
        self._set_fitted(X, data, run, sample_weight, fuzzifier, n_steps=1)
        return self

    def _fit_dask(self, X, sample_weight):
        """:meth:`fit` on a Dask array, one graph per pass over its blocks."""
        X = check_dask_array(self, X, reset=True)
        self._check_first_batch(X, None)
        sample_weight = check_dask_sample_weight(sample_weight, X)
        fuzzifier, m = self._fuzzifier_function(*X.shape)
        init, explicit_centers, seeds = self._runs_plan(X)
        data = DaskData(X, sample_weight, explicit_centers)
        record_features(self, X)
        runs = [
            _dask_fcm_single(
                data,
                data.initial_centers(
                    init, self.n_clusters, fuzzifier, np.random.RandomState(seed)
                ),
                fuzzifier,
                self.max_iter,
                self.tol,
                self.verbose,
            )
            for seed in seeds
        ]
        centers, stats, log_objectives, n_iter = _best_run(runs, X.dtype)
        self.m_ = m
        self.cluster_centers_ = data.from_scaled(centers)
        self.center_weights_ = stats.center_weights
        self.memberships_ = lazy_memberships(X, self.cluster_centers_, fuzzifier)
        self.labels_ = lazy_labels(self.memberships_)
        self._set_objectives(data, log_objectives)
        self.n_iter_ = n_iter
        self.n_steps_ = 1
        self.partition_coefficient_ = stats.partition_coefficient
        self.center_separation_ = _center_separation(
            stats.sample_rows, self.cluster_centers_, stats.sample_weights
        )
        n_distinct = int(np.count_nonzero(stats.label_counts))
        return self._finish_fit(fuzzifier, X.shape, n_distinct)

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_error
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the clustering with one batch of samples.

        The first call (on an unfitted estimator) fits the batch as
        :meth:`fit` does. Each later call clusters the batch together with
        the current centers, each center a point weighted by
        ``center_weights_``, the total membership of all samples seen so
        far (single-pass fuzzy c-means, Havens et al. [1]_), starting from
        the current centers: one pass over data of any size, in memory of
        one batch and the centers. The fuzzifier is fixed at the first
        batch: ``m="auto"`` uses that batch's shape (``N`` its number of
        rows).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One batch of samples: at least ``n_clusters`` rows for the first
            call, at least one for later ones, always with the features of
            the first.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample of the batch.

        Returns
        -------
        self : FuzzyCMeans
            Updated estimator: ``memberships_`` and ``labels_`` are those of
            this batch, ``objective_`` that of this batch together with the
            weighted previous centers, ``n_steps_`` the number of batches
            seen.

        Raises
        ------
        ValueError
            If a parameter is out of its range or the batch or its weights
            are invalid (as in :meth:`fit`); if the batch has other features
            than the batches before, values beyond the range of the first
            batch's float type (to which it is converted), or is of another
            array library or device; or if ``n_clusters``, ``m``,
            ``fuzzifier`` or ``beta`` differ from the first batch's. Nothing
            fitted changes then.

        References
        ----------
        .. [1] T. C. Havens, J. C. Bezdek, C. Leckie, L. O. Hall and M.
           Palaniswami, "Fuzzy c-means algorithms for very large data",
           IEEE Transactions on Fuzzy Systems 20(6), 1130-1146, 2012.
        """
        if is_dask_collection(X):
            raise TypeError(
                "X: partial_fit takes one batch in memory, not a Dask collection; "
                "fit a Dask array with fit, or pass its blocks one by one: "
                "for block in X.blocks: fcm.partial_fit(block.compute())."
            )
        if not hasattr(self, "cluster_centers_"):
            return self.fit(X, sample_weight=sample_weight)
        # scikit-learn's wrapper checks the parameters of a first fit only.
        self._validate_params()
        self._check_same_setting()
        check_same_namespace(X, self, "cluster_centers_", "partial_fit")
        X = self._check_data(X, reset=False)
        X = self._as_fitted_type(X)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        data, run = self._step_with_centers(X, sample_weight)
        self._set_fitted(
            X, data, run, sample_weight, self._fitted_fuzzifier, self.n_steps_ + 1
        )
        return self

    def _as_fitted_type(self, X):
        """Return a batch in the float type of the fit's first batch.

        Raises
        ------
        ValueError
            If the batch has values beyond that type's range.
        """
        dtype = self.cluster_centers_.dtype
        if X.dtype == dtype:
            return X
        # Values beyond the range become inf, refused below.
        with np.errstate(over="ignore"):
            if sp.issparse(X):
                X = X.astype(dtype)
                finite = np.isfinite(X.data).all()
            else:
                xp, _ = namespace(X)
                X = xp.astype(X, dtype)
                finite = bool(xp.all(xp.isfinite(X)))
        if not finite:
            raise ValueError(
                f"X holds values beyond the range of {dtype_name(dtype)}, the "
                "type of the first batch, which the fit keeps."
            )
        return X

    def _check_same_setting(self):
        """Refuse parameters that a later batch cannot change."""
        n_fitted = self.cluster_centers_.shape[0]
        if self.n_clusters != n_fitted:
            raise ValueError(
                f"n_clusters={self.n_clusters} differs from the {n_fitted} "
                "clusters fitted so far; partial_fit continues a fit, so keep "
                "n_clusters, or call fit to start again."
            )
        setting = {name: self.get_params()[name] for name in _FUZZIFIER_PARAMS}
        if setting != self._fitted_setting:
            raise ValueError(
                f"{setting} differs from the fuzzifier setting of the first "
                f"batch, {self._fitted_setting}; partial_fit keeps it fixed, so "
                "set it back, or call fit to start again."
            )

    def _step_with_centers(self, X, sample_weight):
        """Cluster a batch together with the weighted current centers."""
        xp, _ = namespace(X)
        centers = xp.astype(self.cluster_centers_, X.dtype)
        if sp.issparse(X):
            points = sp.vstack([X, sp.csr_matrix(centers)], format="csr")
        else:
            points = xp.concat([X, centers], axis=0)
        if sample_weight is None:
            sample_weight = xp.ones(
                X.shape[0], dtype=self.center_weights_.dtype, device=device(X)
            )
        weights = xp.concat([sample_weight, self.center_weights_], axis=0)
        with _row_threading(points) as n_threads:
            data = PreparedData(points, weights, n_threads, centers, self.n_clusters)
            run = _fcm_single(
                data,
                data.to_scaled(centers),
                self._fitted_fuzzifier,
                self.max_iter,
                self.tol,
                self.verbose,
            )
        return data, run

    def _check_first_batch(self, X, sample_weight):
        """Check the data a fit starts from; return its checked sample weights."""
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"X: n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}."
            )
        return None if sample_weight is None else check_sample_weight(sample_weight, X)

    def _runs_plan(self, X):
        """Return ``init``, explicit initial centers (or ``None``) and run seeds.

        Explicit centers (an array ``init``) are checked and make one run.
        """
        init = self.init
        n_init = self.n_init
        explicit_centers = None
        if not (isinstance(init, str) or callable(init)):
            init = explicit_centers = check_init(
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
        random_state = check_random_state(self.random_state)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init)
        return init, explicit_centers, seeds

    def _fit_runs(self, X, sample_weight, fuzzifier):
        """Run fuzzy c-means ``n_init`` times from ``init``; return the best run.

        Returns
        -------
        data : PreparedData
        run : tuple
            Centers (working units), memberships, ``log J`` and iterations.
        """
        init, explicit_centers, seeds = self._runs_plan(X)
        n_init = len(seeds)
        n_parallel_runs = min(effective_n_jobs(self.n_jobs), n_init)
        relative_weights = _relative_weights(sample_weight)

        def run(data, seed):
            centers = initial_centers(
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

        with _row_threading(X, n_parallel_runs) as n_threads:
            data = PreparedData(
                X, sample_weight, n_threads, explicit_centers, self.n_clusters
            )
            runs = Parallel(n_jobs=n_parallel_runs, prefer="threads")(
                delayed(run)(data, seed) for seed in seeds
            )
        return data, _best_run(runs, X.dtype)

    def _set_fitted(self, X, data, run, sample_weight, fuzzifier, n_steps):
        """Set the fitted attributes from the best run on ``data``.

        ``X`` holds the samples whose memberships are kept (the first rows
        of ``data``), of weights ``sample_weight``; every row of ``data``
        counts in ``center_weights_``.
        """
        centers, memberships, log_objectives, n_iter = run
        xp = data.xp
        all_weights = data.sample_weight
        if all_weights is None:
            center_weights = xp.sum(xp.astype(memberships, data.dtype), axis=0)
        else:
            # inf beyond float64's range, which only weights near it reach.
            with np.errstate(over="ignore"):
                center_weights = xp.matmul(
                    all_weights, xp.astype(memberships, data.dtype)
                )
        memberships = memberships[: X.shape[0], ...]
        relative_weights = _relative_weights(sample_weight)
        self.cluster_centers_ = data.from_scaled(centers)
        self.center_weights_ = center_weights
        self.memberships_ = memberships
        self.labels_ = xp.argmax(memberships, axis=1)
        self._set_objectives(data, log_objectives)
        self.n_iter_ = n_iter
        self.n_steps_ = n_steps
        self.partition_coefficient_ = _partition_coefficient(
            memberships, relative_weights
        )
        sample, sample_weights = _radius_sample(X, relative_weights)
        self.center_separation_ = _center_separation(
            sample, self.cluster_centers_, sample_weights
        )
        n_distinct = xp.unique_values(self.labels_).shape[0]
        return self._finish_fit(fuzzifier, X.shape, n_distinct)

    def _set_objectives(self, data, log_objectives):
        """Set ``objective_history_`` and ``objective_`` from a run's ``log J``.

        ``data`` (prepared in memory or Dask) maps ``log J`` in its working
        units to ``J`` in the data's. The history is a list of floats, as
        scikit-learn keeps such histories (``GaussianMixture.lower_bounds_``):
        on the host whatever the array library, where an array attribute
        would follow ``X``'s library and device.
        """
        self.objective_history_ = [data.objective(value) for value in log_objectives]
        self.objective_ = self.objective_history_[-1]

    def _finish_fit(self, fuzzifier, shape, n_distinct):
        """Keep what later calls need, and warn if the partition is degenerate.

        ``n_distinct`` is the number of clusters that are some sample's
        cluster of largest membership.
        """
        self._fitted_fuzzifier = fuzzifier
        self._fitted_setting = {
            name: self.get_params()[name] for name in _FUZZIFIER_PARAMS
        }
        self._n_distinct_labels = n_distinct
        self._n_features_out = self.n_clusters
        self._warn_if_degenerate(shape)
        return self

    def _partition_problems(self):
        """Describe what makes the fitted partition degenerate; empty if nothing.

        After the first batch of :meth:`partial_fit`, a batch may hold
        fewer groups than clusters: its labels are not counted.

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
        n_distinct = self._n_distinct_labels
        if n_distinct < n_clusters and self.n_steps_ == 1:
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
        X = prepared(X, "X")
        xp, _ = namespace(X)
        with checking(X, "X"):
            return validate_data(
                self,
                X,
                accept_sparse="csr",
                reset=reset,
                dtype=[xp.float64, xp.float32],
                order="C",
            )

    def _check_test_data(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, "cluster_centers_", method)
        return self._check_data(X, reset=False)

    def _evaluate(self, X, sample_weight=None):
        """Memberships of ``X`` to the fitted centers, and the objective ``J``."""
        # As many clusters as fitted, whatever n_clusters was set to since.
        with _row_threading(X) as n_threads:
            memberships, data, log_objective = evaluate(
                X,
                self.cluster_centers_,
                self._fitted_fuzzifier,
                sample_weight,
                n_threads,
            )
        return memberships, data.objective(log_objective)

    def _check_dask_test_data(self, X):
        """Validate a Dask array for a method, lazily; return it and the centers."""
        check_is_fitted(self)
        return check_dask_array(self, X, reset=False), to_numpy(self.cluster_centers_)

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
        labels : array of shape (n_samples,)
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
        memberships : {array, DataFrame} of shape (n_samples, n_clusters)
            Memberships in [0, 1], each row summing to 1. They follow the
            output configuration of :meth:`transform`: a pandas DataFrame
            under ``set_output(transform="pandas")`` or
            ``sklearn.set_config(transform_output="pandas")`` (a polars one
            for ``"polars"``), with the columns ``get_feature_names_out()``
            and, for a DataFrame ``X``, its index. A lazy Dask array for a
            Dask ``X``, whatever the configuration.

        Examples
        --------
        >>> import pandas as pd
        >>> from fuzzyprune import FuzzyCMeans
        >>> X = pd.DataFrame({"x": [0.0, 0.0, 9.0, 9.0, 4.0], "y": [0, 2, 0, 2, 1]},
        ...                  index=["a", "b", "c", "d", "e"])
        >>> fcm = FuzzyCMeans(2, random_state=0).set_output(transform="pandas")
        >>> fcm.fit(X).predict_proba(X).round(2)
           fuzzycmeans0  fuzzycmeans1
        a          0.02          0.98
        b          0.02          0.98
        c          0.98          0.02
        d          0.98          0.02
        e          0.31          0.69
        """
        memberships = self._memberships(X)
        if is_dask_collection(memberships):
            # A DataFrame would gather the memberships into memory.
            return memberships
        return _wrap_data_with_container("transform", memberships, X, self)

    def _memberships(self, X):
        """:meth:`predict_proba` as an array, whatever the output configuration.

        The library's own computations (scorers, fitness) use this.
        """
        if is_dask_collection(X):
            X, centers = self._check_dask_test_data(X)
            return lazy_memberships(X, centers, self._fitted_fuzzifier)
        X = self._check_test_data(X, "predict_proba")
        return self._evaluate(X)[0]

    def predict(self, X):
        """Return the cluster of largest membership, i.e. the nearest center.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : array of shape (n_samples,)
            Cluster index of each sample; a lazy Dask array for a Dask ``X``.
        """
        if is_dask_collection(X):
            return lazy_labels(self._memberships(X))
        X = self._check_test_data(X, "predict")
        memberships = self._evaluate(X)[0]
        return namespace(memberships)[0].argmax(memberships, axis=1)

    def transform(self, X):
        """Return the Euclidean distances of samples to the cluster centers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        distances : array of shape (n_samples, n_clusters)
            Distance of each sample to each center, of ``X``'s dtype: ``inf``
            beyond its range, which only centers fitted on float64 data can
            reach for float32 ``X``. A lazy Dask array for a Dask ``X``.
        """
        if is_dask_collection(X):
            return lazy_distances(*self._check_dask_test_data(X))
        X = self._check_test_data(X, "transform")
        return distances(X, self.cluster_centers_)

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the distances of the samples to the centers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples, as in :meth:`fit`.

        y : Ignored
            Not used, present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample, as in :meth:`fit`.

        Returns
        -------
        distances : {array, DataFrame} of shape (n_samples, n_clusters)
            Distance of each sample to each fitted center, as
            :meth:`transform` gives them, in the configured output container.
        """
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def set_output(self, *, transform=None):
        """Set the output container of the distances and the memberships.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            Container of what :meth:`transform`, :meth:`fit_transform` and
            :meth:`predict_proba` return: ``"default"`` the input's kind of
            array, ``"pandas"`` or ``"polars"`` a DataFrame whose columns are
            ``get_feature_names_out()``, one per cluster, keeping a
            DataFrame ``X``'s index; ``None`` leaves the configuration
            unchanged. Dask input gives lazy arrays whatever the setting for
            :meth:`predict_proba`, and arrays of the array API that pandas
            cannot read (on a GPU) need ``"default"``.

        Returns
        -------
        self : FuzzyCMeans
            The estimator.
        """
        return super().set_output(transform=transform)

    def score(self, X, y=None, sample_weight=None):
        """Return the opposite of the objective ``J`` of ``X``.

        Memberships of ``X`` are the optimal ones for the fitted centers, as
        in :meth:`predict_proba`. ``J`` depends on the fuzzifier (``J_m``
        shrinks as ``m`` grows): to compare fits of different ``m`` or
        ``fuzzifier``, use a validity-index scorer of
        :mod:`fuzzyprune.metrics` (such as ``neg_xie_beni``).

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
            falls below) float64's range, as for ``objective_``. For a Dask
            ``X``, computed by one pass over its blocks (a number, as model
            selection requires).

        Raises
        ------
        ValueError
            If ``X`` or ``sample_weight`` is invalid, as in :meth:`fit`.
        """
        if is_dask_collection(X):
            X, centers = self._check_dask_test_data(X)
            sample_weight = check_dask_sample_weight(sample_weight, X)
            return dask_score(X, sample_weight, centers, self._fitted_fuzzifier)
        X = self._check_test_data(X, "score")
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        return -self._evaluate(X, sample_weight)[1]

    def __getstate__(self):
        # A copy: the state may be the estimator's own dictionary.
        state = dict(super().__getstate__())
        # The lazy memberships and labels of a Dask fit hold the graph of the
        # training data (for an array made from memory, the data itself).
        for name in _LAZY_ATTRIBUTES:
            if is_dask_collection(state.get(name)):
                del state[name]
                state["_lazy_attributes_left_out"] = True
        return state

    def __deepcopy__(self, memo):
        # A copy in memory keeps what a pickle leaves out.
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied

    def __getattr__(self, name):
        if name in _LAZY_ATTRIBUTES and self.__dict__.get("_lazy_attributes_left_out"):
            raise AttributeError(
                f"{name} of a fit on a Dask array is not pickled, as it holds "
                f"the training data's graph; predict_proba(X) and predict(X) "
                "give the memberships and labels again."
            )
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.array_api_support = True
        return tags


def memberships_of(clusterer, X):
    """Return the memberships ``clusterer.predict_proba(X)`` as an array.

    :meth:`FuzzyCMeans.predict_proba` follows the output configuration
    (``set_output``), which may make it a DataFrame; the library's own
    computations take the array. Other clusterers are asked for
    ``predict_proba``.
    """
    if isinstance(clusterer, FuzzyCMeans):
        return clusterer._memberships(X)
    return clusterer.predict_proba(X)
