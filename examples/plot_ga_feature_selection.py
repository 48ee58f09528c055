"""
============================================================
Genetic feature selection for fuzzy clustering in a pipeline
============================================================

Clustering suffers from features that carry no structure: they add the same
noise to every distance and blur the clusters. :class:`~fuzzyprune.GAFeatureSelector`
searches feature subsets with a genetic algorithm and keeps a small subset
whose clustering has nearly the best silhouette, without looking at any
labels.

This example hides the 13 standardised wine measurements among 13 columns of
pure noise and lets the selector, inside a
:class:`~sklearn.pipeline.Pipeline` that ends in
:class:`~fuzzyprune.FuzzyCMeans`, pick the columns worth clustering. The
result is checked against the wine cultivars, which the search never sees.
"""

# %%
# Wine measurements hidden among noise
# ------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fuzzyprune import FuzzyCMeans, GAFeatureSelector
from fuzzyprune.metrics import cluster_accuracy
from fuzzyprune.plotting import plot_pareto_front

wine = load_wine(as_frame=True)
rng = np.random.default_rng(0)
noise = pd.DataFrame(
    rng.normal(size=wine.data.shape),
    columns=[f"noise_{i}" for i in range(wine.data.shape[1])],
)
X = pd.concat([wine.data, noise], axis=1)
print(f"{X.shape[1]} features, of which {wine.data.shape[1]} are measurements")

# %%
# Clustering all the features
# ---------------------------
# Half of every distance is now noise. With the textbook fuzzifier ``m = 2``
# the distances of a sample to the three centers become so alike that its
# memberships are nearly uniform: the estimator warns that the partition is
# degenerate, and its clusters match the cultivars poorly. (The default
# ``m="auto"`` lowers the fuzzifier as the dimension grows, to 1.15 here, and
# copes with this much noise; selecting features is what helps when the
# fuzzifier is fixed, or when noise dominates further.)
everything = make_pipeline(StandardScaler(), FuzzyCMeans(3, m=2.0, random_state=0))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    accuracy_all = cluster_accuracy(wine.target, everything.fit_predict(X))
for warning in caught:
    print(warning.message)
print(f"cluster accuracy on all features: {accuracy_all:.3f}")

# %%
# Selecting features by the silhouette of their clustering
# --------------------------------------------------------
# Each chromosome is a subset of the 26 columns. The clusters of a
# ``FuzzyCMeans(3, m=2.0)`` fit on those columns are measured by their
# silhouette on all 26 columns (``silhouette_features="all"``, the default),
# so a subset scores well only if it partitions the whole data well, not
# because a column or two split into tight but meaningless groups. A subset
# on which the clustering degenerates, as all 26 columns do, scores the
# worst silhouette, -1.
#
# A noise column that the clustering shrugs off changes that silhouette
# little, so the fittest subset may keep some. The search therefore looks
# for the trade-off between fitness and size (NSGA-II,
# ``objectives=("fitness", "n_features")``) and keeps the smallest subset
# within 0.005 of the best silhouette found. ``set_output`` keeps the column
# names, so the selected features can be read off by name.
selector = GAFeatureSelector(
    FuzzyCMeans(3, m=2.0),
    population_size=30,
    n_generations=15,
    objectives=("fitness", "n_features"),
    fitness_tolerance=0.005,
    random_state=0,
)
pipeline = make_pipeline(
    StandardScaler(), selector, FuzzyCMeans(3, m=2.0, random_state=0)
).set_output(transform="pandas")
labels = pipeline.fit_predict(X)
selected = pipeline[:-1].get_feature_names_out()
n_noise = sum(name.startswith("noise_") for name in selected)
print(f"selected {len(selected)} features, {n_noise} of them noise:")
print(", ".join(selected))
accuracy_selected = cluster_accuracy(wine.target, labels)
print(f"cluster accuracy on the selected features: {accuracy_selected:.3f}")

# %%
# Quality against size
# --------------------
# ``pareto_front_`` holds the subsets no other evaluated subset beats in
# both silhouette and size. The silhouette climbs over the first few
# features and then barely moves: further columns, noise among them, add
# almost nothing to the partition. The history shows how the search began:
# its first subsets, about 21 of the 26 columns, all collapse with
# ``m = 2`` and score -1, and preferring the smaller of equally fit subsets
# is what leads it to columns that can be clustered.
front = pd.DataFrame(
    {key: selector.pareto_front_[key] for key in ("n_features", "fitness")}
)
print(front)
history = pd.DataFrame(selector.history_)
print(history[["generation", "best_score", "n_evaluations"]])
ax = plot_pareto_front(selector)
ax.set_title("Silhouette on all columns against the number of features")
plt.show()
