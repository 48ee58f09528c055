import functools
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, euclidean_distances
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info, threadpool_limits

import fuzzyprune._chunks
import fuzzyprune.metrics
from fuzzyprune import FuzzyCMeans, GAFeatureSelector
from fuzzyprune._fcm_data import PreparedData
from fuzzyprune._fcm_init import kmeans_plusplus
from fuzzyprune._fuzzifiers import PowerFuzzifier
from fuzzyprune.metrics import get_scorer


def reference_memberships(X, centers, m):
    """Eq. 2 evaluated literally, with raw powers of distances."""
    distances = euclidean_distances(X, centers)
    ratios = distances[:, :, None] / distances[:, None, :]
    return 1.0 / (ratios ** (2.0 / (m - 1.0))).sum(axis=2)


def reference_objective(X, centers, memberships, m=None, fuzzifier="power", beta=0.5):
    """Eq. 6 evaluated literally, with ``u ** m`` or the polynomial ``g(u)``."""
    if fuzzifier == "power":
        weights = memberships**m
    else:
        weights = ((1 - beta) * memberships**2 + 2 * beta * memberships) / (1 + beta)
    sq_distances = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return float((weights * sq_distances).sum())


def reference_fcm(X, n_clusters, m, seed, n_iter=300):
    """Textbook fuzzy c-means: random memberships, then eq. 1 and eq. 2 in turn."""
    rng = np.random.default_rng(seed)
    memberships = rng.random((X.shape[0], n_clusters))
    memberships /= memberships.sum(axis=1, keepdims=True)
    for _ in range(n_iter):
        weights = memberships**m
        centers = weights.T @ X / weights.sum(axis=0)[:, None]
        memberships = reference_memberships(X, centers, m)
    return reference_objective(X, centers, memberships, m)


@pytest.fixture
def blobs():
    X, y = make_blobs(n_samples=300, centers=3, cluster_std=1.0, random_state=0)
    return X, y


def test_hand_computed_iteration():
    # One iteration from centers 0 and 3 on samples 0, 1, 3 with m = 2: sample 1
    # has memberships 1 / (1 + 1/4) = 0.8 and 0.2; samples 0 and 3 sit on centers.
    X = np.array([[0.0], [1.0], [3.0]])
    fcm = FuzzyCMeans(2, m=2.0, init=[[0.0], [3.0]], max_iter=1, tol=0).fit(X)
    assert_allclose(fcm.cluster_centers_.ravel(), [0.64 / 1.64, 3.04 / 1.04])
    # Memberships and objective are those of the updated centers.
    memberships = reference_memberships(X, fcm.cluster_centers_, 2.0)
    assert_allclose(fcm.memberships_, memberships)
    expected = reference_objective(X, fcm.cluster_centers_, memberships, 2.0)
    assert fcm.objective_ == pytest.approx(expected, rel=1e-12)
    # The objective of the initial centers, 0.8^2 * 1 + 0.2^2 * 2^2, then of
    # the updated ones.
    assert_allclose(fcm.objective_history_, [0.8, fcm.objective_], rtol=1e-12)


def test_objective_history_is_the_objective_after_each_update(blobs):
    X = blobs[0]
    init = X[[0, 1, 2]]
    converged = FuzzyCMeans(3, init=init, tol=1e-8).fit(X)
    history = converged.objective_history_
    assert all(type(value) is float for value in history)
    assert len(history) == converged.n_iter_
    assert 3 < converged.n_iter_ < converged.max_iter
    assert history[-1] == converged.objective_
    # A fit stopped after k iterations ends with the centers after k updates,
    # and has the k + 1 entries of the longer fit up to them.
    for k in (1, 3, converged.n_iter_ - 1):
        stopped = FuzzyCMeans(3, init=init, tol=1e-8, max_iter=k).fit(X)
        assert_array_equal(stopped.objective_history_, history[: k + 1])
        assert stopped.objective_ == history[k]


def test_sample_on_a_center_has_membership_one():
    X = load_iris().data
    fcm = FuzzyCMeans(3, init=X[[0, 60, 120]], max_iter=1).fit(X)
    memberships = fcm.predict_proba(fcm.cluster_centers_)
    assert_array_equal(memberships, np.eye(3))
    memberships, _, log_objective = PowerFuzzifier(2.0).terms(
        np.array([[0.0], [4.0], [0.0]])
    )
    assert_array_equal(memberships, [[0.5], [0.0], [0.5]])
    assert log_objective[0] == -np.inf


@pytest.mark.parametrize("m", [1.1, 1.7, 2.0, 3.5, 5.5])
def test_memberships_match_equation_2(m):
    X = load_iris().data
    fcm = FuzzyCMeans(3, m=m, random_state=0).fit(X)
    expected = reference_memberships(X, fcm.cluster_centers_, m)
    assert_allclose(fcm.memberships_, expected, rtol=1e-9, atol=1e-12)
    assert_allclose(fcm.predict_proba(X), expected, rtol=1e-9, atol=1e-12)
    assert_allclose(fcm.memberships_.sum(axis=1), 1.0)


@pytest.mark.parametrize("m", [1.7, 2.0, 4.5])
def test_objective_matches_equation_6(m):
    X = load_iris().data
    fcm = FuzzyCMeans(3, m=m, random_state=0).fit(X)
    expected = reference_objective(X, fcm.cluster_centers_, fcm.memberships_, m)
    assert fcm.objective_ == pytest.approx(expected, rel=1e-10)
    assert fcm.score(X) == pytest.approx(-expected, rel=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@settings(max_examples=40, deadline=None)
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(6, 30), st.integers(1, 4)),
        elements=st.floats(-100, 100, allow_nan=False, width=32),
    ),
    fuzzifier=st.one_of(
        st.builds(lambda m: {"m": m}, st.floats(1.05, 8.0)),
        st.builds(
            lambda beta: {"fuzzifier": "polynomial", "beta": beta},
            st.floats(0.0, 0.99),
        ),
    ),
    seed=st.integers(0, 1000),
)
def test_objective_never_increases(X, fuzzifier, seed):
    rng = np.random.default_rng(seed)
    init = X[rng.choice(X.shape[0], 3, replace=False)] + rng.normal(
        size=(3, X.shape[1])
    )
    fcm = FuzzyCMeans(3, init=init, max_iter=8, tol=0, **fuzzifier).fit(X)
    history = fcm.objective_history_
    # Squared distances are computed to a few ulps of the squared distances
    # about the data's mean, and so is J: J of tight clusters is far smaller
    # than the data's spread, and its rounding many of its own ulps.
    spread = ((X - X.mean(axis=0)) ** 2).sum()
    slack = 32 * np.finfo(np.float64).eps * np.maximum(history[:-1], spread)
    assert np.all(np.diff(history) <= slack), history
    assert history[-1] == fcm.objective_
    reference = reference_objective(
        X, fcm.cluster_centers_, fcm.memberships_, **fuzzifier
    )
    assert history[-1] == pytest.approx(reference, rel=1e-10, abs=slack.max())
    # One more entry, of the final centers, only when max_iter stopped it.
    assert len(history) == fcm.n_iter_ or len(history) == fcm.n_iter_ + 1 == 9


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@settings(max_examples=40, deadline=None)
@given(
    m=st.one_of(st.floats(1.0 + 1e-12, 1.01), st.floats(1.01, 1e6)),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_memberships_are_a_partition_for_every_m(m, dtype):
    X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    fcm = FuzzyCMeans(3, m=m, init=X[[0, 1, 2]], max_iter=20).fit(X.astype(dtype))
    assert np.isfinite(fcm.cluster_centers_).all()
    assert np.isfinite(fcm.objective_) and fcm.objective_ >= 0
    memberships = fcm.predict_proba(X.astype(dtype))
    assert memberships.min() >= 0 and memberships.max() <= 1
    assert_allclose(memberships.sum(axis=1), 1.0, rtol=1e-5)


def test_iris_best_of_ten_no_worse_than_reference():
    X = load_iris().data
    fcm = FuzzyCMeans(3, m=2.0, n_init=10, tol=1e-10, random_state=0).fit(X)
    reference = min(reference_fcm(X, 3, 2.0, seed, n_iter=100) for seed in range(10))
    assert fcm.objective_ <= reference * (1 + 1e-6)


def test_random_membership_init_converges_like_kmeans_plus_plus():
    X = load_iris().data
    random_init = FuzzyCMeans(3, init="random", tol=1e-10, random_state=0).fit(X)
    kmeans_init = FuzzyCMeans(3, tol=1e-10, random_state=0).fit(X)
    assert random_init.objective_ == pytest.approx(kmeans_init.objective_, rel=1e-6)


def test_callable_init_receives_data_and_random_state(blobs):
    X, _ = blobs
    drawn = []

    def drawn_rows(data, n_clusters, random_state):
        assert_array_equal(data, X)
        assert isinstance(random_state, np.random.RandomState)
        drawn.append(data[random_state.choice(data.shape[0], n_clusters)])
        return drawn[-1]

    fcm = FuzzyCMeans(3, init=drawn_rows, max_iter=1, random_state=0).fit(X)
    FuzzyCMeans(3, init=drawn_rows, max_iter=1, random_state=0).fit(X)
    FuzzyCMeans(3, init=drawn_rows, max_iter=1, random_state=1).fit(X)
    # The generator is seeded from random_state, and the rows returned start
    # the run.
    assert_array_equal(drawn[0], drawn[1])
    assert not np.array_equal(drawn[0], drawn[2])
    explicit = FuzzyCMeans(3, init=drawn[0], max_iter=1).fit(X)
    assert_array_equal(explicit.cluster_centers_, fcm.cluster_centers_)


def test_m_close_to_one_matches_kmeans(blobs):
    X, _ = blobs
    init = X[[0, 1, 2]]
    fcm = FuzzyCMeans(3, m=1.0001, init=init, tol=0, max_iter=100).fit(X)
    kmeans = KMeans(3, init=init, n_init=1).fit(X)
    assert_array_equal(fcm.labels_, kmeans.labels_)
    assert_allclose(fcm.cluster_centers_, kmeans.cluster_centers_, rtol=1e-6)


def test_predict_transform_and_fit_predict_agree(blobs):
    X, _ = blobs
    fcm = FuzzyCMeans(3, random_state=0).fit(X)
    assert_array_equal(fcm.predict(X), fcm.labels_)
    assert_array_equal(FuzzyCMeans(3, random_state=0).fit_predict(X), fcm.labels_)
    assert_allclose(fcm.transform(X), euclidean_distances(X, fcm.cluster_centers_))
    assert_array_equal(fcm.labels_, fcm.memberships_.argmax(axis=1))
    assert fcm.n_iter_ < fcm.max_iter


def test_converges_and_stops_on_tolerance(blobs):
    X, _ = blobs
    loose = FuzzyCMeans(3, tol=1e-2, random_state=0).fit(X)
    tight = FuzzyCMeans(3, tol=1e-12, random_state=0).fit(X)
    assert loose.n_iter_ < tight.n_iter_ < 300
    assert tight.objective_ <= loose.objective_


def test_reproducible_and_independent_of_n_jobs_and_threads(blobs):
    X, _ = blobs
    params = dict(n_clusters=4, n_init=4, random_state=42)
    sequential = FuzzyCMeans(**params, n_jobs=1).fit(X)
    parallel = FuzzyCMeans(**params, n_jobs=2).fit(X)
    with threadpool_limits(1):
        single_thread = FuzzyCMeans(**params).fit(X)
    for other in (parallel, single_thread):
        assert_array_equal(other.cluster_centers_, sequential.cluster_centers_)
        assert_array_equal(other.memberships_, sequential.memberships_)
        assert other.objective_ == sequential.objective_
        assert_array_equal(other.objective_history_, sequential.objective_history_)


def test_many_blocks_on_many_threads_match_one_block(blobs, monkeypatch):
    X, _ = blobs
    one_block = FuzzyCMeans(3, random_state=0, tol=1e-12).fit(X)
    monkeypatch.setattr(fuzzyprune._chunks, "_CHUNK_BYTES", 64)
    monkeypatch.setattr(fuzzyprune._chunks, "_CHUNK_ROWS_RANGE", (7, 2048))
    many_blocks = FuzzyCMeans(3, random_state=0, tol=1e-12).fit(X)
    assert_allclose(
        many_blocks.cluster_centers_, one_block.cluster_centers_, rtol=1e-10
    )
    with threadpool_limits(1):
        single_thread = FuzzyCMeans(3, random_state=0, tol=1e-12).fit(X)
    assert_array_equal(single_thread.cluster_centers_, many_blocks.cluster_centers_)
    assert_array_equal(single_thread.objective_history_, many_blocks.objective_history_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(blobs, dtype):
    X = blobs[0].astype(dtype)
    fcm = FuzzyCMeans(3, random_state=0).fit(X)
    for result in (
        fcm.cluster_centers_,
        fcm.memberships_,
        fcm.predict_proba(X),
        fcm.transform(X),
    ):
        assert result.dtype == dtype


def test_float32_matches_float64(blobs):
    X = blobs[0]
    fcm64 = FuzzyCMeans(3, random_state=0, tol=1e-8).fit(X)
    fcm32 = FuzzyCMeans(3, random_state=0, tol=1e-8).fit(X.astype(np.float32))
    # Near the optimum J_m is flat: float32's 1e-7 in J_m pins centers to ~3e-4.
    assert_allclose(fcm32.cluster_centers_, fcm64.cluster_centers_, atol=1e-3)
    centers32 = fcm32.cluster_centers_.astype(np.float64)
    assert_allclose(
        fcm32.memberships_, reference_memberships(X, centers32, 2.0), atol=1e-5
    )


def test_float32_accurate_far_from_the_origin():
    # Samples 1e4 away from the origin with unit spread: a naive expansion of
    # squared distances in float32 would lose every significant digit.
    X, _ = make_blobs(n_samples=200, centers=3, cluster_std=0.5, random_state=0)
    X = X + 1e4
    centers = X[[0, 1, 2]]
    fcm32 = FuzzyCMeans(3, init=centers, max_iter=1).fit(X.astype(np.float32))
    expected = reference_memberships(X, fcm32.cluster_centers_.astype(np.float64), 2.0)
    assert_allclose(fcm32.memberships_, expected, atol=2e-3)


def _with_int64_indices(matrix):
    # Large sparse matrices index with int64; scipy picks int32 when it can.
    matrix.indices = matrix.indices.astype(np.int64)
    matrix.indptr = matrix.indptr.astype(np.int64)
    return matrix


@pytest.mark.parametrize(
    "container",
    [sp.csr_matrix, sp.csr_array, lambda X: _with_int64_indices(sp.csr_array(X))],
    ids=["csr_matrix", "csr_array", "int64_indices"],
)
def test_sparse_input(blobs, container):
    X = blobs[0] + 5
    dense = FuzzyCMeans(3, random_state=0).fit(X)
    sparse = FuzzyCMeans(3, random_state=0).fit(container(X))
    assert_allclose(sparse.cluster_centers_, dense.cluster_centers_)
    assert_allclose(sparse.predict_proba(container(X)), dense.memberships_, atol=1e-12)
    assert_allclose(sparse.transform(container(X)), dense.transform(X))
    sparse.partial_fit(container(X))


def test_sample_weight_equals_repeated_samples(blobs):
    X, _ = blobs
    weights = np.random.default_rng(0).integers(0, 4, size=X.shape[0])
    init = X[[0, 1, 2]] + 0.5
    weighted = FuzzyCMeans(3, init=init, tol=0, max_iter=30).fit(
        X, sample_weight=weights
    )
    repeated = FuzzyCMeans(3, init=init, tol=0, max_iter=30).fit(
        np.repeat(X, weights, axis=0)
    )
    assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-10)
    assert weighted.objective_ == pytest.approx(repeated.objective_, rel=1e-10)


def test_feature_names_and_pandas_output(blobs):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(blobs[0], columns=["width", "height"])
    fcm = FuzzyCMeans(3, random_state=0).set_output(transform="pandas").fit(X)
    assert_array_equal(fcm.feature_names_in_, ["width", "height"])
    distances = fcm.transform(X)
    assert list(distances.columns) == ["fuzzycmeans0", "fuzzycmeans1", "fuzzycmeans2"]
    assert_array_equal(fcm.get_feature_names_out(), distances.columns)


def test_fit_transform_weights_the_fit_and_follows_the_output(blobs):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(blobs[0], columns=["width", "height"])
    weights = np.random.default_rng(0).integers(0, 4, size=len(X))
    fcm = FuzzyCMeans(3, random_state=0).set_output(transform="pandas")
    distances = fcm.fit_transform(X, sample_weight=weights)
    weighted = FuzzyCMeans(3, random_state=0).fit(X, sample_weight=weights)
    assert_allclose(distances.to_numpy(), weighted.transform(X))
    assert list(distances.columns) == ["fuzzycmeans0", "fuzzycmeans1", "fuzzycmeans2"]
    # The weights change the fit: a fit_transform that dropped them differs.
    unweighted = FuzzyCMeans(3, random_state=0).fit(X).transform(X)
    assert not np.allclose(distances.to_numpy(), unweighted)


def test_memberships_follow_the_output_configuration(blobs):
    pd = pytest.importorskip("pandas")
    index = pd.Index(np.arange(300) * 2, name="sample")
    X = pd.DataFrame(blobs[0], columns=["width", "height"], index=index)
    fcm = FuzzyCMeans(3, random_state=0).fit(X)
    expected = fcm.predict_proba(X)
    assert isinstance(expected, np.ndarray)
    assert_array_equal(expected, fcm.memberships_)
    memberships = fcm.set_output(transform="pandas").predict_proba(X)
    assert isinstance(memberships, pd.DataFrame)
    assert_array_equal(memberships.columns, fcm.get_feature_names_out())
    assert memberships.index.equals(X.index)
    assert_array_equal(memberships.to_numpy(), expected)
    with sklearn.config_context(transform_output="pandas"):
        # The estimator's own setting first, then the global one.
        fcm.set_output(transform="default")
        assert isinstance(fcm.predict_proba(X), np.ndarray)
        unset = FuzzyCMeans(3, random_state=0).fit(X.to_numpy())
        memberships = unset.predict_proba(X.to_numpy())
    assert isinstance(memberships, pd.DataFrame)
    assert_array_equal(memberships.columns, fcm.get_feature_names_out())
    assert_array_equal(memberships.to_numpy(), expected)


def test_library_scorers_get_arrays_under_pandas_output(monkeypatch):
    pd = pytest.importorskip("pandas")
    iris = load_iris(as_frame=True)
    X = iris.data.sample(frac=1, random_state=0)
    xie_beni_index = fuzzyprune.metrics.xie_beni_index

    def array_memberships_only(X, memberships, *args, **kwargs):
        assert isinstance(memberships, np.ndarray)
        return xie_beni_index(X, memberships, *args, **kwargs)

    monkeypatch.setattr(fuzzyprune.metrics, "xie_beni_index", array_memberships_only)

    def search():
        return GridSearchCV(
            FuzzyCMeans(3, random_state=0),
            {"m": [1.5, 3.0]},
            scoring=get_scorer("neg_xie_beni"),
            error_score="raise",
        ).fit(X)

    def select():
        return GAFeatureSelector(
            FuzzyCMeans(3), population_size=4, n_generations=2, random_state=0
        ).fit(X)

    expected, expected_selection = search(), select()
    with sklearn.config_context(transform_output="pandas"):
        searched, selected = search(), select()
        assert isinstance(selected.transform(X), pd.DataFrame)
    assert_array_equal(
        searched.cv_results_["mean_test_score"],
        expected.cv_results_["mean_test_score"],
    )
    assert_array_equal(selected.support_, expected_selection.support_)
    assert selected.best_score_ == expected_selection.best_score_


@pytest.mark.parametrize("scale", [1.0, 2.0**100])
def test_verbose_reports_objective(blobs, capsys, scale):
    fcm = FuzzyCMeans(3, verbose=1, random_state=0).fit(blobs[0] * scale)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Iteration 1, objective")
    assert lines[-1] == f"Converged at iteration {fcm.n_iter_}."
    # The last objective printed is that of the result, in the data's units.
    assert float(lines[-2].split()[-1]) == pytest.approx(fcm.objective_, rel=1e-5)
    printed = [float(line.split()[-1]) for line in lines[:-1]]
    assert_allclose(printed, fcm.objective_history_, rtol=1e-5)


def test_merged_clusters_warn():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        FuzzyCMeans(3, random_state=0).fit(X)


@pytest.fixture
def recorded_runs(monkeypatch):
    """Record the initial centers and ``log J`` of every run of every fit."""
    runs = []
    single = fuzzyprune._fcm._fcm_single

    def recording(data, initial_centers, *args):
        result = single(data, initial_centers, *args)
        runs.append((initial_centers.copy(), result))
        return result

    monkeypatch.setattr(fuzzyprune._fcm, "_fcm_single", recording)
    return runs


def test_explicit_init_with_n_init_runs_once(blobs, recorded_runs):
    X = blobs[0]
    with pytest.warns(RuntimeWarning, match="running once instead of n_init=5"):
        fcm = FuzzyCMeans(3, init=X[:3], n_init=5).fit(X)
    ((initial_centers, (centers, *_)),) = recorded_runs
    assert_array_equal(initial_centers, X[:3])
    assert_array_equal(fcm.cluster_centers_, centers)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_n_init_keeps_the_best_of_as_many_runs(n_jobs, recorded_runs):
    X = load_iris().data
    # Few iterations from random memberships: runs end at different objectives.
    params = dict(init="random", max_iter=3, tol=0, random_state=0)
    fcm = FuzzyCMeans(4, n_init=6, n_jobs=n_jobs, **params).fit(X)
    assert len(recorded_runs) == 6
    starts = np.array([start for start, _ in recorded_runs])
    assert len(np.unique(starts.reshape(6, -1), axis=0)) == 6
    log_objectives = [history[-1] for _, (_, _, history, _) in recorded_runs]
    assert len(set(log_objectives)) > 1
    best = recorded_runs[int(np.argmin(log_objectives))][1]
    assert_array_equal(fcm.cluster_centers_, best[0])
    assert_array_equal(fcm.memberships_, best[1])
    assert fcm.objective_ == pytest.approx(np.exp(best[2][-1]), rel=1e-12)
    assert_allclose(fcm.objective_history_, np.exp(best[2]), rtol=1e-12)
    assert fcm.objective_ == pytest.approx(
        reference_objective(X, fcm.cluster_centers_, fcm.memberships_, 2.0)
    )


def test_score_weighs_each_sample():
    X = load_iris().data
    fcm = FuzzyCMeans(3, m=1.7, random_state=0).fit(X)
    X_new = X[::3] + 0.1
    weights = np.random.default_rng(0).random(X_new.shape[0]) * 5
    memberships = reference_memberships(X_new, fcm.cluster_centers_, 1.7)
    terms = memberships**1.7 * euclidean_distances(
        X_new, fcm.cluster_centers_, squared=True
    )
    expected = weights @ terms.sum(axis=1)
    assert fcm.score(X_new, sample_weight=weights) == pytest.approx(-expected)
    assert fcm.score(X_new) == pytest.approx(-terms.sum())
    # Integer weights are repeated samples.
    counts = np.arange(X_new.shape[0]) % 3
    repeated = np.repeat(X_new, counts, axis=0)
    assert fcm.score(X_new, sample_weight=counts) == pytest.approx(fcm.score(repeated))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"m": 1.0}, "'m' parameter"),
        ({"m": 0.5}, "'m' parameter"),
        ({"m": np.inf}, "'m' parameter"),
        ({"m": "2"}, "'m' parameter"),
        ({"n_clusters": 0}, "'n_clusters' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"tol": -1e-3}, "'tol' parameter"),
        ({"tol": 1.0}, "'tol' parameter"),
        ({"n_init": 0}, "'n_init' parameter"),
        ({"n_clusters": 11}, "n_samples=10 should be >= n_clusters=11"),
    ],
)
def test_bad_parameters_raise(params, match):
    X = np.random.default_rng(0).random((10, 2))
    with pytest.raises(ValueError, match=match):
        FuzzyCMeans(**{"n_clusters": 3, **params}).fit(X)


GOOD_X = np.random.default_rng(0).random((10, 2))

BAD_X = {
    "NaN": (np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]), "Input X contains NaN"),
    "inf": (np.array([[0.0, np.inf], [1.0, 1.0], [2.0, 2.0]]), "X contains infinity"),
    "no samples": (np.empty((0, 2)), "0 sample"),
    "1-D": (np.arange(6.0), "Expected 2D array, got 1D array"),
    "3-D": (np.zeros((3, 2, 2)), "Found array with dim 3"),
    "complex": (GOOD_X + 1j, r"X holds complex numbers \(dtype complex128\)[^\n]*$"),
    "strings": (np.array([["a", "b"]] * 3), "X holds strings"),
    "numeric strings": (GOOD_X.astype(str), "X holds strings"),
    "object strings": (np.array([["a", "b"]] * 3, dtype=object), "X holds strings"),
    "list of numeric strings": ([["0", "1"], ["2", "3"]] * 3, "X holds strings"),
    "object": (np.array([[1.0, {}]] * 3, dtype=object), "must be a string or a"),
}


@pytest.mark.parametrize(
    "method", ["fit", "fit_predict", "predict", "predict_proba", "transform", "score"]
)
@pytest.mark.parametrize("case", BAD_X)
def test_bad_X_raises_naming_X(method, case):
    X, match = BAD_X[case]
    fcm = FuzzyCMeans(2, random_state=0)
    if method not in ("fit", "fit_predict"):
        fcm.fit(GOOD_X)
    with pytest.raises((ValueError, TypeError), match=match) as error:
        getattr(fcm, method)(X)
    assert re.search(r"\bX\b", str(error.value))


def test_bool_and_numeric_object_X_are_numbers():
    # As in scikit-learn's estimators, they are converted to float64.
    mask = GOOD_X > 0.5
    fitted = FuzzyCMeans(2, random_state=0).fit(mask.astype(float))
    for X in (mask, mask.astype(object)):
        fcm = FuzzyCMeans(2, random_state=0).fit(X)
        assert_array_equal(fcm.cluster_centers_, fitted.cluster_centers_)
        assert_array_equal(fcm.predict_proba(X), fitted.memberships_)


BAD_WEIGHTS = {
    "negative": (-np.ones(10), "Negative values in data passed to `sample_weight`"),
    "NaN": (np.full(10, np.nan), "sample_weight contains NaN"),
    "inf": (np.full(10, np.inf), "sample_weight contains infinity"),
    "too short": (np.ones(9), r"sample_weight.shape == \(9,\), expected \(10,\)"),
    "all zero": (np.zeros(10), "at least one non-zero"),
    "2-D": (np.ones((10, 1)), "must be 1D array or scalar"),
    "strings": (np.array(["a"] * 10), "sample_weight holds strings"),
    "numeric strings": (np.ones(10).astype(str), "sample_weight holds strings"),
    "object strings": (np.array(["a"] * 10, dtype=object), "sample_weight holds str"),
    "list of numeric strings": (["1"] * 10, "sample_weight holds strings"),
    "complex": (np.ones(10) * 1j, r"sample_weight holds complex numbers[^\n]*$"),
}


@pytest.mark.parametrize("method", ["fit", "fit_predict", "score"])
@pytest.mark.parametrize("case", BAD_WEIGHTS)
def test_bad_sample_weight_raises_naming_it(method, case):
    sample_weight, match = BAD_WEIGHTS[case]
    fcm = FuzzyCMeans(2, random_state=0)
    if method == "score":
        fcm.fit(GOOD_X)
    with pytest.raises(ValueError, match=match) as error:
        getattr(fcm, method)(GOOD_X, sample_weight=sample_weight)
    assert "sample_weight" in str(error.value)


def wrong_centers(X, n_clusters, random_state):
    return X[: n_clusters - 1]


def nan_centers(X, n_clusters, random_state):
    return np.full((n_clusters, X.shape[1]), np.nan)


@pytest.mark.parametrize(
    "init, match",
    [
        (np.zeros((2, 2)), r"initial centers have shape \(2, 2\); expected"),
        (np.zeros((3, 3)), r"initial centers have shape \(3, 3\); expected"),
        (np.zeros(6), "Expected 2D array, got 1D array"),
        (np.zeros((0, 2)), "0 sample"),
        (np.full((3, 2), np.nan), "Input init contains NaN"),
        (np.full((3, 2), np.inf), "Input init contains infinity"),
        (np.full((3, 2), 1e39), "Input init contains infinity"),  # beyond float32
        ([["a", "b"]] * 3, "init holds strings"),
        (np.ones((3, 2)) * 1j, r"init holds complex numbers[^\n]*$"),
        (wrong_centers, r"initial centers have shape \(2, 2\); expected"),
        (nan_centers, "Input init contains NaN"),
        (5, "'init' parameter"),
        ("kmeans", "'init' parameter"),
    ],
)
def test_bad_init_raises_naming_it(init, match):
    with pytest.raises(ValueError, match=match) as error:
        FuzzyCMeans(3, init=init).fit(GOOD_X.astype(np.float32))
    assert "init" in str(error.value)


def test_init_callable_of_another_signature_raises_naming_init():
    def two_arguments(X, n_clusters):
        return X[:n_clusters]

    with pytest.raises(TypeError, match=r"^init: .*random_state"):
        FuzzyCMeans(3, init=two_arguments).fit(GOOD_X)


def test_n_jobs_zero_is_refused_before_fitting():
    fcm = FuzzyCMeans(2, random_state=0).fit(GOOD_X)
    centers = fcm.cluster_centers_
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        fcm.set_params(n_jobs=0, m=1.5).fit(GOOD_X[:5])
    assert fcm.cluster_centers_ is centers and fcm.m_ == 2


def test_new_data_must_match_fitted_features(blobs):
    fcm = FuzzyCMeans(3, random_state=0).fit(blobs[0])
    with pytest.raises(ValueError, match="expecting 2 features"):
        fcm.predict(np.zeros((4, 3)))


def test_concurrent_fits_restore_blas_threads(blobs):
    def blas_threads():
        return [
            info["num_threads"]
            for info in threadpool_info()
            if info["user_api"] == "blas"
        ]

    X = np.repeat(blobs[0], 20, axis=0)
    before = blas_threads()
    with ThreadPoolExecutor(4) as executor:
        fits = list(
            executor.map(
                lambda seed: FuzzyCMeans(3, random_state=seed).fit(X), range(8)
            )
        )
    assert blas_threads() == before
    # A fit on another thread leaves BLAS its threads, and older OpenBLAS
    # builds (those of NumPy 1.x wheels) sum in another order on several.
    for seed, fit in enumerate(fits):
        sequential = FuzzyCMeans(3, random_state=seed).fit(X)
        assert_allclose(fit.cluster_centers_, sequential.cluster_centers_, rtol=1e-12)


def test_kmeans_plusplus_seeds_one_row_per_separated_blob():
    X, y = make_blobs(
        n_samples=400,
        centers=8,
        cluster_std=0.1,
        center_box=(-100, 100),
        random_state=1,
    )
    data = PreparedData(X.astype(np.float32))
    for seed in range(5):
        centers = kmeans_plusplus(data, 8, np.random.RandomState(seed), None)
        rows = [
            np.flatnonzero((X.astype(np.float32) == c).all(axis=1))[0] for c in centers
        ]
        assert sorted(y[rows]) == list(range(8))


def test_kmeans_plusplus_never_draws_zero_weight_rows():
    X, _ = make_blobs(n_samples=200, centers=4, random_state=0)
    weights = np.zeros(200)
    weights[::3] = 1.0
    data = PreparedData(X)
    centers = kmeans_plusplus(data, 4, np.random.RandomState(0), weights)
    allowed = X[::3]
    assert all((allowed == center).all(axis=1).any() for center in centers)


def test_kmeans_plusplus_with_fewer_distinct_rows_than_clusters():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 10, axis=0)
    with pytest.warns(ConvergenceWarning):
        fcm = FuzzyCMeans(3, random_state=0).fit(X)
    assert np.isfinite(fcm.cluster_centers_).all()
    assert_allclose(fcm.memberships_.sum(axis=1), 1.0)


# High-dimensional data: the fuzzifier chosen from the data, collapse warnings
# and the polynomial fuzzifier function.


def collapsing_data():
    """60 samples of 2500 features in 5 groups, where m = 2 collapses."""
    rng = np.random.default_rng(0)
    means = rng.normal(0, 0.5, (5, 2500))
    groups = np.repeat(np.arange(5), 12)
    return means[groups] + rng.normal(size=(60, 2500)), groups


def test_auto_m_is_schwaemmle_jensen_capped_at_two():
    X, _ = collapsing_data()
    fcm = FuzzyCMeans(5, random_state=0).fit(X)
    expected = (
        1
        + (1418 / 60 + 22.05) * 2500**-2
        + (12.33 / 60 + 0.243) * 2500 ** (-0.0406 * np.log(60) - 0.1134)
    )
    assert fcm.m_ == pytest.approx(expected, rel=1e-12)
    assert fcm.m_ < 1.1
    # m_ is the fuzzifier the memberships were computed with.
    assert_allclose(
        fcm.memberships_,
        reference_memberships(X, fcm.cluster_centers_, fcm.m_),
        rtol=1e-7,
        atol=1e-12,
    )


def test_auto_m_keeps_iris_at_two():
    X = load_iris().data
    auto = FuzzyCMeans(3, random_state=0).fit(X)
    two = FuzzyCMeans(3, m=2.0, random_state=0).fit(X)
    assert auto.m_ == 2.0
    assert_array_equal(auto.memberships_, two.memberships_)
    assert auto.objective_ == two.objective_


def test_numeric_m_is_used_as_given():
    fcm = FuzzyCMeans(3, m=3.5, random_state=0).fit(load_iris().data)
    assert fcm.m_ == 3.5 and fcm.m == 3.5


def test_collapse_warns_and_points_at_the_caller():
    X, _ = collapsing_data()
    with pytest.warns(ConvergenceWarning, match="m=2 found a degenerate") as record:
        fcm = FuzzyCMeans(5, m=2.0, random_state=0).fit(X)
    message = str(record[0].message)
    assert "nearly uniform" in message and "nearly coincide" in message
    assert "m='auto'" in message and "fuzzifier='polynomial'" in message
    assert record[0].filename == __file__
    assert fcm.partition_coefficient_ == pytest.approx(0.2, abs=1e-3)
    assert fcm.center_separation_ < 1e-2


def test_collapse_warning_points_at_the_caller_through_a_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, _ = collapsing_data()
    pipeline = make_pipeline(StandardScaler(), FuzzyCMeans(5, m=2.0, random_state=0))
    with pytest.warns(ConvergenceWarning, match="degenerate") as record:
        pipeline.fit_predict(X)
    assert record[0].filename == __file__


def test_collapse_warning_points_at_the_caller_through_a_search():
    from sklearn.model_selection import GridSearchCV

    X, _ = collapsing_data()
    search = GridSearchCV(FuzzyCMeans(5, random_state=0), {"m": [2.0]}, cv=2)
    with pytest.warns(ConvergenceWarning, match="degenerate") as record:
        search.fit(X)
    assert {warning.filename for warning in record} == {__file__}


def test_auto_m_does_not_collapse_in_high_dimensions():
    X, groups = collapsing_data()
    fcm = FuzzyCMeans(5, random_state=0).fit(X)  # no warning: they are errors
    assert fcm.partition_coefficient_ > 0.9
    assert fcm.center_separation_ > 0.1
    assert adjusted_rand_score(groups, fcm.labels_) == 1.0


def test_well_clustered_fit_does_not_warn():
    fcm = FuzzyCMeans(3, m=2.0, random_state=0).fit(load_iris().data)
    assert 0.7 < fcm.partition_coefficient_ < 0.9
    assert fcm.center_separation_ > 0.5


def test_partition_coefficient_is_weighted():
    X = load_iris().data
    weights = np.random.default_rng(0).random(X.shape[0])
    fcm = FuzzyCMeans(3, random_state=0).fit(X, sample_weight=weights)
    expected = (weights * (fcm.memberships_**2).sum(axis=1)).sum() / weights.sum()
    assert fcm.partition_coefficient_ == pytest.approx(expected, rel=1e-12)
    # The radius: RMS distance of the samples to their nearest center.
    nearest = euclidean_distances(X, fcm.cluster_centers_, squared=True).min(axis=1)
    radius = np.sqrt(weights @ nearest / weights.sum())
    gaps = euclidean_distances(fcm.cluster_centers_)
    gaps[np.diag_indices(3)] = np.inf
    assert fcm.center_separation_ == pytest.approx(gaps.min() / radius, rel=1e-9)


def test_far_samples_do_not_make_near_clusters_look_merged():
    # A missing-value code in a few rows makes a far cluster; the others are
    # as separate as without it, and no warning is raised (they are errors).
    X = load_iris().data.copy()
    X[[5, 70, 140], 0] = -9999.0
    fcm = FuzzyCMeans(4, random_state=0).fit(X)
    assert fcm.center_separation_ > 1


def test_warning_suggests_only_what_can_help():
    X = np.random.default_rng(0).normal(size=(500, 10))  # no groups at all
    with pytest.warns(ConvergenceWarning, match="m='auto' \\(m=1.364\\)") as record:
        FuzzyCMeans(4, random_state=0).fit(X)
    message = str(record[0].message)
    assert "try m='auto'" not in message.lower()
    assert "fewer clusters than n_clusters=4" in message
    poly = FuzzyCMeans(5, fuzzifier="polynomial", random_state=0)
    with pytest.warns(ConvergenceWarning, match="larger beta") as record:
        poly.fit(collapsing_data()[0])
    assert "fuzzifier='polynomial'" in str(record[0].message)  # the setting only
    assert "m='auto'" not in str(record[0].message)


def polynomial_reference(X, centers, beta):
    """Polynomial memberships by the sorted-distance rule, sample by sample."""
    sq = euclidean_distances(X, centers, squared=True)
    memberships = np.zeros_like(sq)
    for i, row in enumerate(sq):
        order = np.argsort(row)
        inverse = 1 / row[order]
        k = max(
            k
            for k in range(1, len(row) + 1)
            if (1 + beta * (k - 1)) * inverse[k - 1] > beta * inverse[:k].sum()
        )
        total = inverse[:k].sum()
        memberships[i, order[:k]] = (
            (1 + beta * (k - 1)) * inverse[:k] / total - beta
        ) / (1 - beta)
    return memberships


@pytest.mark.parametrize("beta", [0.1, 0.5, 0.9])
def test_polynomial_matches_the_sorted_distance_rule(beta):
    X = load_iris().data
    fcm = FuzzyCMeans(3, fuzzifier="polynomial", beta=beta, random_state=0).fit(X)
    expected = polynomial_reference(X, fcm.cluster_centers_, beta)
    assert_allclose(fcm.memberships_, expected, rtol=1e-9, atol=1e-12)
    assert_allclose(
        fcm.predict_proba(X[::7] + 0.1),
        polynomial_reference(X[::7] + 0.1, fcm.cluster_centers_, beta),
        rtol=1e-9,
        atol=1e-12,
    )
    assert (fcm.memberships_ == 0).any()
    assert_allclose(fcm.memberships_.sum(axis=1), 1.0)
    assert fcm.m_ is None
    g = (1 - beta) / (1 + beta) * expected**2 + 2 * beta / (1 + beta) * expected
    objective = (g * euclidean_distances(X, fcm.cluster_centers_, squared=True)).sum()
    assert fcm.objective_ == pytest.approx(objective, rel=1e-10)
    assert fcm.score(X) == pytest.approx(-objective, rel=1e-10)


def test_polynomial_centers_are_weighted_by_g():
    X = load_iris().data
    beta = 0.5
    fcm = FuzzyCMeans(3, fuzzifier="polynomial", beta=beta, random_state=0)
    init = X[[0, 50, 100]] + 0.05
    fcm.set_params(max_iter=1, tol=0, init=init).fit(X)
    u = polynomial_reference(X, init, beta)
    g = (1 - beta) / (1 + beta) * u**2 + 2 * beta / (1 + beta) * u
    assert_allclose(fcm.cluster_centers_, g.T @ X / g.sum(axis=0)[:, None], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_polynomial_keeps_dtype_weights_and_jobs(blobs, dtype):
    X = blobs[0].astype(dtype)
    params = dict(fuzzifier="polynomial", beta=0.3, random_state=0)
    fcm = FuzzyCMeans(3, n_init=3, **params).fit(X)
    assert fcm.cluster_centers_.dtype == dtype
    assert fcm.memberships_.dtype == dtype
    assert fcm.predict_proba(X).dtype == dtype
    parallel = FuzzyCMeans(3, n_init=3, n_jobs=2, **params).fit(X)
    assert_array_equal(fcm.cluster_centers_, parallel.cluster_centers_)
    # Integer weights are repeated samples, from the same initial centers.
    weights = np.arange(X.shape[0]) % 3
    init = fcm.cluster_centers_ + 0.5
    weighted = FuzzyCMeans(3, init=init, **params).fit(X, sample_weight=weights)
    repeated = FuzzyCMeans(3, init=init, **params).fit(np.repeat(X, weights, axis=0))
    assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-4)
    assert weighted.objective_ == pytest.approx(repeated.objective_, rel=1e-4)


# Scale: a fit on s * X is the fit on X with centers and distances s times
# larger and objective s ** 2 times larger, for any s of the dtype's range.


@functools.cache
def unit_scale_data(dtype):
    X, _ = make_blobs(n_samples=300, centers=3, cluster_std=1.0, random_state=0)
    return X.astype(dtype)


@functools.cache
def unit_scale_fit(dtype, m=2.0):
    X = unit_scale_data(dtype)
    return FuzzyCMeans(3, m=m, init=X[[0, 100, 200]]).fit(X)


def scaled_expected(value, scale):
    """``value * scale``, in float64, inf or 0 beyond float64's range."""
    with np.errstate(over="ignore", under="ignore"):
        return float(np.float64(value) * np.float64(scale))


def assert_same_fit_at_scale(fcm, unit, X, scale):
    """Check a fit on ``X`` (unit-scale data times ``scale``) against ``unit``."""
    tolerance = 2e-5 if X.dtype == np.float32 else 1e-12
    assert_array_equal(fcm.labels_, unit.labels_)
    assert_array_equal(fcm.predict(X), unit.labels_)
    assert_allclose(fcm.memberships_, unit.memberships_, atol=tolerance)
    assert_allclose(fcm.predict_proba(X), unit.memberships_, atol=tolerance)
    centers = fcm.cluster_centers_.astype(np.float64) / scale
    assert_allclose(centers, unit.cluster_centers_, rtol=tolerance, atol=tolerance)
    distances = fcm.transform(X).astype(np.float64) / scale
    unit_distances = unit.transform(unit_scale_data(X.dtype))
    assert_allclose(distances, unit_distances, rtol=tolerance, atol=tolerance)
    objective = scaled_expected(scaled_expected(unit.objective_, scale), scale)
    if objective == 0 or objective >= np.finfo(np.float64).tiny:
        # inf or 0 where the objective is beyond float64's range.
        expected = pytest.approx(objective, rel=10 * tolerance, abs=0)
        assert fcm.objective_ == expected and -fcm.score(X) == expected


@settings(max_examples=30, deadline=None)
@given(
    dtype_and_exponent=st.one_of(
        st.tuples(st.just(np.float32), st.integers(-120, 120)),
        st.tuples(st.just(np.float64), st.integers(-1000, 1000)),
    ),
    mantissa=st.one_of(st.just(1.0), st.floats(1.0, 2.0)),
)
def test_fit_is_the_same_at_every_scale(dtype_and_exponent, mantissa):
    dtype, exponent = dtype_and_exponent
    scale = np.ldexp(mantissa, exponent)
    unit = unit_scale_fit(dtype)
    X = (unit_scale_data(dtype) * scale).astype(dtype)
    init = (unit_scale_data(dtype)[[0, 100, 200]] * scale).astype(dtype)
    fcm = FuzzyCMeans(3, m=2.0, init=init).fit(X)
    assert fcm.cluster_centers_.dtype == fcm.memberships_.dtype == dtype
    assert fcm.n_iter_ == unit.n_iter_
    assert_same_fit_at_scale(fcm, unit, X, scale)


# Scales at which squared distances overflow or underflow each dtype.
EXTREME_SCALES = [
    (np.float32, 1e30),
    (np.float32, 1e-30),
    (np.float64, 1e200),
    (np.float64, 1e-200),
]


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("dtype, scale", EXTREME_SCALES)
def test_seeding_and_warnings_are_the_same_at_every_scale(init, dtype, scale):
    # No warning at any scale (warnings are errors): memberships do not turn
    # uniform nor centers coincide.
    X = unit_scale_data(dtype)
    unit = FuzzyCMeans(3, init=init, random_state=0).fit(X)
    fcm = FuzzyCMeans(3, init=init, random_state=0).fit((X * scale).astype(dtype))
    assert_array_equal(fcm.labels_, unit.labels_)
    assert fcm.partition_coefficient_ == pytest.approx(unit.partition_coefficient_)
    assert fcm.center_separation_ == pytest.approx(unit.center_separation_, rel=1e-4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("m", [1.0001, 1e3])
@pytest.mark.parametrize(
    "dtype, exponent",
    [(np.float32, -120), (np.float32, 120), (np.float64, -1000), (np.float64, 1000)],
)
def test_extreme_fuzzifiers_at_extreme_scales(m, dtype, exponent):
    unit = unit_scale_fit(dtype, m)
    X = np.ldexp(unit_scale_data(dtype), exponent)
    fcm = FuzzyCMeans(3, m=m, init=X[[0, 100, 200]]).fit(X)
    assert np.isfinite(fcm.memberships_).all()
    assert np.isfinite(fcm.cluster_centers_).all()
    assert_same_fit_at_scale(fcm, unit, X, 2.0**exponent)


def test_new_data_of_another_scale_than_the_centers():
    # Centers beyond float32's range, data near the origin in float32: the
    # memberships are those of the origin.
    unit = unit_scale_fit(np.float64)
    X = np.ldexp(unit_scale_data(np.float64), 1000)
    fcm = FuzzyCMeans(3, m=2.0, init=X[[0, 100, 200]]).fit(X)
    near_origin = np.ones((4, 2), dtype=np.float32)
    expected = unit.predict_proba(np.zeros((4, 2)))
    assert_allclose(fcm.predict_proba(near_origin), expected, rtol=1e-6)
    assert_array_equal(fcm.transform(near_origin), np.inf)  # beyond float32
    assert_allclose(
        fcm.transform(near_origin.astype(np.float64)) / 2.0**1000,
        unit.transform(np.zeros((4, 2))),
    )


@pytest.mark.parametrize("dtype, scale", EXTREME_SCALES)
def test_sparse_input_at_every_scale(dtype, scale):
    unit = unit_scale_fit(dtype)
    X = (unit_scale_data(dtype) * scale).astype(dtype)
    fcm = FuzzyCMeans(3, m=2.0, init=X[[0, 100, 200]]).fit(sp.csr_array(X))
    assert_same_fit_at_scale(fcm, unit, sp.csr_array(X), scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1e-300, 1e-30, 1e30, 1e307])
def test_sample_weight_at_every_scale(dtype, scale):
    X = unit_scale_data(dtype)
    weights = np.random.default_rng(0).random(X.shape[0])
    unit = FuzzyCMeans(3, random_state=0).fit(X, sample_weight=weights)
    fcm = FuzzyCMeans(3, random_state=0).fit(X, sample_weight=weights * scale)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(fcm.cluster_centers_, unit.cluster_centers_, rtol=tolerance)
    assert fcm.partition_coefficient_ == pytest.approx(unit.partition_coefficient_)
    assert fcm.center_separation_ == pytest.approx(unit.center_separation_)
    # The objective is scale times larger: inf beyond float64's range.
    expected = pytest.approx(
        scaled_expected(unit.objective_, scale), rel=tolerance, abs=0
    )
    assert fcm.objective_ == expected
    assert -fcm.score(X, sample_weight=weights * scale) == expected


@pytest.mark.parametrize("scale", [1e-30, 1e30])
@pytest.mark.parametrize("beta", [0.0, 0.5, 1 - 1e-12])
def test_polynomial_is_finite_at_any_scale(blobs, scale, beta):
    fcm = FuzzyCMeans(3, fuzzifier="polynomial", beta=beta, random_state=0)
    unscaled = clone(fcm).fit(blobs[0])
    fcm.fit(blobs[0] * scale)
    assert np.isfinite(fcm.cluster_centers_).all()
    assert np.isfinite(fcm.memberships_).all()
    assert_allclose(fcm.memberships_.sum(axis=1), 1.0)
    assert_allclose(fcm.memberships_, unscaled.memberships_, atol=1e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"fuzzifier": "gaussian"}, "'fuzzifier' parameter"),
        ({"beta": 1.0}, "'beta' parameter"),
        ({"beta": -0.1}, "'beta' parameter"),
        ({"m": "automatic"}, "'m' parameter"),
    ],
)
def test_bad_fuzzifier_parameters_raise(params, match):
    X = np.random.default_rng(0).random((10, 2))
    with pytest.raises(ValueError, match=match):
        FuzzyCMeans(3, **params).fit(X)


def embedding_blobs(seed):
    X, y = make_blobs(
        n_samples=3000, n_features=2048, centers=10, cluster_std=8.0, random_state=seed
    )
    return X.astype("float32"), y


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_high_dimensional_blobs_as_well_as_kmeans():
    from sklearn.cluster import kmeans_plusplus

    scores = {"kmeans": [], "auto": [], "polynomial": []}
    for seed in range(5):
        X, y = embedding_blobs(seed)
        C = kmeans_plusplus(X, 10, random_state=seed)[0]
        kmeans = KMeans(10, init=C, n_init=1).fit(X)
        scores["kmeans"].append(adjusted_rand_score(y, kmeans.labels_))
        auto = FuzzyCMeans(10, init=C).fit(X)
        scores["auto"].append(adjusted_rand_score(y, auto.labels_))
        poly = FuzzyCMeans(10, init=C, fuzzifier="polynomial", beta=0.5).fit(X)
        scores["polynomial"].append(adjusted_rand_score(y, poly.labels_))
    kmeans = np.mean(scores["kmeans"])
    assert np.mean(scores["auto"]) >= kmeans - 0.02, scores
    assert np.mean(scores["polynomial"]) >= kmeans - 0.05, scores


def _peak_fit_bytes(X):
    """Peak bytes numpy allocates during a fit of ``X``, on one thread.

    One thread, since each thread a fit happens to start holds its own
    chunk-sized buffers.
    """
    import tracemalloc

    tracemalloc.start()
    try:
        with threadpool_limits(1, user_api="blas"):
            FuzzyCMeans(5, max_iter=5, random_state=0).fit(X)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("scale", [1.0, 1e30])
def test_fit_memory_grows_by_at_most_a_third_of_the_data(scale):
    """Beyond chunk-sized buffers, a fit holds less than 0.3 bytes per byte of X.

    Comparing two sizes of data cancels the fixed cost of the buffers, so
    any copy of X, or a per-sample array as wide as X, shows.
    """
    rng = np.random.RandomState(0)
    blobs = rng.rand(16000, 256) + np.repeat(rng.rand(5, 256) * 3, 3200, axis=0)
    X = (blobs * scale).astype(np.float32)
    small, large = X[::4].copy(), X
    extra = _peak_fit_bytes(large) - _peak_fit_bytes(small)
    assert extra <= 0.3 * (large.nbytes - small.nbytes)


@pytest.mark.slow
def test_repeated_fits_keep_no_memory():
    import gc
    import tracemalloc

    X, _ = make_blobs(1000, n_features=16, centers=5, random_state=0)
    fcm = FuzzyCMeans(5, max_iter=5, random_state=0)
    tracemalloc.start()
    try:
        sizes = []
        for _ in range(8):
            fcm.fit(X).predict(X)
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    # A leaked array of memberships would add 40 kB per fit.
    assert sizes[-1] - sizes[2] < 1000 * 5 * 8


def test_fitted_methods_use_the_fitted_clusters_after_set_params():
    X = load_iris().data
    fcm = FuzzyCMeans(3, random_state=0).fit(X)
    expected = fcm.predict_proba(X)
    fcm.set_params(n_clusters=4)
    assert_array_equal(fcm.predict_proba(X), expected)
    assert_array_equal(fcm.predict(X), expected.argmax(axis=1))
    assert fcm.transform(X).shape == (150, 3)
    assert np.isfinite(fcm.score(X))


def test_center_separation_of_samples_almost_on_their_centers_is_infinite():
    from fuzzyprune._fcm import _center_separation

    # The squared radius, 1e-320 / 2, is subnormal.
    X = np.array([[0.0, 1e-160], [1.0, 1.0]])
    centers = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert _center_separation(X, centers, None) == np.inf


@pytest.mark.parametrize("weighted", [False, True])
def test_random_membership_init_is_eq_1_of_one_draw(weighted, monkeypatch):
    # Memberships drawn chunk by chunk are those of one draw of all of them.
    monkeypatch.setattr(fuzzyprune._chunks, "_CHUNK_ROWS_RANGE", (7, 37))
    from fuzzyprune._fcm_init import _random_membership_centers

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    weights = rng.uniform(0.5, 2, 500) if weighted else np.ones(500)
    data = PreparedData(X, weights if weighted else None, n_columns=4)
    assert data.rows_per_chunk == 37
    centers = _random_membership_centers(
        data, 4, PowerFuzzifier(2.0), np.random.RandomState(5)
    )
    seed = np.random.RandomState(5).randint(np.iinfo(np.int32).max)
    u = np.random.default_rng(seed).random((500, 4))
    u /= u.sum(axis=1, keepdims=True)
    w = weights[:, None] * u**2
    np.testing.assert_allclose(centers, (w.T @ X) / w.sum(axis=0)[:, None], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_center_separation_equals_brute_force(dtype):
    from fuzzyprune._fcm import _center_separation

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 7)).astype(dtype)
    centers = rng.normal(size=(30, 7)).astype(dtype)
    pairs = np.linalg.norm(centers[:, None] - centers[None], axis=2).astype(float)
    gap = pairs[np.triu_indices(30, 1)].min()
    radius = np.sqrt(((X[:, None] - centers[None]) ** 2).sum(axis=2).min(axis=1).mean())
    assert _center_separation(X, centers, None) == pytest.approx(gap / radius, rel=1e-5)
    centers[7] = centers[21]
    assert _center_separation(X, centers, None) == 0


def test_unseeded_randomness_leaves_numpys_global_state_alone():
    # random_state=None draws fresh seeds from the system, not from (or
    # advancing) the generator behind np.random.seed, in every function
    # that draws.
    from fuzzyprune.datasets import make_vehicle_x
    from fuzzyprune.metrics import fuzzy_silhouette_score

    X = np.random.default_rng(0).normal(size=(40, 3))
    np.random.seed(0)
    before = np.random.get_state()
    fitted = FuzzyCMeans(3, init="random", n_init=2, random_state=None).fit(X)
    make_vehicle_x(30, n_vehicles=3, n_features=4, random_state=None)
    fuzzy_silhouette_score(X, fitted.memberships_, sample_size=10)
    after = np.random.get_state()
    assert np.array_equal(after[1], before[1]) and after[2] == before[2]
    # ... and unseeded fits still differ from one another.
    other = FuzzyCMeans(3, init="random", n_init=2, random_state=None).fit(X)
    assert not np.array_equal(fitted.memberships_, other.memberships_)
