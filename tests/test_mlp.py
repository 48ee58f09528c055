import pickle
import threading

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from skorch.callbacks import Callback
from skorch.dataset import Dataset

from fuzzyprune import PrunedMLPClassifier, PruningCallback
from fuzzyprune._mlp import ArrayBatches


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


def global_random_states():
    return torch.get_rng_state(), np.random.get_state()[1].copy()


@pytest.mark.parametrize("random_state", [3, None])
def test_fit_leaves_global_random_states_alone(random_state):
    X, y = small_data()
    torch.manual_seed(123)
    np.random.seed(123)
    before = global_random_states()
    PrunedMLPClassifier(
        max_epochs=2, validation_fraction=0.25, random_state=random_state
    ).fit(X, y)
    after = global_random_states()
    assert torch.equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])


def test_random_state_makes_fits_identical():
    X, y = small_data()
    first = PrunedMLPClassifier(max_epochs=4, random_state=3).fit(X, y)
    torch.manual_seed(7)  # the global generator plays no part
    second = PrunedMLPClassifier(max_epochs=4, random_state=3).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    other = PrunedMLPClassifier(max_epochs=4, random_state=4).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_concurrent_fits_in_threads_equal_a_serial_fit():
    X, y = small_data(n_samples=200)
    params = {
        "hidden_size": 16,
        "amount": 0.3,
        "max_epochs": 4,
        "batch_size": 50,
        "random_state": 0,
    }
    serial = PrunedMLPClassifier(**params).fit(X, y).net_.module_.state_dict()
    for _ in range(3):
        barrier = threading.Barrier(2)
        fitted = [None, None]

        def fit(index, barrier=barrier, fitted=fitted):
            clf = PrunedMLPClassifier(**params)
            barrier.wait()
            fitted[index] = clf.fit(X, y).net_.module_.state_dict()

        threads = [threading.Thread(target=fit, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for state in fitted:
            assert list(state) == list(serial)
            for name, tensor in state.items():
                torch.testing.assert_close(tensor, serial[name], rtol=0, atol=0)


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
    # The refitted network is the one the best parameters describe.
    hidden = search.best_estimator_.net_.module_.hidden
    assert hidden.out_features == search.best_params_["hidden_size"]
    best_amount = search.best_params_["amount"]
    sparsity = search.best_estimator_.net_.history[-1, "sparsity"]
    assert sparsity == pytest.approx(best_amount, abs=0.01)


class NotACallback:
    pass


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"hidden_size": 0}, ValueError, "'hidden_size' parameter"),
        ({"hidden_size": 2.5}, TypeError, "'hidden_size' parameter"),
        ({"amount": 1.0}, ValueError, "'amount' parameter"),
        ({"amount": -0.1}, ValueError, "'amount' parameter"),
        ({"amount": "half"}, TypeError, "'amount' parameter"),
        ({"method": "magnitude"}, ValueError, "'method' parameter"),
        ({"schedule": "never"}, ValueError, "'schedule' parameter"),
        ({"start_epoch": 0}, ValueError, "'start_epoch' parameter"),
        ({"end_epoch": 0}, ValueError, "'end_epoch' parameter"),
        ({"start_epoch": 5, "end_epoch": 2}, ValueError, "end_epoch=2"),
        # Checked by the classifier itself, before it builds the net.
        ({"prune_on": "later"}, ValueError, "'prune_on' parameter"),
        ({"min_layer_density": 1.5}, ValueError, "'min_layer_density' parameter"),
        ({"max_epochs": 0}, ValueError, "'max_epochs' parameter"),
        ({"lr": 0.0}, ValueError, "'lr' parameter"),
        ({"lr": float("inf")}, ValueError, "'lr' parameter"),
        ({"lr": float("nan")}, ValueError, "'lr' parameter"),
        ({"batch_size": 0}, ValueError, "'batch_size' parameter"),
        ({"optimizer": "rmsprop"}, ValueError, "'optimizer' parameter"),
        ({"optimizer": int}, TypeError, "optimizer must be"),
        ({"validation_fraction": 1.0}, ValueError, "'validation_fraction'"),
        ({"callbacks": "EarlyStopping"}, TypeError, "'callbacks' parameter"),
        ({"callbacks": [3]}, TypeError, r"callbacks\[0\] must be"),
        ({"callbacks": [NotACallback]}, TypeError, r"callbacks\[0\] must be"),
        ({"callbacks": [("x", 3)]}, TypeError, r"callbacks\[0\] must be"),
        ({"callbacks": [(3, Callback())]}, TypeError, r"callbacks\[0\] must be"),
        ({"callbacks": [("pruning", Callback())]}, ValueError, "named 'pruning'"),
        ({"device": "banana"}, ValueError, "device='banana'"),
        ({"device": "cuda:99"}, ValueError, "device='cuda:99'"),
        ({"device": "meta"}, ValueError, "device='meta' cannot train"),
        ({"callbacks": [PruningCallback()]}, ValueError, "is a PruningCallback"),
        ({"callbacks": [("p", PruningCallback)]}, ValueError, "a PruningCallback"),
        ({"callbacks": [("a", "b", Callback())]}, TypeError, r"callbacks\[0\]"),
        ({"device": 3}, TypeError, "'device' parameter"),
        ({"warm_start": "yes"}, TypeError, "'warm_start' parameter"),
        ({"random_state": "seed"}, TypeError, "'random_state' parameter"),
        ({"verbose": -1}, ValueError, "'verbose' parameter"),
    ],
)
@pytest.mark.parametrize("fit_method", ["fit", "partial_fit"])
def test_bad_parameters_raise_before_training(params, error, message, fit_method):
    X, y = small_data()
    clf = PrunedMLPClassifier(**params)
    with pytest.raises(error, match=message):
        getattr(clf, fit_method)(
            X, y, **({"classes": [0, 1, 2]} if fit_method == "partial_fit" else {})
        )
    if "end_epoch=2" not in message:
        assert not hasattr(clf, "net_")  # refused before anything was built


def test_compact_checks_sparse():
    X, y = small_data()
    clf = PrunedMLPClassifier(max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="sparse must be a bool"):
        clf.compact(sparse="yes")
    assert not hasattr(clf, "compression_")


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
    # Training resumes after unpickling as it would have without.
    fitted[0.6].partial_fit(X, y)
    restored.partial_fit(X, y)
    np.testing.assert_array_equal(
        restored.predict_proba(X), fitted[0.6].predict_proba(X)
    )


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
    # Training on would prune the smaller network again against amount, so
    # it is refused, the network unchanged; a fresh fit trains.
    state = {name: t.clone() for name, t in clf.net_.module_.state_dict().items()}
    for train in (clf.partial_fit, clf.set_params(warm_start=True).fit):
        with pytest.raises(ValueError, match="removed hidden units"):
            train(X, y)
    for name, tensor in clf.net_.module_.state_dict().items():
        assert torch.equal(tensor, state[name]), name
    clf.set_params(warm_start=False).fit(X, y)
    assert clf.net_.module_.hidden.out_features == 20


def test_network_that_compact_left_whole_trains_on():
    # Unstructured pruning kills no unit here: compact() changes nothing that
    # the pruning counts, so training continues the schedule.
    X, y = small_data(n_features=40)
    clf = PrunedMLPClassifier(amount=0.1, max_epochs=4, random_state=0).fit(X, y)
    clf.compact()
    assert clf.compression_["hidden_units"] == {"hidden": (20, 20)}
    clf.partial_fit(X, y)
    assert clf.net_.module_.hidden.weight.grad.shape == (20, 40)


def test_compact_after_csr_storage_is_refused_and_changes_nothing():
    X, y = small_data(n_features=40)
    clf = PrunedMLPClassifier(amount=0.9, max_epochs=4, random_state=0).fit(X, y)
    clf.compact(sparse=True)
    report = dict(clf.compression_)
    for sparse in (False, True, "auto"):
        with pytest.raises(ValueError, match="already has layers stored as CSR"):
            clf.compact(sparse=sparse)
    assert clf.compression_ == report
    clf.predict(X)


def test_compact_sparse_after_unstructured_pruning():
    X, y = small_data(n_features=40)
    clf = PrunedMLPClassifier(
        amount=0.75, min_layer_density=0.2, max_epochs=8, random_state=0
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
    batches = clf.net_.history[-1, "batches"]
    assert sum(batch.get("valid_batch_size", 0) for batch in batches) == 60
    assert sum(batch.get("train_batch_size", 0) for batch in batches) == 180


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


def test_warm_start_runs_a_new_gradual_ramp_to_the_raised_amount():
    X, y = small_data(n_features=12)  # 12 * 6 + 6 * 3 = 90 weights
    clf = PrunedMLPClassifier(amount=0.3, max_epochs=8, random_state=0).fit(X, y)
    assert clf.net_.history[-1, "sparsity"] == pytest.approx(0.3, abs=1 / 90)
    clf.set_params(warm_start=True, amount=0.8).fit(X, y)
    # Epochs 9-10 wait, 11-14 ramp from 0.3 to 0.8, 15-16 fine-tune: no
    # jump to 0.8 at the first epoch of the continued training.
    ramp = [0.3 + 0.5 * (1 - (1 - p) ** 3) for p in (0.25, 0.5, 0.75, 1.0)]
    np.testing.assert_allclose(
        clf.net_.history[8:, "sparsity"], [0.3, 0.3, *ramp, 0.8, 0.8], atol=1 / 90
    )


def test_partial_fit_epochs_prune_as_one_fit():
    X, y = small_data()
    whole = PrunedMLPClassifier(amount=0.6, max_epochs=6, random_state=0).fit(X, y)
    split = PrunedMLPClassifier(amount=0.6, max_epochs=6, random_state=0)
    for _ in range(6):
        split.partial_fit(X, y, classes=[0, 1, 2])  # no warning: warnings are errors
    np.testing.assert_allclose(
        split.net_.history[:, "sparsity"], whole.net_.history[:, "sparsity"]
    )
    # A changed amount starts a new schedule at the next call.
    split.set_params(amount=0.8, schedule="once", start_epoch=1).partial_fit(X, y)
    assert split.net_.history[-1, "sparsity"] == pytest.approx(0.8, abs=1 / 90)


def test_early_stopping_below_amount_warns():
    from skorch.callbacks import EarlyStopping

    X, y = small_data()
    # No epoch improves on the first by 100 %: training stops after 5.
    stop = EarlyStopping(
        monitor="train_loss", patience=4, threshold=1.0, sink=lambda _: None
    )
    clf = PrunedMLPClassifier(
        amount=0.9, max_epochs=12, callbacks=[stop], random_state=0
    )
    with pytest.warns(UserWarning, match="stopped after 5 of its 12 epochs") as record:
        clf.fit(X, y)
    reached = clf.net_.history[-1, "sparsity"]
    assert 0 < reached < 0.9
    assert f"{reached:.4g} of the weights pruned, below the 0.9" in str(
        record[0].message
    )


def test_denormals_stay_flushed_until_the_last_concurrent_training_ends():
    from fuzzyprune._mlp import _denormals_flushed

    first, second = _denormals_flushed(), _denormals_flushed()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # one training ends, the other goes on
    assert not _denormal_survives()
    second.__exit__(None, None, None)
    assert _denormal_survives()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"start_epoch": 10}, "fraction 0 of the weights pruned, below the 0.8"),
        ({"end_epoch": 10}, r"below the 0.8 requested.*prunes until its epoch 10"),
    ],
)
def test_pruning_epochs_beyond_max_epochs_warn(params, message):
    X, y = small_data()
    clf = PrunedMLPClassifier(amount=0.8, max_epochs=4, random_state=0, **params)
    with pytest.warns(UserWarning, match=message):
        clf.fit(X, y)
    assert clf.net_.history[-1, "sparsity"] < 0.8


def test_warm_start_with_a_lower_amount_warns_and_keeps_the_sparsity():
    X, y = small_data()  # 90 weights
    clf = PrunedMLPClassifier(amount=0.6, max_epochs=4, random_state=0).fit(X, y)
    clf.set_params(warm_start=True, amount=0.3)
    with pytest.warns(
        UserWarning, match="amount=0.3 is below the fraction 0.6"
    ) as record:
        clf.fit(X, y)
    assert record[0].filename == __file__  # the caller's line
    assert clf.net_.history[-1, "sparsity"] == pytest.approx(0.6, abs=1 / 90)


def test_read_only_input_is_used_without_a_warning_or_a_view(tmp_path):
    X, y = small_data()
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    # torch's warning about read-only arrays would be an error here.
    clf = PrunedMLPClassifier(max_epochs=2, batch_size=64, random_state=0)
    clf.fit(mapped, y).partial_fit(mapped, y)
    reference = PrunedMLPClassifier(max_epochs=2, batch_size=64, random_state=0)
    reference.fit(X.astype(np.float32), y).partial_fit(X.astype(np.float32), y)
    np.testing.assert_array_equal(clf.predict_proba(mapped), reference.predict_proba(X))
    # Batches of a read-only array are copies: torch could write to a view.
    batches = ArrayBatches(Dataset(mapped, y), batch_size=64, shuffle=False)
    assert not any(np.shares_memory(Xb.numpy(), mapped) for Xb, _ in batches)


def test_partial_fit_refuses_other_classes_than_the_first():
    X, y = small_data()
    clf = PrunedMLPClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    weights = clf.net_.module_.hidden.weight.detach().clone()
    with pytest.raises(
        ValueError, match=r"classes=\[5, 6, 7\] differ from .*\[0, 1, 2\]"
    ):
        clf.partial_fit(X, y + 5, classes=[5, 6, 7])
    clf.partial_fit(X, y, classes=[2, 1, 0])  # the same classes, in any order
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert not torch.equal(clf.net_.module_.hidden.weight, weights)


def with_text(X):
    frame = pd.DataFrame(X).add_prefix("f")
    frame["f0"] = "x"
    return frame


@pytest.mark.parametrize("method", ["fit", "partial_fit", "predict"])
@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda X: X.astype(complex), "X holds complex numbers"),
        (with_text, "X holds strings"),
    ],
)
def test_non_real_X_is_refused_in_one_line_naming_X(bad, message, method):
    X, y = small_data()
    clf = PrunedMLPClassifier(max_epochs=1, random_state=0)
    kwargs = {"classes": [0, 1, 2]} if method == "partial_fit" else {}
    if method == "predict":
        clf.fit(X, y)
    with pytest.raises(ValueError, match=message) as error:
        if method == "predict":
            clf.predict(bad(X))
        else:
            getattr(clf, method)(bad(X), y, **kwargs)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda y: y.astype(complex), "^y holds complex numbers"),
        (lambda y: y[:-1], "^y: Found input variables with inconsistent"),
        (lambda y: np.c_[y, y], "^y should be a 1d array"),
        (lambda y: np.where(y == 0, np.nan, y), "^Input y contains NaN"),
    ],
)
def test_bad_y_is_refused_in_one_line_naming_y(bad, message):
    X, y = small_data()
    with pytest.raises(ValueError, match=message) as error:
        PrunedMLPClassifier(max_epochs=1).fit(X, bad(y))
    assert "\n" not in str(error.value)


def test_rewind_parameters_are_searched_and_reach_the_pruning():
    X, y = small_data()
    search = GridSearchCV(
        PrunedMLPClassifier(amount=0.5, schedule="once", max_epochs=3, random_state=0),
        {"rewind": ["weights"], "rewind_epoch": [1, 2]},
        cv=2,
    ).fit(X, y)
    pruning = dict(search.best_estimator_.net_.callbacks_)["pruning"]
    assert pruning.rewind == "weights"
    assert pruning.rewind_epoch == search.best_params_["rewind_epoch"]
    assert pruning.rewind_state_ is None


def test_lottery_ticket_rewinds_the_classifier_to_its_initial_weights():
    from fuzzyprune._mlp import MLPModule

    X, y = small_data()
    clf = PrunedMLPClassifier(
        hidden_size=8,
        amount=0.5,
        schedule="once",
        start_epoch=3,
        prune_on="epoch_end",
        rewind="weights",
        max_epochs=3,
        random_state=0,
    )
    # The ticket itself, by design not retrained: the warning says so.
    with pytest.warns(UserWarning, match="not retrained"):
        clf.fit(X, y)
    initial = MLPModule(12, 8, 3, seed=clf.net_.module__seed).state_dict()
    for name, tensor in clf.net_.module_.state_dict().items():
        kept = tensor != 0
        rewound = torch.where(kept, initial[name], torch.zeros(()))
        assert torch.equal(tensor, rewound), name
    assert clf.net_.history[-1, "sparsity"] == pytest.approx(0.5, abs=0.01)


def prunes_half_from_epoch_2(epoch):
    return 0.5 if epoch >= 2 else 0.0


def test_callable_schedule_is_cloned_pickled_and_followed():
    from sklearn.base import clone

    X, y = small_data()
    clf = PrunedMLPClassifier(
        schedule=prunes_half_from_epoch_2, max_epochs=3, random_state=0
    )
    assert clone(clf).get_params()["schedule"] is prunes_half_from_epoch_2
    clf.fit(X, y)
    assert clf.net_.history[:, "sparsity"] == pytest.approx([0, 0.5, 0.5], abs=0.01)
    copied = pickle.loads(pickle.dumps(clf))
    assert copied.schedule is prunes_half_from_epoch_2
    np.testing.assert_array_equal(copied.predict(X), clf.predict(X))


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"rewind": "initial"}, ValueError, "'rewind' parameter"),
        ({"rewind_epoch": -1}, ValueError, "'rewind_epoch' parameter"),
        ({"rewind_epoch": 1.5}, TypeError, "'rewind_epoch' parameter"),
        ({"schedule": 0.5}, TypeError, "'schedule' parameter"),
        ({"schedule": lambda epoch: 2.0}, ValueError, r"schedule\(1\) returned 2.0"),
        (
            {"rewind": "weights", "rewind_epoch": 2, "start_epoch": 2},
            ValueError,
            "rewind_epoch=2 must come before the first pruning epoch",
        ),
    ],
)
@pytest.mark.parametrize("fit_method", ["fit", "partial_fit"])
def test_bad_rewinds_and_schedules_raise_before_training(
    params, error, message, fit_method
):
    X, y = small_data()
    clf = PrunedMLPClassifier(**params)
    with pytest.raises(error, match=message):
        getattr(clf, fit_method)(
            X, y, **({"classes": [0, 1, 2]} if fit_method == "partial_fit" else {})
        )
    # Checked by the classifier before building the net, or by the callback
    # when training begins: either way the failed fit leaves no net behind.
    assert not hasattr(clf, "net_")


def test_partial_fit_cannot_rewind_past_its_rewind_point_but_fit_can():
    X, y = small_data()
    clf = PrunedMLPClassifier(
        amount=0.2, schedule="per_epoch", rewind="weights", random_state=0
    )
    clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="its rewind point"):
        clf.partial_fit(X, y)
    assert len(clf.net_.history) == 1
    # A warm-started fit starts a new schedule, rewinding to its own start.
    clf.set_params(warm_start=True, max_epochs=2).fit(X, y)
    assert clf.net_.history[:, "sparsity"] == pytest.approx(
        [0.2, 0.36, 0.488], abs=0.01
    )


# The callback's parameters that the classifier leaves at their defaults: a
# new parameter of the callback is either mapped or listed here.
CALLBACK_PARAMS_NOT_MAPPED = {"layers", "n_activation_samples"}


def test_pruning_parameters_map_onto_the_callbacks_with_its_checks_and_defaults():
    import inspect

    from fuzzyprune._mlp import _PRUNING_PARAMS

    classifier = inspect.signature(PrunedMLPClassifier).parameters
    callback = inspect.signature(PruningCallback).parameters
    assert set(_PRUNING_PARAMS) <= set(classifier)
    assert sorted(_PRUNING_PARAMS.values()) == sorted(
        set(callback) - CALLBACK_PARAMS_NOT_MAPPED
    )
    for name, callback_name in _PRUNING_PARAMS.items():
        constraints = PrunedMLPClassifier._parameter_constraints[name]
        assert constraints is PruningCallback._parameter_constraints[callback_name]
        assert classifier[name].default == callback[callback_name].default, name


def documented_parameters(cls):
    """Map each parameter in the docstring of ``cls`` to its type and default."""
    import ast

    try:
        from numpydoc.docscrape import NumpyDocString
    except ImportError:  # numpydoc needs Sphinx; recent scikit-learn vendors it
        docscrape = pytest.importorskip("sklearn.externals._numpydoc.docscrape")
        NumpyDocString = docscrape.NumpyDocString

    documented = {}
    for parameter in NumpyDocString(cls.__doc__)["Parameters"]:
        type_ = " ".join(parameter.type.split())
        default = ast.literal_eval(type_.rpartition("default=")[2])
        for name in parameter.name.split(", "):
            documented[name] = type_, default
    return documented


def test_pruning_parameters_are_documented_with_the_callbacks_types_and_defaults():
    import inspect

    from fuzzyprune._mlp import _PRUNING_PARAMS

    classifier = documented_parameters(PrunedMLPClassifier)
    callback = documented_parameters(PruningCallback)
    classifier_signature = inspect.signature(PrunedMLPClassifier).parameters
    callback_signature = inspect.signature(PruningCallback).parameters
    assert set(classifier) == set(classifier_signature)
    assert set(callback) == set(callback_signature)
    for name, callback_name in _PRUNING_PARAMS.items():
        assert classifier[name] == callback[callback_name], name
        _, default = classifier[name]
        assert default == classifier_signature[name].default, name
        assert default == callback_signature[callback_name].default, name


def test_pruning_parameters_reach_the_callback_when_built_and_when_changed():
    from fuzzyprune._mlp import _PRUNING_PARAMS

    # Values of the callback's parameters, which have the classifier's names,
    # each unlike its default and its other value: one that does not reach
    # the callback, or reaches another parameter, shows.
    first = {
        "amount": 0.3,
        "method": "l1_structured",
        "schedule": "once",
        "start_epoch": 2,
        "end_epoch": 3,
        "prune_on": "epoch_end",
        "min_layer_density": 0.1,
        "rewind": "weights",
        "rewind_epoch": 1,
    }
    then = {
        "amount": 0.4,
        "method": "distinctiveness",
        "schedule": "per_epoch",
        "start_epoch": 3,
        "end_epoch": 4,
        "prune_on": "epoch_begin",
        "min_layer_density": 0.2,
        "rewind": None,
        "rewind_epoch": 2,
    }
    assert set(first) == set(then) == set(_PRUNING_PARAMS)

    def callback_params(clf):
        pruning = dict(clf.net_.callbacks_)["pruning"]
        return {name: getattr(pruning, name) for name in first}

    X, y = small_data(n_samples=30)
    clf = PrunedMLPClassifier(hidden_size=10, max_epochs=3, random_state=0)
    assert callback_params(clf.set_params(**first).fit(X, y)) == first
    clf.set_params(warm_start=True, max_epochs=4, **then).fit(X, y)
    assert callback_params(clf) == then
    # partial_fit takes changed parameters too; an amount above the sparsity
    # reached, since a lower one keeps it, and warns.
    again = {**first, "amount": 0.9}
    assert callback_params(clf.set_params(**again).partial_fit(X, y)) == again


def test_hidden_layers_of_one_layer_is_the_hidden_size_network():
    X, y = small_data()
    one = PrunedMLPClassifier(hidden_size=5, max_epochs=2, random_state=0).fit(X, y)
    same = PrunedMLPClassifier(hidden_layers=(5,), max_epochs=2, random_state=0)
    state = same.fit(X, y).net_.module_.state_dict()
    expected = one.net_.module_.state_dict()
    assert list(state) == [
        "hidden.weight",
        "hidden.bias",
        "output.weight",
        "output.bias",
    ]
    for name, tensor in expected.items():
        torch.testing.assert_close(state[name], tensor, rtol=0, atol=0)


@pytest.mark.parametrize("method", ["l1_structured", "distinctiveness"])
def test_hidden_layers_prunes_and_compacts_every_hidden_layer(method):
    X, y = small_data()
    clf = PrunedMLPClassifier(
        hidden_layers=(12, 8),
        method=method,
        schedule="once",
        start_epoch=1,
        max_epochs=2,
        random_state=0,
    ).fit(X, y)
    module = clf.net_.module_
    assert [name for name, _ in module.named_children()] == [
        "hidden",
        "hidden_2",
        "activation",
        "output",
    ]
    assert clf.net_.history[-1, "units_hidden"] == 6
    assert clf.net_.history[-1, "units_hidden_2"] == 4
    proba = clf.predict_proba(X)
    clf.compact()
    assert clf.compression_["hidden_units"] == {"hidden": (12, 6), "hidden_2": (8, 4)}
    assert module.hidden_2.weight.shape == (4, 6)
    assert module.output.weight.shape == (3, 4)
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"hidden_layers": (8, 0)}, ValueError, r"got \(8, 0\)"),
        ({"hidden_layers": ()}, ValueError, r"non-empty tuple of ints"),
        ({"hidden_layers": (8, 2.5)}, TypeError, r"got \(8, 2.5\)"),
        ({"hidden_layers": "8"}, TypeError, "'hidden_layers' parameter"),
        ({"hidden_layers": (8,), "hidden_size": 4}, ValueError, "are both set"),
    ],
)
def test_bad_hidden_layers_raise_before_training(params, error, message):
    X, y = small_data()
    clf = PrunedMLPClassifier(**params)
    with pytest.raises(error, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


@pytest.mark.parametrize("csr_faster", [True, False])
def test_compact_auto_stores_what_is_measured_faster(monkeypatch, csr_faster):
    from fuzzyprune._pruning import SparseLinear

    X, y = small_data(n_features=40)
    clf = PrunedMLPClassifier(
        amount=0.75, min_layer_density=0.2, batch_size=30, max_epochs=4, random_state=0
    ).fit(X, y)
    proba = clf.predict_proba(X)
    timed_rows = []

    def seconds(layer, batch):
        timed_rows.append(len(batch))
        return 1.0 if isinstance(layer, SparseLinear) == csr_faster else 2.0

    monkeypatch.setattr("fuzzyprune._pruning._run_seconds", seconds)
    clf.compact(sparse="auto")
    module = clf.net_.module_
    layout = torch.sparse_csr if csr_faster else torch.strided
    assert [module.hidden.weight.layout, module.output.weight.layout] == [layout] * 2
    # Timed on batches the size of predict's.
    assert set(timed_rows) == {30} and clf.compression_["timing_rows"] == 30
    assert list(clf.compression_["timings"]) == ["hidden", "output"]
    assert clf.compression_["sparse"] is csr_faster
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-5, atol=1e-6)
    # Both refuse to train on, the dense one only for the unit it lost.
    assert clf.compression_["hidden_units"]["hidden"] == (20, 16)
    message = "stored as CSR" if csr_faster else "removed hidden units"
    with pytest.raises(ValueError, match=message):
        clf.partial_fit(X, y)


@pytest.mark.parametrize("sparse", ["fast", "Auto", 1, None])
def test_compact_refuses_other_sparse_values(sparse):
    X, y = small_data()
    clf = PrunedMLPClassifier(max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"sparse must be a bool or 'auto'; got"):
        clf.compact(sparse=sparse)
    assert not hasattr(clf, "compression_")


@pytest.mark.parametrize(
    "params", [{"amount": 5.0}, {"schedule": "nope"}, {"rewind": "bogus"}]
)
def test_partial_fit_checks_parameters_set_since_the_last_call(params):
    # A bad value is refused before it trains, and a good one set after it
    # trains on: the classifier is not stuck on the bad value.
    X, y = small_data()
    clf = PrunedMLPClassifier(hidden_size=8, max_epochs=2, random_state=0).fit(X, y)
    n_epochs = len(clf.net_.history)
    with pytest.raises(ValueError, match=list(params)[0]):
        clf.set_params(**params).partial_fit(X, y)
    assert len(clf.net_.history) == n_epochs
    clf.set_params(amount=0.5, schedule="gradual", rewind=None).partial_fit(X, y)
    assert len(clf.net_.history) == n_epochs + 1


def test_warning_of_pruning_past_training_names_rewind_epoch():
    # rewind_epoch=6 puts the default start of pruning at epoch 7, past the
    # 4 epochs of training: the warning names what to lower.
    X, y = small_data()
    clf = PrunedMLPClassifier(
        hidden_size=4, max_epochs=4, rewind="weights", rewind_epoch=6, random_state=0
    )
    with pytest.warns(
        UserWarning,
        match="rewind_epoch=6.*lower start_epoch, end_epoch or rewind_epoch",
    ):
        clf.fit(X, y)
