"""Skinny matrix products of a chunk of rows, shaped for the BLAS at hand.

The chunked kernels multiply a chunk of many rows by a few centers, or a few
weight columns by a chunk. OpenBLAS on AVX-512 cores multiplies small matrices
(``m * n * k`` up to about 10^6) directly, without first packing copies of
them; for such skinny shapes this is about twice as fast as the packed path
taken by one large product. There the chunk is cut into a stack of small
products, which NumPy hands to BLAS in one call; elsewhere one product is
faster and is used.
"""

import functools

import numpy as np
from threadpoolctl import threadpool_info

# OpenBLAS cores with the direct small-matrix path.
_DIRECT_SMALL_PRODUCT_CORES = {"skylakex", "cooperlake", "sapphirerapids"}
# OpenBLAS takes that path when m * n * k is at most 10^6 and, for a product
# by a transposed matrix, the result has at most 1200 entries.
_SMALL_PRODUCT_SIZE = 1_000_000
_SMALL_RESULT_SIZE = 1200
_STACK_ROWS_STEP = 8
_MAX_STACK_ROWS = 96
# Narrower rows make products so small that per-product overhead dominates.
_MIN_STACK_FEATURES = 32


@functools.cache
def _blas_multiplies_small_products_directly():
    """Whether the OpenBLAS libraries loaded run on a core with the direct path.

    Other BLAS libraries (MKL loaded by another package, say) are not
    consulted, so the answer does not depend on what was imported first.
    """
    cores = [
        str(info.get("architecture")).lower()
        for info in threadpool_info()
        if info["internal_api"] == "openblas"
    ]
    return bool(cores) and all(core in _DIRECT_SMALL_PRODUCT_CORES for core in cores)


def stack_rows(width, n_features):
    """Rows per product when a chunk is multiplied as a stack, 0 for one product.

    Parameters
    ----------
    width : int
        Number of centers, or weight columns, in the products.
    n_features : int
        Number of features of the chunk's rows.

    Returns
    -------
    rows : int
        A multiple of 8, or 0 when one product per chunk is faster.
    """
    if (
        n_features < _MIN_STACK_FEATURES
        or not _blas_multiplies_small_products_directly()
    ):
        return 0
    rows = min(
        _MAX_STACK_ROWS,
        _SMALL_PRODUCT_SIZE // (width * n_features),
        _SMALL_RESULT_SIZE // width,
    )
    rows -= rows % _STACK_ROWS_STEP
    # Wider products are not skinny, and their partial sums would outgrow
    # the chunk.
    return rows if rows >= max(width, 16) else 0


def _stacked_part(n_rows, rows):
    """Return how many leading rows fill whole products of ``rows`` rows."""
    return n_rows - n_rows % rows if rows else 0


def rows_times(chunk, matrix, out, rows):
    """Write ``chunk @ matrix.T`` to ``out``, as a stack of products of ``rows``.

    Parameters
    ----------
    chunk : ndarray of shape (n_rows, n_features)
        C-contiguous rows.
    matrix : ndarray of shape (width, n_features)
        The few rows to multiply by, such as centers.
    out : ndarray of shape (n_rows, width)
        C-contiguous buffer for the result.
    rows : int
        Rows per product, from :func:`stack_rows`.

    Returns
    -------
    out : ndarray of shape (n_rows, width)
        The products.
    """
    n_rows, n_features = chunk.shape
    stacked = _stacked_part(n_rows, rows)
    if stacked:
        np.matmul(
            chunk[:stacked].reshape(-1, rows, n_features),
            matrix.T,
            out=out[:stacked].reshape(-1, rows, out.shape[1]),
        )
    if stacked < n_rows:
        np.matmul(chunk[stacked:], matrix.T, out=out[stacked:])
    return out


def weighted_sums(weights, chunk, out, partial_sums, rows):
    """Write ``weights @ chunk`` to ``out``, as a stack of products of ``rows``.

    Parameters
    ----------
    weights : ndarray of shape (width, n_rows)
        Weight of each row in each sum, contiguous along rows.
    chunk : ndarray of shape (n_rows, n_features)
        C-contiguous rows.
    out : ndarray of shape (width, n_features)
        Buffer for the result.
    partial_sums : ndarray of shape (n_products, width, n_features)
        Buffer for the products of the stack, ``n_products`` at least
        ``n_rows // rows``.
    rows : int
        Rows per product, from :func:`stack_rows`.

    Returns
    -------
    out : ndarray of shape (width, n_features)
        The weighted sums of the rows.
    """
    n_rows, n_features = chunk.shape
    stacked = _stacked_part(n_rows, rows)
    if not stacked:
        return np.matmul(weights, chunk, out=out)
    width = weights.shape[0]
    stacked_weights = weights[:, :stacked].reshape(width, -1, rows)
    partial = np.matmul(
        stacked_weights.transpose(1, 0, 2),
        chunk[:stacked].reshape(-1, rows, n_features),
        out=partial_sums[: stacked // rows],
    )
    np.sum(partial, axis=0, out=out)
    if stacked < n_rows:
        out += weights[:, stacked:] @ chunk[stacked:]
    return out
