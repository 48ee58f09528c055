"""FuzzyCMeans.partial_fit: single-pass fuzzy c-means over batches."""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_blobs

from fuzzyprune import FuzzyCMeans


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(3000, 8, centers=5, cluster_std=1.0, random_state=0)
    return X


def _batches(X, n_batches, seed=None):
    rows = np.arange(X.shape[0])
    if seed is not None:
        rows = np.random.default_rng(seed).permutation(rows)
    return [X[part] for part in np.array_split(rows, n_batches)]


def test_one_batch_equals_fit_from_the_same_centers(blobs):
    centers = blobs[[0, 1, 2, 3, 4]]
    fitted = FuzzyCMeans(5, init=centers).fit(blobs)
    partial = FuzzyCMeans(5, init=centers).partial_fit(blobs)
    assert partial.objective_ == fitted.objective_
    np.testing.assert_array_equal(partial.objective_history_, fitted.objective_history_)
    np.testing.assert_array_equal(partial.cluster_centers_, fitted.cluster_centers_)
    assert partial.n_steps_ == fitted.n_steps_ == 1


@pytest.mark.parametrize("fuzzifier", [{"m": 1.5}, {"fuzzifier": "polynomial"}])
@pytest.mark.parametrize("seed", [None, 1, 2])
def test_batches_in_any_order_reach_the_full_fit(blobs, fuzzifier, seed):
    full = FuzzyCMeans(5, random_state=0, **fuzzifier).fit(blobs)
    partial = FuzzyCMeans(5, random_state=0, **fuzzifier)
    for batch in _batches(blobs, 10, seed):
        partial.partial_fit(batch)
    assert partial.n_steps_ == 10
    assert partial.memberships_.shape == (300, 5)
    # The objective of all the data at the streamed centers.
    assert -partial.score(blobs) <= 1.02 * full.objective_


def test_center_weights_add_up_to_the_weight_seen(blobs):
    rng = np.random.default_rng(0)
    weights = rng.uniform(0, 2, blobs.shape[0])
    partial = FuzzyCMeans(5, random_state=0)
    pairs = zip(_batches(blobs, 4), np.array_split(weights, 4), strict=True)
    for batch, batch_weights in pairs:
        partial.partial_fit(batch, sample_weight=batch_weights)
    assert partial.center_weights_.sum() == pytest.approx(weights.sum(), rel=1e-12)
    fitted = FuzzyCMeans(5, random_state=0).fit(blobs, sample_weight=weights)
    assert fitted.center_weights_ == pytest.approx(
        weights @ fitted.memberships_, rel=1e-12
    )


def test_the_fuzzifier_is_fixed_by_the_first_batch(blobs):
    partial = FuzzyCMeans(5, random_state=0).partial_fit(blobs[:200])
    first_m = partial.m_
    partial.partial_fit(blobs[200:3000])
    assert partial.m_ == first_m == FuzzyCMeans(5).fit(blobs[:200]).m_
    assert partial.m_ != FuzzyCMeans(5).fit(blobs[200:3000]).m_


def test_pickled_between_batches_continues_alike(blobs):
    first, second, third = _batches(blobs, 3)
    partial = FuzzyCMeans(5, random_state=0).partial_fit(first).partial_fit(second)
    copy = pickle.loads(pickle.dumps(partial))
    partial.partial_fit(third)
    copy.partial_fit(third)
    np.testing.assert_array_equal(copy.cluster_centers_, partial.cluster_centers_)


def test_partial_fit_continues_a_fit(blobs):
    fitted = FuzzyCMeans(5, random_state=0).fit(blobs[:1500])
    before = fitted.center_weights_.sum()
    batch_objective = -fitted.score(blobs[1500:])
    fitted.partial_fit(blobs[1500:])
    assert fitted.n_steps_ == 2
    assert fitted.center_weights_.sum() == pytest.approx(before + 1500)
    # The batch's run starts from the previous centers, where the weighted
    # centers, each on its own, add nothing to the batch's objective.
    history = fitted.objective_history_
    assert history[0] == pytest.approx(batch_objective, rel=1e-12)
    assert history[-1] == fitted.objective_ < history[0]
    assert len(history) == fitted.n_iter_
    assert np.all(np.diff(history) <= 0)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"X": "nan"}, "X"),
        ({"X": "features"}, "features"),
        ({"n_clusters": 4}, "n_clusters=4 differs from the 5 clusters"),
        ({"sample_weight": -1.0}, "sample_weight"),
    ],
)
def test_bad_batches_leave_the_fit_unchanged(blobs, change, message):
    partial = FuzzyCMeans(5, random_state=0).partial_fit(blobs[:1000])
    before = pickle.dumps(partial)
    batch = blobs[1000:1100].copy()
    weights = None
    if change.get("X") == "nan":
        batch[3, 2] = np.nan
    if change.get("X") == "features":
        batch = batch[:, :6]
    if "n_clusters" in change:
        partial.set_params(n_clusters=change["n_clusters"])
        before = pickle.dumps(partial)
    if "sample_weight" in change:
        weights = np.full(100, change["sample_weight"])
    with pytest.raises(ValueError, match=message):
        partial.partial_fit(batch, sample_weight=weights)
    assert pickle.dumps(partial) == before


def test_sparse_batches_equal_dense_ones(blobs):
    import scipy.sparse as sp

    dense, sparse = FuzzyCMeans(5, random_state=0), FuzzyCMeans(5, random_state=0)
    for batch in _batches(np.abs(blobs), 3):
        dense.partial_fit(batch)
        sparse.partial_fit(sp.csr_matrix(batch))
    np.testing.assert_allclose(
        sparse.cluster_centers_, dense.cluster_centers_, rtol=1e-9
    )


def test_partial_fit_on_torch_tensors_equals_numpy(blobs):
    torch = pytest.importorskip("torch")
    partial = FuzzyCMeans(5, random_state=0)
    on_torch = FuzzyCMeans(5, random_state=0)
    for batch in _batches(blobs, 3):
        partial.partial_fit(batch)
        with sklearn.config_context(array_api_dispatch=True):
            on_torch.partial_fit(torch.asarray(batch))
    assert isinstance(on_torch.center_weights_, torch.Tensor)
    np.testing.assert_allclose(
        on_torch.cluster_centers_.numpy(), partial.cluster_centers_, rtol=1e-9
    )


def test_batches_of_one_cluster_each_keep_the_centers_seen_before():
    # Streamed one cluster at a time, the centers of earlier clusters hold
    # their place only through their weights.
    X, y = make_blobs(3000, 8, centers=5, cluster_std=1.0, random_state=0)
    order = np.argsort(y, kind="stable")
    full = FuzzyCMeans(5, m=1.5, random_state=0).fit(X)
    partial = FuzzyCMeans(5, m=1.5, random_state=0)
    partial.partial_fit(X[order[::6]])  # a first batch from every cluster
    for batch in _batches(X[order], 10):
        partial.partial_fit(batch)
    assert -partial.score(X) <= 1.02 * full.objective_


def test_a_batch_of_another_library_is_refused(blobs):
    torch = pytest.importorskip("torch")
    with sklearn.config_context(array_api_dispatch=True):
        partial = FuzzyCMeans(5, random_state=0).partial_fit(torch.asarray(blobs[:500]))
        before = pickle.dumps(partial)
        with pytest.raises(ValueError, match="must use the same namespace"):
            partial.partial_fit(blobs[500:1000])
    assert pickle.dumps(partial) == before


def test_batches_keep_the_type_of_the_first(blobs):
    partial = FuzzyCMeans(5, random_state=0).partial_fit(blobs[:1000])
    partial.partial_fit(blobs[1000:2000].astype(np.float32))
    assert partial.cluster_centers_.dtype == np.float64
    small = FuzzyCMeans(5, random_state=0).partial_fit(blobs[:1000].astype(np.float32))
    before = pickle.dumps(small)
    with pytest.raises(ValueError, match="beyond the range of float32"):
        small.partial_fit(blobs[1000:2000] * 1e40)
    assert pickle.dumps(small) == before
    small.partial_fit(blobs[1000:2000])
    assert small.cluster_centers_.dtype == np.float32


@pytest.mark.parametrize(
    "params, message",
    [
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"m": 3.0}, "differs from the fuzzifier setting"),
        ({"fuzzifier": "polynomial"}, "differs from the fuzzifier setting"),
    ],
)
def test_parameters_are_checked_at_every_batch(blobs, params, message):
    partial = FuzzyCMeans(5, m=1.5, random_state=0).partial_fit(blobs[:1000])
    partial.set_params(**params)
    before = pickle.dumps(partial)
    with pytest.raises(ValueError, match=message):
        partial.partial_fit(blobs[1000:2000])
    assert pickle.dumps(partial) == before
