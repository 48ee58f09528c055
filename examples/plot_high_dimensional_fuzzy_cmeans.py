"""
================================
Fuzzy c-means in high dimensions
================================

In high dimensions the distances from a sample to all cluster centers become
nearly equal. The memberships of fuzzy c-means depend on their ratios, raised
to the power ``2 / (m - 1)``: with the textbook fuzzifier ``m = 2`` they come
out nearly uniform, every center is pulled towards the mean of the data, and
the partition collapses.

This example clusters 2048-dimensional data with
:class:`~fuzzyprune.FuzzyCMeans` for ``m=2.0``, for the default ``m="auto"``
and for the polynomial fuzzifier function, compares them with
:class:`~sklearn.cluster.KMeans`, and shows how the fitted
``partition_coefficient_`` and ``center_separation_`` reveal a collapse.
"""

# %%
# Ten blobs in 2048 dimensions
# ----------------------------
# The blobs are far apart, yet the farthest blob mean of a sample is less than
# 1.5 times as far as its nearest one. Even at the true blob means, ``m = 2``
# then gives a sample only about 0.2 of its membership in its own blob.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.pairwise import euclidean_distances

from fuzzyprune import FuzzyCMeans
from fuzzyprune.metrics import partition_coefficient

X, y = make_blobs(
    n_samples=3000, n_features=2048, centers=10, cluster_std=8.0, random_state=1
)
X = X.astype(np.float32)
blob_means = np.array([X[y == k].mean(axis=0) for k in range(10)])
distances = euclidean_distances(X, blob_means).astype(np.float64)
nearest_over_farthest = distances.min(axis=1) / distances.max(axis=1)
# Memberships of eq. 2 with m = 2 at the true blob means.
true_memberships = distances**-2 / (distances**-2).sum(axis=1, keepdims=True)
own_membership = true_memberships[np.arange(len(y)), y]
print(f"nearest / farthest blob mean, median: {np.median(nearest_over_farthest):.2f}")
print(
    f"m = 2 membership in its own blob at the true means: {own_membership.mean():.2f}"
)
print(f"partition coefficient there: {partition_coefficient(true_memberships):.2f}")

# %%
# Fuzzy c-means with several fuzzifiers, and k-means
# --------------------------------------------------
# All fits start from the same k-means++ centers. A degenerate partition raises
# a ``ConvergenceWarning``; here it is recorded and printed. ``m="auto"`` picks
# ``m_`` from the number of samples and features; the polynomial function's
# ``beta`` is 0.5 by default, and its warning suggests a larger one.
init = kmeans_plusplus(X, 10, random_state=1)[0]
settings = {
    "m=2.0": {"m": 2.0},
    'm="auto"': {},
    "polynomial": {"fuzzifier": "polynomial"},
    "polynomial, beta=0.7": {"fuzzifier": "polynomial", "beta": 0.7},
}
models, warned = {}, {}
for name, params in settings.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        models[name] = FuzzyCMeans(10, init=init, **params).fit(X)
    warned[name] = bool(caught)
    for warning in caught:
        print(f"{name}: {warning.message}")

kmeans = KMeans(10, init=init, n_init=1).fit(X)
ari = {name: adjusted_rand_score(y, model.labels_) for name, model in models.items()}
ari["KMeans"] = adjusted_rand_score(y, kmeans.labels_)
print(f"{'':22} {'ARI':>6} {'PC':>6} {'separation':>10} {'m_':>7}")
for name, model in models.items():
    m_used = "-" if model.m_ is None else f"{model.m_:.4f}"
    print(
        f"{name:22} {ari[name]:6.3f} {model.partition_coefficient_:6.3f} "
        f"{model.center_separation_:10.2g} {m_used:>7}"
    )
print(f"{'KMeans':22} {ari['KMeans']:6.3f}")

# %%
# The partition coefficient against m
# -----------------------------------
# The partition coefficient is 1 for crisp memberships and ``1 / 10`` for
# uniform ones; the center separation is the distance between the closest two
# centers over the radius of the clusters. From ``m = 1.2`` on, well below 2, the
# first is ``1 / 10`` and the second nearly 0, and every fit warns (crosses).
# ``m="auto"`` (dashed) sits close to 1, where the memberships are crisp and
# the labels are those of k-means.
fuzzifiers = [1.001, 1.003, 1.01, 1.03, 1.1, 1.15, 1.2, 1.3, 1.5, 1.7, 2.0]
coefficients, separations, sweep_warned = [], [], []
for m in fuzzifiers:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model = FuzzyCMeans(10, m=m, init=init).fit(X)
    coefficients.append(model.partition_coefficient_)
    separations.append(model.center_separation_)
    sweep_warned.append(bool(caught))
coefficients, separations = np.array(coefficients), np.array(separations)
sweep_warned = np.array(sweep_warned)
m_auto = models['m="auto"'].m_
agreement = adjusted_rand_score(kmeans.labels_, models['m="auto"'].labels_)
print(f'm="auto" against KMeans labels: ARI {agreement:.3f}')

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharex=True)
for ax, values, title in zip(
    axes,
    [coefficients, separations],
    ["partition coefficient", "center separation"],
    strict=True,
):
    ax.plot(np.subtract(fuzzifiers, 1), values, marker="o")
    ax.plot(
        np.subtract(fuzzifiers, 1)[sweep_warned],
        values[sweep_warned],
        "x",
        color="tab:red",
        markersize=12,
        label="warned",
    )
    ax.axvline(m_auto - 1, linestyle="--", color="grey", label='m="auto"')
    ax.set_xscale("log")
    ax.set_xlabel("m - 1")
    ax.set_title(title)
axes[0].legend()
fig.tight_layout()

# %%
# Memberships and centers of each fit
# -----------------------------------
# With ``m = 2`` every sample's largest membership is about ``1 / 10``, and
# all centers lie close to the mean of the data, far closer than the blob
# means do (dotted line). With ``m="auto"`` the memberships are crisp and every
# center sits as far from the mean as the blob means do (the histograms of
# ``m="auto"`` and ``beta=0.7`` coincide). The polynomial function with
# ``beta=0.5`` keeps fuzzy memberships, but pulls a few centers towards the
# mean, two of them nearly onto each other; with ``beta=0.7`` none is left there,
# and the memberships are crisp.
spread = np.sqrt(((X - X.mean(axis=0)) ** 2).sum(axis=1).mean())


def distances_to_mean(centers):
    """Distances of centers to the mean of the data, over the spread."""
    return np.sqrt(((centers - X.mean(axis=0)) ** 2).sum(axis=1)) / spread


fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
bins = np.linspace(0, 1, 41)
for model, style in zip(models.values(), ["-", "-", "-", "--"], strict=True):
    axes[0].hist(
        model.memberships_.max(axis=1), bins=bins, histtype="step", lw=2, ls=style
    )
axes[0].set_xlabel("largest membership of a sample")
axes[0].set_ylabel("samples")
for row, (name, model) in enumerate(models.items()):
    axes[1].plot(
        distances_to_mean(model.cluster_centers_), np.full(10, row), "o", label=name
    )
axes[1].axvline(
    distances_to_mean(blob_means).min(), linestyle=":", color="grey", label="blobs"
)
axes[1].set_yticks(range(len(models)), list(models))
axes[1].set_xlabel("distance of a center to the mean, over the spread")
axes[0].legend(list(models), loc="upper center")
fig.tight_layout()
