import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import fuzzyprune._fcm
import fuzzyprune._fcm_step
import fuzzyprune._products
from fuzzyprune import FuzzyCMeans
from fuzzyprune._products import (
    _SMALL_PRODUCT_SIZE,
    _SMALL_RESULT_SIZE,
    rows_times,
    stack_rows,
    weighted_sums,
)


@pytest.fixture
def blas(monkeypatch):
    """Pretend the loaded BLAS libraries are the given ones."""
    detect = fuzzyprune._products._blas_multiplies_small_products_directly

    def pretend(*libraries):
        infos = [
            {"user_api": "blas", "internal_api": api, "architecture": arch}
            for api, arch in libraries
        ]
        monkeypatch.setattr(fuzzyprune._products, "threadpool_info", lambda: infos)
        detect.cache_clear()

    yield pretend
    monkeypatch.undo()
    detect.cache_clear()


@pytest.mark.parametrize(
    "libraries, stacked",
    [
        ([("openblas", "SkylakeX")], True),
        ([("openblas", "Cooperlake"), ("openblas", "SapphireRapids")], True),
        ([("openblas", "Haswell")], False),
        ([("openblas", "SkylakeX"), ("openblas", "Zen")], False),
        ([("mkl", None)], False),
        ([("openblas", "SkylakeX"), ("mkl", None)], True),
        ([], False),
    ],
)
def test_stacks_only_on_blas_with_direct_small_products(blas, libraries, stacked):
    blas(*libraries)
    assert (stack_rows(12, 2048) > 0) == stacked


def test_stack_rows_keep_each_product_small(blas):
    blas(("openblas", "SkylakeX"))
    for width in (1, 4, 12, 16, 24):
        for n_features in (32, 64, 300, 1024, 2048, 4096):
            rows = stack_rows(width, n_features)
            assert rows % 8 == 0
            assert rows <= 96
            if rows:
                assert rows * width * n_features <= _SMALL_PRODUCT_SIZE
                assert rows * width <= _SMALL_RESULT_SIZE
                assert rows >= width
    assert stack_rows(12, 2048) == 40
    assert stack_rows(4, 1024) == 96
    # No gain on very narrow rows.
    assert stack_rows(4, 16) == 0
    # Too wide a product to be small with 16 rows.
    assert stack_rows(12, 8192) == 0


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(1, 150),
    width=st.integers(1, 13),
    n_features=st.integers(1, 70),
    rows=st.sampled_from([0, 16, 24, 40, 96]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_stacked_products_equal_one_product(
    n_rows, width, n_features, rows, dtype, seed
):
    rng = np.random.default_rng(seed)
    chunk = rng.standard_normal((n_rows, n_features)).astype(dtype)
    matrix = rng.standard_normal((width, n_features)).astype(dtype)
    # Weights are a view of a wider buffer, as in the fit's workspace.
    weights = rng.random((width, n_rows + 7)).astype(dtype)[:, :n_rows]
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    exact_products = chunk.astype(np.float64) @ matrix.T.astype(np.float64)
    exact_sums = weights.astype(np.float64) @ chunk.astype(np.float64)

    out = np.full((n_rows, width), np.nan, dtype=dtype)
    result = rows_times(chunk, matrix, out, rows)
    assert result is out
    scale = np.abs(chunk).sum(axis=1)[:, None] * np.abs(matrix).max()
    assert np.all(np.abs(out - exact_products) <= tolerance * (scale + 1))

    sums = np.full((width, n_features), np.nan, dtype=dtype)
    partial_sums = np.empty((n_rows // rows if rows else 0, width, n_features), dtype)
    result = weighted_sums(weights, chunk, sums, partial_sums, rows)
    assert result is sums
    scale = weights.sum(axis=1)[:, None] * np.abs(chunk).max()
    assert np.all(np.abs(sums - exact_sums) <= tolerance * (scale + 1))


def test_fit_with_stacked_products_matches_one_product(blas, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.random((3000, 256), dtype=np.float32)
    X[:1000] += 1.0
    X[1000:2000] -= 1.0
    fits = {}
    for arch in ("SkylakeX", "Haswell"):
        blas(("openblas", arch))
        fits[arch] = FuzzyCMeans(3, m=1.5, random_state=0).fit(X)
    assert stack_rows(4, 256) == 0  # the last fit used one product
    stacked, single = fits["SkylakeX"], fits["Haswell"]
    assert stacked.n_iter_ == single.n_iter_
    assert_allclose(stacked.cluster_centers_, single.cluster_centers_, rtol=1e-4)
    assert_allclose(stacked.memberships_, single.memberships_, atol=1e-4)
    assert_allclose(stacked.objective_, single.objective_, rtol=1e-5)


@pytest.mark.parametrize("arch", ["SkylakeX", "Haswell"])
def test_workspace_sizes_partial_sums_by_the_stack(blas, arch):
    blas(("openblas", arch))
    workspace = fuzzyprune._fcm_step.Workspace(512, 11, 2048, np.dtype(np.float32))
    if arch == "SkylakeX":
        assert workspace.stack_rows == 40
        assert workspace.partial_sums.shape == (512 // 40, 12, 2048)
        # Memory of the partial sums stays below the chunk's own.
        assert workspace.partial_sums.nbytes <= 512 * 2048 * 4
    else:
        assert workspace.stack_rows == 0
        assert workspace.partial_sums.size == 0
    # A buffer for scaled rows only where the data needs scaling.
    assert workspace.rows is None
    scaled = fuzzyprune._fcm_step.Workspace(512, 11, 2048, np.dtype(np.float32), True)
    assert scaled.rows.shape == (512, 2048) and scaled.rows.dtype == np.float32
