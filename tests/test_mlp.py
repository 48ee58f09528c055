import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from skorch.callbacks import Callback

from fuzzyprune import PrunedMLPClassifier, PruningCallback


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.3, random_state=0)


def small_data(n_samples=240, n_features=12, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=n_samples)
    X = rng.normal(scale=3, size=(3, n_features))[y] + rng.normal(
        size=(n_samples, n_features)
    )
    return X, y


def test_pruning_half_costs_little_accuracy_on_digits(digits):
    X_train, X_test, y_train, y_test = digits
    scores = {}
    for amount in (0.0, 0.5):
        clf = PrunedMLPClassifier(amount=amount, max_epochs=20, random_state=0)
        scores[amount] = clf.fit(X_train, y_train).score(X_test, y_test)
    assert scores[0.0] > 0.93
    assert scores[0.5] >= scores[0.0] - 0.03
    assert clf.net_.history[-1, "sparsity"] == pytest.approx(0.5, abs=1e-3)


def test_paper_architecture_and_defaults():
    X, y = small_data(n_features=12)
    clf = PrunedMLPClassifier(max_epochs=1, random_state=0).fit(X, y)
    module = clf.net_.module_
    assert module.hidden.weight.shape == (6, 12)  # half the input features
    assert module.output.weight.shape == (3, 6)
    assert isinstance(clf.net_.optimizer_, torch.optim.Adam)
    assert clf.net_.lr == 0.01 and clf.net_.batch_size == 100


def test_labels_of_any_value():
    X, y = small_data()
    labels = np.array([7, 1362, 40])[y]  # vehicle ids with gaps
    clf = PrunedMLPClassifier(max_epochs=10, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, [7, 40, 1362])
    assert set(clf.predict(X)) <= {7, 40, 1362}
    assert clf.score(X, labels) > 0.9
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    text = np.array(["sedan", "suv", "van"])[y]
    clf.fit(X, text)
    np.testing.assert_array_equal(clf.classes_, ["sedan", "suv", "van"])


def test_random_state_makes_fits_identical_and_leaves_torch_alone():
    X, y = small_data()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = PrunedMLPClassifier(max_epochs=4, random_state=3).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)
    second = PrunedMLPClassifier(max_epochs=4, random_state=3).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    other = PrunedMLPClassifier(max_epochs=4, random_state=4).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_pandas_input_and_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = small_data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = PrunedMLPClassifier(max_epochs=2, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    assert clf.n_features_in_ == 12
    plain = PrunedMLPClassifier(max_epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(frame), plain.predict_proba(X))


def test_grid_search_over_amount_and_hidden_size():
    X, y = small_data()
    search = GridSearchCV(
        PrunedMLPClassifier(max_epochs=4, random_state=0),
        {"amount": [0.2, 0.5], "hidden_size": [4, 8]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.net_.module_.hidden.out_features in (4, 8)
    best_amount = search.best_params_["amount"]
    sparsity = search.best_estimator_.net_.history[-1, "sparsity"]
    assert sparsity == pytest.approx(best_amount, abs=0.01)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"amount": 1.0}, "amount"),
        ({"method": "magnitude"}, "method"),
        ({"schedule": "never"}, "schedule"),
        # Checked by the classifier itself, before it builds the net.
        ({"prune_on": "later"}, "'prune_on' parameter of PrunedMLPClassifier"),
        ({"hidden_size": 0}, "hidden_size"),
    ],
)
def test_bad_parameters_raise_at_fit(params, message):
    X, y = small_data()
    clf = PrunedMLPClassifier(**params)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


def test_one_class_raises():
    X, _ = small_data()
    with pytest.raises(ValueError, match="at least 2 classes"):
        PrunedMLPClassifier().fit(X, np.zeros(len(X)))


def test_pickle_round_trip_and_size():
    X, y = small_data(n_features=40)
    sizes, fitted = {}, {}
    for amount in (0.0, 0.6):
        clf = PrunedMLPClassifier(
            amount=amount, schedule="per_epoch", max_epochs=5, random_state=0
        )
        fitted[amount] = clf.fit(X, y)
        sizes[amount] = len(pickle.dumps(clf))
    assert sizes[0.6] <= 1.1 * sizes[0.0]
    restored = pickle.loads(pickle.dumps(fitted[0.6]))
    np.testing.assert_array_equal(
        restored.predict_proba(X), fitted[0.6].predict_proba(X)
    )
    assert not hasattr(restored.net_.module_.hidden, "weight_orig")
    assert clone(fitted[0.6]).get_params() == fitted[0.6].get_params()


def test_compact_after_structured_pruning_gives_same_predictions():
    X, y = small_data(n_features=40)
    clf = PrunedMLPClassifier(
        amount=0.5, method="l1_structured", max_epochs=8, random_state=0
    ).fit(X, y)
    proba = clf.predict_proba(X)
    clf.compact()
    assert clf.net_.module_.hidden.out_features == 10
    assert clf.compression_["hidden_units"] == {"hidden": (20, 10)}
    assert clf.compression_["bytes_saved"] == 10 * (40 + 1 + 3) * 4
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-5, atol=1e-6)
    # Training can continue on the smaller network.
    clf.partial_fit(X, y)
    assert clf.net_.module_.hidden.weight.grad.shape == (10, 40)


def test_compact_sparse_after_unstructured_pruning():
    X, y = small_data(n_features=40)
    clf = PrunedMLPClassifier(
        amount=0.9, min_layer_density=0.2, max_epochs=8, random_state=0
    ).fit(X, y)
    proba = clf.predict_proba(X)
    clf.compact(sparse=True)
    assert clf.net_.module_.hidden.weight.layout == torch.sparse_csr
    assert clf.compression_["bytes_after"] < 0.5 * clf.compression_["bytes_before"]
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="sparse=True"):
        clf.partial_fit(X, y)


def test_partial_fit_and_warm_start_continue_training():
    X, y = small_data()
    clf = PrunedMLPClassifier(max_epochs=3, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    clf.partial_fit(X, y)
    assert len(clf.net_.history) == 2
    clf.set_params(warm_start=True).fit(X, y)
    assert len(clf.net_.history) == 5
    clf.set_params(warm_start=False).fit(X, y)
    assert len(clf.net_.history) == 3


def test_extra_callbacks_are_copied():
    from skorch.callbacks import EpochScoring

    X, y = small_data()
    scoring = EpochScoring("accuracy", on_train=True, name="train_acc")
    clf = PrunedMLPClassifier(max_epochs=2, callbacks=[scoring], random_state=0)
    clf.fit(X, y)
    assert "train_acc" in clf.net_.history[-1]
    assert not hasattr(scoring, "best_score_")  # the parameter is not touched


def test_validation_fraction_records_validation_scores():
    X, y = small_data()
    clf = PrunedMLPClassifier(max_epochs=2, validation_fraction=0.25, random_state=0)
    clf.fit(X, y)
    assert {"valid_loss", "valid_acc"} <= set(clf.net_.history[-1])


@pytest.mark.parametrize("prune_on", ["epoch_begin", "epoch_end"])
def test_same_pruning_as_callback_on_a_plain_net(prune_on):
    X, y = small_data()
    clf = PrunedMLPClassifier(
        amount=0.3,
        schedule="once",
        start_epoch=2,
        prune_on=prune_on,
        max_epochs=3,
        random_state=0,
    ).fit(X, y)
    callback = dict(clf.net_.callbacks_)["pruning"]
    assert isinstance(callback, PruningCallback)
    assert callback.get_params()["start_epoch"] == 2
    assert callback.get_params()["prune_on"] == prune_on
    assert clf.net_.history[:, "sparsity"] == pytest.approx([0, 0.3, 0.3], abs=1e-2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_cuda():
    X, y = small_data()
    clf = PrunedMLPClassifier(max_epochs=3, device="cuda", random_state=0).fit(X, y)
    assert clf.net_.module_.hidden.weight.is_cuda
    assert clf.score(X, y) > 0.9
    again = PrunedMLPClassifier(max_epochs=3, device="cuda", random_state=0).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("validation_fraction", [None, 0.25])
def test_distinctiveness_through_the_classifier(validation_fraction):
    X, y = small_data(n_features=40)
    clf = PrunedMLPClassifier(
        amount=0.5,
        method="distinctiveness",
        max_epochs=8,
        validation_fraction=validation_fraction,
        random_state=0,
    ).fit(X, y)
    assert clf.net_.history[:, "units_hidden"][-1] == 10
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X)
    clf.compact()
    assert clf.net_.module_.hidden.out_features == 10
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-5, atol=1e-6)


def test_adam_falls_back_where_torch_has_no_fused_kernel(monkeypatch):
    from fuzzyprune._mlp import fast_adam

    plain_adam = torch.optim.Adam

    def adam_without_fused(params, fused=None, **kwargs):
        if fused:
            raise RuntimeError("fused=True requires params on a supported device")
        return plain_adam(params, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", adam_without_fused)
    parameters = (p for p in [torch.nn.Parameter(torch.zeros(3))])  # one pass only
    optimizer = fast_adam(parameters, lr=0.1)
    assert isinstance(optimizer, plain_adam)
    assert not optimizer.defaults["fused"]
    assert len(optimizer.param_groups[0]["params"]) == 1


def test_warm_start_takes_changed_parameters():
    X, y = small_data()
    clf = PrunedMLPClassifier(
        amount=0.3, schedule="once", start_epoch=1, max_epochs=2, random_state=0
    ).fit(X, y)
    optimizer = clf.net_.optimizer_
    clf.set_params(warm_start=True, amount=0.6, lr=0.001, max_epochs=1).fit(X, y)
    assert len(clf.net_.history) == 3
    assert clf.net_.history[-1, "sparsity"] == pytest.approx(0.6, abs=1e-2)
    assert clf.net_.optimizer_ is optimizer  # Adam's moments carry over
    assert optimizer.param_groups[0]["lr"] == 0.001
    clf.partial_fit(X, y)
    assert len(clf.net_.history) == 4


class TrainedWeights(Callback):
    """Keep the weights after each epoch's last optimizer step."""

    def on_train_begin(self, net, **kwargs):
        # Continued training re-initializes the callbacks: keep what was kept.
        self.weights_ = getattr(self, "weights_", {})

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            module = net.module_
            self.weights_[len(net.history)] = torch.cat(
                [module.hidden.weight.ravel(), module.output.weight.ravel()]
            ).detach()


def test_prune_on_epoch_end_prunes_the_trained_weights():
    X, y = small_data(n_features=12)  # 12 * 6 + 6 * 3 = 90 weights
    clf = PrunedMLPClassifier(
        amount=0.3,
        schedule="per_epoch",
        prune_on="epoch_end",
        max_epochs=1,
        callbacks=[("trained", TrainedWeights())],
        random_state=0,
    ).fit(X, y)
    trained = dict(clf.net_.callbacks_)["trained"].weights_[1].clone()
    assert not torch.any(trained == 0)
    # The 27 smallest trained weights are zeroed, the others kept as trained.
    trained[torch.argsort(trained.abs())[:27]] = 0
    module = clf.net_.module_
    fitted = torch.cat([module.hidden.weight.ravel(), module.output.weight.ravel()])
    torch.testing.assert_close(fitted.detach(), trained, rtol=0, atol=0)
    assert clf.net_.history[-1, "sparsity"] == pytest.approx(0.3)


def test_prune_on_changes_with_warm_start_and_partial_fit():
    X, y = small_data(n_features=12)
    clf = PrunedMLPClassifier(
        amount=0.5,
        schedule="per_epoch",
        max_epochs=1,
        callbacks=[("trained", TrainedWeights())],
        random_state=0,
    ).fit(X, y)
    clf.set_params(warm_start=True, prune_on="epoch_end").fit(X, y)
    clf.partial_fit(X, y)
    assert dict(clf.net_.callbacks_)["pruning"].prune_on == "epoch_end"
    sparsity = clf.net_.history[:, "sparsity"]
    assert sparsity == pytest.approx([0.5, 0.75, 0.875], abs=1 / 90)
    # Epoch 1 trained after its step, epochs 2 and 3 before theirs.
    trained = dict(clf.net_.callbacks_)["trained"].weights_
    zeros = [float((trained[epoch] == 0).float().mean()) for epoch in (1, 2, 3)]
    assert zeros == pytest.approx([0.5, 0.5, 0.75], abs=1 / 90)


def _denormal_survives():
    return (torch.tensor([1e-39]) * 1.0).item() != 0


class DenormalRecorder(Callback):
    def on_epoch_begin(self, net, **kwargs):
        self.flushed_ = not _denormal_survives()


def test_training_flushes_denormals_and_restores_the_default(digits):
    X, y = digits[0][:200], digits[2][:200]
    recorder = DenormalRecorder()
    clf = PrunedMLPClassifier(
        hidden_size=8, max_epochs=1, callbacks=[("denormals", recorder)]
    ).fit(X, y)
    flushed = [cb.flushed_ for name, cb in clf.net_.callbacks_ if name == "denormals"]
    assert flushed == [True]
    assert _denormal_survives()
