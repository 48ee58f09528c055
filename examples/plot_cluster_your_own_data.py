"""
=====================
Cluster your own data
=====================

Your data is a table of numbers with one row per sample: embeddings from a
neural network, measurements, any features. This example takes it through
the steps of a first analysis with :class:`~fuzzyprune.FuzzyCMeans`: fit,
look at the memberships as a DataFrame, find the samples the clustering is
least sure of, check how the fit converged, and choose the fuzzifier ``m``
with a validity index. The 1,797 handwritten digits of scikit-learn, 64 pixel
values each, stand in for your data.
"""

# %%
# Your data
# ---------
# Fuzzy c-means compares samples by Euclidean distance, so features on
# different scales should be standardised first. The scaler's pandas output
# keeps the column names and the index of the rows, which the memberships
# below keep too.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from fuzzyprune import FuzzyCMeans
from fuzzyprune.metrics import get_scorer
from fuzzyprune.plotting import plot_objective_history

digits = load_digits(as_frame=True)
X = StandardScaler().set_output(transform="pandas").fit_transform(digits.data)
print(f"{X.shape[0]} samples of {X.shape[1]} features")

# %%
# Fit
# ---
# Ten clusters, one per digit if all goes well. The default ``m="auto"``
# picks the fuzzifier from the number of samples and features: in 64
# dimensions it is close to 1, where the memberships are nearly crisp.
# ``set_output(transform="pandas")`` makes ``predict_proba`` (and
# ``transform``) return DataFrames.
fcm = FuzzyCMeans(10, random_state=0).set_output(transform="pandas").fit(X)
print(f"m = {fcm.m_:.3f}, {fcm.n_iter_} iterations")

# %%
# The memberships as a DataFrame
# ------------------------------
# One row per sample, with the index of ``X``, and one column per cluster;
# each row sums to 1.
memberships = fcm.predict_proba(X)
memberships.head().round(3)

# %%
# The samples the clustering is least sure of have the smallest largest
# membership. Here they are digits written unlike any of the ten groups:
# about as far from several centers, their membership is shared among them.
largest = memberships.max(axis=1)
ambiguous = largest.nsmallest(8).index
memberships.loc[ambiguous].round(2)

# %%
# Drawn with their true digit and their two largest memberships (``c7`` is
# cluster 7, the column ``fuzzycmeans7``):
fig, axes = plt.subplots(1, 8, figsize=(12, 2.4))
for ax, sample in zip(axes, ambiguous, strict=True):
    ax.imshow(digits.images[sample], cmap="gray_r")
    top = memberships.loc[sample].nlargest(2)
    shares = [
        f"c{name.removeprefix('fuzzycmeans')}: {value:.2f}"
        for name, value in top.items()
    ]
    ax.set_title("\n".join([f"digit {digits.target[sample]}", *shares]), fontsize=8)
    ax.set_axis_off()
fig.tight_layout()

# %%
# How the fit converged
# ---------------------
# ``objective_history_`` holds the objective ``J_m`` of the initial centers
# and of the centers after each update: it falls quickly, then flattens
# until it improves by less than ``tol`` (relative) and the fit stops.
history_ax = plot_objective_history(fcm)
history_ax.set_title(f"$J_m$ of the fit with m = {fcm.m_:.3f}")

# %%
# Choose m with a validity index
# ------------------------------
# ``J_m`` cannot choose ``m``: it is a sum of ``u ** m`` terms, which shrink
# as ``m`` grows, so neither ``objective_`` nor ``score`` (``-J_m``) compare
# across fuzzifiers. The partition coefficient and entropy always prefer the
# smallest ``m``, the crispest partition. The Xie-Beni index weighs the
# compactness of the clusters against the separation of their centers, with
# the same squared memberships whatever ``m``, so fits of different ``m``
# compare; :class:`~sklearn.model_selection.GridSearchCV` scores it on
# held-out samples, without labels. Shuffle the folds: the default ones are
# contiguous rows, and data stored group by group would give test folds of
# one group.
search = GridSearchCV(
    FuzzyCMeans(10, random_state=0),
    {"m": [1.02, 1.05, 1.1, 1.2, "auto"]},
    scoring=get_scorer("neg_xie_beni"),
    cv=KFold(5, shuffle=True, random_state=0),
).fit(X)
for m, score in zip(
    search.cv_results_["param_m"], search.cv_results_["mean_test_score"], strict=True
):
    print(f"m = {m}: Xie-Beni index {-score:.3f}")
print(f"m chosen by the Xie-Beni index: {search.best_params_['m']}")

# %%
# Larger fuzzifiers are left out: in these 64 dimensions ``m = 2`` makes
# every membership nearly uniform and the centers merge onto the mean of the
# data, which :class:`~fuzzyprune.FuzzyCMeans` reports with a warning.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    collapsed = FuzzyCMeans(10, m=2.0, random_state=0).fit(X)
for warning in caught:
    print(str(warning.message).split(":")[0])
print(
    f"largest membership of any sample with m = 2: {collapsed.memberships_.max():.2f}"
)

# %%
# The memberships of the chosen fit
# ---------------------------------
# A larger ``m`` spreads every sample over more clusters: fewer samples
# belong to one cluster with a membership near 1.
chosen = search.best_estimator_
fig, ax = plt.subplots()
bins = np.linspace(0, 1, 21)
ax.hist(largest, bins=bins, alpha=0.6, label=f"m = {fcm.m_:.3f} (auto)")
ax.hist(
    chosen.predict_proba(X).max(axis=1),
    bins=bins,
    alpha=0.6,
    label=f"m = {chosen.m_:.3g} (chosen)",
)
ax.set_xlabel("largest membership of a sample")
ax.set_ylabel("samples")
ax.legend()
