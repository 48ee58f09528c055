import numpy as np
import pytest
import sklearn
from array_namespaces import to_namespace
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from fuzzyprune import FuzzyCMeans, GAFeatureSelector
from fuzzyprune._array_api import device, to_numpy
from fuzzyprune._ga import _constant_columns

# Libraries on this machine's CPU, then on a GPU where there is one. The
# searches on array-api-strict repeat torch's on the CPU (its strictness is
# tested on every path by the host-traffic test): they run with the slow tests.
NAMESPACES = [
    "torch",
    pytest.param("strict", marks=pytest.mark.slow),
    "torch-cuda",
    "cupy",
]

HISTORY_VALUES = ("best_score", "mean_score", "std_score")
HISTORY_COUNTS = ("generation", "n_evaluations", "n_cache_hits")


def separated_data(n_per_cluster=40, n_noise=4, seed=0):
    """Three clusters far apart on the first two features, then noise features."""
    rng = np.random.default_rng(seed)
    centers = np.repeat([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]], n_per_cluster, axis=0)
    noise = rng.normal(size=(centers.shape[0], n_noise))
    return np.hstack([centers + rng.normal(size=centers.shape), noise])


def negative_objective(estimator, X, y=None):
    """The estimator's own score, which FuzzyCMeans computes in X's namespace."""
    return estimator.score(X)


def assert_same_place(array, reference):
    assert type(array) is type(reference)
    assert device(array) == device(reference)


def assert_same_search(selector, expected, rtol):
    assert_array_equal(selector.support_, expected.support_)
    assert_allclose(selector.best_score_, expected.best_score_, rtol=rtol)
    assert selector.n_evaluations_ == expected.n_evaluations_
    for key in HISTORY_VALUES:
        # A spread of equal scores is 0 up to rounding, which differs by device.
        assert_allclose(
            selector.history_[key], expected.history_[key], rtol=rtol, atol=1e-12
        )
    for key in HISTORY_COUNTS:
        assert_array_equal(selector.history_[key], expected.history_[key])


def search(X, y=None, **params):
    params = {
        "estimator": FuzzyCMeans(3),
        "scoring": negative_objective,
        "population_size": 6,
        "n_generations": 2,
        "random_state": 0,
        **params,
    }
    return GAFeatureSelector(**params).fit(X, y)


@pytest.mark.parametrize(
    "dtype, rtol, n_jobs",
    [(np.float64, 1e-10, 1), (np.float32, 1e-5, 1), (np.float64, 1e-10, 2)],
    ids=["f64", "f32", "f64-threads"],
)
@pytest.mark.parametrize("name", NAMESPACES)
def test_search_on_device_matches_numpy(name, dtype, rtol, n_jobs):
    X = separated_data().astype(dtype)
    X_device = to_namespace(name, X)
    expected = search(X)
    with sklearn.config_context(array_api_dispatch=True):
        selector = search(X_device, n_jobs=n_jobs)
    assert_same_search(selector, expected, rtol)
    assert isinstance(selector.support_, np.ndarray)
    assert_same_place(selector.estimator_.cluster_centers_, X_device)
    assert_allclose(
        to_numpy(selector.estimator_.cluster_centers_),
        expected.estimator_.cluster_centers_,
        rtol=rtol,
    )


@pytest.mark.parametrize("name", NAMESPACES)
def test_transform_keeps_namespace_and_device(name):
    X = separated_data()
    X_device = to_namespace(name, X)
    with sklearn.config_context(array_api_dispatch=True):
        selector = search(X_device)
        selected = selector.transform(X_device)
    assert_same_place(selected, X_device)
    assert_array_equal(to_numpy(selected), X[:, selector.support_])


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("name", NAMESPACES)
def test_constant_columns_on_device_match_numpy(name, dtype):
    X = np.array([[1, 0, 1, 0], [1, 1, 1, 0], [1, 0, 1, 0]]).astype(dtype)
    X[1, 2] = 0
    expected = np.array([True, False, False, True])
    assert_array_equal(_constant_columns(X), expected)
    with sklearn.config_context(array_api_dispatch=True):
        constant = _constant_columns(to_namespace(name, X))
    assert isinstance(constant, np.ndarray)
    assert_array_equal(constant, expected)


@pytest.mark.parametrize("name", NAMESPACES)
def test_cross_validated_scoring_on_device_matches_numpy(name):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    X = rng.normal(size=(y.size, 6))
    X[:, 0] += 2 * y
    X[:, 3] -= 1.5 * y
    params = {
        "estimator": LinearDiscriminantAnalysis(),
        "scoring": "accuracy",
        "cv": 3,
    }
    X_device = to_namespace(name, X)
    expected = search(X, y, **params)
    # Targets on the device, on the host or in a list: they follow X.
    for targets in (to_namespace(name, y), y, y.tolist()):
        with sklearn.config_context(array_api_dispatch=True):
            selector = search(X_device, targets, **params)
        # Accuracies may be averaged in float32 on the device.
        assert_same_search(selector, expected, rtol=1e-6)


@pytest.mark.parametrize("name", NAMESPACES)
def test_inverse_transform_on_device_puts_columns_back(name):
    X = separated_data()
    X_device = to_namespace(name, X)
    with sklearn.config_context(array_api_dispatch=True):
        selector = search(X_device)
        restored = selector.inverse_transform(selector.transform(X_device))
        with pytest.raises(ValueError, match="expected \\(n_samples, "):
            selector.inverse_transform(X_device)
    assert_same_place(restored, X_device)
    assert_array_equal(
        to_numpy(restored), selector.inverse_transform(selector.transform(X))
    )
    assert 0 < selector.support_.sum() < X.shape[1]


def test_estimator_without_array_api_support_is_refused_up_front():
    from sklearn.cluster import KMeans

    X_device = to_namespace("torch", separated_data())
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="estimator: KMeans does not support"):
            GAFeatureSelector(KMeans(3), population_size=4, n_generations=1).fit(
                X_device
            )


@pytest.fixture
def device1_traffic(monkeypatch):
    """Record the shapes of arrays moved off and onto array-api-strict's device1."""
    xps = pytest.importorskip("array_api_strict")
    Array = type(xps.asarray(0))
    device1 = xps.Device("device1")
    traffic = {"off": [], "onto": []}

    def record(array, target):
        source = getattr(array, "device", None)
        if source == device1 and target != device1:
            traffic["off"].append(np.shape(array))
        elif source != device1 and target == device1:
            traffic["onto"].append(np.shape(array))

    asarray = xps.asarray

    def recording_asarray(obj, /, **kwargs):
        if kwargs.get("device") is not None:
            record(obj, kwargs["device"])
        return asarray(obj, **kwargs)

    to_device, dlpack = Array.to_device, Array.__dlpack__

    def recording_to_device(self, target, /, **kwargs):
        record(self, target)
        return to_device(self, target, **kwargs)

    def recording_dlpack(self, **kwargs):
        record(self, None)
        return dlpack(self, **kwargs)

    monkeypatch.setattr(xps, "asarray", recording_asarray)
    monkeypatch.setattr(Array, "to_device", recording_to_device)
    monkeypatch.setattr(Array, "__dlpack__", recording_dlpack)
    return device1, traffic


@pytest.mark.parametrize(
    "scoring",
    [negative_objective, "silhouette", "simplified_silhouette", "fuzzy_silhouette"],
)
def test_subsets_never_move_samples_between_host_and_device(device1_traffic, scoring):
    # array-api-strict's device1 refuses NumPy conversion outright; the
    # moves it allows are recorded. Nothing with a row per sample may leave
    # (FuzzyCMeans moves distances of at most 256 rows to the host), and only
    # the sampled rows may arrive, once.
    xps = pytest.importorskip("array_api_strict")
    device1, traffic = device1_traffic
    X = separated_data(n_per_cluster=100)
    X_device = xps.asarray(X, device=device1)
    traffic["onto"].clear()
    with sklearn.config_context(array_api_dispatch=True):
        selector = search(X_device, scoring=scoring, silhouette_sample_size=None)
        selected = selector.transform(X_device)
    assert selector.n_evaluations_ > 1
    assert selected.device == device1
    assert traffic["off"] and traffic["onto"], "the recording saw no move"
    off, onto = (
        [shape for shape in traffic[way] if shape[:1] == X.shape[:1]]
        for way in ("off", "onto")
    )
    assert not off, traffic["off"]
    assert onto in ([], [X.shape[:1]]), traffic["onto"]


@pytest.mark.parametrize("features", ["all", "selected"])
@pytest.mark.parametrize(
    "scoring", ["silhouette", "simplified_silhouette", "fuzzy_silhouette"]
)
@pytest.mark.parametrize("name", NAMESPACES)
def test_silhouette_scorings_on_device_match_numpy(name, scoring, features):
    X = separated_data()
    X_device = to_namespace(name, X)
    params = {
        "scoring": scoring,
        "silhouette_sample_size": 50,
        "silhouette_features": features,
    }
    expected = search(X, **params)
    with sklearn.config_context(array_api_dispatch=True):
        selector = search(X_device, **params)
    assert_same_search(selector, expected, rtol=1e-10)


@pytest.mark.parametrize("name", ["torch", "strict"])
def test_text_targets_stay_on_the_host(name):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    codes = np.repeat([0, 1, 2], 30)
    X = rng.normal(size=(codes.size, 5))
    X[:, 1] += 3 * codes
    text = np.array(["a", "b", "c"])[codes]
    params = {"estimator": LogisticRegression(), "scoring": "accuracy", "cv": 3}
    expected = search(X, text, **params)
    with sklearn.config_context(array_api_dispatch=True):
        selector = search(to_namespace(name, X), text, **params)
    assert_same_search(selector, expected, rtol=1e-6)


def test_pipeline_of_array_api_steps_searches_on_device():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = separated_data()
    pipeline = make_pipeline(StandardScaler(), FuzzyCMeans(3, random_state=0))
    expected = search(X, estimator=pipeline)
    with sklearn.config_context(array_api_dispatch=True):
        selector = search(to_namespace("torch", X), estimator=pipeline)
    assert_same_search(selector, expected, rtol=1e-10)


def test_errors_about_y_name_y():
    X = separated_data()
    y = np.zeros(X.shape[0])
    y[3] = np.nan
    with pytest.raises(ValueError, match="^Input y contains NaN"):
        GAFeatureSelector(FuzzyCMeans(3)).fit(X, y)
    with pytest.raises(ValueError, match="^y: Found input variables with incons"):
        GAFeatureSelector(FuzzyCMeans(3)).fit(X, np.zeros(10))


def test_inverse_transform_on_device_checks_its_input():
    X_device = to_namespace("torch", separated_data())
    with sklearn.config_context(array_api_dispatch=True):
        selector = search(X_device)
        selected = selector.transform(X_device)
        selected[0, 0] = float("nan")
        with pytest.raises(ValueError, match="Input X contains NaN"):
            selector.inverse_transform(selected)
