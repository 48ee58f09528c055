"""Initial centers of fuzzy c-means, on the data's own namespace and device.

Random numbers are drawn on the host from the run's ``RandomState``, so a
seed gives the same draws whatever the namespace; the data stays where it
is.
"""

import numpy as np
from sklearn.utils.validation import check_array

from ._array_api import prepared, to_numpy
from ._chunks import thread_pool
from ._fcm_step import dtype_name
from ._validation import checking, naming_errors


def random_membership_sums(data, n_clusters, fuzzifier, rng):
    """Weighted sums (eq. 1) of random memberships of the rows of ``data``.

    The memberships are drawn from the generator ``rng`` chunk by chunk, in
    order, as the weighted sums use them: the same numbers as one draw of
    all of them, in the memory of a chunk.
    """
    xp = data.xp

    def log_weights_of(chunk):
        memberships = rng.random((chunk.stop - chunk.start, n_clusters))
        memberships /= memberships.sum(axis=1, keepdims=True)
        memberships = xp.asarray(memberships.T, dtype=data.dtype, device=data.device)
        return fuzzifier.log_weights(memberships, xp)

    return data.weighted_sums(n_clusters, log_weights_of)


def _random_membership_centers(data, n_clusters, fuzzifier, random_state):
    """Centers (eq. 1) of random memberships, the paper's initialisation."""
    rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    sums = random_membership_sums(data, n_clusters, fuzzifier, rng)
    no_centers = data.xp.zeros(
        (n_clusters, data.X.shape[1]), dtype=data.X.dtype, device=data.device
    )
    return sums.centers(no_centers)


def _draw_proportional(weights, n_draws, random_state, data):
    """Draw ``n_draws`` row indices with probability proportional to ``weights``."""
    xp = data.xp
    cumulative = xp.cumulative_sum(weights)
    n_rows = weights.shape[0]
    draws = random_state.uniform(size=n_draws) * float(cumulative[n_rows - 1])
    draws = xp.asarray(draws, dtype=cumulative.dtype, device=data.device)
    indices = to_numpy(xp.searchsorted(cumulative, draws))
    return np.minimum(indices, n_rows - 1).tolist()


def kmeans_plusplus(data, n_clusters, random_state, sample_weight):
    """Greedy k-means++ seeding: rows of ``X`` drawn far from the centers so far.

    Each new center is the best, by the resulting weighted potential, of
    ``2 + log(n_clusters)`` rows drawn with probability proportional to their
    weighted squared distance to the nearest center. Distances are computed
    in ``X``'s dtype by the same products as the fit, on ``X``'s device.
    """
    xp = data.xp
    if sample_weight is None:
        weights = xp.ones(data.X.shape[0], dtype=data.dtype, device=data.device)
    else:
        weights = xp.astype(sample_weight, data.dtype)
    n_trials = 2 + int(np.log(n_clusters))
    chosen = _draw_proportional(weights, 1, random_state, data)
    with thread_pool(data.n_threads) as executor:
        closest = data.sq_distances_to(data.rows(chosen), executor)[:, 0]
        for _ in range(1, n_clusters):
            candidates = _draw_proportional(
                weights * closest, n_trials, random_state, data
            )
            candidate_closest = xp.minimum(
                data.sq_distances_to(data.rows(candidates), executor),
                closest[:, None],
            )
            best = int(xp.argmin(xp.matmul(weights, candidate_closest)))
            chosen.append(candidates[best])
            closest = candidate_closest[:, best]
    return data.rows(chosen)


def initial_centers(data, init, n_clusters, fuzzifier, random_state, sample_weight):
    """Return initial centers for one run, in working units and ``X``'s dtype."""
    if isinstance(init, str) and init == "k-means++":
        return kmeans_plusplus(data, n_clusters, random_state, sample_weight)
    if isinstance(init, str) and init == "random":
        return _random_membership_centers(data, n_clusters, fuzzifier, random_state)
    if callable(init):
        with naming_errors("init"):
            centers = init(data.X, n_clusters, random_state=random_state)
        init = check_init(centers, data.X.dtype, n_clusters, data.X.shape[1])
    return data.to_scaled(init)


def check_init(centers, dtype, n_clusters, n_features):
    """Return initial centers given by ``init`` as a C NumPy array of ``dtype``.

    Centers of any array namespace are accepted; they are checked on the
    host (they are small) and moved to the data's device when used.

    Raises
    ------
    ValueError
        If they are not finite numbers of shape (n_clusters, n_features).
    """
    # Values beyond the dtype's range become inf, which the check refuses.
    with checking(centers, "init"):
        centers = check_array(
            to_numpy(prepared(centers, "init")),
            dtype=np.dtype(dtype_name(dtype)),
            copy=True,
            order="C",
            input_name="init",
        )
    if centers.shape != (n_clusters, n_features):
        raise ValueError(
            f"init: the initial centers have shape {centers.shape}; expected "
            f"(n_clusters, n_features) = ({n_clusters}, {n_features})."
        )
    return centers
