"""Row chunking and thread control shared by the chunked numerical kernels."""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from numbers import Integral

import joblib
import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from ._validation import Interval

# A chunk is sized to stay in cache while every product that needs it runs, so
# the data is read from memory once per pass (4 MiB was fastest on 2 MiB L2),
# and so that its float64 arrays of one value per row and cluster stay within
# cache too. Narrow data then makes long chunks, which spread the fixed cost
# of a chunk's few dozen array operations over more rows (up to 30 % faster
# on 8 features than at most 2048 rows).
_CHUNK_BYTES = 4 * 1024**2
_CHUNK_CLUSTER_BYTES = 2 * 1024**2
_CHUNK_ROWS_RANGE = (16, 8192)
# Rows are handed to threads in blocks of up to a fixed number of chunks, and
# small data in blocks of one chunk so that every thread gets some. The block
# layout, and so the order in which partial results are added, depends only on
# the data's shape, never on the number of threads: results are bitwise
# identical whatever the machine's core count or ``n_jobs``.
_CHUNKS_PER_BLOCK = 8
_MIN_BLOCKS = 16

# The values of ``n_jobs`` joblib gives a meaning to (it has none for 0), as
# a parameter constraint, so that 0 is refused before anything is fitted.
N_JOBS_CONSTRAINT = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]


def chunk_rows(X, n_columns=16):
    """Return the number of rows in one cache-sized chunk of ``X``.

    ``n_columns`` is the number of centers the rows are compared with.
    """
    if sp.issparse(X):
        bytes_per_row = (X.nnz / max(X.shape[0], 1) + 1) * (X.dtype.itemsize + 4)
    else:
        bytes_per_row = X.shape[1] * X.dtype.itemsize
    rows = min(
        _CHUNK_BYTES // max(bytes_per_row, 1),
        _CHUNK_CLUSTER_BYTES // (8 * max(n_columns, 1)),
    )
    return int(np.clip(rows, *_CHUNK_ROWS_RANGE))


def row_blocks(n_samples, rows_per_chunk):
    """Split ``range(n_samples)`` into the fixed blocks handed to threads.

    Returns
    -------
    blocks : list of slice
        Consecutive slices of whole chunks: ``_CHUNKS_PER_BLOCK`` chunks each,
        or fewer when that would give less than ``_MIN_BLOCKS`` blocks.
    """
    n_chunks = -(-n_samples // rows_per_chunk)
    chunks_per_block = int(np.clip(n_chunks // _MIN_BLOCKS, 1, _CHUNKS_PER_BLOCK))
    # An even number of blocks keeps two threads equally busy.
    while chunks_per_block > 1 and -(-n_chunks // chunks_per_block) % 2:
        chunks_per_block -= 1
    size = rows_per_chunk * chunks_per_block
    return [
        slice(start, min(start + size, n_samples))
        for start in range(0, n_samples, size)
    ]


def chunks_of(block, rows_per_chunk):
    """Split a block slice into cache-sized chunk slices."""
    return [
        slice(start, min(start + rows_per_chunk, block.stop))
        for start in range(block.start, block.stop, rows_per_chunk)
    ]


@functools.cache
def _controller():
    return ThreadpoolController()


def available_threads():
    """Return how many threads numerical kernels may use.

    This is the thread count BLAS is currently allowed (so ``OMP_NUM_THREADS``,
    ``OPENBLAS_NUM_THREADS`` and :func:`threadpoolctl.threadpool_limits` are
    honoured), or the usable CPU count when no BLAS is visible.
    """
    blas = _controller().select(user_api="blas")
    if blas.lib_controllers:
        return max(1, min(lib.num_threads for lib in blas.lib_controllers))
    return max(1, joblib.cpu_count())


@contextmanager
def single_threaded_blas():
    """Limit BLAS to one thread while parallel tasks run, within a ``with``.

    BLAS limits are process-wide and cannot be set safely from several Python
    threads at once, so only the main thread sets one; elsewhere the context
    changes nothing. The limit is set on entering the context, never before,
    so an exception between making the context and entering it cannot leave
    BLAS limited for the rest of the process.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with _controller().limit(limits=1, user_api="blas"):
        yield


@contextmanager
def row_threading(n_parallel_tasks=1):
    """Plan how a kernel spreads rows over threads, within a ``with``.

    On the main thread, each of ``n_parallel_tasks`` tasks splits its rows over
    its share of the threads BLAS may use, with BLAS limited to one thread
    while the context is open. A kernel called from any other thread (a
    threaded grid search, say) runs its rows in that thread and leaves the
    threading to BLAS, changing no limit.

    Yields
    ------
    threads_per_task : int
        Threads each task may use for its rows.
    """
    threads = available_threads()
    if threading.current_thread() is not threading.main_thread() or threads == 1:
        yield 1
        return
    with single_threaded_blas():
        yield max(1, threads // n_parallel_tasks)


def thread_pool(n_threads):
    """Return a context giving a thread pool, or ``None`` for one thread."""
    if n_threads <= 1:
        return nullcontext(None)
    return ThreadPoolExecutor(max_workers=n_threads)


def map_blocks(executor, function, blocks):
    """Apply ``function`` to each block, yielding results in block order."""
    if executor is None:
        return map(function, blocks)
    return executor.map(function, blocks)
