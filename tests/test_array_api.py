"""FuzzyCMeans on arrays of other namespaces than NumPy's (torch, CuPy, ...).

Every result under ``array_api_dispatch=True`` is compared with the NumPy
fit of the same data: the array API step must give the same numbers, in the
input's namespace and on its device.
"""

import pickle

import numpy as np
import pytest
import sklearn
from array_namespaces import NAMESPACES, to_namespace
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fuzzyprune._chunks
import fuzzyprune._fcm_data
from fuzzyprune import FuzzyCMeans
from fuzzyprune._array_api import namespace, numpy_namespace, to_numpy
from fuzzyprune._fcm_data import PreparedData
from fuzzyprune._fcm_step import CenterTerms, array_api_step, numpy_step
from fuzzyprune._fuzzifiers import PolynomialFuzzifier, PowerFuzzifier


def assert_in_namespace(result, reference):
    """``result`` is of ``reference``'s namespace, device and float type."""
    with sklearn.config_context(array_api_dispatch=True):
        assert namespace(result)[0] is namespace(reference)[0]
        assert result.device == reference.device


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(300, 6, centers=4, cluster_std=0.6, random_state=0)
    return X, y


SETTINGS = {
    "default": {},
    "polynomial": {"fuzzifier": "polynomial", "beta": 0.3},
    "random-init": {"init": "random", "m": 1.5},
    "n-init": {"n_init": 3, "m": 1.3},
    # Fuzzifiers close to 1 and large, where u ** m under- and overflows
    # unless the memberships and weights are kept in log space.
    "m-near-1": {"m": 1.002},
    "m-large": {"m": 12.0, "max_iter": 30},
}


def _fit_both(X, setting, name, dtype, sample_weight=None, **params):
    X = X.astype(dtype)
    params = {**SETTINGS[setting], **params}
    reference = FuzzyCMeans(4, random_state=0, **params)
    reference.fit(X, sample_weight=sample_weight)
    X_xp = to_namespace(name, X)
    weights = None if sample_weight is None else to_namespace(name, sample_weight)
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(4, random_state=0, **params).fit(
            X_xp, sample_weight=weights
        )
    return reference, fitted, X_xp


def _tolerance(dtype):
    return 1e-5 if dtype == "float32" else 1e-10


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_fit_equals_numpy_fit(blobs, name, dtype, setting):
    reference, fitted, X_xp = _fit_both(blobs[0], setting, name, dtype)
    rtol = _tolerance(dtype)
    assert fitted.objective_ == pytest.approx(reference.objective_, rel=rtol)
    assert fitted.n_iter_ == reference.n_iter_
    # Python floats, whatever the library.
    assert all(type(value) is float for value in fitted.objective_history_)
    assert fitted.objective_history_[-1] == fitted.objective_
    # Iterations before convergence move centers rounded in X's type, as
    # far as the centers themselves differ.
    np.testing.assert_allclose(
        fitted.objective_history_, reference.objective_history_, rtol=100 * rtol
    )
    assert fitted.m_ == reference.m_
    assert fitted.partition_coefficient_ == pytest.approx(
        reference.partition_coefficient_, rel=rtol
    )
    for attribute in ("cluster_centers_", "memberships_", "labels_"):
        value = getattr(fitted, attribute)
        assert_in_namespace(value, X_xp)
        assert to_numpy(value).dtype == getattr(reference, attribute).dtype
    np.testing.assert_array_equal(to_numpy(fitted.labels_), reference.labels_)
    np.testing.assert_allclose(
        to_numpy(fitted.cluster_centers_),
        reference.cluster_centers_,
        rtol=100 * rtol,
        atol=100 * rtol,
    )
    np.testing.assert_allclose(
        to_numpy(fitted.memberships_), reference.memberships_, atol=100 * rtol
    )


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_methods_equal_numpy_methods(blobs, name, dtype):
    reference, fitted, X_xp = _fit_both(blobs[0], "default", name, dtype)
    X = blobs[0].astype(dtype)
    rtol = _tolerance(dtype)
    with sklearn.config_context(array_api_dispatch=True):
        results = {
            "predict": fitted.predict(X_xp),
            "predict_proba": fitted.predict_proba(X_xp),
            "transform": fitted.transform(X_xp),
        }
        score = fitted.score(X_xp)
        labels = FuzzyCMeans(4, random_state=0).fit_predict(X_xp)
    assert score == pytest.approx(reference.score(X), rel=rtol)
    np.testing.assert_array_equal(to_numpy(labels), reference.labels_)
    # Single values in float32 differ by the rounding of float32 products,
    # summed in another order by each library.
    elementwise = 1e-4 if dtype == "float32" else rtol
    for method, result in results.items():
        expected = getattr(reference, method)(X)
        assert_in_namespace(result, X_xp)
        assert to_numpy(result).dtype == expected.dtype
        np.testing.assert_allclose(
            to_numpy(result), expected, rtol=elementwise, atol=elementwise
        )


@pytest.mark.parametrize("name", NAMESPACES)
def test_sample_weights_equal_numpy(blobs, name):
    weights = np.random.default_rng(0).uniform(0, 3, blobs[0].shape[0])
    weights[:20] = 0
    reference, fitted, _ = _fit_both(
        blobs[0], "random-init", name, "float64", sample_weight=weights
    )
    assert fitted.objective_ == pytest.approx(reference.objective_, rel=1e-10)
    np.testing.assert_allclose(
        to_numpy(fitted.cluster_centers_), reference.cluster_centers_, rtol=1e-9
    )
    # The weights change the fit: this is not the unweighted result.
    unweighted = FuzzyCMeans(4, random_state=0, **SETTINGS["random-init"])
    assert unweighted.fit(blobs[0]).objective_ != pytest.approx(
        reference.objective_, rel=1e-3
    )


@pytest.mark.parametrize("name", NAMESPACES)
def test_explicit_and_callable_init_in_the_input_namespace(blobs, name):
    X = blobs[0]
    centers = X[[0, 100, 200, 299]] + 0.25
    reference = FuzzyCMeans(4, init=centers).fit(X)
    X_xp = to_namespace(name, X)
    seen = []

    def init(data, n_clusters, random_state):
        seen.append(data)
        return to_namespace(name, centers)

    with sklearn.config_context(array_api_dispatch=True):
        assert namespace(X_xp)[0] is not numpy_namespace()
        explicit = FuzzyCMeans(4, init=to_namespace(name, centers)).fit(X_xp)
        from_numpy = FuzzyCMeans(4, init=centers).fit(X_xp)
        called = FuzzyCMeans(4, init=init).fit(X_xp)
    assert namespace(seen[0])[0] is namespace(X_xp)[0]
    assert seen[0].device == X_xp.device
    for fitted in (explicit, from_numpy, called):
        assert fitted.objective_ == pytest.approx(reference.objective_, rel=1e-10)
        assert_in_namespace(fitted.cluster_centers_, X_xp)


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize(
    "dtype, scale",
    [("float64", 1e-150), ("float64", 1e150), ("float32", 1e-30), ("float32", 1e30)],
)
def test_extreme_scales_equal_unit_scale(blobs, name, dtype, scale):
    X = blobs[0].astype(dtype)
    unit = FuzzyCMeans(4, random_state=0).fit(X)
    X_xp = to_namespace(name, X * scale)
    with sklearn.config_context(array_api_dispatch=True):
        scaled = FuzzyCMeans(4, random_state=0).fit(X_xp)
        distances = to_numpy(scaled.transform(X_xp))
    rtol = _tolerance(dtype)
    np.testing.assert_array_equal(to_numpy(scaled.labels_), unit.labels_)
    assert scaled.objective_ == pytest.approx(unit.objective_ * scale**2, rel=rtol)
    np.testing.assert_allclose(
        distances, unit.transform(X) * scale, rtol=10 * rtol, atol=0
    )


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_samples_on_centers_have_membership_one(name, dtype):
    # Far from the origin, the expansion of squared distances loses the
    # distance of a sample on a center to rounding unless it is refined.
    rng = np.random.default_rng(0)
    X = (1e4 + rng.normal(size=(60, 5))).astype(dtype)
    X_xp = to_namespace(name, X)
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(2, m=1.5, random_state=0).fit(X_xp)
        on_centers = fitted.predict_proba(fitted.cluster_centers_)
        distances = fitted.transform(fitted.cluster_centers_)
    np.testing.assert_array_equal(to_numpy(on_centers), np.eye(2, dtype=dtype))
    np.testing.assert_array_equal(np.diag(to_numpy(distances)), 0)


@pytest.mark.parametrize("name", NAMESPACES)
def test_collapse_warns_on_every_namespace(name):
    X = np.random.default_rng(0).normal(size=(200, 500))
    with pytest.warns(ConvergenceWarning, match="degenerate partition"):
        FuzzyCMeans(3, m=2.0, random_state=0).fit(X)
    X_xp = to_namespace(name, X)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.warns(ConvergenceWarning, match="degenerate partition"):
            FuzzyCMeans(3, m=2.0, random_state=0).fit(X_xp)


@pytest.mark.parametrize("name", NAMESPACES)
def test_predict_refuses_another_namespace(blobs, name):
    X_xp = to_namespace(name, blobs[0])
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(4, random_state=0).fit(X_xp)
        for method in ("predict", "predict_proba", "transform", "score"):
            with pytest.raises(ValueError, match="same namespace"):
                getattr(fitted, method)(blobs[0])


@pytest.mark.parametrize("name", ["torch", "strict"])
def test_memberships_follow_pandas_output_as_transform_does(blobs, name):
    pd = pytest.importorskip("pandas")
    X = blobs[0]
    X_xp = to_namespace(name, X)
    reference = FuzzyCMeans(4, random_state=0).fit(X)
    with sklearn.config_context(array_api_dispatch=True, transform_output="pandas"):
        fitted = FuzzyCMeans(4, random_state=0).fit(X_xp)
        memberships = fitted.predict_proba(X_xp)
        distances = fitted.transform(X_xp)
    # scikit-learn makes a DataFrame of the host array of transform's result.
    assert isinstance(distances, pd.DataFrame)
    assert isinstance(memberships, pd.DataFrame)
    np.testing.assert_array_equal(memberships.columns, distances.columns)
    np.testing.assert_allclose(
        memberships.to_numpy(), reference.memberships_, atol=1e-10
    )


def test_without_dispatch_tensors_are_fitted_as_numpy(blobs):
    torch = pytest.importorskip("torch")
    X = blobs[0]
    fitted = FuzzyCMeans(4, random_state=0).fit(torch.asarray(X))
    reference = FuzzyCMeans(4, random_state=0).fit(X)
    assert isinstance(fitted.cluster_centers_, np.ndarray)
    assert fitted.objective_ == reference.objective_


def test_torch_fit_pickles_and_predicts(blobs):
    torch = pytest.importorskip("torch")
    X_xp = torch.asarray(blobs[0])
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(4, random_state=0).fit(X_xp)
        restored = pickle.loads(pickle.dumps(fitted))
        assert torch.equal(restored.predict(X_xp), fitted.labels_)


def test_pipeline_of_array_api_estimators_stays_on_torch(blobs):
    torch = pytest.importorskip("torch")
    X_xp = torch.asarray(blobs[0])
    with sklearn.config_context(array_api_dispatch=True):
        pipeline = make_pipeline(StandardScaler(), FuzzyCMeans(4, random_state=0))
        labels = pipeline.fit(X_xp).predict(X_xp)
    assert isinstance(labels, torch.Tensor)
    expected = make_pipeline(StandardScaler(), FuzzyCMeans(4, random_state=0))
    expected.fit(blobs[0])
    np.testing.assert_array_equal(labels.numpy(), expected[-1].labels_)


def test_device_blocks_do_not_change_the_fit(blobs, monkeypatch):
    torch = pytest.importorskip("torch")
    X_xp = torch.asarray(np.repeat(blobs[0], 20, axis=0))
    with sklearn.config_context(array_api_dispatch=True):
        one_block = FuzzyCMeans(4, random_state=0).fit(X_xp)
        monkeypatch.setattr(fuzzyprune._fcm_data, "_MIN_DEVICE_BLOCK_BYTES", 2**14)
        monkeypatch.setattr(fuzzyprune._fcm_data, "_DEVICE_BLOCK_SHARE", 0.01)
        assert len(PreparedData(X_xp, n_columns=4).blocks) > 10
        # Rows at their own scale are used in place: only data that must be
        # scaled has its rows copied, and makes smaller blocks.
        scaled = PreparedData(X_xp * 1e200, n_columns=4)
        assert scaled.exponent
        assert scaled.rows_per_chunk < PreparedData(X_xp, n_columns=4).rows_per_chunk
        blocks = FuzzyCMeans(4, random_state=0).fit(X_xp)
    assert blocks.objective_ == pytest.approx(one_block.objective_, rel=1e-12)
    assert torch.equal(blocks.labels_, one_block.labels_)


@pytest.mark.parametrize(
    "fuzzifier", [PowerFuzzifier(1.3), PowerFuzzifier(4.0), PolynomialFuzzifier(0.5)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 1e-200])
@pytest.mark.parametrize("weighted", [False, True])
def test_array_api_step_equals_numpy_step(
    fuzzifier, dtype, scale, weighted, monkeypatch
):
    # Several chunks in NumPy's step, against one block in the generic step.
    monkeypatch.setattr(fuzzyprune._chunks, "_CHUNK_ROWS_RANGE", (16, 700))
    rng = np.random.default_rng(0)
    n_samples, n_clusters = 3000, 5
    X = rng.normal(size=(n_samples, 40)) + 3 * rng.integers(0, 3, (n_samples, 1))
    X = (X * scale).astype(dtype) if dtype == np.float64 else X.astype(dtype)
    # Samples lying on centers take the refinement of the expansion.
    centers = X[[0, 1, 2, 10, 20]].copy()
    weights = rng.uniform(0, 2, n_samples) if weighted else None
    data = PreparedData(X, weights, centers=centers, n_columns=n_clusters)
    assert data.rows_per_chunk < n_samples
    assert (data.exponent != 0) == (scale != 1.0 and dtype == np.float64)
    centers = data.to_scaled(centers)
    xp = numpy_namespace()
    block = slice(0, n_samples)
    results = []
    for step, terms in [
        (numpy_step, data.center_terms(centers)),
        (array_api_step, CenterTerms(centers, data.shift, xp, np.float64)),
    ]:
        sums = data.new_sums(n_clusters)
        memberships = np.empty((n_samples, n_clusters), dtype)
        log_objective = step(
            X,
            data.block(block),
            terms,
            fuzzifier,
            sums,
            memberships,
            data.workspace(n_clusters),
        )
        results.append((float(log_objective), memberships, sums))
    (log_numpy, m_numpy, s_numpy), (log_xp, m_xp, s_xp) = results
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert log_xp == pytest.approx(log_numpy, rel=rtol, abs=rtol)
    np.testing.assert_allclose(m_xp, m_numpy, atol=rtol)
    np.testing.assert_array_equal(m_xp[[0, 1, 2, 10, 20]].argmax(axis=1), range(5))
    assert m_numpy[[0, 1, 2, 10, 20]].max(axis=1).min() == 1
    expected = s_numpy.centers(centers)
    np.testing.assert_allclose(
        s_xp.centers(centers), expected, atol=rtol * np.abs(expected).max()
    )


def test_verbose_reports_iterations_on_torch(blobs, capsys):
    torch = pytest.importorskip("torch")
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(4, random_state=0, verbose=1).fit(torch.asarray(blobs[0]))
    output = capsys.readouterr().out
    assert output.count("Iteration") == fitted.n_iter_
    assert f"Converged at iteration {fitted.n_iter_}." in output


@pytest.mark.parametrize("start, exponent", [(-140, 140), (20, -160)])
def test_scaling_by_a_power_of_two_beyond_float32_range_is_exact(start, exponent):
    torch = pytest.importorskip("torch")
    # 2 ** 140 and 2 ** -160 are not float32 numbers, but each half of them
    # is: the product is exact, down to subnormal results.
    values = torch.tensor([2.0**start, 3 * 2.0 ** (start - 2)], dtype=torch.float32)
    scaled = fuzzyprune._fcm_data.times_power_of_two(values, exponent, None)
    end = start + exponent
    assert scaled.tolist() == [2.0**end, 3 * 2.0 ** (end - 2)]


def test_torch_fit_leaves_blas_threads_alone(blobs):
    # NumPy data is split over threads with BLAS limited to one; a torch
    # tensor's products run on the library's own threads, which keep theirs.
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_limits

    from fuzzyprune._chunks import available_threads

    seen = []

    def init(X, n_clusters, random_state):
        seen.append(available_threads())
        return X[:n_clusters, ...]

    with threadpool_limits(2, user_api="blas"):
        FuzzyCMeans(4, init=init).fit(blobs[0])
        with sklearn.config_context(array_api_dispatch=True):
            FuzzyCMeans(4, init=init).fit(torch.asarray(blobs[0]))
    assert seen == [1, 2]


def test_tensors_requiring_grad_are_fitted_without_a_graph(blobs):
    torch = pytest.importorskip("torch")
    X_xp = torch.asarray(blobs[0]).requires_grad_(True)
    weights = torch.ones(X_xp.shape[0], dtype=torch.float64, requires_grad=True)
    init = torch.asarray(blobs[0][[0, 100, 200, 299]]).requires_grad_(True)
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(4, init=init).fit(X_xp, sample_weight=weights)
        outputs = [fitted.predict_proba(X_xp), fitted.transform(X_xp)]
    for array in [fitted.cluster_centers_, fitted.memberships_, *outputs]:
        assert not array.requires_grad and array.grad_fn is None
    reference = FuzzyCMeans(4, init=blobs[0][[0, 100, 200, 299]]).fit(blobs[0])
    assert fitted.objective_ == pytest.approx(reference.objective_, rel=1e-12)


@pytest.mark.parametrize("argument", ["X", "sample_weight", "init"])
def test_tensors_without_values_are_refused_by_name(blobs, argument):
    torch = pytest.importorskip("torch")
    inputs = {
        "X": torch.asarray(blobs[0]),
        "sample_weight": torch.ones(blobs[0].shape[0], dtype=torch.float64),
        "init": torch.asarray(blobs[0][:4]),
    }
    inputs[argument] = inputs[argument].to("meta")
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match=f"{argument} is on the 'meta' device"):
            FuzzyCMeans(4, init=inputs["init"]).fit(
                inputs["X"], sample_weight=inputs["sample_weight"]
            )


@pytest.mark.parametrize("layout", ["to_sparse", "to_sparse_csr"])
@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
def test_sparse_tensors_are_refused_by_name(blobs, layout):
    torch = pytest.importorskip("torch")
    sparse = getattr(torch.asarray(blobs[0]), layout)()
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="X is a sparse torch tensor"):
            FuzzyCMeans(4).fit(sparse)


def test_bfloat16_sample_weights_are_accepted(blobs):
    torch = pytest.importorskip("torch")
    weights = np.random.default_rng(0).integers(1, 4, blobs[0].shape[0])
    reference = FuzzyCMeans(4, random_state=0).fit(blobs[0], sample_weight=weights)
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(4, random_state=0).fit(
            torch.asarray(blobs[0]), sample_weight=torch.asarray(weights).bfloat16()
        )
    assert fitted.objective_ == pytest.approx(reference.objective_, rel=1e-10)


def test_torch_fit_used_without_dispatch_says_so(blobs):
    torch = pytest.importorskip("torch")
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(4, random_state=0).fit(torch.asarray(blobs[0]))
    for X in (blobs[0], torch.asarray(blobs[0])):
        with pytest.raises(ValueError, match="fitted on torch on device cpu under"):
            fitted.predict(X)


def test_sample_weights_on_the_device_are_checked_there(blobs, monkeypatch):
    torch = pytest.importorskip("torch")
    import fuzzyprune._validation

    def no_host_copy(array):
        if not isinstance(array, np.ndarray):
            raise AssertionError("sample weights went to the host")
        return array

    monkeypatch.setattr(fuzzyprune._validation, "to_numpy", no_host_copy)
    X_xp = torch.asarray(blobs[0])
    weights = np.random.default_rng(0).uniform(0, 2, X_xp.shape[0])
    reference = FuzzyCMeans(4, random_state=0).fit(blobs[0], sample_weight=weights)
    bad = {
        "NaN or infinity": np.where(np.arange(weights.size) == 3, np.nan, weights),
        "Negative values": -weights,
        "at least one non-zero": 0 * weights,
        r"shape == \(299,\)": weights[:-1],
    }
    with sklearn.config_context(array_api_dispatch=True):
        fitted = FuzzyCMeans(4, random_state=0)
        fitted.fit(X_xp, sample_weight=torch.asarray(weights))
        for message, values in bad.items():
            with pytest.raises(ValueError, match=message) as error:
                FuzzyCMeans(4).fit(X_xp, sample_weight=torch.asarray(values))
            assert "sample_weight" in str(error.value)
        with pytest.raises(ValueError, match="sample_weight holds complex"):
            complex_weights = torch.ones(300, dtype=torch.complex64)
            FuzzyCMeans(4).fit(X_xp, sample_weight=complex_weights)
        # Booleans count as numbers, as in NumPy.
        boolean = FuzzyCMeans(4, random_state=0)
        boolean.fit(X_xp, sample_weight=torch.ones(300, dtype=torch.bool))
    unweighted = FuzzyCMeans(4, random_state=0).fit(blobs[0])
    assert boolean.objective_ == pytest.approx(unweighted.objective_, rel=1e-10)
    assert fitted.objective_ == pytest.approx(reference.objective_, rel=1e-10)
