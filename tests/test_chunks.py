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

    from fuzzyprune._chunks import row_threading

    with threadpool_limits(2, user_api="blas"):
        with row_threading() as threads:
            assert threads == 2
            assert available_threads() == 1
        assert available_threads() == 2
        with row_threading(n_parallel_tasks=2) as threads:
            assert threads == 1

        def in_worker():
            with row_threading() as threads:
                return threads, available_threads()

        with ThreadPoolExecutor(1) as executor:
            assert executor.submit(in_worker).result() == (1, 2)


def test_blas_limits_are_set_on_entering_only():
    """Making a limit and failing before its ``with`` leaves BLAS alone."""
    from fuzzyprune._chunks import row_threading, single_threaded_blas

    with threadpool_limits(2, user_api="blas"):
        made = [row_threading(), single_threaded_blas()]
        assert available_threads() == 2
        with pytest.raises(MemoryError):
            with row_threading():
                raise MemoryError
        assert available_threads() == 2
        del made


def test_fit_interrupted_while_preparing_data_restores_blas(monkeypatch):
    from fuzzyprune import FuzzyCMeans, _fcm

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    X = np.random.RandomState(0).rand(50, 3)
    monkeypatch.setattr(_fcm, "PreparedData", interrupted)
    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(KeyboardInterrupt):
            FuzzyCMeans(2).fit(X)
        assert available_threads() == 2
