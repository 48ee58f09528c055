"""
================================================
Pruning schedules compared, and choosing amount
================================================

:class:`~fuzzyprune.PrunedMLPClassifier` prunes its network while it trains.
The ``schedule`` decides when: ``"per_epoch"`` removes ``amount`` of the
remaining weights at every epoch, as the original study did, so the sparsity
compounds; ``"gradual"`` ramps up to ``amount`` and then fine-tunes;
``"once"`` prunes everything at one epoch and fine-tunes after.

This example trains on the digits data with each schedule, draws the sparsity
reached at each epoch, then chooses ``amount`` by grid search, and finally
shows what pruning buys once the network is compacted.
"""

# %%
# Sparsity by epoch for each schedule
# -----------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from fuzzyprune import PrunedMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.3, random_state=0
)
schedules = {
    "per_epoch": PrunedMLPClassifier(amount=0.2, schedule="per_epoch"),
    "gradual": PrunedMLPClassifier(amount=0.8, schedule="gradual"),
    "once": PrunedMLPClassifier(amount=0.8, schedule="once"),
}
fig, ax = plt.subplots(figsize=(6, 4))
accuracies = {}
for name, clf in schedules.items():
    clf.set_params(max_epochs=16, random_state=0).fit(X_train, y_train)
    sparsity = clf.net_.history[:, "sparsity"]
    ax.plot(range(1, len(sparsity) + 1), sparsity, marker="o", label=name)
    accuracies[name] = clf.score(X_test, y_test)
    print(
        f"{name:>9}: final sparsity {sparsity[-1]:.3f}, test accuracy "
        f"{accuracies[name]:.3f}"
    )
ax.set(xlabel="epoch", ylabel="fraction of weights pruned", ylim=(0, 1))
ax.legend()
fig.tight_layout()

# %%
# ``per_epoch`` with ``amount=0.2`` ends at ``1 - 0.8 ** 16``, over 97 % of
# the weights: the amount is per epoch, not a target. ``gradual`` and
# ``once`` stop at the requested 80 % and spend the remaining epochs
# fine-tuning the pruned network.
#
# Choosing amount by grid search
# ------------------------------
# The pruning parameters are ordinary hyper-parameters of the classifier.
search = GridSearchCV(
    PrunedMLPClassifier(max_epochs=16, random_state=0),
    {"amount": [0.0, 0.5, 0.8, 0.95]},
    cv=3,
).fit(X_train, y_train)
scores = search.cv_results_["mean_test_score"]
for amount, score in zip(search.cv_results_["param_amount"], scores, strict=True):
    print(f"amount={amount}: cross-validated accuracy {score:.3f}")

# %%
# Half of the weights go at no cost on this data; beyond 80 % accuracy falls
# quickly.

# %%
# What pruning buys
# -----------------
# Zeros in a dense matrix cost as much as any other weight. Removing whole
# hidden units (``method="l1_structured"``) and calling ``compact()`` leaves a
# smaller dense network with the same predictions.
structured = PrunedMLPClassifier(
    hidden_size=256, amount=0.75, method="l1_structured", max_epochs=16, random_state=0
).fit(X_train, y_train)
before = structured.predict_proba(X_test)
structured.compact()
print(
    f"hidden units {structured.compression_['hidden_units']['hidden']}, "
    f"bytes {structured.compression_['bytes_before']} -> "
    f"{structured.compression_['bytes_after']}, predictions unchanged: "
    f"{np.allclose(before, structured.predict_proba(X_test), atol=1e-6)}"
)
print(f"test accuracy {structured.score(X_test, y_test):.3f}")
