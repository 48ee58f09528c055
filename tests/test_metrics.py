import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.spatial.distance import cdist
from sklearn.datasets import load_iris, make_blobs
from sklearn.metrics import silhouette_samples, silhouette_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fuzzyprune import FuzzyCMeans
from fuzzyprune.metrics import (
    cluster_accuracy,
    cluster_accuracy_scorer,
    fuzzy_silhouette_score,
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
def test_partition_indices_bounds(n_samples, n_clusters, seed):
    memberships = np.random.default_rng(seed).random((n_samples, n_clusters))
    memberships /= memberships.sum(axis=1, keepdims=True)
    assert 1 / n_clusters - 1e-12 <= partition_coefficient(memberships) <= 1
    assert -1e-12 <= modified_partition_coefficient(memberships) <= 1
    assert 0 <= partition_entropy(memberships) <= np.log(n_clusters) + 1e-12


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
    assert first == again
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
    assert search.best_params_["m"] in (1.5, 2.0, 3.0)


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
    assert_allclose(get_scorer(cluster_accuracy_scorer)(fcm, X, y), 1.0)


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
