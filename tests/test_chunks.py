import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from fuzzyprune._chunks import (
    available_threads,
    chunk_rows,
    chunks_of,
    row_blocks,
)


def test_available_threads_follows_blas_limits():
    with threadpool_limits(1, user_api="blas"):
        assert available_threads() == 1
    with threadpool_limits(2, user_api="blas"):
        assert available_threads() == 2


@pytest.mark.parametrize(
    "n_samples, rows_per_chunk", [(1, 16), (100, 16), (4096, 16), (5000, 7)]
)
def test_blocks_and_chunks_tile_the_rows_in_order(n_samples, rows_per_chunk):
    rows = [
        index
        for block in row_blocks(n_samples, rows_per_chunk)
        for chunk in chunks_of(block, rows_per_chunk)
        for index in range(chunk.start, chunk.stop)
    ]
    assert rows == list(range(n_samples))
    assert all(
        chunk.stop - chunk.start <= rows_per_chunk
        for block in row_blocks(n_samples, rows_per_chunk)
        for chunk in chunks_of(block, rows_per_chunk)
    )


def _n_chunks(n_samples, rows_per_chunk):
    return -(-n_samples // rows_per_chunk)


@pytest.mark.parametrize(
    "n_samples, n_features, n_chunks, n_blocks",
    [(5000, 1024, 5, 5), (77516, 2048, 152, 22), (150, 4, 1, 1)],
)
def test_block_layout_of_typical_shapes(n_samples, n_features, n_chunks, n_blocks):
    X = np.broadcast_to(np.float32(0), (n_samples, n_features))
    rows = chunk_rows(X)
    assert _n_chunks(n_samples, rows) == n_chunks
    assert len(row_blocks(n_samples, rows)) == n_blocks


@given(n_chunks=st.integers(32, 5000))
def test_many_chunks_make_an_even_number_of_blocks(n_chunks):
    blocks = row_blocks(n_chunks * 16, 16)
    sizes = {block.stop - block.start for block in blocks[:-1]}
    assert len(sizes) <= 1
    assert 16 <= len(blocks) <= n_chunks
    assert len(blocks) % 2 == 0 or len(blocks) == n_chunks


def test_row_threading_uses_own_threads_only_on_the_main_thread():
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import nullcontext

    from fuzzyprune._chunks import row_threading

    with threadpool_limits(2, user_api="blas"):
        threads, limit = row_threading()
        assert threads == 2 and not isinstance(limit, nullcontext)
        with limit:
            assert available_threads() == 1
        assert available_threads() == 2
        assert row_threading(n_parallel_tasks=2)[0] == 1
        with ThreadPoolExecutor(1) as executor:
            threads, limit = executor.submit(row_threading).result()
        assert threads == 1 and isinstance(limit, nullcontext)
