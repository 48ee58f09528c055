import functools
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, make_blobs
from sklearn.exceptions import DataConversionWarning, UndefinedMetricWarning
from sklearn.metrics import silhouette_samples, silhouette_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fuzzyprune import FuzzyCMeans
from fuzzyprune.metrics import (
    cluster_accuracy,
    cluster_accuracy_scorer,
    fuzzy_silhouette_score,
    fuzzy_silhouette_scorer,
    get_scorer,
    modified_partition_coefficient,
    neg_xie_beni_scorer,
    partition_coefficient,
    partition_entropy,
    silhouette_samples_exact,
    simplified_silhouette_score,
    xie_beni_index,
)

ALL_SCORERS = [
    "partition_coefficient",
    "modified_partition_coefficient",
    "neg_partition_entropy",
    "neg_xie_beni",
    "fuzzy_silhouette",
    "simplified_silhouette",
]


@settings(max_examples=50, deadline=None)
@given(
    n_samples=st.integers(1, 20), n_clusters=st.integers(2, 6), seed=st.integers(0, 99)
)
def test_partition_indices_formulas(n_samples, n_clusters, seed):
    memberships = np.random.default_rng(seed).random((n_samples, n_clusters))
    memberships /= memberships.sum(axis=1, keepdims=True)
    coefficient = (memberships**2).sum() / n_samples
    assert partition_coefficient(memberships) == pytest.approx(coefficient)
    assert modified_partition_coefficient(memberships) == pytest.approx(
        1 - n_clusters / (n_clusters - 1) * (1 - coefficient)
    )
    entropy = -(memberships * np.log(memberships)).sum() / n_samples
    assert partition_entropy(memberships) == pytest.approx(entropy)
    # Bezdek's bounds, reached only by uniform memberships.
    assert 1 / n_clusters - 1e-12 <= coefficient
    assert entropy <= np.log(n_clusters) + 1e-12


@pytest.mark.parametrize("n_clusters", [2, 3, 7])
def test_partition_indices_extremes(n_clusters):
    uniform = np.full((5, n_clusters), 1 / n_clusters)
    crisp = np.eye(n_clusters)[[0, 1, 1, 0, 1]]
    assert partition_coefficient(uniform) == pytest.approx(1 / n_clusters)
    assert modified_partition_coefficient(uniform) == pytest.approx(0)
    assert partition_entropy(uniform) == pytest.approx(np.log(n_clusters))
    assert partition_coefficient(crisp) == 1
    assert modified_partition_coefficient(crisp) == 1
    assert partition_entropy(crisp) == 0


def test_xie_beni_hand_computed():
    X = np.array([[0.0], [2.0], [10.0]])
    memberships = np.array([[0.75, 0.25], [0.5, 0.5], [0.0, 1.0]])
    centers = np.array([[1.0], [10.0]])
    # m = 2: sum u^2 d^2 = 0.5625 + 0.0625*100 + 0.25 + 0.25*64 = 23.0625; min gap 81.
    assert xie_beni_index(X, memberships, centers) == pytest.approx(23.0625 / (3 * 81))
    assert xie_beni_index(X, memberships, [[1.0], [1.0]]) == np.inf


def test_fuzzy_silhouette_of_crisp_memberships_is_the_silhouette():
    X, labels = make_blobs(n_samples=80, centers=3, random_state=0)
    memberships = np.eye(3)[labels]
    assert fuzzy_silhouette_score(X, memberships) == pytest.approx(
        silhouette_score(X, labels)
    )


def test_fuzzy_silhouette_weights_favour_clear_cut_samples():
    X = np.array([[0.0], [1.0], [5.0], [9.0], [10.0]])
    clear = np.array([0.9, 0.9, 0.5, 0.9, 0.9])
    memberships = np.column_stack([clear, 1 - clear])
    memberships[3:] = memberships[3:, ::-1]
    # Sample 2, halfway, has equal top memberships: weight 0, so it is ignored.
    without_middle = silhouette_score(np.delete(X, 2, axis=0), [0, 0, 1, 1])
    score = fuzzy_silhouette_score(X, memberships)
    assert score > silhouette_score(X, memberships.argmax(axis=1))
    assert score != pytest.approx(without_middle)  # its neighbours' silhouettes see it


def test_fuzzy_silhouette_sample_size_is_reproducible():
    X, labels = make_blobs(n_samples=300, centers=3, random_state=42)
    memberships = np.eye(3)[labels] * 0.8 + 0.2 / 3
    first = fuzzy_silhouette_score(X, memberships, sample_size=100, random_state=1)
    again = fuzzy_silhouette_score(X, memberships, sample_size=100, random_state=1)
    other = fuzzy_silhouette_score(X, memberships, sample_size=100, random_state=2)
    assert first == again != other
    assert first == pytest.approx(fuzzy_silhouette_score(X, memberships), abs=0.05)


def test_simplified_silhouette_matches_formula():
    X, labels = make_blobs(n_samples=60, centers=3, random_state=0)
    centers = np.array([X[labels == k].mean(axis=0) for k in range(3)])
    distances = np.linalg.norm(X[:, None, :] - centers[None], axis=2)
    own = distances[np.arange(60), labels]
    other = np.where(np.eye(3, dtype=bool)[labels], np.inf, distances).min(axis=1)
    expected = np.mean((other - own) / np.maximum(own, other))
    assert simplified_silhouette_score(X, labels) == pytest.approx(expected)
    assert simplified_silhouette_score(X, labels, centers) == pytest.approx(expected)


def test_simplified_silhouette_of_sparse_data_matches_dense():
    X, labels = make_blobs(n_samples=60, centers=3, random_state=0)
    X = np.abs(X)
    for container in (sp.csr_matrix, sp.csr_array):
        assert simplified_silhouette_score(container(X), labels) == pytest.approx(
            simplified_silhouette_score(X, labels)
        )


def test_simplified_silhouette_needs_two_clusters():
    with pytest.raises(ValueError, match="at least 2 clusters"):
        simplified_silhouette_score([[0.0], [1.0]], [0, 0])


@pytest.mark.parametrize(
    "y_true, y_pred, expected",
    [
        ([0, 0, 1, 1, 2], [1, 1, 0, 0, 0], 0.8),
        ([0, 0, 1, 1], [5, 5, 7, 7], 1.0),
        # Majority mapping would give 1.0 by mapping both clusters to class 0.
        ([0, 0, 0, 0, 1], [0, 0, 1, 1, 1], 0.6),
        ([0, 1, 2, 3], [0, 0, 0, 0], 0.25),
    ],
)
def test_cluster_accuracy_hand_computed(y_true, y_pred, expected):
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(expected)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=40), st.permutations(range(5)))
def test_cluster_accuracy_ignores_cluster_names(labels, permutation):
    renamed = np.asarray(permutation)[labels] + 10
    assert cluster_accuracy(labels, renamed) == 1.0


def test_memberships_out_of_range_raise():
    with pytest.raises(ValueError, match=r"memberships must lie in \[0, 1\]"):
        partition_coefficient([[1.5, -0.5]])
    with pytest.raises(ValueError, match="centers must have shape"):
        xie_beni_index([[0.0], [1.0]], [[1, 0], [0, 1]], [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("scoring", ALL_SCORERS)
def test_scorers_in_grid_search_without_labels(scoring):
    X, _ = make_blobs(n_samples=150, centers=3, random_state=0)
    search = GridSearchCV(
        FuzzyCMeans(3, random_state=0),
        {"m": [1.5, 2.0, 3.0]},
        scoring=get_scorer(scoring),
        cv=3,
    ).fit(X)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # Each split's score is the index of the fit on the other folds, computed
    # on the held-out fold with the fitted clusterer's own outputs.
    train, test = next(KFold(3).split(X))
    fitted = FuzzyCMeans(3, m=1.5, random_state=0).fit(X[train])
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(
        _direct_score(scoring, fitted, X[test])
    )


def _direct_score(scoring, fitted, X):
    memberships, centers = fitted.predict_proba(X), fitted.cluster_centers_
    return {
        "partition_coefficient": lambda: partition_coefficient(memberships),
        "modified_partition_coefficient": lambda: modified_partition_coefficient(
            memberships
        ),
        "neg_partition_entropy": lambda: -partition_entropy(memberships),
        "neg_xie_beni": lambda: -xie_beni_index(X, memberships, centers),
        "fuzzy_silhouette": lambda: fuzzy_silhouette_score(X, memberships),
        "simplified_silhouette": lambda: simplified_silhouette_score(
            X, fitted.predict(X), centers
        ),
    }[scoring]()


def test_partition_scorers_prefer_crisper_partitions():
    X, _ = make_blobs(n_samples=150, centers=3, random_state=0)
    search = GridSearchCV(
        FuzzyCMeans(3, random_state=0),
        {"m": [1.2, 3.0]},
        scoring=get_scorer("partition_coefficient"),
        cv=KFold(3),
    ).fit(X)
    assert search.best_params_ == {"m": 1.2}


def test_cluster_accuracy_scorer_uses_labels_through_a_pipeline():
    iris = load_iris()
    pipeline = make_pipeline(StandardScaler(), FuzzyCMeans(3, random_state=0))
    search = GridSearchCV(
        pipeline,
        {"fuzzycmeans__m": [1.5, 2.0]},
        scoring={"accuracy": cluster_accuracy_scorer, "xie_beni": neg_xie_beni_scorer},
        refit="accuracy",
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(iris.data, iris.target)
    assert search.best_score_ > 0.75
    assert (search.cv_results_["mean_test_xie_beni"] < 0).all()


def test_cluster_accuracy_scorer_needs_labels():
    X, _ = make_blobs(n_samples=30, centers=3, random_state=0)
    fcm = FuzzyCMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="needs class labels y"):
        cluster_accuracy_scorer(fcm, X)


def test_get_scorer_falls_back_to_scikit_learn():
    X, y = make_blobs(n_samples=60, centers=3, random_state=42)
    fcm = FuzzyCMeans(3, random_state=0).fit(X)
    assert get_scorer("adjusted_rand_score")(fcm, X, y) == pytest.approx(1.0)
    assert get_scorer(cluster_accuracy_scorer) is cluster_accuracy_scorer
    assert_allclose(cluster_accuracy_scorer(fcm, X, y), 1.0)


@settings(max_examples=60, deadline=None)
@given(
    n_samples=st.integers(3, 40),
    n_features=st.integers(1, 6),
    n_clusters=st.integers(2, 5),
    n_duplicates=st.integers(0, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 999),
)
def test_exact_silhouettes_match_scikit_learn(
    n_samples, n_features, n_clusters, n_duplicates, dtype, seed
):
    rng = np.random.default_rng(seed)
    X = rng.normal(5, 2, size=(n_samples, n_features))
    X[: min(n_duplicates, n_samples - 1)] = X[-1]  # duplicates are 0 apart
    labels = rng.integers(n_clusters, size=n_samples)
    if not 2 <= np.unique(labels).size < n_samples:
        return
    # Distances from differences: scikit-learn's own float64 expansion leaves
    # duplicates about sqrt(eps) |x| apart instead of 0.
    expected = silhouette_samples(cdist(X, X), labels, metric="precomputed")
    result = silhouette_samples_exact(X.astype(dtype), labels)
    tolerance = 1e-5 if dtype == np.float32 else 1e-8
    assert_allclose(result, expected, atol=tolerance)


def test_exact_silhouettes_by_blocks(monkeypatch):
    import fuzzyprune.metrics

    X, labels = make_blobs(300, 5, centers=4, random_state=0)
    # Duplicates within a block and across blocks are exactly 0 apart.
    X[[20, 200]] = X[10]
    whole = silhouette_samples_exact(X, labels)
    monkeypatch.setattr(fuzzyprune.metrics, "_DISTANCE_BLOCK_ROWS", 64)
    assert_allclose(silhouette_samples_exact(X, labels), whole, rtol=1e-12)
    assert_allclose(whole, silhouette_samples(X, labels), rtol=1e-10)


def test_exact_silhouettes_of_singletons_sparse_and_bad_labels():
    X = np.array([[0.0], [0.1], [5.0]])
    # The sample alone in its cluster gets 0, as in scikit-learn.
    assert_allclose(silhouette_samples_exact(X, [0, 0, 1]), [0.98, 4.8 / 4.9, 0.0])
    assert_allclose(
        silhouette_samples_exact(sp.csr_matrix(X), [0, 0, 1]),
        silhouette_samples(X, [0, 0, 1]),
    )
    with pytest.raises(ValueError, match="Number of labels is 1"):
        silhouette_samples_exact(X, [0, 0, 0])


def test_xie_beni_with_the_polynomial_fuzzifier_uses_the_objective():
    from sklearn.datasets import load_iris

    X = load_iris().data
    fcm = FuzzyCMeans(3, fuzzifier="polynomial", beta=0.3, random_state=0).fit(X)
    centers = fcm.cluster_centers_
    gaps = ((centers[:, None] - centers[None]) ** 2).sum(axis=2)
    separation = gaps[~np.eye(3, dtype=bool)].min()
    expected = fcm.objective_ / (X.shape[0] * separation)
    index = xie_beni_index(
        X, fcm.memberships_, centers, fuzzifier="polynomial", beta=0.3
    )
    assert index == pytest.approx(expected, rel=1e-9)
    # The scorer keeps Xie and Beni's u ** 2, whatever the fuzzifier, so that
    # fits of different fuzzifiers compare.
    for fitted in (fcm, FuzzyCMeans(3, m=1.5, random_state=0).fit(X)):
        assert neg_xie_beni_scorer(fitted, X) == pytest.approx(
            -xie_beni_index(X, fitted.predict_proba(X), fitted.cluster_centers_)
        )


def test_xie_beni_search_over_m_does_not_pick_the_largest():
    # Weighted by u ** m, the index tends to 0 as m grows.
    from sklearn.datasets import load_iris

    search = GridSearchCV(
        FuzzyCMeans(3, random_state=0),
        {"m": [1.5, 2.0, 3.0, 10.0, 30.0]},
        scoring=get_scorer("neg_xie_beni"),
    ).fit(load_iris().data)
    assert search.best_params_["m"] == 1.5


@pytest.mark.parametrize(
    "params, match",
    [
        ({"fuzzifier": "gaussian"}, "'fuzzifier' parameter"),
        ({"fuzzifier": "polynomial", "beta": 1.0}, "'beta' parameter"),
        ({"beta": -0.5}, "'beta' parameter"),
    ],
)
def test_xie_beni_fuzzifier_parameters_are_checked(params, match):
    with pytest.raises(ValueError, match=match):
        xie_beni_index([[0.0], [1.0]], [[1, 0], [0, 1]], [[0.0], [1.0]], **params)


X_4 = [[0.0], [1.0], [9.0], [10.0]]
CRISP_4 = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
CENTERS_2 = [[0.5], [9.5]]


@pytest.mark.parametrize(
    "function, args, kwargs, error, match",
    [
        # Labels index the centers: no wrap-around, no IndexError.
        (simplified_silhouette_score, (X_4, [0, 0, 1, 5], CENTERS_2), {},
         ValueError, r"labels must be integers in \[0, 1\]"),
        (simplified_silhouette_score, (X_4, [0, 0, 1, -1], CENTERS_2), {},
         ValueError, r"labels must be integers in \[0, 1\]"),
        (simplified_silhouette_score, (X_4, [0, 0, 1, 0.5], CENTERS_2), {},
         ValueError, "labels must be discrete"),
        (simplified_silhouette_score, (X_4, [0, 0, 1, 1], [[np.nan], [9.5]]), {},
         ValueError, "Input centers contains NaN"),
        (simplified_silhouette_score, (X_4, [0, 0, 1, 1], [[np.inf], [9.5]]), {},
         ValueError, "Input centers contains infinity"),
        (simplified_silhouette_score, (X_4, [0, 0, 1, 1], [[0.5, 0], [9.5, 0]]), {},
         ValueError, "centers must have shape"),
        (simplified_silhouette_score, (X_4, [0, 0, 1, np.nan]), {},
         ValueError, "Input labels contains NaN"),
        (simplified_silhouette_score, (X_4, [[0, 0], [1, 1]]), {},
         ValueError, r"labels must be 1-D, got shape \(2, 2\)"),
        (simplified_silhouette_score, (X_4, [0, 1, 1]), {},
         ValueError, "labels must have one value per sample"),
        (simplified_silhouette_score, ([[0.0], [np.nan], [9.0]], [0, 0, 1]), {},
         ValueError, "Input X contains NaN"),
        (simplified_silhouette_score, (X_4, [0, 0, 1, 1]), {"sample_weight": [1, 1]},
         ValueError, "sample_weight"),
        (silhouette_samples_exact, (X_4, [0, 0, 1, np.nan]), {},
         ValueError, "Input labels contains NaN"),
        (silhouette_samples_exact, (X_4, [[0, 0, 1, 1]]), {},
         ValueError, r"labels must be 1-D, got shape \(1, 4\)"),
        (silhouette_samples_exact, ([[0.0], [np.inf], [9.0]], [0, 0, 1]), {},
         ValueError, "Input X contains infinity"),
        (cluster_accuracy, ([0, 1, np.nan], [0, 1, 1]), {},
         ValueError, "Input y_true contains NaN"),
        (cluster_accuracy, ([0, 1, 1], [0, np.nan, 1]), {},
         ValueError, "Input y_pred contains NaN"),
        (cluster_accuracy, ([], []), {}, ValueError, "0 sample"),
        (cluster_accuracy, ([0, 1], [0, 1, 1]), {},
         ValueError, "inconsistent numbers of samples"),
        (cluster_accuracy, ([0.5, 1.5], [0, 1]), {},
         ValueError, "y_true must be discrete"),
        (cluster_accuracy, ([0, 1], [0, 1]), {"sample_weight": [1, -1]},
         ValueError, "Negative values"),
        (cluster_accuracy, ([0, 1], [0, 1]), {"sample_weight": [0, 0]},
         ValueError, "at least one non-zero"),
        (partition_coefficient, ([[0.5, 0.4]],), {},
         ValueError, "row 0 sums to 0.9"),
        (partition_coefficient, ([[1.2, -0.2]],), {},
         ValueError, r"memberships must lie in \[0, 1\]"),
        (partition_coefficient, ([[np.nan, 1.0]],), {},
         ValueError, "Input memberships contains NaN"),
        (partition_coefficient, ([0.5, 0.5],), {}, ValueError, "Expected 2D array"),
        (partition_coefficient, (3,), {}, TypeError, "'memberships' parameter"),
        (partition_coefficient, (sp.csr_array(np.eye(2)),), {},
         TypeError, "'memberships' parameter"),
        (modified_partition_coefficient, ([[0.3, 0.3]],), {},
         ValueError, "sums to 0.6"),
        (modified_partition_coefficient, ([[1.0], [1.0]],), {},
         ValueError, "at least 2 clusters, got 1"),
        (partition_entropy, ([[0.7, 0.7]],), {}, ValueError, "sums to 1.4"),
        (partition_entropy, ([[0.5, 0.5]],), {"sample_weight": [-1]},
         ValueError, "Negative values"),
        (xie_beni_index, (X_4, CRISP_4[:3], CENTERS_2), {},
         ValueError, "memberships must have one row per sample"),
        (xie_beni_index, (X_4, CRISP_4, [[0.5], [9.5], [5.0]]), {},
         ValueError, "one row per column of memberships: 2 clusters, got 3"),
        (xie_beni_index, (X_4, [[0.6, 0.6]] * 4, CENTERS_2), {},
         ValueError, "sums to 1.2"),
        (xie_beni_index, (X_4, CRISP_4, [[np.nan], [9.5]]), {},
         ValueError, "Input centers contains NaN"),
        (xie_beni_index, ([[0.0], [1.0], [np.inf], [10.0]], CRISP_4, CENTERS_2), {},
         ValueError, "Input X contains infinity"),
        (xie_beni_index, (X_4, [[1.0]] * 4, [[5.0]]), {},
         ValueError, "at least 2 clusters, got 1"),
        (fuzzy_silhouette_score, (X_4, [[0.5, 0.6]] * 4), {},
         ValueError, "sums to 1.1"),
        (fuzzy_silhouette_score, (X_4, CRISP_4[:2]), {},
         ValueError, "memberships must have one row per sample"),
        (fuzzy_silhouette_score, ([[np.nan]] * 4, CRISP_4), {},
         ValueError, "Input X contains NaN"),
    ],
)  # fmt: skip
def test_bad_inputs_are_refused_naming_the_problem(
    function, args, kwargs, error, match
):
    with pytest.raises(error, match=match):
        function(*args, **kwargs)


def test_column_vector_labels_are_accepted_with_a_warning():
    X, labels = make_blobs(n_samples=30, centers=3, random_state=0)
    expected = simplified_silhouette_score(X, labels)
    with pytest.warns(DataConversionWarning, match="column-vector"):
        assert simplified_silhouette_score(X, labels[:, None]) == expected


def test_memberships_rows_summing_to_one_in_float32_are_accepted():
    rng = np.random.default_rng(0)
    memberships = rng.random((50, 7)).astype(np.float32)
    memberships /= memberships.sum(axis=1, keepdims=True)
    coefficient = partition_coefficient(memberships.astype(np.float64))
    assert coefficient == pytest.approx((memberships.astype(float) ** 2).mean() * 7)


def _blob_partition():
    X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    fcm = FuzzyCMeans(3, random_state=0).fit(X)
    return X, fcm.predict_proba(X), fcm.cluster_centers_, fcm.predict(X)


def _scale_dependent_scores(X, memberships, centers, labels):
    return np.array(
        [
            xie_beni_index(X, memberships, centers),
            simplified_silhouette_score(X, labels, centers),
            simplified_silhouette_score(X, labels),
            fuzzy_silhouette_score(X, memberships),
            silhouette_samples_exact(X, labels).mean(),
            silhouette_samples_exact(sp.csr_array(X), labels).mean(),
        ]
    )


@settings(max_examples=25, deadline=None)
@given(
    precision=st.sampled_from([(np.float32, 30, 1e-4), (np.float64, 200, 1e-9)]),
    exponent_fraction=st.floats(-1, 1),
)
def test_scores_do_not_depend_on_the_scale_of_the_data(precision, exponent_fraction):
    # Squares of float32 values beyond 1.8e19 overflow and below 1e-19
    # underflow (float64: 1.3e154 and 1e-154), so the scales reach past both.
    dtype, largest_exponent, rtol = precision
    X, memberships, centers, labels = _blob_partition()
    expected = _scale_dependent_scores(X, memberships, centers, labels)
    scale = 10.0 ** round(exponent_fraction * largest_exponent)
    scores = _scale_dependent_scores(
        (X * scale).astype(dtype), memberships, (centers * scale).astype(dtype), labels
    )
    assert_allclose(scores, expected, rtol=rtol)


@pytest.mark.parametrize(
    "function, args",
    [
        (partition_coefficient, ("U",)),
        (modified_partition_coefficient, ("U",)),
        (partition_entropy, ("U",)),
        (xie_beni_index, ("X", "U", "C")),
        (simplified_silhouette_score, ("X", "L", "C")),
        (simplified_silhouette_score, ("X", "L")),
        (cluster_accuracy, ("Y", "L")),
    ],
)
def test_integer_sample_weights_count_as_repeated_samples(function, args):
    X, memberships, centers, labels = _blob_partition()
    classes = np.arange(60) % 3
    arrays = {"X": X, "U": memberships, "L": labels, "Y": classes}
    weights = np.random.default_rng(0).integers(0, 4, size=60)
    repeated = [
        np.repeat(arrays[a], weights, axis=0) if a != "C" else centers for a in args
    ]
    weighted = [arrays[a] if a != "C" else centers for a in args]
    expected = function(*repeated)
    assert function(*weighted, sample_weight=weights) == pytest.approx(
        expected, rel=1e-12
    )
    assert function(*weighted) != pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("scoring", [*ALL_SCORERS, "cluster_accuracy"])
def test_scorers_pickle_and_print_their_names(scoring):
    X, y = make_blobs(n_samples=60, centers=3, random_state=0)
    scorer = get_scorer(scoring)
    assert repr(scorer) == f"{scoring}_scorer"
    search = GridSearchCV(FuzzyCMeans(3), {"m": [1.5, 2]}, scoring=scorer, cv=2)
    search.fit(X, y)
    restored = pickle.loads(pickle.dumps(search))
    assert restored.score(X, y) == search.score(X, y)
    assert repr(restored.scorer_) == f"{scoring}_scorer"


def test_named_scorers_are_copies_routing_sample_weight_on_request():
    X, _ = make_blobs(n_samples=90, centers=3, random_state=0)
    weights = np.random.default_rng(0).integers(0, 3, size=90)
    fcm = FuzzyCMeans(3, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("neg_xie_beni").set_score_request(sample_weight=True)
        assert neg_xie_beni_scorer.get_metadata_routing().score.requests == {
            "sample_weight": None
        }
        results = cross_validate(
            fcm.set_fit_request(sample_weight=False),
            X,
            scoring={
                "xb": scorer,
                "pc": get_scorer("partition_coefficient").set_score_request(
                    sample_weight=False
                ),
            },
            params={"sample_weight": weights},
            cv=KFold(3),
            return_estimator=True,
        )
        with pytest.raises(TypeError, match="fuzzy_silhouette_scorer takes no meta"):
            get_scorer("fuzzy_silhouette").set_score_request(sample_weight=True)
    _, test = list(KFold(3).split(X))[-1]
    fitted = results["estimator"][-1]
    arguments = (X[test], fitted.predict_proba(X[test]), fitted.cluster_centers_)
    assert results["test_xb"][-1] == pytest.approx(
        -xie_beni_index(*arguments, sample_weight=weights[test])
    )
    # Refused: the partition coefficient weighs the samples equally.
    assert results["test_pc"][-1] == pytest.approx(partition_coefficient(arguments[1]))


def test_one_cluster_test_fold_scores_nan_with_one_warning():
    X, _ = make_blobs(
        n_samples=60, centers=[[0, 0], [20, 20]], cluster_std=0.5, random_state=0
    )
    one_blob = np.flatnonzero(X[:, 0] > 10)[:10]
    cv = [(np.arange(0, 60, 2), np.arange(1, 60, 2)), (np.arange(60), one_blob)]
    for scoring in ("simplified_silhouette", "fuzzy_silhouette"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            search = GridSearchCV(
                FuzzyCMeans(2, random_state=0),
                {"m": [2.0]},
                scoring=get_scorer(scoring),
                cv=cv,
                refit=False,
            ).fit(X)
        assert np.isfinite(search.cv_results_["split0_test_score"]).all()
        assert np.isnan(search.cv_results_["split1_test_score"]).all()
        undefined = [w for w in caught if w.category is UndefinedMetricWarning]
        assert len(undefined) == 1
        assert f"{scoring}_scorer is undefined" in str(undefined[0].message)
        assert not [w for w in caught if "Scoring failed" in str(w.message)]


def test_scorers_say_what_the_clusterer_lacks():
    X, y = make_blobs(n_samples=30, centers=3, random_state=0)
    kmeans = KMeans(3, n_init=1, random_state=0).fit(X)
    with pytest.raises(TypeError, match="neg_xie_beni_scorer needs .* predict_proba"):
        neg_xie_beni_scorer(kmeans, X)
    with pytest.raises(TypeError, match="KMeans has no predict_proba"):
        fuzzy_silhouette_scorer(kmeans, X, None)
    # Crisp scorers need only labels (and centers).
    assert get_scorer("simplified_silhouette")(kmeans, X) == pytest.approx(
        simplified_silhouette_score(X, kmeans.labels_, kmeans.cluster_centers_)
    )
    assert cluster_accuracy_scorer(kmeans, X, y) == cluster_accuracy(y, kmeans.labels_)


def test_several_scorers_without_labels_share_a_cross_validation():
    X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    results = cross_validate(
        FuzzyCMeans(3, random_state=0),
        X,
        scoring={name: get_scorer(name) for name in ALL_SCORERS},
        cv=2,
    )
    assert all(np.isfinite(results[f"test_{name}"]).all() for name in ALL_SCORERS)


@functools.cache
def _iris_partition():
    iris = load_iris()
    fcm = FuzzyCMeans(3, random_state=0).fit(iris.data)
    return (
        iris.data,
        fcm.predict_proba(iris.data),
        fcm.cluster_centers_,
        fcm.predict(iris.data),
        iris.target,
    )


def _weighted_scores(sample_weight):
    X, memberships, centers, labels, classes = _iris_partition()
    return [
        partition_coefficient(memberships, sample_weight=sample_weight),
        modified_partition_coefficient(memberships, sample_weight=sample_weight),
        partition_entropy(memberships, sample_weight=sample_weight),
        xie_beni_index(X, memberships, centers, sample_weight=sample_weight),
        simplified_silhouette_score(X, labels, centers, sample_weight=sample_weight),
        simplified_silhouette_score(X, labels, sample_weight=sample_weight),
        cluster_accuracy(classes, labels, sample_weight=sample_weight),
    ]


@settings(max_examples=40, deadline=None)
@given(
    scale=st.floats(
        min_value=np.finfo(np.float64).smallest_subnormal,
        max_value=np.finfo(np.float64).max,
    )
)
@example(scale=1e308)
@example(scale=5e-324)
def test_uniform_weights_change_no_index_at_any_scale(scale):
    # Products and sums of weights near the ends of float64's range overflow
    # or lose their digits unless the weights are first scaled exactly.
    assert _weighted_scores(np.full(150, scale)) == pytest.approx(
        _weighted_scores(None), rel=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(exponent=st.integers(-1021, 1023), seed=st.integers(0, 2**32 - 1))
def test_weights_times_a_power_of_two_give_the_same_indices(exponent, seed):
    rng = np.random.default_rng(seed)
    # Normal floats times 2 ** exponent stay normal: the scaling is exact.
    weights = rng.uniform(0.5, 1, size=150) * (rng.random(150) < 0.8)
    expected = _weighted_scores(weights)
    assert np.isfinite(expected).all()
    assert _weighted_scores(np.ldexp(weights, exponent)) == expected


@pytest.mark.parametrize(
    "weights, match",
    [
        ([1.0, np.inf, 1.0, 1.0], "Input sample_weight contains infinity"),
        ([1.0, np.nan, 1.0, 1.0], "Input sample_weight contains NaN"),
        ([1.0, -1e-300, 1.0, 1.0], "sample_weight"),
        ([0.0, 0.0, 0.0, 0.0], "sample_weight: .*at least one non-zero"),
    ],
)
def test_bad_weights_are_refused_by_every_weighted_index(weights, match):
    calls = [
        lambda w: partition_coefficient(CRISP_4, sample_weight=w),
        lambda w: modified_partition_coefficient(CRISP_4, sample_weight=w),
        lambda w: partition_entropy(CRISP_4, sample_weight=w),
        lambda w: xie_beni_index(X_4, CRISP_4, CENTERS_2, sample_weight=w),
        lambda w: simplified_silhouette_score(X_4, [0, 0, 1, 1], sample_weight=w),
        lambda w: cluster_accuracy([0, 0, 1, 1], [0, 0, 1, 1], sample_weight=w),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=match):
            call(weights)


def test_a_cluster_of_tiny_weights_keeps_its_center():
    # Relative to the others, its weights are beyond float64's range; it is
    # still a cluster, with the mean of its samples for center.
    X = np.array([[0.0], [1.0], [9.0], [10.0], [4.0], [5.0]])
    labels = [0, 0, 1, 1, 2, 2]
    weights = np.array([1e308, 1e308, 1e308, 1e308, 1e-300, 3e-300])
    expected = simplified_silhouette_score(
        X[:4], labels[:4], [[0.5], [9.5], [4.75]], sample_weight=weights[:4]
    )
    assert expected < 0.9  # the tiny cluster's center matters
    assert simplified_silhouette_score(
        X, labels, sample_weight=weights
    ) == pytest.approx(expected, rel=1e-12)


def _numeric_arguments():
    """Each numeric argument of each index, with valid values for the others."""
    weights = np.ones(4)
    return [
        (partition_coefficient, {"memberships": CRISP_4}),
        (partition_coefficient, {"memberships": CRISP_4, "sample_weight": weights}),
        (partition_entropy, {"memberships": CRISP_4, "sample_weight": weights}),
        (
            modified_partition_coefficient,
            {"memberships": CRISP_4, "sample_weight": weights},
        ),
        (
            xie_beni_index,
            {"X": X_4, "memberships": CRISP_4, "centers": CENTERS_2},
        ),
        (
            xie_beni_index,
            {
                "X": X_4,
                "memberships": CRISP_4,
                "centers": CENTERS_2,
                "sample_weight": weights,
            },
        ),
        (fuzzy_silhouette_score, {"X": X_4, "memberships": CRISP_4}),
        (
            simplified_silhouette_score,
            {
                "X": X_4,
                "labels": [0, 0, 1, 1],
                "centers": CENTERS_2,
                "sample_weight": weights,
            },
        ),
        (silhouette_samples_exact, {"X": X_4, "labels": [0, 0, 1, 1]}),
        (
            cluster_accuracy,
            {"y_true": [0, 0, 1, 1], "y_pred": [0, 0, 1, 1], "sample_weight": weights},
        ),
    ]


_NUMERIC = {"X", "memberships", "centers", "sample_weight"}
_EACH_NUMERIC_ARGUMENT = [
    pytest.param(function, kwargs, name, id=f"{function.__name__}-{name}")
    for function, kwargs in _numeric_arguments()
    for name in kwargs
    if name in _NUMERIC
]


def _spelled(values, container):
    """``values`` with numbers spelled as strings, in ``container``."""
    text = np.asarray(values).astype(str)
    if container == "list":
        return text.tolist()
    if container == "object array":  # what a data frame with a text column holds
        mixed = np.asarray(values, dtype=object)
        mixed.flat[0] = text.flat[0]
        return mixed
    return text


@pytest.mark.parametrize("function, kwargs, name", _EACH_NUMERIC_ARGUMENT)
@pytest.mark.parametrize("container", ["array", "list", "object array"])
def test_numbers_spelled_as_strings_are_refused(function, kwargs, name, container):
    # NumPy would parse them: "1.5" becomes 1.5.
    function(**kwargs)
    with pytest.raises(ValueError, match=rf"^{name} holds strings"):
        function(**{**kwargs, name: _spelled(kwargs[name], container)})


@pytest.mark.parametrize(
    "function, kwargs, name",
    [
        *_EACH_NUMERIC_ARGUMENT,
        (simplified_silhouette_score, {"X": X_4, "labels": [0, 0, 1, 1]}, "labels"),
        (cluster_accuracy, {"y_true": [0, 0, 1, 1], "y_pred": [0, 0, 1, 1]}, "y_true"),
        (cluster_accuracy, {"y_true": [0, 0, 1, 1], "y_pred": [0, 0, 1, 1]}, "y_pred"),
    ],
)
def test_complex_values_are_refused_naming_the_argument(function, kwargs, name):
    values = np.asarray(kwargs[name]) + 1e-3j
    for container in (values, values.tolist(), values.astype(object)):
        with pytest.raises(ValueError, match=rf"^{name} holds complex") as error:
            function(**{**kwargs, name: container})
        assert "e-03j" not in str(error.value)  # the values are not printed
    if name == "X":
        with pytest.raises(ValueError, match="^X holds complex"):
            function(**{**kwargs, name: sp.csr_array(values)})


def test_labels_indexing_centers_must_be_integers():
    X, memberships, centers, labels = _blob_partition()
    letters = np.array(list("abc"))[labels]
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 2\].*<U1"):
        simplified_silhouette_score(X, letters, centers)
    # Without centers, labels only name the clusters, as in scikit-learn.
    assert simplified_silhouette_score(X, letters) == simplified_silhouette_score(
        X, labels
    )
    assert silhouette_samples_exact(X, letters).tolist() == (
        silhouette_samples_exact(X, labels).tolist()
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_data_near_the_largest_float_are_checked_quietly(dtype):
    # scikit-learn's finiteness check sums X first; here the first feature,
    # positive, sums to inf and the second, negative, to -inf, and together
    # they give NaN. With warnings as errors, a warning from the check fails.
    X, _ = make_blobs(60, centers=[[8, -8], [11, -5], [5, -11]], random_state=0)
    fcm = FuzzyCMeans(3, random_state=0).fit(X)
    memberships, centers, labels = fcm.memberships_, fcm.cluster_centers_, fcm.labels_
    largest = np.finfo(dtype).max
    exponent = np.frexp(largest)[1] - np.frexp(np.abs(X).max())[1]
    huge = np.ldexp(X, exponent).astype(dtype)
    assert np.isfinite(huge).all()
    assert huge.min() < -largest / 2 and huge.max() > largest / 2
    expected = _scale_dependent_scores(
        X.astype(dtype), memberships, centers.astype(dtype), labels
    )
    huge_centers = np.ldexp(centers, exponent).astype(dtype)
    scores = _scale_dependent_scores(huge, memberships, huge_centers, labels)
    assert_allclose(scores, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 1e-150, 1e150])
def test_kept_pairwise_distances_match_cdist(dtype, scale):
    from fuzzyprune.metrics import _pairwise_distances_exact

    X = np.random.default_rng(0).normal(size=(2100, 3))  # two blocks of rows
    X[5] = X[4]  # duplicates are exactly 0 apart
    if dtype == np.float32 and scale != 1.0:
        scale = 1e-30 if scale < 1 else 1e30
    distances = _pairwise_distances_exact((X * scale).astype(dtype))
    assert distances.dtype == dtype
    assert distances[4, 5] == 0 and np.all(np.diag(distances) == 0)
    # Up to the power of two by which data far from unit size are divided.
    ratio = cdist(X, X)[0, 1] / distances[0, 1]
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    assert_allclose(distances * ratio, cdist(X, X), rtol=rtol, atol=rtol)
    sparse = _pairwise_distances_exact(sp.csr_array(X))
    assert_allclose(sparse, cdist(X, X), atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_clusters=st.integers(2, 6))
def test_silhouettes_of_kept_distances_match_scikit_learn(seed, n_clusters):
    from fuzzyprune.metrics import _pairwise_distances_exact, _silhouettes_of_distances

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    labels = rng.integers(n_clusters, size=40)
    labels[:n_clusters] = np.arange(n_clusters)  # every cluster, one a singleton
    labels[n_clusters:][labels[n_clusters:] == 0] = 1
    silhouettes = _silhouettes_of_distances(_pairwise_distances_exact(X), labels)
    assert_allclose(silhouettes, silhouette_samples(X, labels), atol=1e-12)


def test_silhouettes_of_kept_distances_ignore_how_clusters_are_named():
    from fuzzyprune.metrics import _pairwise_distances_exact, _silhouettes_of_distances

    rng = np.random.default_rng(0)
    distances = _pairwise_distances_exact(rng.normal(size=(500, 20)))
    labels = rng.integers(5, size=500)
    renamed = np.array(["e", "c", "a", "d", "b"])[labels]
    # Bit for bit: equal partitions tie exactly, and the smaller subset wins.
    np.testing.assert_array_equal(
        _silhouettes_of_distances(distances, labels),
        _silhouettes_of_distances(distances, renamed),
    )


def test_unknown_scorer_name_lists_this_librarys_names_too():
    from fuzzyprune.metrics import get_scorer

    with pytest.raises(ValueError, match="'nope' is not a known scorer.*neg_xie_beni"):
        get_scorer("nope")
