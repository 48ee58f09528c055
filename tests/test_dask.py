"""FuzzyCMeans on Dask arrays: block-wise passes, k-means|| seeding, lazy methods."""

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_blobs

from fuzzyprune import FuzzyCMeans

da = pytest.importorskip("dask.array")
import dask  # noqa: E402
from dask.callbacks import Callback  # noqa: E402

from fuzzyprune._fcm_dask import DaskData  # noqa: E402

N_CLUSTERS = 4
# Relative tolerance of the objective between the Dask and in-memory fits.
OBJECTIVE_RTOL = {np.float64: 1e-10, np.float32: 1e-5}
CENTER_RTOL = {np.float64: 1e-9, np.float32: 1e-4}

CHUNKINGS = {
    "one chunk": (2000, 6),
    "even": (500, 6),
    "uneven": ((300, 700, 123, 877), (6,)),
    "one-row chunk": ((1, 999, 1000), (6,)),
    "column chunks": (500, 3),
    "empty chunk": ((1000, 0, 1000), (6,)),
}


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(2000, 6, centers=N_CLUSTERS, random_state=0)
    return X


@pytest.fixture(scope="module")
def fits(blobs):
    """A Dask fit and the in-memory fit from the same centers; not to be refitted."""
    return _fit_both(blobs, (500, 6))


def _init(X):
    """Explicit initial centers: rows of X from each of the blobs."""
    return X[[0, 1, 2, 4]]


def _fit_both(X, chunks, dask_weights=None, **params):
    """Fit X in memory and as a Dask array from the same initial centers."""
    params = {"init": _init(X), **params}
    weights = dask_weights
    if dask_weights is not None and hasattr(dask_weights, "compute"):
        weights = dask_weights.compute()
    memory = FuzzyCMeans(N_CLUSTERS, **params).fit(X, sample_weight=weights)
    fitted = FuzzyCMeans(N_CLUSTERS, **params).fit(
        da.from_array(X, chunks=chunks), sample_weight=dask_weights
    )
    return fitted, memory


def _assert_same_fit(fitted, memory, dtype=np.float64, scale=1.0):
    """``fitted`` (Dask) equals ``memory`` (in memory) to rounding.

    ``memory`` may be the fit of ``X / scale``, whose objective times
    ``scale ** 2`` may overflow to inf or underflow to 0.
    """
    rtol = OBJECTIVE_RTOL[dtype]
    objective = memory.objective_ * scale * scale
    assert fitted.objective_ == pytest.approx(objective, rel=rtol)
    assert fitted.n_iter_ == memory.n_iter_
    assert fitted.objective_history_[-1] == fitted.objective_
    with np.errstate(over="ignore"):
        history = np.asarray(memory.objective_history_) * scale * scale
    np.testing.assert_allclose(fitted.objective_history_, history, rtol)
    assert fitted.cluster_centers_.dtype == dtype
    np.testing.assert_allclose(
        fitted.cluster_centers_ / scale,
        memory.cluster_centers_,
        rtol=CENTER_RTOL[dtype],
        atol=CENTER_RTOL[dtype] * np.abs(memory.cluster_centers_).max(),
    )
    np.testing.assert_array_equal(fitted.labels_.compute(), memory.labels_)
    assert fitted.partition_coefficient_ == pytest.approx(
        memory.partition_coefficient_, rel=rtol
    )
    assert fitted.center_separation_ == pytest.approx(
        memory.center_separation_, rel=CENTER_RTOL[dtype]
    )
    np.testing.assert_allclose(
        fitted.center_weights_, memory.center_weights_, rtol=CENTER_RTOL[dtype]
    )


class _TaskResults(Callback):
    """Count the tasks run on a local scheduler and the shapes of their arrays."""

    def __init__(self):
        super().__init__()
        self.n_tasks = 0
        self.shapes = []

    def _posttask(self, key, result, dsk, state, worker_id):
        self.n_tasks += 1
        for value in result if isinstance(result, tuple) else (result,):
            if isinstance(value, np.ndarray) and value.ndim:
                self.shapes.append(value.shape)

    def largest_rows(self, n_features=None):
        """The most rows of a result (of ``n_features`` columns if given)."""
        return max(
            (
                shape[0]
                for shape in self.shapes
                if n_features is None or shape[1:] == (n_features,)
            ),
            default=0,
        )


@pytest.mark.parametrize(
    "chunking, dtype",
    [pytest.param(name, np.float64, id=name) for name in CHUNKINGS]
    + [
        pytest.param(name, np.float32, id=f"{name}, float32")
        for name in ("uneven", "column chunks")
    ],
)
def test_dask_fit_equals_the_fit_in_memory(blobs, chunking, dtype):
    fitted, memory = _fit_both(blobs.astype(dtype), CHUNKINGS[chunking], m=2.0)
    _assert_same_fit(fitted, memory, dtype)
    np.testing.assert_allclose(
        fitted.memberships_.compute(),
        memory.memberships_,
        rtol=CENTER_RTOL[dtype],
        atol=CENTER_RTOL[dtype],
    )


@pytest.mark.parametrize("kind", ["numpy", "dask"])
def test_dask_fit_with_sample_weights_equals_the_fit_in_memory(blobs, kind):
    weights = np.random.default_rng(0).uniform(0, 3, blobs.shape[0])
    if kind == "dask":
        # Chunked otherwise than X: the weights follow X's chunks.
        weights = da.from_array(weights, chunks=300)
    fitted, memory = _fit_both(blobs, (500, 6), weights, m=2.0)
    _assert_same_fit(fitted, memory)
    unweighted = FuzzyCMeans(N_CLUSTERS, m=2.0, init=_init(blobs)).fit(blobs)
    assert fitted.objective_ != pytest.approx(unweighted.objective_, rel=1e-3)


@pytest.mark.parametrize(
    "params",
    [{}, {"m": 1.3}, {"fuzzifier": "polynomial"}, {"max_iter": 2}],
    ids=["auto", "m=1.3", "polynomial", "stopped by max_iter"],
)
def test_dask_fit_equals_the_fit_in_memory_for_each_fuzzifier(blobs, params):
    fitted, memory = _fit_both(blobs, ((300, 700, 123, 877), (6,)), **params)
    _assert_same_fit(fitted, memory)
    assert fitted.m_ == memory.m_
    # One entry per iteration and, after the last one, of its centers.
    expected_entries = 3 if params == {"max_iter": 2} else memory.n_iter_
    assert len(fitted.objective_history_) == expected_entries


# Squared distances of data beyond 1e154 overflow, below 1e-154 underflow,
# unless the data is scaled; objectives at 1e300 overflow, at 1e-300 underflow.
@pytest.mark.parametrize("scale", [1e150, 1e-150, 1e300, 1e-300])
def test_dask_fit_of_data_at_extreme_scale(blobs, scale):
    memory = FuzzyCMeans(N_CLUSTERS, m=2.0, init=_init(blobs)).fit(blobs)
    scaled = blobs * scale
    fitted = FuzzyCMeans(N_CLUSTERS, m=2.0, init=_init(scaled)).fit(
        da.from_array(scaled, chunks=((300, 700, 123, 877), (6,)))
    )
    _assert_same_fit(fitted, memory, scale=scale)
    scaled_memory = FuzzyCMeans(N_CLUSTERS, m=2.0, init=_init(scaled)).fit(scaled)
    assert fitted.objective_ == pytest.approx(scaled_memory.objective_, rel=1e-10)
    np.testing.assert_allclose(
        fitted.memberships_.compute(), memory.memberships_, rtol=1e-9, atol=1e-15
    )


def _fit_on_scheduler(X, scheduler):
    with dask.config.set(scheduler=scheduler):
        return FuzzyCMeans(N_CLUSTERS, random_state=0).fit(X)


@pytest.fixture(scope="module")
def threaded_fit(blobs):
    """A fit seeded by k-means|| on the threaded scheduler."""
    return _fit_on_scheduler(da.from_array(blobs, chunks=(500, 6)), "threads")


def _assert_bitwise_equal(one, other):
    np.testing.assert_array_equal(one.cluster_centers_, other.cluster_centers_)
    np.testing.assert_array_equal(one.center_weights_, other.center_weights_)
    assert one.objective_ == other.objective_
    np.testing.assert_array_equal(one.objective_history_, other.objective_history_)
    assert one.n_iter_ == other.n_iter_
    assert one.partition_coefficient_ == other.partition_coefficient_
    assert one.center_separation_ == other.center_separation_


@pytest.mark.parametrize(
    "scheduler", ["sync", pytest.param("processes", marks=pytest.mark.slow)]
)
def test_results_do_not_depend_on_the_scheduler(blobs, threaded_fit, scheduler):
    X = da.from_array(blobs, chunks=(500, 6))
    _assert_bitwise_equal(_fit_on_scheduler(X, scheduler), threaded_fit)


def _fit_on_cluster(X, processes):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=processes,
            threads_per_worker=1,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster),
    ):
        return FuzzyCMeans(N_CLUSTERS, random_state=0).fit(X)


@pytest.mark.parametrize(
    "processes", [False, pytest.param(True, marks=pytest.mark.slow)]
)
def test_a_distributed_cluster_gives_the_threaded_result(
    blobs, threaded_fit, processes
):
    on_cluster = _fit_on_cluster(da.from_array(blobs, chunks=(500, 6)), processes)
    _assert_bitwise_equal(on_cluster, threaded_fit)


def _separated_blobs(n_blobs=6, rows=300, seed=0):
    """Tight blobs far apart: the corners of a simplex at distance 100."""
    centers = 100.0 * np.eye(n_blobs)
    rng = np.random.default_rng(seed)
    X = np.concatenate(
        [center + 0.1 * rng.standard_normal((rows, n_blobs)) for center in centers]
    )
    return X, centers


def _blobs_hit(seeds, centers, radius=5.0):
    """Number of distinct ``centers`` that some seed lies within ``radius`` of."""
    distances = np.linalg.norm(seeds[:, None, :] - centers[None, :, :], axis=2)
    near = distances.min(axis=1) < radius
    return len(set(distances.argmin(axis=1)[near]))


def _seed(X, n_clusters, seed, sample_weight=None, chunks=700):
    weights = None if sample_weight is None else da.from_array(sample_weight, chunks)
    data = DaskData(da.from_array(X, chunks=(chunks, X.shape[1])), weights)
    return data.from_scaled(
        data.kmeans_parallel(n_clusters, np.random.RandomState(seed))
    )


def test_kmeans_parallel_is_reproducible_and_seeds_every_separated_blob():
    X, centers = _separated_blobs()
    seeds = [_seed(X, 6, seed) for seed in (0, 1)]
    for seeded in seeds:
        assert seeded.shape == (6, 6)
        assert _blobs_hit(seeded, centers) == 6
    np.testing.assert_array_equal(_seed(X, 6, 0), seeds[0])
    assert not np.array_equal(seeds[1], seeds[0])


def test_kmeans_parallel_weighs_candidates_by_the_rows_they_attract():
    # Three dense blobs and a few scattered outliers: the outliers are most
    # of the candidates, but attract few rows; k-means++ on the candidates
    # must still choose the blobs.
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [0.0, 20.0, 0.0]])
    X = np.concatenate(
        [center + 0.5 * rng.standard_normal((600, 3)) for center in centers]
        + [10 + 100 * rng.standard_normal((10, 3)) / np.sqrt(3)]
    )
    hits = [
        _blobs_hit(_seed(X, 3, seed, chunks=1000), centers, 2.0) for seed in range(3)
    ]
    assert np.mean(hits) >= 2.5, hits


def test_kmeans_parallel_never_seeds_rows_of_weight_zero():
    X, centers = _separated_blobs(n_blobs=6)
    # The last blob weighs nothing: five centers for the five others.
    weights = np.ones(X.shape[0])
    weights[-300:] = 0
    seeds = _seed(X, 5, 0, weights)
    assert _blobs_hit(seeds, centers[:5]) == 5
    assert _blobs_hit(seeds, centers[5:]) == 0
    # Unweighted, the far blob draws a center.
    assert _blobs_hit(_seed(X, 5, 0), centers[5:]) == 1


def _crowded_blobs():
    """A large blob, a small far one and many scattered rows of weight 0."""
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0]])
    X = np.concatenate(
        [
            centers[0] + 0.5 * rng.standard_normal((1500, 3)),
            centers[1] + 0.5 * rng.standard_normal((6, 3)),
            rng.uniform(-1000, 1000, (1000, 3)),
        ]
    )
    weights = np.concatenate([np.ones(1506), np.zeros(1000)])
    order = rng.permutation(X.shape[0])
    return X[order], weights[order], centers


def test_kmeans_parallel_draws_candidates_by_weighted_distance():
    # Drawn by distance alone, the scattered rows would crowd out the small
    # blob; by weight alone, the large blob would.
    X, weights, centers = _crowded_blobs()
    for seed in range(2):
        assert _blobs_hit(_seed(X, 2, seed, weights), centers) == 2


def test_kmeans_parallel_draws_its_first_row_by_weight():
    X, weights, _ = _crowded_blobs()
    data = DaskData(da.from_array(X, chunks=(700, 3)), da.from_array(weights, 700))
    rows = np.concatenate(
        [data._weighted_row(np.random.RandomState(seed)) for seed in range(30)]
    )
    is_weighted_row = (rows[:, None, :] == X[None, weights > 0, :]).all(axis=2)
    assert is_weighted_row.any(axis=1).all()


def test_random_init_on_dask_is_reproducible_and_converges():
    X, _ = make_blobs(800, 5, centers=4, cluster_std=0.5, random_state=1)
    dX = da.from_array(X, chunks=(400, 5))
    random = [
        FuzzyCMeans(4, m=1.5, init="random", random_state=0).fit(dX) for _ in range(2)
    ]
    _assert_bitwise_equal(*random)
    other_seed = FuzzyCMeans(4, m=1.5, init="random", random_state=1).fit(dX)
    # Another start: the same optimum, reached by another path.
    assert not np.array_equal(other_seed.cluster_centers_, random[0].cluster_centers_)
    seeded = FuzzyCMeans(4, m=1.5, random_state=0).fit(dX)
    for fitted in (random[0], other_seed):
        assert fitted.objective_ == pytest.approx(seeded.objective_, rel=1e-6)


def test_fit_never_gathers_X(blobs):
    X = da.from_array(blobs, chunks=(500, 6))
    with _TaskResults() as results:
        FuzzyCMeans(N_CLUSTERS, random_state=0).fit(X)
    assert results.n_tasks > 0
    assert results.largest_rows() <= 500
    assert blobs.shape not in results.shapes


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform"])
def test_methods_on_dask_arrays_are_lazy(blobs, fits, method):
    memory = fits[1]
    X = da.from_array(blobs, chunks=((300, 700, 0, 1000), (6,)))
    with _TaskResults() as results:
        lazy = getattr(memory, method)(X)
    assert results.n_tasks == 0
    assert isinstance(lazy, da.Array)
    expected = getattr(memory, method)(blobs)
    assert lazy.shape == np.shape(expected)
    with _TaskResults() as results:
        computed = lazy.compute()
    assert results.n_tasks > 0
    # The result is whole; X is not.
    assert results.largest_rows(n_features=blobs.shape[1]) <= 1000
    if method == "predict":
        np.testing.assert_array_equal(computed, expected)
    else:
        np.testing.assert_allclose(computed, expected, rtol=1e-10, atol=1e-15)


def test_memberships_stay_lazy_under_pandas_output(blobs, fits):
    X = da.from_array(blobs, chunks=500)
    with sklearn.config_context(transform_output="pandas"), _TaskResults() as results:
        memberships = fits[1].predict_proba(X)
    assert results.n_tasks == 0
    assert isinstance(memberships, da.Array)


def test_fitted_memberships_and_labels_are_lazy(blobs, fits):
    fitted, memory = fits
    assert isinstance(fitted.memberships_, da.Array)
    assert isinstance(fitted.labels_, da.Array)
    assert isinstance(fitted.cluster_centers_, np.ndarray)
    assert isinstance(fitted.center_weights_, np.ndarray)
    np.testing.assert_allclose(
        fitted.memberships_.compute(),
        memory.predict_proba(blobs),
        rtol=1e-9,
        atol=1e-15,
    )
    np.testing.assert_array_equal(fitted.labels_.compute(), memory.predict(blobs))
    X = da.from_array(blobs, chunks=700)
    with _TaskResults() as results:
        score = fitted.score(X)
    # A number, as model selection requires, from one pass over the blocks.
    assert isinstance(score, float)
    assert results.largest_rows(n_features=blobs.shape[1]) <= 700
    assert -score == pytest.approx(fitted.objective_, rel=1e-12)


def test_dask_score_serves_model_selection(blobs):
    from sklearn.model_selection import cross_val_score

    X = da.from_array(blobs, chunks=500)
    scores = cross_val_score(FuzzyCMeans(N_CLUSTERS, random_state=0), X, cv=2)
    expected = cross_val_score(FuzzyCMeans(N_CLUSTERS, random_state=0), blobs, cv=2)
    # k-means|| and k-means++ start apart; both fits find the four blobs,
    # within the fits' tolerance.
    np.testing.assert_allclose(scores, expected, rtol=1e-4)


def test_dask_score_with_sample_weights(blobs, fits):
    memory = fits[1]
    weights = np.random.default_rng(0).uniform(0, 3, blobs.shape[0])
    X = da.from_array(blobs, chunks=(500, 6))
    expected = memory.score(blobs, sample_weight=weights)
    for given in (weights, da.from_array(weights, chunks=700)):
        score = memory.score(X, sample_weight=given)
        assert score == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="sample_weight: all weights are 0"):
        memory.score(X, sample_weight=da.zeros(blobs.shape[0], chunks=700))


def _with_nan(X):
    X = X.copy()
    X[1234, 2] = np.nan
    return da.from_array(X, chunks=(500, 6))


def test_nan_in_a_block_fails_the_fit_and_keeps_the_fitted_state(blobs):
    fitted = FuzzyCMeans(N_CLUSTERS, init=_init(blobs)).fit(blobs)
    centers = fitted.cluster_centers_.copy()
    objective = fitted.objective_
    with pytest.raises(ValueError, match="X"):
        fitted.fit(_with_nan(blobs))
    np.testing.assert_array_equal(fitted.cluster_centers_, centers)
    assert fitted.objective_ == objective
    assert isinstance(fitted.labels_, np.ndarray)


def test_nan_in_a_block_of_other_features_keeps_the_fitted_state(blobs):
    fitted = FuzzyCMeans(N_CLUSTERS, random_state=0).fit(blobs)
    labels = fitted.predict(blobs)
    with pytest.raises(ValueError, match="X"):
        fitted.fit(_with_nan(blobs)[:, :5])
    assert fitted.n_features_in_ == blobs.shape[1]
    np.testing.assert_array_equal(fitted.predict(blobs), labels)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform"])
def test_nan_in_a_block_fails_a_method_when_computed(blobs, fits, method):
    lazy = getattr(fits[1], method)(_with_nan(blobs))
    with pytest.raises(ValueError, match="X"):
        lazy.compute()


def test_nan_in_a_block_fails_the_score(blobs, fits):
    with pytest.raises(ValueError, match="X"):
        fits[1].score(_with_nan(blobs))


def _lying_blocks(X, block):
    """A Dask array of X whose second block is ``block``, declared as X's rows."""
    import dask

    parts = [
        da.from_array(X[:1000], chunks=(1000, 6)),
        da.from_delayed(dask.delayed(block), shape=(1000, 6), dtype=X.dtype),
    ]
    return da.concatenate(parts)


LYING_BLOCKS = {
    "a list": (lambda X: X[1000:].tolist(), "is a list"),
    "fewer rows": (lambda X: X[1000:1999], "shape \\(999, 6\\)"),
    "fewer columns": (lambda X: X[1000:, :5], "shape \\(1000, 5\\)"),
    "other type": (lambda X: X[1000:].astype(np.int32), "int32"),
}


@pytest.mark.parametrize("case", LYING_BLOCKS.values(), ids=LYING_BLOCKS.keys())
def test_blocks_unlike_their_declaration_are_refused(blobs, fits, case):
    make, message = case
    X = _lying_blocks(blobs, make(blobs))
    fitted = fits[1]
    centers = fitted.cluster_centers_.copy()
    with pytest.raises(ValueError, match="X: a block of the Dask array"):
        fitted.fit(X)
    np.testing.assert_array_equal(fitted.cluster_centers_, centers)
    for method in ("predict", "predict_proba", "transform"):
        with pytest.raises(ValueError, match=message):
            getattr(fitted, method)(X).compute()


BAD_DATA = {
    "1-d": (lambda X: X[:, 0], ValueError, "X: expected a 2-d"),
    "3-d": (lambda X: X[:, :, None], ValueError, "X: expected a 2-d"),
    "strings": (lambda X: X.astype(str), TypeError, "X: .*not a real number"),
    "complex": (lambda X: X.astype(complex), TypeError, "X: .*not a real number"),
    "unknown chunks": (lambda X: X[X[:, 0] > 0], ValueError, "X: .*unknown"),
    "delayed": (lambda X: X.to_delayed()[0, 0], TypeError, "X: a Dask collection"),
    "strings as objects": (
        lambda X: X.astype(str).astype(object),
        ValueError,
        "X holds strings",
    ),
    "complex as objects": (
        lambda X: (X + 1j).astype(object),
        ValueError,
        "X holds complex",
    ),
    "too few rows": (lambda X: X[:3], ValueError, "X: n_samples=3"),
}


@pytest.mark.parametrize("case", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_bad_dask_data_is_refused(blobs, case):
    make, error, message = case
    with pytest.raises(error, match=message):
        FuzzyCMeans(N_CLUSTERS).fit(make(da.from_array(blobs, chunks=(500, 6))))


BAD_WEIGHTS = {
    "negative": lambda w: da.from_array(-w, chunks=700),
    "wrong length": lambda w: da.from_array(w[:-1], chunks=700),
    "all zero in memory": lambda w: 0 * w,
    "all zero": lambda w: da.from_array(0 * w, chunks=700),
    "nan": lambda w: da.from_array(np.where(w > 2.9, np.nan, w), chunks=700),
    "strings": lambda w: da.from_array(w.astype(str).astype(object), chunks=700),
}


@pytest.mark.parametrize("make", BAD_WEIGHTS.values(), ids=BAD_WEIGHTS.keys())
def test_bad_dask_sample_weights_are_refused(blobs, make):
    weights = make(np.random.default_rng(0).uniform(0, 3, blobs.shape[0]))
    X = da.from_array(blobs, chunks=(500, 6))
    with pytest.raises(ValueError, match="sample_weight"):
        FuzzyCMeans(N_CLUSTERS).fit(X, sample_weight=weights)


def test_a_dask_dataframe_is_refused(blobs):
    dd = pytest.importorskip("dask.dataframe", exc_type=ImportError)
    frame = dd.from_array(blobs, chunksize=500)
    with pytest.raises(TypeError, match="X: a Dask collection"):
        FuzzyCMeans(N_CLUSTERS).fit(frame)


def test_partial_fit_refuses_a_dask_array(blobs):
    with pytest.raises(TypeError, match="X: partial_fit"):
        FuzzyCMeans(N_CLUSTERS).partial_fit(da.from_array(blobs, chunks=500))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform", "score"])
def test_methods_refuse_another_number_of_features(blobs, fits, method):
    X = da.from_array(blobs[:, :5], chunks=500)
    with pytest.raises(ValueError, match="features"):
        getattr(fits[0], method)(X)


def test_the_fit_in_memory_never_imports_dask():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from fuzzyprune import FuzzyCMeans\n"
        "X = np.random.default_rng(0).random((50, 3))\n"
        "fitted = FuzzyCMeans(2, random_state=0).fit(X)\n"
        "fitted.predict(X)\n"
        "fitted.score(X)\n"
        "loaded = {'dask', 'distributed'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_dask_fit_predicts_numpy_input(blobs, fits):
    fitted, memory = fits
    labels = fitted.predict(blobs)
    assert isinstance(labels, np.ndarray)
    np.testing.assert_array_equal(labels, memory.predict(blobs))
    np.testing.assert_allclose(
        fitted.predict_proba(blobs), memory.predict_proba(blobs), rtol=1e-9
    )


def test_a_pickled_dask_fit_predicts_alike_without_the_training_data(blobs, fits):
    fitted = fits[0]
    dumped = pickle.dumps(fitted)
    # The lazy memberships and labels would carry X (96 kB) in their graph.
    assert len(dumped) < blobs.nbytes / 10
    restored = pickle.loads(dumped)
    assert not hasattr(restored, "labels_") and not hasattr(restored, "memberships_")
    with pytest.raises(AttributeError, match="not pickled.*predict"):
        _ = restored.labels_
    # A copy in memory keeps them.
    copied = copy.deepcopy(fitted)
    np.testing.assert_array_equal(copied.labels_.compute(), fitted.labels_.compute())
    assert fitted.labels_ is not None
    np.testing.assert_array_equal(restored.cluster_centers_, fitted.cluster_centers_)
    np.testing.assert_array_equal(restored.predict(blobs), fitted.predict(blobs))
    X = da.from_array(blobs, chunks=500)
    np.testing.assert_array_equal(
        restored.predict(X).compute(), fitted.labels_.compute()
    )


def test_object_arrays_of_numbers_are_fitted_as_float64(blobs):
    X = da.from_array(blobs.astype(object), chunks=(500, 6))
    fitted = FuzzyCMeans(N_CLUSTERS, init=_init(blobs)).fit(X)
    memory = FuzzyCMeans(N_CLUSTERS, init=_init(blobs)).fit(blobs)
    assert fitted.cluster_centers_.dtype == np.float64
    assert fitted.objective_ == pytest.approx(memory.objective_, rel=1e-10)
