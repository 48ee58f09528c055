"""Validity indices and scorers on arrays of other namespaces than NumPy's.

Each result on torch tensors (CPU, and CUDA where present), CuPy arrays and
array-api-strict arrays is compared with the NumPy result on the same data.
array-api-strict's "device1" cannot be read as a NumPy array nor combined
with arrays of another device, so a function that moved a whole input to the
host, or left one behind there, fails on it.
"""

import numpy as np
import pytest
from array_namespaces import NAMESPACES, converter
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.datasets import make_blobs
from sklearn.model_selection import cross_validate

import fuzzyprune.metrics
from fuzzyprune import FuzzyCMeans
from fuzzyprune._array_api import device, namespace, to_numpy
from fuzzyprune.metrics import (
    cluster_accuracy,
    fuzzy_silhouette_score,
    get_scorer,
    modified_partition_coefficient,
    partition_coefficient,
    partition_entropy,
    silhouette_samples_exact,
    simplified_silhouette_score,
    xie_beni_index,
)

xps = pytest.importorskip("array_api_strict")

RTOL = {"float64": 1e-10, "float32": 1e-5}
SCORERS = [
    "partition_coefficient",
    "modified_partition_coefficient",
    "neg_partition_entropy",
    "neg_xie_beni",
    "fuzzy_silhouette",
    "simplified_silhouette",
    "cluster_accuracy",
]


@pytest.fixture(autouse=True)
def dispatch():
    with config_context(array_api_dispatch=True):
        yield


def partition(dtype="float64", n_samples=150, seed=0):
    """Data, memberships, centers, labels, classes and weights (some 0)."""
    X, classes = make_blobs(n_samples, n_features=4, centers=3, random_state=seed)
    rng = np.random.default_rng(seed)
    memberships = rng.random((n_samples, 4)) ** 3
    memberships /= memberships.sum(axis=1, keepdims=True)
    weights = rng.random(n_samples)
    weights[:5] = 0
    return {
        "X": X.astype(dtype),
        "U": memberships.astype(dtype),
        "C": X[[0, 1, 2, 3]].astype(dtype),
        "L": memberships.argmax(axis=1),
        "Y": classes,
        "W": weights,
    }


# Every index, called on a dict of arguments as ``partition`` makes them.
INDICES = {
    "pc": lambda a: partition_coefficient(a["U"], sample_weight=a["W"]),
    "mpc": lambda a: modified_partition_coefficient(a["U"], sample_weight=a["W"]),
    "pe": lambda a: partition_entropy(a["U"], sample_weight=a["W"]),
    "pe unweighted": lambda a: partition_entropy(a["U"]),
    "xb": lambda a: xie_beni_index(a["X"], a["U"], a["C"], sample_weight=a["W"]),
    "xb polynomial": lambda a: xie_beni_index(
        a["X"], a["U"], a["C"], fuzzifier="polynomial", beta=0.3
    ),
    "fuzzy silhouette": lambda a: fuzzy_silhouette_score(a["X"], a["U"]),
    "fuzzy silhouette subset": lambda a: fuzzy_silhouette_score(
        a["X"], a["U"], alpha=2.0, sample_size=60, random_state=0
    ),
    "simplified silhouette": lambda a: simplified_silhouette_score(
        a["X"], a["L"], a["C"], sample_weight=a["W"]
    ),
    "simplified silhouette of means": lambda a: simplified_silhouette_score(
        a["X"], a["L"], sample_weight=a["W"]
    ),
    "simplified silhouette unweighted": lambda a: simplified_silhouette_score(
        a["X"], a["L"]
    ),
    "accuracy": lambda a: cluster_accuracy(a["Y"], a["L"], sample_weight=a["W"]),
    "accuracy unweighted": lambda a: cluster_accuracy(a["Y"], a["L"]),
}


def on(name, arguments, keys="XUCLYW"):
    """Return ``arguments`` with those named in ``keys`` in namespace ``name``."""
    convert = converter(name)
    return {key: convert(v) if key in keys else v for key, v in arguments.items()}


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NAMESPACES)
def test_indices_equal_those_of_numpy(name, dtype, index):
    arguments = partition(dtype)
    expected = INDICES[index](arguments)
    result = INDICES[index](on(name, arguments))
    assert type(result) is float
    assert result == pytest.approx(expected, rel=RTOL[dtype])


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numpy_inputs_give_the_same_results_with_and_without_dispatch(dtype, index):
    arguments = partition(dtype)
    with config_context(array_api_dispatch=False):
        expected = INDICES[index](arguments)
    assert INDICES[index](arguments) == expected


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize(
    "dtype, scale",
    [
        ("float64", 1e-30),
        ("float64", 1e30),
        ("float64", 1e-200),
        ("float64", 1e200),
        ("float32", 1e-30),
        ("float32", 1e30),
    ],
)
@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_indices_at_extreme_scales_equal_those_of_numpy(name, dtype, scale, index):
    arguments = partition("float64")
    unit = INDICES[index](arguments)
    for key in "XC":
        arguments[key] = (arguments[key] * scale).astype(dtype)
    arguments["U"] = arguments["U"].astype(dtype)
    expected = INDICES[index](arguments)
    result = INDICES[index](on(name, arguments))
    assert result == pytest.approx(expected, rel=RTOL[dtype])
    # Exact scaling by powers of two: the index of the data at unit scale.
    assert result == pytest.approx(unit, rel=1e-4 if dtype == "float32" else 1e-9)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NAMESPACES)
def test_exact_silhouettes_stay_on_the_device(name, dtype):
    arguments = partition(dtype)
    expected = silhouette_samples_exact(arguments["X"], arguments["L"])
    X = converter(name)(arguments["X"])
    silhouettes = silhouette_samples_exact(X, converter(name)(arguments["L"]))
    assert namespace(silhouettes)[0] is namespace(X)[0]
    assert device(silhouettes) == device(X)
    assert silhouettes.shape == (X.shape[0],)
    # Each silhouette is a ratio of sums of distances, each rounded in the
    # data's type: compared to the scale of the silhouettes, [-1, 1].
    assert_allclose(to_numpy(silhouettes), expected, rtol=0, atol=RTOL[dtype])


@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_exact_silhouettes_of_duplicates_and_by_blocks(name, monkeypatch):
    # Blocks of 16 rows: off-diagonal blocks, and duplicate samples whose
    # distances are recomputed directly, in every block.
    monkeypatch.setattr(fuzzyprune.metrics, "_DISTANCE_BLOCK_ROWS", 16)
    X, labels = make_blobs(50, n_features=3, centers=3, random_state=1)
    X = np.vstack([X, X[:20] + 1e-9, X[:20]])
    labels = np.concatenate([labels, labels[:20], labels[:20]])
    expected = silhouette_samples_exact(X, labels)
    silhouettes = silhouette_samples_exact(converter(name)(X), converter(name)(labels))
    assert_allclose(to_numpy(silhouettes), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_products_with_cluster_indicators_by_blocks(name, monkeypatch):
    # Blocks of a few rows for the cluster means and the contingency table.
    monkeypatch.setattr(fuzzyprune.metrics, "_BLOCK_ELEMENTS", 64)
    arguments = partition()
    for index in ["simplified silhouette of means", "accuracy"]:
        assert INDICES[index](on(name, arguments)) == pytest.approx(
            INDICES[index](arguments), rel=1e-10
        )


@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_a_cluster_of_samples_of_weight_zero_has_no_center(name):
    arguments = partition()
    arguments["W"][arguments["L"] == 1] = 0
    counted = arguments["L"] != 1
    expected = simplified_silhouette_score(
        arguments["X"][counted],
        arguments["L"][counted],
        sample_weight=arguments["W"][counted],
    )
    assert INDICES["simplified silhouette of means"](arguments) == pytest.approx(
        expected, rel=1e-12
    )
    assert INDICES["simplified silhouette of means"](
        on(name, arguments)
    ) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_a_cluster_of_tiny_weights_keeps_its_center(name):
    # Relative to the others, its weights are beyond float64's range; they
    # are subnormal, and 2 ** -exponent of them is not a float.
    X = np.array([[0.0], [1.0], [9.0], [10.0], [4.0], [5.0]])
    labels = np.array([0, 0, 1, 1, 2, 2])
    weights = np.array([1e308, 1e308, 1e308, 1e308, 5e-324, 1.5e-323])
    expected = simplified_silhouette_score(X, labels, sample_weight=weights)
    convert = converter(name)
    result = simplified_silhouette_score(
        convert(X), convert(labels), sample_weight=convert(weights)
    )
    assert result == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_other_inputs_follow_X(name):
    # Memberships, centers, labels and weights as NumPy arrays, lists or
    # arrays of another namespace: moved to X's namespace and device.
    arguments = partition()
    torch = pytest.importorskip("torch")
    others = {
        "U": torch.asarray(arguments["U"]),
        "C": arguments["C"].tolist(),
        "L": xps.asarray(arguments["L"]),
        "Y": torch.asarray(arguments["Y"]),
        "W": list(arguments["W"]),
    }
    mixed = on(name, arguments, keys="X") | others
    for index in ["xb", "fuzzy silhouette", "simplified silhouette"]:
        assert INDICES[index](mixed) == pytest.approx(
            INDICES[index](arguments), rel=1e-10
        )
    # Predicted clusters set the namespace of the accuracy.
    mixed = on(name, arguments, keys="L") | {"Y": others["Y"], "W": others["W"]}
    assert INDICES["accuracy"](mixed) == pytest.approx(
        INDICES["accuracy"](arguments), rel=1e-10
    )


@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_numpy_X_takes_inputs_of_other_namespaces(name):
    arguments = partition()
    mixed = on(name, arguments, keys="UCLW")
    for index in ["xb", "fuzzy silhouette", "simplified silhouette"]:
        assert INDICES[index](mixed) == INDICES[index](arguments)


@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_labels_of_text_with_data_on_a_device(name):
    arguments = partition()
    letters = np.array(list("abcd"))[arguments["L"]]
    classes = np.array(["x", "y", "z"])[arguments["Y"]]
    X, clusters = converter(name)(arguments["X"]), converter(name)(arguments["L"])
    assert simplified_silhouette_score(X, letters) == pytest.approx(
        simplified_silhouette_score(arguments["X"], arguments["L"]), rel=1e-10
    )
    assert_allclose(
        to_numpy(silhouette_samples_exact(X, letters)),
        silhouette_samples_exact(arguments["X"], arguments["L"]),
        rtol=1e-10,
    )
    assert cluster_accuracy(classes, clusters) == cluster_accuracy(
        arguments["Y"], arguments["L"]
    )


def test_only_small_results_come_to_the_host(monkeypatch):
    # Without sample weights (checked on the host), nothing larger than a
    # table of clusters by clusters leaves the device, even when labels or
    # classes on the host come with it.
    arguments = partition()
    moved = []

    def recording_to_numpy(array):
        if array is not None:
            moved.append(array.shape)
        return to_numpy(array)

    monkeypatch.setattr(fuzzyprune.metrics, "to_numpy", recording_to_numpy)
    device_arguments = on("strict-device1", arguments) | {"W": None}
    for index in INDICES:
        INDICES[index](device_arguments)
        INDICES[index](device_arguments | {"Y": arguments["Y"]})
    for index in ["simplified silhouette", "simplified silhouette of means"]:
        INDICES[index](device_arguments | {"L": arguments["L"]})
    silhouette_samples_exact(device_arguments["X"], device_arguments["L"])
    assert moved  # centers' gaps, contingency tables, largest cluster weights
    assert max(np.prod(shape) for shape in moved) <= 4 * 4


def test_float32_device_takes_float64_inputs():
    # A device without float64 works in float32, with float64 host inputs.
    arguments = partition("float32")
    no_float64 = xps.Device("no_float64")
    X = xps.asarray(arguments["X"], device=no_float64)
    float64 = partition("float64")
    for index in ["xb", "simplified silhouette", "simplified silhouette of means"]:
        result = INDICES[index](float64 | {"X": X})
        assert result == pytest.approx(INDICES[index](arguments), rel=1e-5)
    silhouettes = silhouette_samples_exact(X, arguments["L"])
    assert silhouettes.dtype == xps.float32
    assert silhouettes.device == no_float64


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("scoring", SCORERS)
@pytest.mark.parametrize("name", ["torch", "torch-cuda", "cupy", "strict-device1"])
def test_scorers_of_a_clusterer_fitted_on_a_device(name, scoring, dtype):
    X, y = make_blobs(150, n_features=4, centers=3, random_state=0)
    X = X.astype(dtype)
    weights = np.random.default_rng(0).random(X.shape[0])
    scorer = get_scorer(scoring)
    fitted = FuzzyCMeans(3, random_state=0).fit(X)
    X_device = converter(name)(X)
    fitted_device = FuzzyCMeans(3, random_state=0).fit(X_device)
    score = scorer(fitted_device, X_device, y)
    assert type(score) is float
    assert score == pytest.approx(scorer(fitted, X, y), rel=RTOL[dtype])
    if scoring != "fuzzy_silhouette":
        score = scorer(fitted_device, X_device, y, sample_weight=weights)
        expected = scorer(fitted, X, y, sample_weight=weights)
        assert score == pytest.approx(expected, rel=RTOL[dtype])


# Bad arguments, made in NumPy and converted by ``c``: the errors on a device
# name the argument as NumPy's do.
BAD_CALLS = [
    (lambda a, c: partition_coefficient(c(a["U"] - 0.5)), "memberships must lie"),
    (lambda a, c: partition_entropy(c(a["U"] * 0.5)), "row 0 sums to 0.5"),
    (
        lambda a, c: partition_coefficient(c(a["U"] * np.nan)),
        "memberships contains NaN",
    ),
    (
        lambda a, c: modified_partition_coefficient(c(a["U"][:, :1] ** 0)),
        "at least 2 clusters",
    ),
    (
        lambda a, c: xie_beni_index(c(a["X"]), c(a["U"][:-1]), c(a["C"])),
        "memberships must have one row per sample",
    ),
    (
        lambda a, c: xie_beni_index(c(a["X"]), c(a["U"]), c(a["C"][:, :2])),
        "centers must have shape",
    ),
    (
        lambda a, c: xie_beni_index(c(a["X"] * np.inf), c(a["U"]), c(a["C"])),
        "X contains inf",
    ),
    (
        lambda a, c: xie_beni_index(c(a["X"]), c(a["U"]), c(a["C"] * np.nan)),
        "centers contains NaN",
    ),
    (
        lambda a, c: simplified_silhouette_score(c(a["X"]), c(a["L"] + 1), c(a["C"])),
        r"labels must be integers in \[0, 3\].*from 1 to 4",
    ),
    (
        lambda a, c: simplified_silhouette_score(c(a["X"]), c(a["L"] - 1.0), c(a["C"])),
        r"labels must be integers in \[0, 3\].* from -1\.0 to 2\.0",
    ),
    (
        lambda a, c: simplified_silhouette_score(c(a["X"]), c(a["L"][:-1])),
        "labels must have one value per sample",
    ),
    (
        lambda a, c: silhouette_samples_exact(c(a["X"]), c(a["L"] * 0)),
        "Number of labels is 1",
    ),
    (
        lambda a, c: cluster_accuracy(c(a["Y"]), c(a["L"][:-1])),
        "inconsistent numbers",
    ),
    (
        lambda a, c: partition_coefficient(c(a["U"]), sample_weight=c(-a["W"])),
        "sample_weight",
    ),
]


@pytest.mark.parametrize("call, message", BAD_CALLS)
@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_bad_arguments_on_a_device_are_named(name, call, message):
    arguments = partition()
    with pytest.raises(ValueError, match=message):
        call(arguments, np.asarray)
    with pytest.raises(ValueError, match=message):
        call(arguments, converter(name))


@pytest.mark.parametrize("name", ["torch", "strict-device1"])
def test_scorers_in_a_cross_validation_on_a_device(name):
    X, y = make_blobs(120, n_features=3, centers=3, random_state=0)
    scoring = {scorer: get_scorer(scorer) for scorer in SCORERS}
    expected = cross_validate(FuzzyCMeans(3, random_state=0), X, y, scoring=scoring)
    results = cross_validate(
        FuzzyCMeans(3, random_state=0), converter(name)(X), y, scoring=scoring
    )
    for scorer in SCORERS:
        key = f"test_{scorer}"
        assert_allclose(results[key], expected[key], rtol=1e-10)
