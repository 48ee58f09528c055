"""Bad inputs to every estimator and public function: a clear error, nothing lost.

Each case is an input a user can plausibly pass by mistake. The library must
refuse it with a ``ValueError`` or ``TypeError`` whose message names the
argument or the problem, never crash with another exception, return a
silently wrong number, or change what an earlier call produced.
"""

import pickle
import re

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from fuzzyprune import FuzzyCMeans, GAFeatureSelector, PrunedMLPClassifier, metrics

X, Y = make_blobs(60, n_features=4, centers=3, random_state=0)
U = FuzzyCMeans(3, random_state=0).fit(X).memberships_
CENTERS = FuzzyCMeans(3, random_state=0).fit(X).cluster_centers_
LABELS = U.argmax(axis=1)


def _estimators():
    return [
        FuzzyCMeans(3, max_iter=20, random_state=0),
        GAFeatureSelector(
            FuzzyCMeans(2, max_iter=10, random_state=0),
            population_size=4,
            n_generations=1,
            random_state=0,
        ),
        PrunedMLPClassifier(hidden_size=4, max_epochs=2, random_state=0),
    ]


ESTIMATOR_IDS = ["FuzzyCMeans", "GAFeatureSelector", "PrunedMLPClassifier"]


def _with_nan(X):
    X = X.copy()
    X[-1, -1] = np.nan
    return X


def _with_inf(X):
    X = X.copy()
    X[-1, -1] = -np.inf
    return X


# (name, make bad X from good X, pattern the message must match)
BAD_X = [
    ("nan", _with_nan, "NaN"),
    ("inf", _with_inf, "infinity"),
    ("complex", lambda X: X + 1j, "[Cc]omplex"),
    ("strings", lambda X: np.full(X.shape, "a", dtype=object), "string|convert"),
    ("text", lambda X: np.full(X.shape, "a"), "string|convert"),
    ("1-D", lambda X: X[:, 0], "2D"),
    ("3-D", lambda X: X[:, :, None], "dim 3|2D|dimension"),
    ("no rows", lambda X: X[:0], "0 sample"),
    ("no features", lambda X: X[:, :0], "0 feature"),
    ("scalar", lambda X: 3.0, "2D|scalar"),
    ("None", lambda X: None, "None|2D|array"),
    ("ragged", lambda X: [[1.0, 2.0], [3.0]], "sequence|inhomogeneous|shape"),
]


def _fit(estimator, X, y=Y, **kwargs):
    n = np.shape(X)[0] if np.ndim(X) else 0
    return estimator.fit(X, y[:n] if n <= len(y) else y, **kwargs)


@pytest.mark.parametrize("estimator", _estimators(), ids=ESTIMATOR_IDS)
@pytest.mark.parametrize("name, make, message", BAD_X, ids=[c[0] for c in BAD_X])
def test_fit_refuses_bad_X(estimator, name, make, message):
    with pytest.raises((ValueError, TypeError), match=message) as error:
        _fit(estimator, make(X))
    if name in ("complex", "strings", "text"):
        # One line naming X, not scikit-learn's dump of the array.
        assert re.match(r"^X\b[^\n]*$", str(error.value))


@pytest.mark.parametrize("estimator", _estimators(), ids=ESTIMATOR_IDS)
@pytest.mark.parametrize("name, make, message", BAD_X, ids=[c[0] for c in BAD_X])
def test_methods_refuse_bad_X_and_keep_the_fit(estimator, name, make, message):
    """A fitted estimator refuses bad X in every method, and stays as it was."""
    estimator = _fit(estimator, X)
    methods = [
        method
        for method in ("predict", "predict_proba", "transform", "score")
        if hasattr(estimator, method)
    ]
    # A good call first, since predicting may switch a network to eval mode.
    for method in methods:
        getattr(estimator, method)(*([X, Y] if method == "score" else [X]))
    before = pickle.dumps(estimator)
    if name in ("strings", "text") and isinstance(estimator, GAFeatureSelector):
        # A selector selects columns of any dtype, as scikit-learn's do.
        methods.remove("transform")
    for method in methods:
        with pytest.raises((ValueError, TypeError), match=message):
            if method == "score":
                getattr(estimator, method)(make(X), Y)
            else:
                getattr(estimator, method)(make(X))
    with pytest.raises((ValueError, TypeError), match=message):
        _fit(estimator, make(X))
    assert pickle.dumps(estimator) == before


@pytest.mark.parametrize("estimator", _estimators(), ids=ESTIMATOR_IDS)
def test_methods_refuse_another_number_of_features(estimator):
    estimator = _fit(estimator, X)
    for method in ("predict", "predict_proba", "transform", "score"):
        if hasattr(estimator, method):
            with pytest.raises(ValueError, match="features"):
                getattr(estimator, method)(X[:, :3], *([Y] * (method == "score")))


@pytest.mark.parametrize("estimator", _estimators(), ids=ESTIMATOR_IDS)
@pytest.mark.parametrize("dtype", [bool, np.int8, np.int64, np.float32])
def test_fit_takes_any_real_dtype(estimator, dtype):
    """Booleans and integers are numbers: every estimator fits them."""
    data = (X > 0) if dtype is bool else X.astype(dtype)
    _fit(estimator, data)
    assert estimator.n_features_in_ == X.shape[1]


BAD_WEIGHTS = [
    ("negative", lambda w: w - 2, "(?i)negative|positive"),
    ("nan", lambda w: _with_nan(w[:, None])[:, 0], "NaN"),
    ("short", lambda w: w[:-1], "sample_weight|length|shape"),
    ("2-D", lambda w: w[:, None], "1D|sample_weight|shape"),
    ("all zero", lambda w: 0 * w, "sample_weight|zero|positive"),
    ("text", lambda w: w.astype(str), "string|convert|numeric|dtype"),
]


@pytest.mark.parametrize(
    "name, make, message", BAD_WEIGHTS, ids=[c[0] for c in BAD_WEIGHTS]
)
def test_fuzzy_cmeans_refuses_bad_sample_weight(name, make, message):
    estimator = FuzzyCMeans(3, max_iter=20, random_state=0).fit(X)
    before = pickle.dumps(estimator)
    weights = make(np.ones(len(X)))
    with pytest.raises((ValueError, TypeError), match=message):
        estimator.fit(X, sample_weight=weights)
    with pytest.raises((ValueError, TypeError), match=message):
        estimator.score(X, sample_weight=weights)
    assert pickle.dumps(estimator) == before


def test_fuzzy_cmeans_refuses_more_clusters_than_samples():
    with pytest.raises(ValueError, match="n_clusters"):
        FuzzyCMeans(5).fit(X[:4])


@pytest.mark.parametrize(
    "init, message",
    [
        (np.zeros((2, 4)), "init|shape"),
        (np.zeros((3, 5)), "init|shape"),
        (np.full((3, 4), np.nan), "init|NaN"),
        (np.zeros(3), "init|2D"),
        ("banana", "init"),
    ],
    ids=["too few centers", "wrong width", "nan", "1-D", "unknown name"],
)
def test_fuzzy_cmeans_refuses_bad_init(init, message):
    with pytest.raises((ValueError, TypeError), match=message):
        FuzzyCMeans(3, init=init, n_init=1).fit(X)


@pytest.mark.parametrize(
    "y, message",
    [
        (Y[:-1], "inconsistent|samples|length"),
        (np.full(len(Y), np.nan), "NaN|y|label"),
        (np.linspace(0, 1, len(Y)), "continuous|label|y"),
        (Y[:, None].repeat(2, axis=1), "y|1d|multi|shape"),
    ],
    ids=["short", "nan", "continuous", "2-D"],
)
def test_classifier_refuses_bad_y(y, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PrunedMLPClassifier(hidden_size=4, max_epochs=1, random_state=0).fit(X, y)


# Each metric called with one bad argument: (id, call, message pattern).
BAD_METRIC_CALLS = [
    (
        "pc of negative memberships",
        lambda: metrics.partition_coefficient(U - 0.5),
        "memberships",
    ),
    (
        "pc of rows not summing to 1",
        lambda: metrics.partition_coefficient(U * 0.5),
        "memberships|sum",
    ),
    (
        "pc of nan memberships",
        lambda: metrics.partition_coefficient(_with_nan(U)),
        "NaN",
    ),
    (
        "pc of 1-D memberships",
        lambda: metrics.partition_coefficient(U[:, 0]),
        "2D|memberships",
    ),
    (
        "mpc of one cluster",
        lambda: metrics.modified_partition_coefficient(np.ones((5, 1))),
        "cluster|memberships",
    ),
    (
        "pe of negative memberships",
        lambda: metrics.partition_entropy(U - 0.5),
        "memberships",
    ),
    (
        "xb memberships of other rows",
        lambda: metrics.xie_beni_index(X, U[:-1], CENTERS),
        "memberships|samples|inconsistent",
    ),
    (
        "xb memberships of other clusters",
        lambda: metrics.xie_beni_index(
            X, U[:, :2] / U[:, :2].sum(1, keepdims=True), CENTERS
        ),
        "memberships|centers|clusters",
    ),
    (
        "xb centers of other width",
        lambda: metrics.xie_beni_index(X, U, CENTERS[:, :2]),
        "centers|features",
    ),
    (
        "xb nan centers",
        lambda: metrics.xie_beni_index(X, U, _with_nan(CENTERS)),
        "NaN",
    ),
    (
        "xb nan X",
        lambda: metrics.xie_beni_index(_with_nan(X), U, CENTERS),
        "NaN",
    ),
    (
        "fuzzy silhouette of other rows",
        lambda: metrics.fuzzy_silhouette_score(X, U[:-1]),
        "memberships|samples|inconsistent",
    ),
    (
        "simplified silhouette label beyond centers",
        lambda: metrics.simplified_silhouette_score(
            X, np.where(LABELS == 2, 5, LABELS), CENTERS
        ),
        "labels",
    ),
    (
        "simplified silhouette negative label",
        lambda: metrics.simplified_silhouette_score(
            X, np.where(LABELS == 2, -1, LABELS), CENTERS
        ),
        "labels",
    ),
    (
        "simplified silhouette nan centers",
        lambda: metrics.simplified_silhouette_score(X, LABELS, _with_nan(CENTERS)),
        "NaN",
    ),
    (
        "simplified silhouette nan labels",
        lambda: metrics.simplified_silhouette_score(
            X, np.where(LABELS == 2, np.nan, LABELS)
        ),
        "NaN|labels",
    ),
    (
        "simplified silhouette 2-D labels",
        lambda: metrics.simplified_silhouette_score(X, LABELS[:, None].repeat(2, 1)),
        "labels|1d|shape",
    ),
    (
        "simplified silhouette labels of other rows",
        lambda: metrics.simplified_silhouette_score(X, LABELS[:-1]),
        "labels|samples|inconsistent",
    ),
    (
        "exact silhouette nan labels",
        lambda: metrics.silhouette_samples_exact(
            X, np.where(LABELS == 2, np.nan, LABELS)
        ),
        "NaN|labels",
    ),
    (
        "exact silhouette one cluster",
        lambda: metrics.silhouette_samples_exact(X, np.zeros(len(X), int)),
        "label|cluster",
    ),
    (
        "accuracy nan labels",
        lambda: metrics.cluster_accuracy(np.where(Y == 2, np.nan, Y), LABELS),
        "NaN|y_true",
    ),
    (
        "accuracy empty",
        lambda: metrics.cluster_accuracy([], []),
        "empty|0 sample|y_true",
    ),
    (
        "accuracy lengths differ",
        lambda: metrics.cluster_accuracy(Y, LABELS[:-1]),
        "inconsistent|samples|length",
    ),
    (
        "accuracy 2-D labels",
        lambda: metrics.cluster_accuracy(Y[:, None].repeat(2, 1), LABELS),
        "y_true|1d|shape|multi",
    ),
    (
        "unknown scorer",
        lambda: metrics.get_scorer("banana"),
        "banana",
    ),
]


@pytest.mark.parametrize(
    "call, message",
    [case[1:] for case in BAD_METRIC_CALLS],
    ids=[case[0] for case in BAD_METRIC_CALLS],
)
def test_metrics_refuse_bad_arguments(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_scorer_on_estimator_without_memberships_says_what_it_needs():
    from sklearn.cluster import KMeans

    kmeans = KMeans(3, n_init=1, random_state=0).fit(X)
    with pytest.raises((TypeError, ValueError), match="membership|predict_proba"):
        metrics.get_scorer("neg_xie_beni")(kmeans, X)


def test_pruning_functions_refuse_what_is_not_a_module():
    from fuzzyprune import PruningCallback, compact_module

    with pytest.raises(TypeError, match="module"):
        compact_module("x")
    with pytest.raises((TypeError, ValueError), match="callbacks"):
        PrunedMLPClassifier(hidden_size=4, max_epochs=1, callbacks=[3]).fit(X, Y)
    with pytest.raises(ValueError, match="device"):
        PrunedMLPClassifier(hidden_size=4, max_epochs=1, device="banana").fit(X, Y)
    with pytest.raises((TypeError, ValueError), match="amount"):
        PrunedMLPClassifier(hidden_size=4, max_epochs=1, amount=1.5).fit(X, Y)
    assert PruningCallback  # importable without fitting anything


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_samples": -1}, "n_samples"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 100, "n_types": 0}, "n_types"),
        ({"n_samples": 100, "n_features": 0}, "n_features"),
        ({"n_samples": 100, "structure": "banana"}, "structure"),
        ({"n_samples": 2.5}, "n_samples"),
    ],
)
def test_make_vehicle_x_refuses_bad_arguments(kwargs, message):
    from fuzzyprune.datasets import make_vehicle_x

    with pytest.raises((ValueError, TypeError), match=message):
        make_vehicle_x(**kwargs)


def test_load_vehicle_x_refuses_missing_folder(tmp_path):
    from fuzzyprune.datasets import load_vehicle_x

    with pytest.raises((ValueError, OSError), match="nowhere"):
        load_vehicle_x(tmp_path / "nowhere")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_samples": 12}, "n_samples"),
        ({"n_samples": -5}, "n_samples"),
        ({"seed": -1}, "seed"),
        ({"seed": "banana"}, "seed"),
        ({"settings": "banana"}, "settings"),
        ({"data": 3}, "data"),
    ],
)
def test_reproduce_refuses_bad_arguments_before_writing(tmp_path, kwargs, message):
    from fuzzyprune.reproduce import reproduce

    out = tmp_path / "results"
    with pytest.raises((ValueError, TypeError), match=message):
        reproduce(out, progress=False, **kwargs)
    assert not out.exists()


def test_plot_ga_history_refuses_an_unfitted_selector():
    pytest.importorskip("matplotlib")
    from sklearn.exceptions import NotFittedError

    from fuzzyprune.plotting import plot_ga_history

    with pytest.raises(NotFittedError):
        plot_ga_history(GAFeatureSelector())
    with pytest.raises(TypeError, match="selector|GAFeatureSelector"):
        plot_ga_history(FuzzyCMeans(3).fit(X))


def test_vehicle_x_functions_refuse_the_empty_path(tmp_path, monkeypatch):
    """An empty path is a mistake, not the current folder."""
    from fuzzyprune.datasets import load_vehicle_x, make_vehicle_x, write_vehicle_x

    monkeypatch.chdir(tmp_path)
    data = make_vehicle_x(20, n_vehicles=3, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="root is an empty path"):
        write_vehicle_x("", data)
    write_vehicle_x(tmp_path / "data", data)
    monkeypatch.chdir(tmp_path / "data")
    with pytest.raises(ValueError, match="root is an empty path"):
        load_vehicle_x("")
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]


@pytest.mark.parametrize(
    "estimator, parameter",
    [
        (FuzzyCMeans(3), "n_clusters"),
        (FuzzyCMeans(3), "max_iter"),
        (FuzzyCMeans(3), "n_init"),
        (GAFeatureSelector(FuzzyCMeans(2)), "population_size"),
        (GAFeatureSelector(FuzzyCMeans(2)), "min_features"),
        (PrunedMLPClassifier(max_epochs=1), "hidden_size"),
        (PrunedMLPClassifier(max_epochs=1), "batch_size"),
        (PrunedMLPClassifier(max_epochs=1), "start_epoch"),
        (PrunedMLPClassifier(max_epochs=1), "min_layer_density"),
    ],
)
@pytest.mark.parametrize("value", [True, np.True_])
def test_bools_are_no_numbers(estimator, parameter, value):
    """``True`` is an int to Python, never a meant count or fraction."""
    estimator.set_params(**{parameter: value})
    with pytest.raises(ValueError, match=f"'{parameter}' parameter .* Got (np.)?True"):
        _fit(estimator, X)


@pytest.mark.parametrize(
    "estimator, params, n_rows, message",
    [
        (_estimators()[0], {}, 2, "n_samples=2 should be >= n_clusters=3"),
        (_estimators()[1], {"min_features": 4}, 60, "n_features=3"),
    ],
    ids=ESTIMATOR_IDS[:2],
)
def test_fit_failing_after_validation_keeps_the_previous_fit(
    estimator, params, n_rows, message
):
    # The data pass validation (recording their 3 features), then the fit
    # fails: the estimator must stay fitted on X.
    estimator = _fit(estimator.set_params(**params), X)
    before = pickle.dumps(estimator)
    with pytest.raises(ValueError, match=message):
        _fit(estimator, X[:n_rows, :3])
    assert pickle.dumps(estimator) == before
    method = "transform" if hasattr(estimator, "transform") else "predict"
    getattr(estimator, method)(X)


@pytest.mark.parametrize(
    "method, message",
    [("fit", "at least 2 classes"), ("partial_fit", "expecting 4 features")],
)
def test_classifier_fit_failing_after_validation_keeps_the_previous_fit(
    method, message
):
    estimator = _fit(_estimators()[2], X)
    before = pickle.dumps(estimator)
    with pytest.raises(ValueError, match=message):
        getattr(estimator, method)(X[:, :3], np.zeros(len(X)))
    assert pickle.dumps(estimator) == before
    estimator.predict(X)
