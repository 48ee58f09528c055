import copy
import io
import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch import nn
from torch.nn import functional as F

from fuzzyprune import PruningCallback, compact_module
from fuzzyprune._pruning import (
    SparseLinear,
    _PrunableStructure,
    prune_global_l1,
    pruning_target,
)


def blobs(n_samples=300, n_features=10, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(n_classes, size=n_samples)
    centers = rng.normal(scale=3, size=(n_classes, n_features))
    X = centers[y] + rng.normal(size=(n_samples, n_features))
    return X.astype(np.float32), y.astype(np.int64)


def mlp(n_features=10, hidden=24, n_classes=3):
    return nn.Sequential(
        nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
    )


def make_net(callback, max_epochs=6, module=None, more_callbacks=(), **kwargs):
    torch.manual_seed(0)
    params = {
        "criterion": nn.CrossEntropyLoss,
        "optimizer": torch.optim.Adam,
        "lr": 0.01,
        "batch_size": 50,
        "train_split": None,
        "verbose": 0,
        **kwargs,
    }
    return NeuralNetClassifier(
        module if module is not None else mlp(),
        max_epochs=max_epochs,
        callbacks=[("pruning", callback), *more_callbacks],
        **params,
    )


def weight_sparsity(module):
    weights = [
        layer.weight for layer in module.modules() if isinstance(layer, nn.Linear)
    ]
    zeros = sum(int((weight == 0).sum()) for weight in weights)
    return zeros / sum(weight.numel() for weight in weights)


N_WEIGHTS = 10 * 24 + 24 * 3


def linear_weights(module):
    return torch.cat(
        [
            layer.weight.detach().ravel()
            for layer in module.modules()
            if isinstance(layer, nn.Linear)
        ]
    )


class WeightsRecorder(Callback):
    """Keep the Linear weights as training begins, then for each epoch.

    ``trained_[k]``: after epoch k's last optimizer step; ``ended_[k]``: at
    its end, after its pruning step. Listed after the pruning callback, it
    sees the weights that callback left.
    """

    def on_train_begin(self, net, **kwargs):
        self.initial_ = linear_weights(net.module_).clone()
        self.trained_ = {}
        self.ended_ = {}

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.trained_[len(net.history)] = linear_weights(net.module_).clone()

    def on_epoch_end(self, net, **kwargs):
        self.ended_[len(net.history)] = linear_weights(net.module_).clone()


def zero_smallest(weights, n_zeros):
    """``weights`` with its ``n_zeros`` entries of smallest magnitude zeroed."""
    pruned = weights.clone()
    pruned[torch.argsort(weights.abs())[:n_zeros]] = 0
    return pruned


@pytest.mark.parametrize("prune_on", ["epoch_begin", "epoch_end"])
@pytest.mark.parametrize("amount", [0.2, 0.5])
@pytest.mark.parametrize("epochs", [1, 4])
def test_per_epoch_schedule_reaches_compound_sparsity(amount, epochs, prune_on):
    X, y = blobs()
    callback = PruningCallback(amount, schedule="per_epoch", prune_on=prune_on)
    net = make_net(callback, max_epochs=epochs)
    net.fit(X, y)
    expected = 1 - (1 - amount) ** epochs
    assert weight_sparsity(net.module_) == pytest.approx(expected, abs=1 / N_WEIGHTS)
    recorded = net.history[:, "sparsity"]
    promised = [1 - (1 - amount) ** k for k in range(1, epochs + 1)]
    np.testing.assert_allclose(recorded, promised, atol=1 / N_WEIGHTS)


@pytest.mark.parametrize("prune_on", ["epoch_begin", "epoch_end"])
@pytest.mark.parametrize("schedule", ["gradual", "once"])
@pytest.mark.parametrize("method", ["l1_unstructured", "l1_structured"])
def test_final_sparsity_is_amount(schedule, method, prune_on):
    X, y = blobs()
    callback = PruningCallback(0.5, method=method, schedule=schedule, prune_on=prune_on)
    net = make_net(callback, max_epochs=8).fit(X, y)
    if method == "l1_unstructured":
        assert weight_sparsity(net.module_) == pytest.approx(0.5, abs=1 / N_WEIGHTS)
    else:
        assert net.history[-1, "units_0"] == 12
        assert int((net.module_[2].weight != 0).any(dim=0).sum()) == 12


def test_gradual_schedule_follows_cubic_ramp():
    # Pruning epochs 3 to 6: p = 1/4, 2/4, 3/4, 1.
    targets = [pruning_target("gradual", 0.8, epoch, 3, 6) for epoch in range(1, 9)]
    ramp = [0.8 * (1 - (1 - p) ** 3) for p in (0.25, 0.5, 0.75, 1.0)]
    np.testing.assert_allclose(targets, [0, 0, *ramp, 0.8, 0.8])
    assert pruning_target("once", 0.3, 4, 5, None) == 0
    assert pruning_target("once", 0.3, 5, 5, None) == 0.3
    assert pruning_target("per_epoch", 0.5, 7, 2, 4) == pytest.approx(0.875)


def test_default_epochs_leave_time_to_train_and_fine_tune():
    X, y = blobs()
    net = make_net(PruningCallback(0.6), max_epochs=8).fit(X, y)
    sparsity = net.history[:, "sparsity"]
    # Epochs 1-2 unpruned, 3-6 ramp, 7-8 fine-tune.
    assert sparsity[:2] == [0, 0]
    assert np.all(np.diff(sparsity[2:6]) > 0)
    assert sparsity[5:] == pytest.approx([0.6] * 3, abs=1 / N_WEIGHTS)


def test_prune_on_epoch_begin_is_the_default_and_prunes_before_training():
    X, y = blobs()
    callback = PruningCallback(0.3, schedule="per_epoch")
    assert callback.prune_on == "epoch_begin"
    recorder = WeightsRecorder()
    net = make_net(callback, max_epochs=2, more_callbacks=[("recorder", recorder)])
    net.fit(X, y)
    # Epoch 1 pruned the initial weights, then trained the pruned net.
    n_pruned = round(0.3 * N_WEIGHTS)
    pruned_initial = zero_smallest(recorder.initial_, n_pruned) == 0
    torch.testing.assert_close(recorder.trained_[1] == 0, pruned_initial)
    torch.testing.assert_close(recorder.ended_[1], recorder.trained_[1])
    assert net.history[:, "sparsity"] == pytest.approx([0.3, 0.51], abs=1 / N_WEIGHTS)


def test_prune_on_epoch_end_prunes_the_weights_the_epoch_trained():
    X, y = blobs()
    callback = PruningCallback(0.3, schedule="per_epoch", prune_on="epoch_end")
    recorder = WeightsRecorder()
    net = make_net(callback, max_epochs=2, more_callbacks=[("recorder", recorder)])
    net.fit(X, y)
    # Epoch 1 trained the whole net.
    assert not torch.any(recorder.trained_[1] == 0)
    for epoch in (1, 2):
        # Its step zeroed the smallest trained weights, and only those (the
        # zeros already there rank first).
        n_pruned = round((1 - 0.7**epoch) * N_WEIGHTS)
        expected = zero_smallest(recorder.trained_[epoch], n_pruned)
        torch.testing.assert_close(recorder.ended_[epoch], expected, rtol=0, atol=0)
        assert net.history[epoch - 1, "sparsity"] == pytest.approx(n_pruned / N_WEIGHTS)
    # Epoch 2 trained the net pruned at the end of epoch 1.
    torch.testing.assert_close(
        recorder.trained_[2] == 0, recorder.ended_[1] == 0, rtol=0, atol=0
    )


@pytest.mark.parametrize("prune_on", ["epoch_begin", "epoch_end"])
def test_validation_scores_the_pruned_net(prune_on):
    X, y = blobs()
    X_valid, y_valid = blobs(n_samples=100, seed=1)
    callback = PruningCallback(0.5, schedule="per_epoch", prune_on=prune_on)
    net = make_net(
        callback,
        max_epochs=2,
        train_split=predefined_split(Dataset(X_valid, y_valid)),
    ).fit(X, y)
    # Nothing changes the weights after the last validation, so its scores
    # are those of the fitted net, pruned to 75 %.
    assert weight_sparsity(net.module_) == pytest.approx(0.75, abs=1 / N_WEIGHTS)
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X_valid))
    loss = float(nn.functional.cross_entropy(logits, torch.as_tensor(y_valid)))
    accuracy = float((logits.argmax(dim=1).numpy() == y_valid).mean())
    assert net.history[-1, "valid_loss"] == pytest.approx(loss, rel=1e-5)
    assert net.history[-1, "valid_acc"] == pytest.approx(accuracy)
    assert callback.dataset_train_ is None and not callback.step_due_


def test_global_l1_prunes_the_smallest_weights():
    torch.manual_seed(1)
    module = mlp()
    structure = _PrunableStructure(module, None, "l1_unstructured")
    masks = {
        name: torch.ones_like(layer.weight)
        for name, layer in structure.weighted.items()
    }
    with torch.no_grad():
        prune_global_l1(structure.weighted, masks, 0.3, 0.0)
    magnitudes = torch.cat(
        [module[0].weight.abs().ravel(), module[2].weight.abs().ravel()]
    )
    kept = torch.cat([masks["0"].ravel(), masks["2"].ravel()]).bool()
    assert (~kept).sum() == round(0.3 * N_WEIGHTS)
    assert magnitudes[~kept].max() <= magnitudes[kept].min()


def test_min_layer_density_keeps_every_layer_alive():
    module = mlp()
    with torch.no_grad():
        module[0].weight.mul_(1e-3)  # the global ranking would empty it first
    X, y = blobs()
    callback = PruningCallback(0.7, schedule="once", start_epoch=1)
    net = make_net(callback, max_epochs=1, module=copy.deepcopy(module)).fit(X, y)
    assert float((net.module_[0].weight == 0).float().mean()) > 0.9
    callback = PruningCallback(
        0.7, schedule="once", start_epoch=1, min_layer_density=0.25
    )
    net = make_net(callback, max_epochs=1, module=module).fit(X, y)
    density = float((net.module_[0].weight != 0).float().mean())
    assert density == pytest.approx(0.25, abs=1 / 240)
    assert weight_sparsity(net.module_) == pytest.approx(0.7, abs=1 / N_WEIGHTS)


@pytest.mark.parametrize("prune_on", ["epoch_begin", "epoch_end"])
def test_pruned_weights_stay_zero_during_and_after_training(prune_on):
    X, y = blobs()
    callback = PruningCallback(0.5, schedule="once", start_epoch=1, prune_on=prune_on)
    net = make_net(callback, max_epochs=3)
    net.fit(X, y)
    zeros = net.module_[0].weight == 0
    assert zeros.float().mean() > 0.2
    net.partial_fit(X, y)  # more optimizer steps, masks taken from the zeros
    assert torch.all(net.module_[0].weight[zeros] == 0)
    assert net.history[-1, "sparsity"] == pytest.approx(0.5, abs=1 / N_WEIGHTS)


def test_fitted_net_holds_plain_tensors():
    X, y = blobs()
    unpruned = make_net(PruningCallback(0.0), max_epochs=2).fit(X, y)
    net = make_net(PruningCallback(0.5, schedule="per_epoch"), max_epochs=2)
    net.fit(X, y)
    assert list(net.module_.state_dict()) == list(unpruned.module_.state_dict())
    for layer in net.module_.modules():
        assert not layer._forward_pre_hooks and not layer._forward_hooks
    callback = dict(net.callbacks_)["pruning"]
    assert callback.masks_ is None and callback.structure_ is None
    # Pickle, deepcopy and skorch's parameter files all round-trip.
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(
        copy.deepcopy(net).predict_proba(X), net.predict_proba(X)
    )
    buffer = io.BytesIO()
    net.save_params(f_params=buffer)
    buffer.seek(0)
    fresh = make_net(PruningCallback(0.5), max_epochs=2).initialize()
    fresh.load_params(f_params=buffer)
    np.testing.assert_array_equal(fresh.predict_proba(X), net.predict_proba(X))


def test_pickle_of_pruned_net_is_no_larger_than_unpruned():
    X, y = blobs()
    sizes = {}
    for amount in (0.0, 0.5):
        callback = PruningCallback(amount, schedule="per_epoch")
        sizes[amount] = len(pickle.dumps(make_net(callback, max_epochs=5).fit(X, y)))
    assert sizes[0.5] <= 1.1 * sizes[0.0]


def test_structured_pruning_removes_row_bias_and_column():
    X, y = blobs()
    callback = PruningCallback(0.5, method="l1_structured", schedule="once")
    net = make_net(callback, max_epochs=4).fit(X, y)
    hidden, output = net.module_[0], net.module_[2]
    removed = (output.weight == 0).all(dim=0)
    assert int(removed.sum()) == 12
    assert torch.all(hidden.weight[removed] == 0)
    assert torch.all(hidden.bias[removed] == 0)
    assert torch.all(hidden.weight[~removed].abs().sum(dim=1) > 0)


def test_compact_module_keeps_outputs_and_shrinks():
    X, y = blobs()
    callback = PruningCallback(0.75, method="l1_structured", schedule="once")
    net = make_net(callback, max_epochs=4).fit(X, y)
    before = net.forward(X).numpy()
    report = compact_module(net.module_)
    assert report["hidden_units"] == {"0": (24, 6)}
    assert net.module_[0].weight.shape == (6, 10)
    assert net.module_[2].weight.shape == (3, 6)
    assert report["bytes_saved"] == 18 * (10 + 1 + 3) * 4
    np.testing.assert_allclose(net.forward(X).numpy(), before, rtol=1e-5, atol=1e-6)


def test_compact_module_sparse_stores_csr_and_keeps_outputs():
    X, y = blobs()
    # Without a minimum density the small output layer would be emptied.
    callback = PruningCallback(0.75, schedule="once", min_layer_density=0.2)
    net = make_net(callback, max_epochs=4).fit(X, y)
    before = net.forward(X).numpy()
    report = compact_module(net.module_, sparse=True)
    assert net.module_[0].weight.layout == torch.sparse_csr
    assert report["bytes_after"] < 0.5 * report["bytes_before"]
    np.testing.assert_allclose(net.forward(X).numpy(), before, rtol=1e-4, atol=1e-5)


def duplicated_units_module():
    """A trained-looking net whose units 4-7 copy units 0-3 exactly."""
    torch.manual_seed(0)
    module = mlp(hidden=8)
    with torch.no_grad():
        module[0].weight[4:] = module[0].weight[:4]
        module[0].bias[4:] = module[0].bias[:4]
    return module


@pytest.mark.parametrize(
    "prune_on, validation",
    [("epoch_begin", False), ("epoch_end", False), ("epoch_end", True)],
)
def test_distinctiveness_folds_duplicated_units(prune_on, validation):
    X, y = blobs()
    module = duplicated_units_module()
    with torch.no_grad():
        before = module(torch.as_tensor(X)).numpy()
    callback = PruningCallback(
        0.5,
        method="distinctiveness",
        schedule="once",
        start_epoch=1,
        prune_on=prune_on,
    )
    # With validation data, the step at the end of training reads the
    # activations of the training data it kept from the epoch's beginning.
    train_split = predefined_split(Dataset(X[:50], y[:50])) if validation else None
    net = make_net(
        callback, max_epochs=1, module=module, lr=0.0, train_split=train_split
    ).fit(X, y)
    removed = (net.module_[2].weight == 0).all(dim=0).numpy()
    # One unit of each identical pair goes; the network computes the same.
    assert removed.sum() == 4
    assert np.all(removed[:4] != removed[4:])
    with torch.no_grad():
        after = net.module_(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5)


def test_distinctiveness_folds_constant_units_into_the_bias():
    X, y = blobs()
    module = mlp(hidden=8)
    with torch.no_grad():
        module[0].weight[:2] = 0  # units 0 and 1 output relu(bias), a constant
        module[0].bias[:2] = torch.tensor([0.5, -0.2])
        before = module(torch.as_tensor(X)).numpy()
    callback = PruningCallback(
        0.25, method="distinctiveness", schedule="once", start_epoch=1
    )
    net = make_net(callback, max_epochs=1, module=module, lr=0.0).fit(X, y)
    removed = (net.module_[2].weight == 0).all(dim=0).numpy()
    np.testing.assert_array_equal(np.flatnonzero(removed), [0, 1])
    with torch.no_grad():
        after = net.module_(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5)


def test_history_records_per_layer_sparsity_and_units():
    X, y = blobs()
    callback = PruningCallback(0.5, method="l1_structured", schedule="once")
    net = make_net(callback, max_epochs=4).fit(X, y)
    row = net.history[-1]
    assert {"sparsity", "sparsity_0", "sparsity_2", "units_0"} <= set(row)
    # Removing 12 of 24 units zeroes 12 rows of 10 and 12 columns of 3.
    assert row["sparsity_0"] == pytest.approx(0.5)
    assert row["sparsity_2"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"amount": 1.0}, "amount"),
        ({"amount": -0.1}, "amount"),
        ({"method": "random"}, "method"),
        ({"schedule": "sometimes"}, "schedule"),
        ({"start_epoch": 5, "end_epoch": 2}, "end_epoch"),
        ({"layers": ["nope"]}, r"layers=\['nope'\] must name Linear layers"),
        ({"layers": ["0", 3]}, r"layers=\['0', 3\] must name"),
        ({"layers": []}, r"layers=\[\] must name"),
        ({"layers": "0"}, "'layers' parameter"),
        ({"min_layer_density": 1.5}, "min_layer_density"),
        ({"n_activation_samples": 1}, "n_activation_samples"),
        ({"start_epoch": 0}, "start_epoch"),
        ({"prune_on": "epoch_middle"}, "prune_on"),
        ({"prune_on": None}, "prune_on"),
    ],
)
def test_bad_parameters_raise_at_fit(params, message):
    X, y = blobs()
    net = make_net(PruningCallback(**params), max_epochs=2)
    with pytest.raises(ValueError, match=message):
        net.fit(X, y)


def test_layers_restricts_pruning():
    X, y = blobs()
    callback = PruningCallback(0.5, schedule="once", layers=["0"])
    net = make_net(callback, max_epochs=4).fit(X, y)
    assert float((net.module_[0].weight == 0).float().mean()) == pytest.approx(0.5)
    assert not torch.any(net.module_[2].weight == 0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_pruning_on_cuda():
    X, y = blobs()
    net = make_net(PruningCallback(0.5, schedule="once"), max_epochs=4, device="cuda")
    net.fit(X, y)
    assert net.module_[0].weight.is_cuda
    assert weight_sparsity(net.module_) == pytest.approx(0.5, abs=1 / N_WEIGHTS)


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(
        st.tuples(st.integers(1, 12), st.integers(1, 12)), min_size=1, max_size=4
    ),
    target=st.floats(0, 0.99),
    min_density=st.floats(0, 0.6),
    seed=st.integers(0, 2**16),
)
def test_global_l1_count_limits_and_order(shapes, target, min_density, seed):
    generator = torch.Generator().manual_seed(seed)
    layers = {str(i): nn.Linear(*shape) for i, shape in enumerate(shapes)}
    with torch.no_grad():
        for i, layer in enumerate(layers.values()):
            # Layers of very different scales, as trained layers can be.
            scale = 10.0 ** (i - 2)
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator))
            layer.weight.mul_(scale)
    masks = {name: torch.ones_like(layer.weight) for name, layer in layers.items()}
    with torch.no_grad():
        prune_global_l1(layers, masks, target, min_density)
    sizes = {name: mask.numel() for name, mask in masks.items()}
    floors = {name: math.ceil(min_density * size) for name, size in sizes.items()}
    kept = {name: int(mask.sum()) for name, mask in masks.items()}
    # Every layer keeps its minimum density.
    assert all(kept[name] >= floors[name] for name in masks)
    # Exactly the target is pruned, unless the minimum densities forbid it.
    n_total = sum(sizes.values())
    feasible = n_total - sum(floors.values())
    assert n_total - sum(kept.values()) == min(round(target * n_total), feasible)
    # Among layers not held at their floor, the pruned weights are the smallest.
    free = [name for name in masks if kept[name] > floors[name]]
    if free:
        pruned = torch.cat([layers[n].weight.abs()[masks[n] == 0] for n in free])
        remaining = torch.cat([layers[n].weight.abs()[masks[n] == 1] for n in free])
        if len(pruned) and len(remaining):
            assert pruned.max() <= remaining.min()


@given(
    schedule=st.sampled_from(["per_epoch", "gradual", "once"]),
    amount=st.floats(0, 0.99),
    initial=st.floats(0, 0.99),
    start=st.integers(1, 10),
    length=st.integers(0, 10),
)
def test_pruning_targets_never_decrease_and_stay_in_range(
    schedule, amount, initial, start, length
):
    end = start + length
    targets = [
        pruning_target(schedule, amount, epoch, start, end, initial)
        for epoch in range(1, 25)
    ]
    # (1 - amount) ** k may round to 0 for large amounts: the target reaches 1.
    assert all(initial <= value <= 1 for value in targets)
    assert all(b >= a - 1e-12 for a, b in zip(targets, targets[1:], strict=False))
    assert targets[: start - 1] == [initial] * (start - 1)  # nothing before start
    if schedule != "per_epoch":
        assert targets[end - 1] == pytest.approx(max(initial, amount))
    else:
        pruned = 1 - (1 - initial) * (1 - amount) ** (length + 1)
        assert targets[end - 1] == pytest.approx(pruned)


def test_distinctiveness_reads_activations_of_evenly_spaced_rows():
    from skorch.dataset import Dataset

    from fuzzyprune._pruning import hidden_activations

    X, y = blobs(n_samples=100)
    net = make_net(PruningCallback(0.0), max_epochs=1).fit(X, y)
    pairs = _PrunableStructure(
        net.module_, None, "distinctiveness", lambda: net.module_(torch.as_tensor(X))
    ).hidden
    activations = hidden_activations(net, Dataset(X, y), pairs, n_samples=10)
    assert activations["0"].shape == (10, 24)
    rows = np.linspace(0, 99, 10).round().astype(int)
    with torch.no_grad():
        expected = torch.relu(net.module_[0](torch.as_tensor(X[rows])))
    torch.testing.assert_close(activations["0"], expected)


@pytest.mark.parametrize("prune_on", ["epoch_begin", "epoch_end"])
def test_checkpoint_load_best_works_with_pruning(tmp_path, prune_on):
    from skorch.callbacks import Checkpoint

    X, y = blobs()
    checkpoint = Checkpoint(
        monitor="train_loss_best", load_best=True, dirname=str(tmp_path)
    )
    net = make_net(
        PruningCallback(0.5, schedule="per_epoch", prune_on=prune_on),
        max_epochs=4,
        more_callbacks=[("checkpoint", checkpoint)],
    )
    net.fit(X, y)
    # The best epoch's parameters were saved and loaded back: same keys, and
    # the zeros of the sparsity that epoch had.
    best = int(np.flatnonzero(net.history[:, "train_loss_best"])[-1])
    expected = net.history[best, "sparsity"]
    assert weight_sparsity(net.module_) == pytest.approx(expected, abs=1 / N_WEIGHTS)


def batchnorm_mlp():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(20, 32),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.PReLU(32),
        nn.Linear(32, 2),
    )


def test_structured_pruning_and_compaction_shrink_per_unit_layers():
    X, y = blobs(n_features=20, n_classes=2)
    callback = PruningCallback(
        0.5, method="l1_structured", schedule="once", start_epoch=1
    )
    net = make_net(callback, max_epochs=2, module=batchnorm_mlp()).fit(X, y)
    net.module_.eval()
    with torch.no_grad():
        before = net.module_(torch.as_tensor(X))
    alive = (net.module_[5].weight != 0).any(dim=0)
    assert int(alive.sum()) == 16
    statistics = [net.module_[1].running_mean[alive], net.module_[4].weight[alive]]
    report = compact_module(net.module_)
    assert report["hidden_units"] == {"0": (32, 16)}
    norm, prelu = net.module_[1], net.module_[4]
    assert norm.num_features == 16 and prelu.num_parameters == 16
    for name in ("weight", "bias", "running_mean", "running_var"):
        assert getattr(norm, name).shape == (16,)
    torch.testing.assert_close(norm.running_mean, statistics[0], rtol=0, atol=0)
    torch.testing.assert_close(prelu.weight, statistics[1].detach(), rtol=0, atol=0)
    with torch.no_grad():
        after = net.module_(torch.as_tensor(X))
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-6)
    net.partial_fit(X, y)  # the smaller module still trains


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.first = nn.Linear(24, 3)
        self.second = nn.Linear(24, 3)

    def forward(self, X):
        hidden = torch.relu(self.hidden(X))
        return self.first(hidden) + self.second(hidden)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 10)
        self.output = nn.Linear(10, 3)

    def forward(self, X):
        return self.output(torch.relu(self.hidden(X)) + X)


class SharedLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 10)
        self.output = nn.Linear(10, 3)

    def forward(self, X):
        return self.output(self.hidden(torch.relu(self.hidden(X))))


class BranchesOnValues(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.output = nn.Linear(24, 3)

    def forward(self, X):
        hidden = self.hidden(X)
        if hidden.sum() > 0:  # other data may take the other branch
            hidden = torch.relu(hidden)
        return self.output(hidden)


class ReturnsHidden(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.output = nn.Linear(24, 3)

    def forward(self, X):
        hidden = torch.relu(self.hidden(X))
        return self.output(hidden), hidden


class TiedOutput(nn.Module):
    """An MLP whose output layer's weight is also a spare layer's."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.output = nn.Linear(24, 3)
        self.spare = nn.Linear(24, 3)
        self.spare.weight = self.output.weight

    def forward(self, X):
        return self.output(torch.relu(self.hidden(X)))


class TwoNames(nn.Module):
    """An MLP whose output layer is registered under a second name."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.output = nn.Linear(24, 3)
        self.alias = self.output

    def forward(self, X):
        return self.output(torch.relu(self.hidden(X)))


class ReadsBias(nn.Module):
    """An MLP that adds the mean of its hidden layer's bias to its output."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.output = nn.Linear(24, 3)

    def forward(self, X):
        return self.output(torch.relu(self.hidden(X))) + self.hidden.bias.mean()


class AddsOtherBias(nn.Module):
    """An MLP whose hidden units get another layer's bias added."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.output = nn.Linear(24, 3)
        self.other = nn.Linear(3, 24)

    def forward(self, X):
        return self.output(torch.relu(self.hidden(X)) + self.other.bias)


class HiddenThrough(nn.Module):
    """An MLP whose hidden units pass through ``step(self, units)``."""

    def __init__(self, step):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.output = nn.Linear(24, 3)
        self.scale = nn.Parameter(torch.tensor(0.5))  # 0-d: one for all units
        self.gain = nn.Parameter(torch.linspace(0.5, 1.5, 24))  # one per unit
        self.step = step

    def forward(self, X):
        return self.output(self.step(self, self.hidden(X)))


# Steps acting on each hidden unit on its own, with scalars or 0-d tensors.
PER_UNIT_STEPS = {
    "scalar arithmetic": lambda m, h: h * 2 + 1,
    "reversed arithmetic": lambda m, h: 1 / (2 - (-h).exp() * 0.5),
    "0-d tensors": lambda m, h: h / torch.tensor(2.0) - torch.tensor(1.0),
    "0-d parameter": lambda m, h: h * m.scale,
    "clamp": lambda m, h: torch.clamp(h, 0, 6),
    "abs": lambda m, h: h.abs(),
    "clone": lambda m, h: h.clone().relu(),
    "view": lambda m, h: h.view(len(h), -1),
    "reshape": lambda m, h: h.reshape(h.shape).contiguous().tanh(),
    "to": lambda m, h: h.to(torch.float64).sigmoid().to(torch.float32),
    "where": lambda m, h: torch.where(h > 0, h, 0.1 * h),
    "where scalar": lambda m, h: torch.where(h.ge(0), h, 0.0),
    "hardtanh": lambda m, h: F.hardtanh(h),
    "gelu tanh": lambda m, h: F.gelu(h, approximate="tanh"),
    "two unit tensors": lambda m, h: h.relu() * h.sigmoid() + h,
}


@pytest.mark.parametrize("step", PER_UNIT_STEPS.values(), ids=PER_UNIT_STEPS)
def test_compact_module_removes_units_through_per_unit_steps(step):
    torch.manual_seed(0)
    module = HiddenThrough(step)
    with torch.no_grad():
        module.output.weight[:, :4] = 0
    X = torch.randn(7, 10)
    with torch.no_grad():
        before = module(X)
    report = compact_module(module, X)
    assert report["hidden_units"] == {"hidden": (24, 20)}
    assert module.hidden.weight.shape == (20, 10)
    assert module.output.weight.shape == (3, 20)
    with torch.no_grad():
        torch.testing.assert_close(module(X), before, rtol=0, atol=0)


def between(layer):
    return nn.Sequential(nn.Linear(10, 24), layer, nn.ReLU(), nn.Linear(24, 3))


UNPAIRABLE_MODULES = [
    (lambda: between(nn.LayerNorm(24)), "LayerNorm '1'"),
    (lambda: between(nn.GroupNorm(4, 24)), "GroupNorm '1'"),
    (lambda: between(nn.Softmax(dim=1)), r"softmax\(\)"),
    (Residual, r"reach add\(\)"),
    (SharedLayer, "Linear 'hidden' is called more than once"),
    (
        ReadsBias,
        r"a parameter of Linear 'hidden' is used outside the layer's call, "
        r"by mean\(\) reading 'hidden.bias'",
    ),
    (AddsOtherBias, r"its units reach add\(\) reading 'other.bias', which does"),
    (TiedOutput, "Linear 'output' shares its parameter 'weight'.*'spare.weight'"),
    (TwoNames, r"Linear 'output' is registered under several names \('output', "),
    (ReturnsHidden, "Linear 'output', the module's output"),
    (BranchesOnValues, r"reads tensor values in Python \(__bool__\)"),
    *(
        (lambda step=step: HiddenThrough(step), reason)
        for step, reason in [
            (lambda m, h: h - h.mean(dim=1, keepdim=True), r"reach mean\(\)"),
            (lambda m, h: h / h.sum(1, keepdim=True), r"reach sum\(\)"),
            (lambda m, h: h * m.gain, r"reach mul\(\) reading 'gain'"),
            (lambda m, h: torch.where(h > 0, h, m.gain), r"where\(\) reading 'gain'"),
            (lambda m, h: h + torch.ones(24), r"reach add\(\), which does not"),
            (lambda m, h: h.view(len(h), 4, 6).view(len(h), 24), r"reach view\(\)"),
            (lambda m, h: h @ torch.eye(24), r"reach matmul\(\)"),
            (lambda m, h: h.flip(1), r"reach flip\(\)"),
            (lambda m, h: (h.abs(), h)[1], r"abs\(\), whose result is unused"),
        ]
    ),
]


@pytest.mark.parametrize("make_module, reason", UNPAIRABLE_MODULES)
@pytest.mark.parametrize("method", ["l1_structured", "distinctiveness"])
def test_structured_pruning_refuses_units_it_cannot_pair(make_module, reason, method):
    X, y = blobs()
    torch.manual_seed(0)
    module = make_module()
    state = copy.deepcopy(module.state_dict())
    callback = PruningCallback(0.5, method=method, schedule="once", start_epoch=1)
    net = make_net(callback, max_epochs=1, module=module)
    with pytest.raises(ValueError, match=reason):
        net.fit(X, y)
    for name, tensor in module.state_dict().items():
        torch.testing.assert_close(tensor, state[name], rtol=0, atol=0)


@pytest.mark.parametrize("make_module, reason", UNPAIRABLE_MODULES)
def test_compact_module_refuses_units_it_cannot_pair(make_module, reason):
    torch.manual_seed(0)
    module = make_module()
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear) and layer.out_features == 3:
                layer.weight[:, :4] = 0  # units that would look dead
    state = copy.deepcopy(module.state_dict())
    with pytest.raises(ValueError, match=reason):
        compact_module(module, sparse=True)
    assert list(module.state_dict()) == list(state)
    for name, tensor in module.state_dict().items():
        torch.testing.assert_close(tensor, state[name], rtol=0, atol=0)
    assert all(type(layer) is not SparseLinear for layer in module.modules())


def test_unstructured_pruning_works_on_modules_that_branch_on_values():
    X, y = blobs()
    torch.manual_seed(0)
    callback = PruningCallback(0.5, schedule="once", start_epoch=1)
    net = make_net(callback, max_epochs=1, module=BranchesOnValues()).fit(X, y)
    assert weight_sparsity(net.module_) == pytest.approx(0.5, abs=1 / N_WEIGHTS)


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (("x",), {}, TypeError, "'module' parameter of compact_module"),
        ((None,), {}, TypeError, "'module' parameter of compact_module"),
        ((nn.Linear(2, 2),), {"sparse": "yes"}, TypeError, "'sparse' parameter"),
    ],
)
def test_compact_module_checks_its_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        compact_module(*args, **kwargs)


def test_min_layer_density_holds_for_structured_pruning():
    X, y = blobs()
    callback = PruningCallback(
        0.75,
        method="l1_structured",
        schedule="once",
        start_epoch=1,
        min_layer_density=0.5,
    )
    with pytest.warns(
        UserWarning, match="0.5 of the hidden units pruned, below the 0.75"
    ):
        net = make_net(callback, max_epochs=1).fit(X, y)
    assert net.history[-1, "units_0"] == 12
    assert int((net.module_[2].weight != 0).any(dim=0).sum()) == 12


def stop_after(epochs):
    """An EarlyStopping that stops after ``epochs`` epochs."""
    from skorch.callbacks import EarlyStopping

    # No epoch improves on the first by 100 %: it stops after ``patience``.
    return EarlyStopping(
        monitor="train_loss", patience=epochs - 1, threshold=1.0, sink=lambda _: None
    )


def test_training_stopped_early_below_amount_warns():
    X, y = blobs()
    callback = PruningCallback(0.9, schedule="gradual")
    net = make_net(callback, max_epochs=8, more_callbacks=[("stop", stop_after(4))])
    with pytest.warns(UserWarning, match="stopped after 4 of its 8 epochs") as record:
        net.fit(X, y)
    assert len(net.history) == 4
    reached = net.history[-1, "sparsity"]
    assert 0 < reached < 0.9
    message = str(record[0].message)
    assert f"{reached:.4g} of the weights pruned" in message
    assert "below the 0.9 requested" in message
    assert record[0].filename == __file__


@pytest.mark.parametrize("twice", [False, True])
def test_several_pruning_callbacks_on_one_net_are_refused(twice):
    X, y = blobs()
    callback = PruningCallback(0.5, start_epoch=1)
    second = callback if twice else PruningCallback(0.5, start_epoch=1)
    net = make_net(callback, max_epochs=2, more_callbacks=[second])
    with pytest.raises(
        ValueError, match=r"2 PruningCallbacks \(pruning, PruningCallback\)"
    ):
        net.fit(X, y)
    assert weight_sparsity(net.module_) == 0  # refused before any pruning


def test_partial_fit_warns_only_when_short_of_its_expected_epochs():
    X, y = blobs()
    callback = PruningCallback(0.9, schedule="gradual")
    net = make_net(callback, max_epochs=8).initialize()
    with pytest.warns(UserWarning, match="stopped after 1 of its 8 epochs"):
        net.partial_fit(X, y, epochs=1)
    for _ in range(7):
        callback.expect_epochs(1)
        net.partial_fit(X, y, epochs=1)  # no warning: warnings are errors
    assert net.history[-1, "sparsity"] == pytest.approx(0.9, abs=1 / N_WEIGHTS)


def test_new_parameters_start_a_new_gradual_ramp_from_the_sparsity_reached():
    X, y = blobs()
    net = make_net(PruningCallback(0.3), max_epochs=8).fit(X, y)
    reached = net.history[-1, "sparsity"]
    assert reached == pytest.approx(0.3, abs=1 / N_WEIGHTS)
    net.set_params(callbacks__pruning__amount=0.8)
    net.partial_fit(X, y)
    # Epochs 9-10 wait, 11-14 ramp from 0.3 to 0.8, 15-16 fine-tune.
    ramp = [0.3 + 0.5 * (1 - (1 - p) ** 3) for p in (0.25, 0.5, 0.75, 1.0)]
    expected = [0.3, 0.3, *ramp, 0.8, 0.8]
    np.testing.assert_allclose(
        net.history[8:, "sparsity"], expected, atol=1 / N_WEIGHTS
    )


def test_partial_fit_continues_the_schedule():
    X, y = blobs()
    whole = make_net(PruningCallback(0.6), max_epochs=8).fit(X, y)
    split = make_net(PruningCallback(0.6), max_epochs=8).initialize()
    for epochs in (3, 5):
        dict(split.callbacks_)["pruning"].expect_epochs(epochs)
        split.partial_fit(X, y, epochs=epochs)
    np.testing.assert_allclose(
        split.history[:, "sparsity"], whole.history[:, "sparsity"], atol=1e-12
    )


class PausesMidForward(nn.Module):
    """An MLP whose forward pass waits, halfway, for another thread."""

    def __init__(self, halfway, resume):
        super().__init__()
        self.hidden = nn.Linear(10, 24)
        self.output = nn.Linear(24, 3)
        self.halfway, self.resume = halfway, resume

    def forward(self, X):
        hidden = torch.relu(self.hidden(X))
        self.halfway.set()
        self.resume.wait(timeout=30)
        return self.output(hidden)


def test_finding_hidden_units_leaves_other_threads_alone():
    import threading

    halfway, resume = threading.Event(), threading.Event()
    module = PausesMidForward(halfway, resume)
    with torch.no_grad():
        module.output.weight[:, :6] = 0
    other = mlp()
    outcome = {}

    def forward_elsewhere():
        halfway.wait(timeout=30)
        try:  # while the paused forward pass is being recorded
            outcome["shape"] = other(torch.zeros(5, 10)).shape
        except Exception as error:
            outcome["error"] = error
        resume.set()

    thread = threading.Thread(target=forward_elsewhere)
    thread.start()
    report = compact_module(module)
    thread.join()
    assert outcome == {"shape": (5, 3)}
    assert report["hidden_units"] == {"hidden": (24, 18)}


class SumsHalves(nn.Module):
    """An MLP on the sum of the two halves of 20 features."""

    def __init__(self):
        super().__init__()
        self.mlp = mlp()

    def forward(self, X):
        return self.mlp(X[:, :10] + X[:, 10:])


def test_compact_module_runs_the_module_on_the_input_given():
    module = SumsHalves()
    with torch.no_grad():
        module.mlp[2].weight[:, :4] = 0
    state = copy.deepcopy(module.state_dict())
    with pytest.raises(ValueError, match="pass X, a batch of the module's input"):
        compact_module(module)  # zeros as wide as the first Linear: 10, not 20
    assert all(torch.equal(module.state_dict()[k], v) for k, v in state.items())
    report = compact_module(module, np.zeros((3, 20)))
    assert report["hidden_units"] == {"mlp.0": (24, 20)}


def test_finding_hidden_units_keeps_each_layer_mode():
    module = batchnorm_mlp().train()
    module[1].eval()  # statistics frozen by the user
    modes = [layer.training for layer in module.modules()]
    compact_module(module)
    assert [layer.training for layer in module.modules()] == modes
    assert modes.count(False) == 1


class TiedPair(nn.Module):
    """Two Linear layers, one weight: the second layer's is the first's."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(10, 24)
        self.second = nn.Linear(10, 24)
        self.second.weight = self.first.weight
        self.output = nn.Linear(24, 3)

    def forward(self, X):
        return self.output(torch.relu(self.first(X)) * torch.tanh(self.second(X)))


def test_unstructured_pruning_counts_a_tied_weight_once():
    X, y = blobs()
    torch.manual_seed(0)
    callback = PruningCallback(0.5, schedule="once", start_epoch=1)
    net = make_net(callback, max_epochs=1, module=TiedPair()).fit(X, y)
    module = net.module_
    weights = torch.cat([module.first.weight.ravel(), module.output.weight.ravel()])
    zeros = int((weights == 0).sum())
    assert zeros == round(0.5 * len(weights))
    assert net.history[-1, "sparsity"] == pytest.approx(zeros / len(weights))
    assert "sparsity_second" not in net.history[-1]


class SharedHeads(nn.Module):
    """Two tied heads on the input, the first registered under two names."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(10, 3)
        self.second = nn.Linear(10, 3)
        self.second.weight = self.first.weight
        self.alias = self.first

    def forward(self, X):
        return self.first(X) + self.second(X)


def test_compact_module_sparse_keeps_shared_tensors_shared():
    torch.manual_seed(0)
    module = SharedHeads()
    with torch.no_grad():
        module.first.weight[:, 1:] = 0
    X = torch.randn(5, 10)
    with torch.no_grad():
        before = module(X)
    report = compact_module(module, X, sparse=True)
    assert type(module.first) is SparseLinear and module.alias is module.first
    assert type(module.second) is SparseLinear
    assert module.second.weight is module.first.weight
    assert module.second.bias is not module.first.bias
    assert report["bytes_saved"] > 0
    with torch.no_grad():
        torch.testing.assert_close(module(X), before)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"start_epoch": 10},
            r"fraction 0 of the weights pruned, below the 0.8 requested.*"
            r"prunes until its epoch 10 \(start_epoch=10, end_epoch=None\), "
            r"after its 4 epochs of training \(max_epochs=4\)",
        ),
        (
            {"end_epoch": 10},
            r"below the 0.8 requested.*prunes until its epoch 10 "
            r"\(start_epoch=None, end_epoch=10\)",
        ),
        ({"schedule": "once", "start_epoch": 5}, "prunes until its epoch 5"),
        (
            {"schedule": "per_epoch", "start_epoch": 3, "end_epoch": 6},
            "prunes until its epoch 6",
        ),
    ],
)
def test_pruning_epochs_beyond_max_epochs_warn(params, message):
    X, y = blobs()
    net = make_net(PruningCallback(0.8, **params), max_epochs=4)
    with pytest.warns(UserWarning, match=message) as record:
        net.fit(X, y)
    reached = net.history[-1, "sparsity"]
    assert f"fraction {reached:.4g} of the weights" in str(record[0].message)


def test_partial_fit_warns_once_the_schedule_runs_past_max_epochs():
    X, y = blobs()
    callback = PruningCallback(0.5, schedule="once", start_epoch=6)
    net = make_net(callback, max_epochs=4).initialize()
    for epoch in range(1, 7):
        callback.expect_epochs(1)
        if epoch == 4:  # the call that completes max_epochs epochs
            with pytest.warns(UserWarning, match="prunes until its epoch 6"):
                net.partial_fit(X, y, epochs=1)
        else:  # no warning: warnings are errors
            net.partial_fit(X, y, epochs=1)
    assert net.history[:, "sparsity"] == pytest.approx(
        [0, 0, 0, 0, 0, 0.5], abs=1 / N_WEIGHTS
    )


@pytest.mark.parametrize("schedule", ["gradual", "once"])
def test_amount_below_the_sparsity_reached_warns_and_keeps_it(schedule):
    X, y = blobs()
    callback = PruningCallback(0.6, schedule="once", start_epoch=1)
    net = make_net(callback, max_epochs=2).fit(X, y)
    net.set_params(callbacks__pruning__amount=0.3)
    net.set_params(callbacks__pruning__schedule=schedule)
    with pytest.warns(
        UserWarning, match="amount=0.3 is below the fraction 0.599"
    ) as record:
        net.partial_fit(X, y)
    assert record[0].filename == __file__  # the caller's line, not skorch's
    assert net.history[-1, "sparsity"] == pytest.approx(0.6, abs=1 / N_WEIGHTS)
    assert weight_sparsity(net.module_) == pytest.approx(0.6, abs=1 / N_WEIGHTS)
    net.set_params(callbacks__pruning__amount=0.6)
    net.partial_fit(X, y)  # the same amount: no warning, warnings are errors


class RecordsStates(Callback):
    """Copy the module's state when each epoch begins and ends."""

    def initialize(self):
        self.begins, self.ends = {}, {}
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.begins[len(net.history)] = copy.deepcopy(net.module_.state_dict())

    def on_epoch_end(self, net, **kwargs):
        self.ends[len(net.history)] = copy.deepcopy(net.module_.state_dict())


def assert_rewound(state, rewind_point):
    """Kept weights hold the rewind point's values bit for bit, others 0."""
    for name, tensor in state.items():
        kept = tensor != 0
        expected = torch.where(kept, rewind_point[name], torch.zeros(()))
        assert torch.equal(tensor, expected), name
        if name.endswith("bias"):  # never pruned by l1_unstructured
            assert torch.equal(tensor, rewind_point[name]), name


@pytest.mark.parametrize("prune_on", ["epoch_begin", "epoch_end"])
@pytest.mark.parametrize("rewind_epoch", [0, 2])
def test_weight_rewinding_resets_survivors_to_the_rewind_point(prune_on, rewind_epoch):
    X, y = blobs()
    module = mlp()
    initial = copy.deepcopy(module.state_dict())
    recorder = RecordsStates()
    callback = PruningCallback(
        0.3,
        schedule="per_epoch",
        prune_on=prune_on,
        rewind="weights",
        rewind_epoch=rewind_epoch,
    )
    # per_epoch with rewinding prunes from the epoch after rewind_epoch on.
    steps = range(rewind_epoch + 1, rewind_epoch + 4)
    net = make_net(
        callback,
        max_epochs=steps[-1],
        module=module,
        more_callbacks=[("states", recorder)],
    )
    if prune_on == "epoch_end":
        # The last epoch's step leaves no epoch to retrain the ticket.
        with pytest.warns(UserWarning, match="ends at the rewind point's weights"):
            net.fit(X, y)
    else:
        net.fit(X, y)
    rewind_point = recorder.ends[rewind_epoch] if rewind_epoch else initial
    after_step = recorder.begins if prune_on == "epoch_begin" else recorder.ends
    for round_, epoch in enumerate(steps, start=1):
        state = after_step[epoch]
        assert_rewound(state, rewind_point)
        n_zeros = sum(int((state[f"{i}.weight"] == 0).sum()) for i in (0, 2))
        assert n_zeros / N_WEIGHTS == pytest.approx(1 - 0.7**round_, abs=1 / N_WEIGHTS)
    assert net.history[:, "sparsity"][rewind_epoch:] == pytest.approx(
        [1 - 0.7**k for k in (1, 2, 3)], abs=1 / N_WEIGHTS
    )


class RecordsLearningRate(Callback):
    """Record the learning rate of each epoch's first training batch."""

    def initialize(self):
        self.lrs = []
        return self

    def on_batch_begin(self, net, training=None, **kwargs):
        if training and len(self.lrs) < len(net.history):
            self.lrs.append(net.optimizer_.param_groups[0]["lr"])


@pytest.mark.parametrize("scheduler_first", [False, True])
@pytest.mark.parametrize(
    "prune_on, expected",
    [
        # Pruned when epoch 4 begins: it trains at epoch 2's rate.
        ("epoch_begin", [0.1, 0.05, 0.025, 0.05, 0.025, 0.0125]),
        # Pruned when epoch 4's training is over: epoch 5 replays epoch 2.
        ("epoch_end", [0.1, 0.05, 0.025, 0.0125, 0.05, 0.025]),
    ],
)
def test_learning_rate_rewinding_replays_the_schedule_and_keeps_weights(
    prune_on, expected, scheduler_first
):
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import StepLR

    X, y = blobs()
    callback = PruningCallback(
        0.5,
        schedule="once",
        start_epoch=4,
        prune_on=prune_on,
        rewind="learning_rate",
        rewind_epoch=1,
    )
    scheduler = ("steps", LRScheduler(StepLR, step_size=1, gamma=0.5))
    before, after, lrs = RecordsStates(), RecordsStates(), RecordsLearningRate()
    net = NeuralNetClassifier(
        mlp(),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.1,
        max_epochs=6,
        train_split=None,
        verbose=0,
        callbacks=[
            *([scheduler] if scheduler_first else []),
            ("before", before),
            ("pruning", callback),
            *([] if scheduler_first else [scheduler]),
            ("after", after),
            ("lrs", lrs),
        ],
    ).fit(X, y)
    assert lrs.lrs == pytest.approx(expected, rel=1e-12)
    if prune_on == "epoch_begin":
        trained, pruned = before.ends[3], after.begins[4]
    else:
        trained, pruned = before.ends[4], after.ends[4]
    assert_rewound(pruned, trained)  # the trained weights, not rewound
    assert weight_sparsity(net.module_) == pytest.approx(0.5, abs=1 / N_WEIGHTS)


def test_learning_rate_rewinding_without_scheduler_warns():
    X, y = blobs()
    callback = PruningCallback(0.5, schedule="once", rewind="learning_rate")
    with pytest.warns(UserWarning, match="no LRScheduler callback"):
        make_net(callback, max_epochs=2).fit(X, y)


def stepped_targets(epoch):
    # A lower target (epoch 3) prunes nothing: pruning is never undone.
    return (0.0, 0.3, 0.2, 0.5, 0.5)[epoch - 1]


@pytest.mark.parametrize("prune_on", ["epoch_begin", "epoch_end"])
def test_callable_schedule_targets_are_met_epoch_by_epoch(prune_on):
    X, y = blobs()
    callback = PruningCallback(schedule=stepped_targets, prune_on=prune_on)
    net = make_net(callback, max_epochs=5).fit(X, y)
    assert net.history[:, "sparsity"] == pytest.approx(
        [0.0, 0.3, 0.3, 0.5, 0.5], abs=1 / N_WEIGHTS
    )
    assert weight_sparsity(net.module_) == pytest.approx(0.5, abs=1 / N_WEIGHTS)
    copied = pickle.loads(pickle.dumps(net))  # a module-level function pickles
    assert dict(copied.callbacks_)["pruning"].schedule is stepped_targets


@pytest.mark.parametrize(
    "params, error, message",
    [
        (
            {"schedule": lambda: 0.5},
            TypeError,
            "schedule must be one of the named schedules or a function",
        ),
        ({"schedule": lambda epoch: 1.0}, ValueError, r"schedule\(1\) returned 1.0"),
        ({"schedule": lambda epoch: -0.1}, ValueError, r"returned -0.1; a callable"),
        ({"schedule": lambda epoch: float("nan")}, ValueError, "returned nan"),
        ({"schedule": lambda epoch: "half"}, TypeError, "returned 'half'"),
        ({"schedule": lambda epoch: True}, TypeError, r"schedule\(1\) returned True"),
        # Checked for every epoch of the training before the first one.
        (
            {"schedule": lambda epoch: 0.2 if epoch < 3 else 1.5},
            ValueError,
            r"schedule\(3\) returned 1.5",
        ),
        ({"schedule": 0.5}, ValueError, "'schedule' parameter"),
        ({"rewind": "initial"}, ValueError, "'rewind' parameter"),
        ({"rewind_epoch": -1}, ValueError, "'rewind_epoch' parameter"),
        ({"rewind_epoch": 1.5}, TypeError, "'rewind_epoch' parameter"),
        (
            {"rewind": "weights", "rewind_epoch": 2, "start_epoch": 2},
            ValueError,
            "rewind_epoch=2 must come before the first pruning epoch, 2",
        ),
        (
            {"rewind": "weights", "rewind_epoch": 3, "end_epoch": 3},
            ValueError,
            "end_epoch=3 must be at least the first pruning epoch, 4",
        ),
    ],
)
def test_bad_schedules_and_rewinds_raise_before_training(params, error, message):
    X, y = blobs()
    module = mlp()
    net = make_net(PruningCallback(**params), max_epochs=4, module=module)
    with pytest.raises(error, match=message):
        net.fit(X, y)
    assert not net.history  # None when refused as the net initializes
    assert weight_sparsity(module) == 0


def test_fitted_net_carries_no_rewind_point():
    X, y = blobs()
    sizes = {}
    for rewind in (None, "weights"):
        callback = PruningCallback(
            0.3, schedule="per_epoch", rewind=rewind, rewind_epoch=1
        )
        net = make_net(callback, max_epochs=4).fit(X, y)
        assert callback.rewind_state_ is None
        assert not any(
            isinstance(value, torch.Tensor | dict)
            for value in vars(pickle.loads(pickle.dumps(callback))).values()
        )
        sizes[rewind] = len(pickle.dumps(net))
    # A copy of the module alone would add more than 4 bytes per weight.
    assert sizes["weights"] < sizes[None] + 500


def test_rewind_point_is_kept_on_the_weights_device_and_dtype():
    class Checks(Callback):
        def on_epoch_end(self, net, **kwargs):
            state = dict(net.callbacks_)["pruning"].rewind_state_
            if state is None:  # until epoch rewind_epoch + 1 begins
                return
            self.tensors = [*state["module"].values()]
            self.tensors += [
                value
                for optimizer in state["optimizers"]
                for per_parameter in optimizer["state"].values()
                for value in per_parameter.values()
            ]

    X, y = blobs()
    checks = Checks()
    callback = PruningCallback(0.5, schedule="once", rewind="weights", rewind_epoch=1)
    make_net(
        callback,
        max_epochs=2,
        module=mlp().double(),
        more_callbacks=[("checks", checks)],
    ).fit(X.astype(np.float64), y)
    assert len(checks.tensors) == 4 + 3 * 4  # 4 tensors, Adam's step and moments
    weights = {tensor.dtype for tensor in checks.tensors if tensor.dim()}
    assert weights == {torch.float64}
    assert {tensor.device for tensor in checks.tensors} == {torch.device("cpu")}


def test_partial_fit_past_the_rewind_point_is_refused_while_steps_remain():
    X, y = blobs()
    callback = PruningCallback(0.3, schedule="per_epoch", rewind="weights")
    net = make_net(callback, max_epochs=3).initialize()
    callback.expect_epochs(1)
    net.partial_fit(X, y, epochs=1)
    weights = copy.deepcopy(net.module_.state_dict())
    callback.expect_epochs(1)
    with pytest.raises(ValueError, match="its rewind point, the end of its epoch 0"):
        net.partial_fit(X, y, epochs=1)
    assert len(net.history) == 1
    for name, tensor in net.module_.state_dict().items():
        assert torch.equal(tensor, weights[name])
    # Once the schedule has no step to come, training may continue.
    net.set_params(callbacks__pruning__schedule="once")
    net.set_params(callbacks__pruning__start_epoch=1)
    net.partial_fit(X, y, epochs=1)  # a new schedule, pruning at its epoch 1
    callback.expect_epochs(1)
    net.partial_fit(X, y, epochs=1)  # its step is done: nothing to rewind
    assert len(net.history) == 3


def test_only_steps_that_prune_rewind():
    X, y = blobs()
    module = mlp()
    initial = copy.deepcopy(module.state_dict())
    recorder = RecordsStates()
    # round(0.2 * 312) = 62 weights: each later epoch is still below 0.2, yet
    # has nothing to prune, so it trains on from the rewound weights.
    callback = PruningCallback(0.2, schedule="once", start_epoch=2, rewind="weights")
    make_net(
        callback, max_epochs=4, module=module, more_callbacks=[("states", recorder)]
    ).fit(X, y)
    assert_rewound(recorder.begins[2], initial)
    rewound = recorder.begins[2]["0.weight"]
    for epoch in (3, 4):
        assert not torch.equal(recorder.begins[epoch]["0.weight"], rewound)


def test_weight_rewinding_rewinds_the_optimizer_and_learning_rate_too():
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import StepLR

    class RecordsOptimizer(Callback):
        def initialize(self):
            self.states = {}
            return self

        def on_epoch_begin(self, net, **kwargs):
            state = copy.deepcopy(net.optimizer_.state_dict())
            self.states[len(net.history)] = state

    X, y = blobs()
    recorder = RecordsOptimizer()
    callback = PruningCallback(
        0.5, schedule="once", start_epoch=3, rewind="weights", rewind_epoch=1
    )
    scheduler = LRScheduler(StepLR, step_size=1, gamma=0.5)
    make_net(
        callback,
        max_epochs=3,
        more_callbacks=[("steps", scheduler), ("optimizer", recorder)],
    ).fit(X, y)
    rewind_point, rewound = recorder.states[2], recorder.states[3]
    assert rewound["param_groups"] == rewind_point["param_groups"]  # lr 0.005
    assert rewound["param_groups"][0]["lr"] == 0.005
    assert rewound["state"].keys() == rewind_point["state"].keys() == {0, 1, 2, 3}
    for index, moments in rewound["state"].items():
        for name, value in moments.items():
            assert torch.equal(value, rewind_point["state"][index][name]), name


class ResidualBlock(nn.Module):
    """An MLP whose hidden units are added to a branch's and a skip layer's.

    Layers ``input``, ``branch`` and ``skip`` all write the same 16 units
    (a residual addition adds them unit by unit); ``branch``, ``skip`` and
    ``output`` read them.
    """

    def __init__(self, branch_norm=None):
        super().__init__()
        self.input = nn.Linear(10, 16)
        self.branch = nn.Linear(16, 16)
        self.norm = branch_norm or nn.BatchNorm1d(16)
        self.skip = nn.Linear(16, 16)
        self.output = nn.Linear(16, 3)

    def forward(self, X):
        hidden = torch.relu(self.input(X))
        hidden = hidden + self.norm(torch.relu(self.branch(hidden)))
        return self.output(torch.relu(hidden + self.skip(hidden)))


def randomize_statistics(module):
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.BatchNorm1d):
                layer.running_mean.normal_()
                layer.running_var.uniform_(0.5, 2)
                layer.weight.normal_()
                layer.bias.normal_()


def test_compact_module_removes_units_added_by_a_residual_connection():
    torch.manual_seed(0)
    module = ResidualBlock().double()
    randomize_statistics(module)
    readers = [module.branch, module.skip, module.output]
    with torch.no_grad():
        for layer in readers:
            layer.weight[:, [1, 5, 9]] = 0  # read by no layer: dead
        module.branch.weight[:, 2] = 0  # still read by skip and output
    kept = [unit for unit in range(16) if unit not in (1, 5, 9)]
    expected = {
        "input": module.input.weight[kept],
        "branch": module.branch.weight[kept][:, kept],
        "norm": module.norm.running_var[kept],
        "output": module.output.weight[:, kept],
    }
    X = torch.randn(20, 10, dtype=torch.float64)
    module.eval()
    with torch.no_grad():
        before = module(X)
    report = compact_module(module, X)
    assert report["hidden_units"] == {"input": (16, 13)}
    for name, tensor in expected.items():
        layer = getattr(module, name)
        held = layer.running_var if name == "norm" else layer.weight
        torch.testing.assert_close(held, tensor.detach(), rtol=0, atol=0)
    assert module.norm.num_features == 13 and module.skip.weight.shape == (13, 13)
    with torch.no_grad():
        torch.testing.assert_close(module(X), before, rtol=0, atol=1e-6)


def test_compact_module_removes_units_from_every_head():
    torch.manual_seed(0)
    module = TwoHeads().double()
    with torch.no_grad():
        module.first.weight[:, :5] = 0  # unit 4 is still read by the second
        module.second.weight[:, :4] = 0
    X = torch.randn(20, 10, dtype=torch.float64)
    with torch.no_grad():
        before = module(X)
    report = compact_module(module, X, sparse=True)
    assert report["hidden_units"] == {"hidden": (24, 20)}
    assert module.first.in_features == module.second.in_features == 20
    with torch.no_grad():
        torch.testing.assert_close(module(X), before, rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", ["l1_structured", "distinctiveness"])
@pytest.mark.parametrize("make_module", [ResidualBlock, TwoHeads])
def test_structured_pruning_of_shared_units_compacts_to_the_same_predictions(
    make_module, method
):
    X, y = blobs(n_samples=100)
    callback = PruningCallback(0.5, method=method, schedule="once", start_epoch=1)
    net = make_net(callback, max_epochs=2, module=make_module()).fit(X, y)
    module = net.module_.double().eval()
    if make_module is TwoHeads:
        name, writers, readers = (
            "hidden",
            [module.hidden],
            [module.first, module.second],
        )
    else:
        name = "input"
        writers = [module.input, module.branch, module.skip]
        readers = [module.branch, module.skip, module.output]
    assert net.history[-1, f"units_{name}"] == writers[0].out_features // 2
    pruned = (readers[0].weight == 0).all(dim=0)
    for layer in readers:  # a unit is pruned from every reader at once
        assert torch.equal((layer.weight == 0).all(dim=0), pruned)
    for layer in writers:  # and from every writer, bias included
        assert bool((layer.weight[pruned] == 0).all())
        assert bool((layer.bias[pruned] == 0).all())
    X = torch.as_tensor(X, dtype=torch.float64)
    with torch.no_grad():
        masked = module(X)
    compact_module(module, X)
    assert readers[-1].in_features == int((~pruned).sum())
    with torch.no_grad():
        torch.testing.assert_close(module(X), masked, rtol=0, atol=1e-6)


def test_l1_structured_ranks_a_shared_unit_by_all_its_incoming_weights():
    torch.manual_seed(0)
    module = ResidualBlock()
    with torch.no_grad():
        for layer in (module.input, module.branch, module.skip):
            layer.weight.uniform_(0.5, 1.0)
        module.input.weight[:3] = 0.01  # smallest in input alone, yet
        module.skip.weight[:3] = 10.0  # largest over all three writers
        module.branch.weight[3:7] = 0.01  # smallest over all three writers
    norms = sum(
        layer.weight.abs().sum(dim=1)
        for layer in (module.input, module.branch, module.skip)
    )
    expected = set(torch.argsort(norms)[:4].tolist())
    assert expected == {3, 4, 5, 6}
    callback = PruningCallback(
        0.25, method="l1_structured", schedule="once", start_epoch=1
    )
    net = make_net(callback, max_epochs=1, module=module, lr=0.0)
    net.fit(*blobs())
    pruned = (module.output.weight == 0).all(dim=0).nonzero().ravel().tolist()
    assert set(pruned) == expected


def test_distinctiveness_folds_a_twin_unit_into_every_head():
    torch.manual_seed(0)
    module = TwoHeads()
    with torch.no_grad():
        module.hidden.weight[1] = 2 * module.hidden.weight[0]  # relu(2x) = 2 relu(x)
        module.hidden.bias[1] = 2 * module.hidden.bias[0]
    X, y = blobs()
    with torch.no_grad():
        before = module(torch.as_tensor(X))
    callback = PruningCallback(
        1 / 24, method="distinctiveness", schedule="once", start_epoch=1
    )
    make_net(callback, max_epochs=1, module=module, lr=0.0).fit(X, y)
    removed = (module.first.weight == 0).all(dim=0).nonzero().ravel().tolist()
    assert removed in ([0], [1])
    with torch.no_grad():
        torch.testing.assert_close(module(torch.as_tensor(X)), before)


class ReturnsResidualSum(ResidualBlock):
    def forward(self, X):
        hidden = torch.relu(self.input(X))
        return self.output(hidden), hidden + self.branch(hidden)


RESIDUAL_REFUSALS = [
    (
        lambda: ResidualBlock(nn.LayerNorm(16)),
        r"layer 'input': its units reach LayerNorm 'norm', which does not act",
    ),
    (
        lambda: ResidualBlock(nn.GroupNorm(4, 16)),
        r"layer 'input': its units reach GroupNorm 'norm'",
    ),
    (ReturnsResidualSum, r"layer 'input': its units reach the module's output"),
]


@pytest.mark.parametrize("make_module, reason", RESIDUAL_REFUSALS)
def test_units_added_across_a_norm_or_returned_are_refused(make_module, reason):
    torch.manual_seed(0)
    module = make_module()
    with torch.no_grad():
        module.output.weight[:, :4] = 0
    state = copy.deepcopy(module.state_dict())
    with pytest.raises(ValueError, match=reason):
        compact_module(module, torch.randn(5, 10))
    for name, tensor in module.state_dict().items():
        torch.testing.assert_close(tensor, state[name], rtol=0, atol=0)
    X, y = blobs()
    callback = PruningCallback(0.5, method="l1_structured", schedule="once")
    with pytest.raises(ValueError, match=reason):
        make_net(callback, max_epochs=1, module=module).fit(X, y)


def fifth_dense_module():
    """A module whose first layer keeps a fifth of its weights, the last all."""
    torch.manual_seed(0)
    module = mlp(hidden=8)
    with torch.no_grad():
        module[0].weight[:, 2:] = 0
    return module


def density_seconds(layer, batch):
    """Stand-in timing: a CSR product takes the layer's density, dense 0.5."""
    if isinstance(layer, SparseLinear):
        return layer.weight.values().numel() / (layer.in_features * layer.out_features)
    return 0.5


@pytest.mark.parametrize("csr_faster", [True, False])
def test_compact_module_auto_follows_the_measured_times(monkeypatch, csr_faster):
    module = fifth_dense_module()
    X = torch.as_tensor(blobs(n_samples=7)[0])
    with torch.no_grad():
        before = module(X)
    timed = []

    def seconds(layer, batch):
        timed.append((type(layer), tuple(batch.shape)))
        return 1.0 if isinstance(layer, SparseLinear) == csr_faster else 2.0

    monkeypatch.setattr("fuzzyprune._pruning._run_seconds", seconds)
    report = compact_module(module, X, sparse="auto")
    assert [type(module[0]), type(module[2])] == [
        SparseLinear if csr_faster else nn.Linear
    ] * 2
    # Each layer's two products in turn, on as many rows as X has, three
    # times: three runs of 1 and 2 seconds exceed the time budget.
    assert (
        timed
        == [(nn.Linear, (7, 10)), (SparseLinear, (7, 10))] * 3
        + [
            (nn.Linear, (7, 8)),
            (SparseLinear, (7, 8)),
        ]
        * 3
    )
    assert report["timing_rows"] == 7
    csr_seconds, dense_seconds = (1.0, 2.0) if csr_faster else (2.0, 1.0)
    assert report["timings"] == {
        "0": {
            "density": 0.2,
            "dense_seconds": dense_seconds,
            "csr_seconds": csr_seconds,
            "csr": csr_faster,
        },
        "2": {
            "density": 1.0,
            "dense_seconds": dense_seconds,
            "csr_seconds": csr_seconds,
            "csr": csr_faster,
        },
    }
    with torch.no_grad():
        torch.testing.assert_close(module(X), before, rtol=1e-5, atol=1e-5)


def test_compact_module_auto_chooses_per_layer(monkeypatch):
    module = fifth_dense_module()
    monkeypatch.setattr("fuzzyprune._pruning._run_seconds", density_seconds)
    report = compact_module(module, sparse="auto")
    # Only the layer a fifth dense is faster as CSR (0.2 s against 0.5 s).
    assert [type(module[0]), type(module[2])] == [SparseLinear, nn.Linear]
    assert [timing["csr"] for timing in report["timings"].values()] == [True, False]
    assert report["timing_rows"] == 100


def test_compact_module_auto_times_a_shared_weight_once(monkeypatch):
    torch.manual_seed(0)
    module = SharedHeads()
    with torch.no_grad():
        module.first.weight[:, 1:] = 0
    monkeypatch.setattr("fuzzyprune._pruning._run_seconds", density_seconds)
    report = compact_module(module, torch.randn(5, 10), sparse="auto")
    assert list(report["timings"]) == ["first"]
    assert module.alias is module.first and type(module.second) is SparseLinear
    assert module.second.weight is module.first.weight


class Clock:
    """Stand-in for time.perf_counter: each timed run takes the next duration."""

    def __init__(self, durations):
        self.durations = list(durations)
        self.now = 0.0
        self.started = False

    def perf_counter(self):
        if self.started:
            self.now += self.durations.pop(0)
        self.started = not self.started
        return self.now


@pytest.mark.parametrize(
    "dense, csr, rounds",
    [
        # Fast runs: five rounds, the best of each product counts.
        ([1.5e-3, 5e-4, 1e-3, 2e-3, 2.5e-3], [1e-3, 3e-3, 3.5e-3, 4e-3, 2.5e-4], 5),
        # Slow runs: three rounds, then none past the time budget.
        ([0.5, 0.2, 0.3, 9.0, 9.0], [0.1, 0.4, 0.4, 9.0, 9.0], 3),
        ([0.5, 0.05, 0.3], [0.1, 0.4, 0.4], 3),
    ],
)
def test_timed_products_take_the_best_of_alternate_runs(
    monkeypatch, dense, csr, rounds
):
    from fuzzyprune import _pruning

    # The products alternate: dense, CSR, dense, CSR...
    clock = Clock(
        [seconds for pair in zip(dense, csr, strict=True) for seconds in pair]
    )
    monkeypatch.setattr(_pruning, "time", clock)
    timing = _pruning._timed_products(nn.Linear(3, 2), rows=4)
    # The warm-up runs are not timed, and later rounds not run.
    assert len(clock.durations) == 2 * (len(dense) - rounds)
    assert timing["dense_seconds"] == pytest.approx(min(dense[:rounds]))
    assert timing["csr_seconds"] == pytest.approx(min(csr[:rounds]))
    assert timing["csr"] == (min(csr[:rounds]) < min(dense[:rounds]))


@pytest.mark.parametrize("sparse", ["fast", "Auto", 1, None])
def test_compact_module_refuses_other_sparse_values(sparse):
    module = fifth_dense_module()
    state = copy.deepcopy(module.state_dict())
    with pytest.raises((TypeError, ValueError), match="'sparse' parameter"):
        compact_module(module, sparse=sparse)
    for name, tensor in module.state_dict().items():
        torch.testing.assert_close(tensor, state[name], rtol=0, atol=0)


@pytest.mark.parametrize("sparse", [False, True])
def test_compact_module_reports_timings_only_for_auto(sparse):
    report = compact_module(fifth_dense_module(), sparse=sparse)
    assert set(report) == {"bytes_before", "bytes_after", "bytes_saved", "hidden_units"}
    timed = compact_module(fifth_dense_module(), sparse="auto")
    assert set(timed) == set(report) | {"timing_rows", "timings"}
    for timing in timed["timings"].values():
        assert timing["dense_seconds"] > 0 and timing["csr_seconds"] > 0
        assert timing["csr"] == (timing["csr_seconds"] < timing["dense_seconds"])


def test_parameters_set_between_trainings_are_checked_before_the_next():
    # skorch initializes a callback before setting new parameters on it: a
    # bad value is refused when the next training begins, and a good one
    # set after it is taken.
    X = np.random.default_rng(0).normal(size=(200, 8)).astype("float32")
    y = (X[:, 0] > 0).astype("int64")
    module = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)
    )
    net = NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        callbacks=[("pruning", PruningCallback(amount=0.5))],
        train_split=None,
        verbose=0,
    ).fit(X, y)
    net.set_params(callbacks__pruning__amount=5.0)
    with pytest.raises(ValueError, match="'amount' parameter of PruningCallback"):
        net.partial_fit(X, y)
    assert len(net.history) == 2
    net.set_params(callbacks__pruning__amount=0.75)
    net.partial_fit(X, y)  # max_epochs more epochs
    assert len(net.history) == 4
    assert net.history[-1, "sparsity"] == pytest.approx(0.75, abs=0.01)


def test_scheduled_targets_take_any_zero_dimensional_real_and_name_the_call():
    from fuzzyprune._pruning import _scheduled_target

    for value in (0.3, np.float32(0.3), torch.tensor(0.3), np.array(0.3)):
        assert _scheduled_target(lambda epoch, value=value: value, 1) == pytest.approx(
            0.3
        )
    for value in ("0.3", True, [0.3], torch.tensor([0.3]), 1 + 0j):
        with pytest.raises(TypeError, match=r"schedule\(2\) returned"):
            _scheduled_target(lambda epoch, value=value: value, 2)

    def raising(epoch):
        raise RuntimeError("boom")

    # An error inside the schedule keeps its type, noted with the call.
    with pytest.raises(RuntimeError, match="boom") as error:
        _scheduled_target(raising, 3)
    assert "raised by schedule(3)" in error.value.__notes__[0]
    with pytest.raises(TypeError, match="has no len") as error:
        _scheduled_target(len, 4)  # one argument, a TypeError of its own
    assert "raised by schedule(4)" in error.value.__notes__[0]


@pytest.mark.parametrize("shape", [(7,), (3, 7), (2, 5, 7)])
def test_sparse_linear_takes_inputs_of_any_leading_shape_as_linear(shape):
    from fuzzyprune._pruning import SparseLinear

    linear = torch.nn.Linear(7, 4)
    with torch.no_grad():
        linear.weight[:, :5] = 0
    sparse = SparseLinear(linear)
    input = torch.randn(shape)
    torch.testing.assert_close(sparse(input), linear(input))


class PerPosition(torch.nn.Module):
    """A perceptron applied to each of 5 positions, then averaged."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Linear(4, 12)
        self.head = torch.nn.Linear(12, 2)

    def forward(self, X):
        hidden = torch.relu(self.embed(X.view(X.shape[0], 5, 4)))
        return self.head(hidden).mean(dim=1)


@pytest.mark.parametrize("method", ["l1_structured", "distinctiveness"])
def test_structured_pruning_of_a_layer_applied_along_a_sequence(method):
    # Each position is a row of the units' activations; compaction, dense
    # or CSR, keeps the outputs.
    X = np.random.default_rng(0).normal(size=(60, 20)).astype("float32")
    y = (X[:, 0] > 0).astype("int64")
    net = make_net(
        PruningCallback(0.5, method=method), module=PerPosition(), max_epochs=3
    ).fit(X, y)
    assert net.history[-1, "units_embed"] == 6
    module = net.module_
    expected = module(torch.from_numpy(X)).detach()
    compact_module(module, X[:2], sparse=True)
    torch.testing.assert_close(module(torch.from_numpy(X)).detach(), expected)


class InPlaceResidual(torch.nn.Module):
    """A residual block written in place: ``h += branch(relu(h))``."""

    def __init__(self, style):
        super().__init__()
        self.style = style
        self.inp = torch.nn.Linear(10, 16)
        self.branch = torch.nn.Linear(16, 16)
        self.out = torch.nn.Linear(16, 2)

    def forward(self, X):
        h = self.inp(X)
        if self.style == "+=":
            h += self.branch(torch.relu(h))
        else:
            h.add_(self.branch(torch.relu(h))).mul_(0.5)
        return self.out(torch.relu(h))


@pytest.mark.parametrize("style", ["+=", "add_"])
@pytest.mark.parametrize("method", ["l1_structured", "distinctiveness"])
def test_residual_additions_in_place_are_pruned_and_compacted_exactly(method, style):
    X = np.random.default_rng(0).normal(size=(200, 10)).astype("float32")
    y = (X[:, 0] > 0).astype("int64")
    net = make_net(
        PruningCallback(0.5, method=method),
        module=InPlaceResidual(style),
        max_epochs=3,
    ).fit(X, y)
    module = net.module_.double()
    rows = torch.from_numpy(X).double()
    expected = module(rows).detach()
    report = compact_module(module, X[:2].astype("float64"))
    # The units of inp and branch, added together, went as one group.
    assert report["hidden_units"] == {"inp": (16, 8)}
    assert module.branch.out_features == module.branch.in_features == 8
    torch.testing.assert_close(module(rows).detach(), expected, rtol=0, atol=1e-12)


class ElementwiseMix(torch.nn.Module):
    """Hidden units through powers, roots, logs, a detached copy, and a
    tensor of one value."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(6, 8)
        self.output = torch.nn.Linear(8, 3)

    def forward(self, X):
        h = self.hidden(X)
        h = h**2 + torch.sqrt(h.abs() + 1) - torch.log1p(h.abs()) + h.sin()
        return self.output(h.detach() * torch.tensor([0.5], dtype=h.dtype))


def test_element_wise_functions_let_units_be_compacted_exactly():
    module = ElementwiseMix().double()
    with torch.no_grad():
        module.output.weight[:, [1, 4, 6]] = 0  # three units no one reads
    X = torch.randn(30, 6, dtype=torch.float64)
    expected = module(X)
    report = compact_module(module, X[:2])
    assert report["hidden_units"] == {"hidden": (8, 5)}
    torch.testing.assert_close(module(X), expected, rtol=0, atol=1e-12)


class NormalisedLater(torch.nn.Module):
    """inp -> ReLU -> mid -> LayerNorm -> ReLU -> out: mid's units mix."""

    def __init__(self):
        super().__init__()
        self.inp = torch.nn.Linear(6, 8)
        self.mid = torch.nn.Linear(8, 8)
        self.norm = torch.nn.LayerNorm(8)
        self.out = torch.nn.Linear(8, 2)

    def forward(self, X):
        return self.out(torch.relu(self.norm(self.mid(torch.relu(self.inp(X))))))


def test_compact_module_compacts_the_named_layers_alone():
    module = NormalisedLater().double()
    with torch.no_grad():
        module.mid.weight[:, :3] = 0  # three units of inp that mid reads not
        module.out.weight[:, :6] = 0  # mid's units cannot go: LayerNorm mixes
    X = torch.randn(20, 6, dtype=torch.float64)
    expected = module(X)
    before = copy.deepcopy(module.state_dict())
    with pytest.raises(ValueError, match="layer 'mid'.*Name the layers"):
        compact_module(module, X[:2])
    for name, tensor in module.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    report = compact_module(module, X[:2], layers=["inp"])
    assert report["hidden_units"] == {"inp": (8, 5)}
    assert module.mid.weight.shape == (8, 5)
    torch.testing.assert_close(module(X), expected, rtol=0, atol=1e-12)
    # No group at all: the CSR storage alone, wherever units mix.
    report = compact_module(module, X[:2], sparse=True, layers=[])
    assert report["hidden_units"] == {}
    assert module.out.weight.layout == torch.sparse_csr
    with pytest.raises(ValueError, match=r"\['nope'\] name no Linear layer"):
        compact_module(module, X[:2], layers=["nope"])


class TwoInputs(torch.nn.Module):
    """Two inputs, each through its own layer, added unit by unit."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(5, 8)
        self.b = torch.nn.Linear(3, 8)
        self.out = torch.nn.Linear(8, 2)

    def forward(self, xa, xb):
        return self.out(torch.relu(self.a(xa)) + torch.relu(self.b(xb)))


def test_compact_module_takes_a_dict_of_inputs_as_skorch_passes_them():
    module = TwoInputs().double()
    with torch.no_grad():
        module.out.weight[:, [0, 5]] = 0
    rng = np.random.default_rng(0)
    X = {"xa": rng.normal(size=(20, 5)), "xb": rng.normal(size=(20, 3))}
    tensors = {name: torch.from_numpy(values) for name, values in X.items()}
    expected = module(**tensors)
    report = compact_module(module, X, sparse="auto")
    assert report["hidden_units"] == {"a": (8, 6)}
    assert report["timing_rows"] == 20
    torch.testing.assert_close(module(**tensors), expected, rtol=0, atol=1e-12)


class ScaledByOwnParameter(torch.nn.Module):
    """Hidden units times a parameter of the module itself, one per unit."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(4, 6)
        self.output = torch.nn.Linear(6, 2)
        self.gain = torch.nn.Parameter(torch.ones(6))

    def forward(self, X):
        return self.output(torch.relu(self.hidden(X)) * self.gain)


def test_refusal_names_the_operation_on_the_modules_own_parameter():
    with pytest.raises(ValueError, match=r"mul\(\) reading 'gain'"):
        compact_module(ScaledByOwnParameter())


def test_refusal_without_removable_layers_advises_unstructured_pruning():
    module = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.LayerNorm(6), torch.nn.Linear(6, 2)
    )
    X = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    y = (X[:, 0] > 0).astype("int64")
    net = make_net(PruningCallback(0.5, method="l1_structured"), module=module)
    with pytest.raises(ValueError, match="No layer's units can be removed here"):
        net.fit(X, y)
