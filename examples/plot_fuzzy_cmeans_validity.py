"""
==============================================
Fuzzy memberships and choosing the fuzzifier m
==============================================

:class:`~fuzzyprune.FuzzyCMeans` gives every sample a membership in every
cluster. The fuzzifier ``m`` sets how soft these memberships are: close to 1
the partition is almost crisp, as with k-means; larger values spread each
sample's membership over several clusters.

This example clusters the standardised wine data for several fuzzifiers, shows
the memberships, and compares the validity indices of
:mod:`fuzzyprune.metrics`, which judge a fuzzy partition without labels, with
the Hungarian-matched :func:`~fuzzyprune.metrics.cluster_accuracy`, which
needs them.
"""

# %%
# Cluster the wine data for several fuzzifiers
# --------------------------------------------
# A fit whose partition degenerates (centers merged onto the mean of the
# data, memberships nearly uniform) raises a ``ConvergenceWarning``; here it
# is recorded and printed.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from fuzzyprune import FuzzyCMeans
from fuzzyprune.metrics import (
    cluster_accuracy,
    get_scorer,
    modified_partition_coefficient,
    partition_entropy,
    xie_beni_index,
)

wine = load_wine()
X = StandardScaler().fit_transform(wine.data)
fuzzifiers = [1.2, 1.5, 2.0, 3.0, 5.0]
models = {}
for m in fuzzifiers:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        models[m] = FuzzyCMeans(3, m=m, n_init=5, random_state=0).fit(X)
    for warning in caught:
        print(f"m = {m}: {warning.message}")

# %%
# Memberships in the plane of the first two principal components
# ---------------------------------------------------------------
# Each sample is coloured by its cluster of largest membership and drawn more
# transparent the smaller that membership is: with a larger ``m`` the samples
# between clusters fade.
plane = PCA(n_components=2).fit_transform(X)
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
for ax, m in zip(axes, [1.2, 2.0, 3.0], strict=True):
    memberships = models[m].memberships_
    colours = plt.cm.tab10(memberships.argmax(axis=1))
    colours[:, 3] = (memberships.max(axis=1) - 1 / 3) * 1.5
    ax.scatter(plane[:, 0], plane[:, 1], c=colours, s=15)
    ax.set_title(f"m = {m}")
fig.tight_layout()

# %%
# Validity indices against the fuzzifier
# --------------------------------------
# The modified partition coefficient and the partition entropy reward crisp
# partitions, so they always prefer the smallest ``m``; the Xie-Beni index
# weighs compactness against the separation of centers instead. In these 13
# dimensions ``m = 5`` is already so large that the centers drift together
# towards the mean of the data: the Xie-Beni index (log scale) shoots up, the
# accuracy drops and the estimator warns. High-dimensional data needs a
# fuzzifier close to 1; ``m="auto"``, the default, picks one from the number
# of samples and features.
indices = {
    "modified partition coefficient": [
        modified_partition_coefficient(models[m].memberships_) for m in fuzzifiers
    ],
    "partition entropy": [
        partition_entropy(models[m].memberships_) for m in fuzzifiers
    ],
    "Xie-Beni": [
        xie_beni_index(X, models[m].memberships_, models[m].cluster_centers_, m=m)
        for m in fuzzifiers
    ],
    "cluster accuracy": [
        cluster_accuracy(wine.target, models[m].labels_) for m in fuzzifiers
    ],
}
fig, axes = plt.subplots(1, 4, figsize=(14, 3.5))
for ax, (name, values) in zip(axes, indices.items(), strict=True):
    ax.plot(fuzzifiers, values, marker="o")
    ax.set_xlabel("m")
    ax.set_yscale("log" if name == "Xie-Beni" else "linear")
    ax.set_title(name)
fig.tight_layout()

# %%
# Choosing m by grid search
# -------------------------
# Any of these indices can drive :class:`~sklearn.model_selection.GridSearchCV`
# without labels; each fold is scored on memberships of held-out samples.
# ``"auto"`` competes with the fixed values; ``m=5`` is left out, as it
# collapses.
print(f"m='auto' on these data: m_ = {FuzzyCMeans(3).fit(X).m_:.3f}")
search = GridSearchCV(
    FuzzyCMeans(3, random_state=0),
    {"m": [*fuzzifiers[:-1], "auto"]},
    scoring=get_scorer("neg_xie_beni"),
    # The wine samples are sorted by class: shuffled folds mix the classes.
    cv=KFold(5, shuffle=True, random_state=0),
).fit(X)
print(f"m chosen by the Xie-Beni index: {search.best_params_['m']}")
print(np.round(search.cv_results_["mean_test_score"], 3))
