"""
============================================================
Genetic feature selection for fuzzy clustering in a pipeline
============================================================

Clustering suffers from features that carry no structure: they add the same
noise to every distance and blur the clusters. :class:`~fuzzyprune.GAFeatureSelector`
searches feature subsets with a genetic algorithm and keeps the subset whose
clustering has the best silhouette, without looking at any labels.

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
from fuzzyprune.plotting import plot_ga_history

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
# Each chromosome is a subset of the 26 columns. Its fitness is the silhouette
# of a ``FuzzyCMeans(3, m=2.0)`` clustering of those columns; the population evolves
# by tournament selection, uniform crossover and per-gene mutation, and the
# best subset found is passed on to the final clusterer. ``set_output`` keeps
# the column names, so the selected features can be read off by name.
#
# A subset on which the clustering degenerates, as all 26 columns do, scores
# the worst silhouette, -1. The silhouette rewards compact, well separated
# clusters, so the search
# settles on a few measurements that separate the cultivars sharply rather
# than on all thirteen, and leaves the noise out.
selector = GAFeatureSelector(
    FuzzyCMeans(3, m=2.0),
    population_size=30,
    n_generations=15,
    n_gen_no_change=5,
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
# The search, generation by generation
# ------------------------------------
# ``history_`` records the best fitness so far, the population's mean and
# spread, and how many subsets were new: a subset seen before is never
# evaluated again.
history = pd.DataFrame(pipeline[1].history_)
print(history[["generation", "best_score", "mean_score", "n_evaluations"]])
ax = plot_ga_history(pipeline[1])
ax.set_title("Silhouette of the best and the average subset")
plt.show()
