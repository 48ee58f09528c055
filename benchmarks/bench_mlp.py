"""Pruned MLP training and prediction, side by side, at the paper's sizes.

The network is the original study's: 2048 inputs, 1024 hidden units (ReLU),
one output per vehicle identity, Adam with learning rate 0.01, batches of 100,
on Vehicle-X-shaped data. Three measurements, each printed as a table with
the goal it serves:

- *epoch*: seconds per training epoch of ``PrunedMLPClassifier`` (unpruned,
  pruned as the paper, pruned gradually) against a hand-written torch loop
  with the same module, optimizer and batch size; the hand loop is timed with
  torch's default Adam and with its fused Adam, which the classifier uses;
- *predict*: prediction time of the unpruned net against a net with half its
  hidden units removed by structured pruning and ``compact()``, and against
  one with 90 % of its weights removed and stored as CSR by
  ``compact(sparse=True)``, or by ``compact(sparse="auto")`` where timed
  faster; each also exported with ``to_onnx`` and run by onnxruntime (the
  ``onnx`` extra; skipped without it). Then two torch modules that are not
  the classifier's, trained by a skorch net with ``PruningCallback``
  removing half their hidden units, before and after ``compact_module``: a
  perceptron with ``BatchNorm1d`` after its hidden layer, and one whose
  hidden layer feeds two heads (identity and vehicle type);
- *full*: one epoch on all 77,516 samples, extrapolated to the paper's 100.

Run ``python benchmarks/bench_mlp.py``; ``--help`` lists the options.
"""

import argparse
import copy
import os
import platform
import tempfile
import time
import warnings

import numpy as np
import torch
from skorch import NeuralNetClassifier
from torch import nn

import fuzzyprune
from fuzzyprune import PrunedMLPClassifier, PruningCallback, compact_module
from fuzzyprune._mlp import MLPModule
from fuzzyprune._pruning import module_bytes
from fuzzyprune.datasets import make_vehicle_x


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def hand_written_epochs(X, y, hidden_size, epochs, fused):
    """The loop a torch user writes: shuffle, slice batches, step Adam."""
    torch.manual_seed(0)
    classes, targets = np.unique(y, return_inverse=True)
    module = MLPModule(X.shape[1], hidden_size, len(classes))
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01, fused=fused)
    criterion = nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(X), torch.from_numpy(targets)
    for _ in range(epochs):
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), 100):
            batch = order[start : start + 100]
            optimizer.zero_grad()
            loss = criterion(module(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
    return module


def classifier_epochs(X, y, hidden_size, epochs, **params):
    clf = PrunedMLPClassifier(hidden_size, max_epochs=epochs, random_state=0, **params)
    return clf.fit(X, y)


PAPER_PRUNING = {"amount": 0.2, "schedule": "per_epoch"}
TRAINING_RUNS = [
    (
        "hand-written torch loop, torch.optim.Adam",
        hand_written_epochs,
        {"fused": False},
    ),
    ("hand-written torch loop, Adam(fused=True)", hand_written_epochs, {"fused": True}),
    ("PrunedMLPClassifier(amount=0)", classifier_epochs, {"amount": 0.0}),
    (
        "PrunedMLPClassifier(amount=0.2, schedule='per_epoch')",
        classifier_epochs,
        PAPER_PRUNING,
    ),
    (
        "PrunedMLPClassifier(amount=0.5, schedule='gradual')",
        classifier_epochs,
        {"amount": 0.5, "schedule": "gradual", "start_epoch": 1},
    ),
]


def bench_epoch(X, y, args):
    seconds = {}
    for label, train, params in TRAINING_RUNS:
        train(X[:200], y[:200], args.hidden_size, 1, **params)  # warm-up
        seconds[label] = timed(train, X, y, args.hidden_size, args.epochs, **params)[1]
        seconds[label] /= args.epochs
    baseline = seconds[TRAINING_RUNS[0][0]]
    print(f"\n### Training: seconds per epoch on {len(X)} samples\n")
    print("| training | s/epoch | vs hand-written loop (Adam) |")
    print("|---|---:|---:|")
    for label, value in seconds.items():
        print(f"| {label} | {value:.3f} | {value / baseline:.2f}x |")
    pruned = seconds[TRAINING_RUNS[3][0]]
    fused = seconds[TRAINING_RUNS[1][0]]
    return [
        f"- pruned (paper) / hand-written loop s/epoch: {pruned / baseline:.2f} "
        "(goal <= 1.10)",
        f"- pruned (paper) / hand-written loop with fused Adam: {pruned / fused:.2f}",
    ]


def predict_time(predict, X, repeats):
    predict(X[:100])  # warm-up
    return min(timed(predict, X)[1] for _ in range(repeats))


def batch_time(module, X, repeats):
    batch = torch.from_numpy(X[:100])
    module.eval()
    with torch.inference_mode():
        module(batch)
        return min(timed(module, batch)[1] for _ in range(repeats * 20))


def onnx_predict_time(clf, X, repeats):
    """Seconds for onnxruntime to label X with the exported network, or None."""
    try:
        import onnxruntime
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "network.onnx")
        clf.to_onnx(path)
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    session.run(["label"], {"X": X[:100]})  # warm-up
    return min(timed(session.run, ["label"], {"X": X})[1] for _ in range(repeats))


def pruned_once(X, y, hidden_size, **params):
    """A net pruned at its first epoch: prediction cost needs no training."""
    return PrunedMLPClassifier(
        hidden_size,
        schedule="once",
        start_epoch=1,
        max_epochs=1,
        random_state=0,
        **params,
    ).fit(X, y)


class BatchNormMLP(nn.Module):
    """One hidden layer, batch-normalised before its ReLU."""

    def __init__(self, n_features, hidden_size, n_classes):
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden_size)
        self.norm = nn.BatchNorm1d(hidden_size)
        self.output = nn.Linear(hidden_size, n_classes)

    def forward(self, X):
        return self.output(torch.relu(self.norm(self.hidden(X))))


class TwoHeadMLP(nn.Module):
    """One hidden layer read by two heads: vehicle identity and vehicle type."""

    def __init__(self, n_features, hidden_size, n_classes, n_types):
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden_size)
        self.identity = nn.Linear(hidden_size, n_classes)
        self.vehicle_type = nn.Linear(hidden_size, n_types)

    def forward(self, X):
        hidden = torch.relu(self.hidden(X))
        return self.identity(hidden), self.vehicle_type(hidden)


class TwoHeadLoss(nn.Module):
    """Cross-entropy of both heads, the type read from the identity."""

    def __init__(self, type_of_identity):
        super().__init__()
        self.type_of_identity = type_of_identity

    def forward(self, outputs, identity):
        identity_logits, type_logits = outputs
        return nn.functional.cross_entropy(
            identity_logits, identity
        ) + nn.functional.cross_entropy(type_logits, self.type_of_identity[identity])


def structured_net(module, X, y, **params):
    """Train ``module`` one epoch, half its hidden units pruned at its start."""
    pruning = PruningCallback(
        0.5, method="l1_structured", schedule="once", start_epoch=1
    )
    net = NeuralNetClassifier(
        module,
        optimizer=torch.optim.Adam,
        lr=0.01,
        batch_size=100,
        max_epochs=1,
        train_split=None,
        callbacks=[("pruning", pruning)],
        verbose=0,
        **params,
    )
    return net.fit(X, y).module_.eval()


def module_scores(module, X):
    """The (first) output of ``module`` on X, in batches of 100."""
    with torch.inference_mode():
        outputs = [
            module(torch.from_numpy(X[start : start + 100]))
            for start in range(0, len(X), 100)
        ]
    return torch.cat(
        [output[0] if isinstance(output, tuple) else output for output in outputs]
    )


def module_predict(module, X):
    return module_scores(module, X).argmax(dim=1).numpy()


def module_rows(name, module, X_test, args):
    """Rows for ``module`` with its pruned units in place, then removed."""
    before = module_scores(module, X_test)
    rows = [module_row(f"{name}, 50 % of units pruned, dense", module, X_test, args)]
    report = compact_module(module, X_test[:100])
    torch.testing.assert_close(module_scores(module, X_test), before)
    units = ", ".join(
        f"{layer} {width} -> {kept}"
        for layer, (width, kept) in report["hidden_units"].items()
    )
    label = f"{name}, compact_module: {units} units"
    rows.append(module_row(label, module, X_test, args))
    return rows


def module_row(label, module, X_test, args):
    seconds = predict_time(lambda X: module_predict(module, X), X_test, args.repeats)
    batch = batch_time(module, X_test, args.repeats)
    return label, seconds, batch, module_bytes(module), None


def classifier_row(label, clf, X_test, args):
    seconds = predict_time(clf.predict, X_test, args.repeats)
    batch = batch_time(clf.net_.module_, X_test, args.repeats)
    onnx_seconds = onnx_predict_time(clf, X_test, args.repeats)
    return label, seconds, batch, module_bytes(clf.net_.module_), onnx_seconds


def auto_choice(compression):
    """The storage ``compact(sparse="auto")`` chose for each layer."""
    return ", ".join(
        f"{name} {'CSR' if timing['csr'] else 'dense'}"
        for name, timing in compression["timings"].items()
    )


def print_auto_timings(compression):
    rows = compression["timing_rows"]
    print(f"\ncompact(sparse='auto'): each layer's product on {rows} rows\n")
    print("| layer | density | dense ms | CSR ms | stored |")
    print("|---|---:|---:|---:|---|")
    for name, timing in compression["timings"].items():
        dense, csr = 1e3 * timing["dense_seconds"], 1e3 * timing["csr_seconds"]
        stored = "CSR" if timing["csr"] else "dense"
        print(
            f"| {name} | {timing['density']:.3f} | {dense:.3f} | {csr:.3f} | {stored} |"
        )


def bench_predict(X, y, vehicle_type, args):
    train = slice(0, args.predict_train_samples)
    X_train, y_train = X[train], y[train]
    X_test = X[-args.predict_samples :]
    unstructured = pruned_once(
        X_train, y_train, args.hidden_size, amount=0.9, min_layer_density=0.05
    )
    auto = copy.deepcopy(unstructured).compact(sparse="auto")
    nets = {
        "unpruned": pruned_once(X_train, y_train, args.hidden_size, amount=0.0),
        "l1_structured 50 % of units, compact()": pruned_once(
            X_train, y_train, args.hidden_size, amount=0.5, method="l1_structured"
        ).compact(),
        "l1_unstructured 90 % of weights, compact(sparse=True)": unstructured.compact(
            sparse=True
        ),
        "l1_unstructured 90 % of weights, compact(sparse='auto'): "
        f"{auto_choice(auto.compression_)}": auto,
    }
    classifier = [
        classifier_row(label, clf, X_test, args) for label, clf in nets.items()
    ]

    torch.manual_seed(0)
    # The classes of the training rows, numbered from 0.
    classes, identity = np.unique(y_train, return_inverse=True)
    types = np.zeros(len(classes), dtype=np.int64)
    types[identity] = vehicle_type[train]
    n_types = int(vehicle_type.max()) + 1
    batch_norm = structured_net(
        BatchNormMLP(X.shape[1], args.hidden_size, len(classes)),
        X_train,
        identity,
        criterion=nn.CrossEntropyLoss,
    )
    two_heads = structured_net(
        TwoHeadMLP(X.shape[1], args.hidden_size, len(classes), n_types),
        X_train,
        identity,
        criterion=TwoHeadLoss,
        criterion__type_of_identity=torch.from_numpy(types),
    )
    groups = [
        classifier,
        module_rows("BatchNorm MLP", batch_norm, X_test, args),
        module_rows("two-head MLP", two_heads, X_test, args),
    ]
    print(
        f"\n### Prediction: predict() on {len(X_test)} samples, "
        "and the module on one batch of 100\n"
    )
    print(
        "Speed-ups are against the first row of each network: the unpruned "
        "classifier, the modules with their pruned units still in place.\n"
    )
    print(
        "| network | predict s | speed-up | ms per batch | speed-up | MiB "
        "| onnxruntime s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for rows in groups:
        dense_seconds, dense_batch = rows[0][1], rows[0][2]
        for label, seconds, batch, size, onnx_seconds in rows:
            onnx_text = "-" if onnx_seconds is None else f"{onnx_seconds:.3f}"
            print(
                f"| {label} | {seconds:.3f} | {dense_seconds / seconds:.2f}x "
                f"| {1e3 * batch:.2f} | {dense_batch / batch:.2f}x "
                f"| {size / 2**20:.1f} | {onnx_text} |"
            )
    print_auto_timings(auto.compression_)
    dense_seconds = classifier[0][1]
    return [
        f"- structured 50 % + compact() predict speed-up: "
        f"{dense_seconds / classifier[1][1]:.2f}x (goal >= 1.6)",
        f"- unstructured 90 % as CSR predict speed-up: "
        f"{dense_seconds / classifier[2][1]:.2f}x (goal >= 2)",
        f"- unstructured 90 % with sparse='auto' predict speed-up: "
        f"{dense_seconds / classifier[3][1]:.2f}x",
        *(
            f"- {rows[-1][0]} predict speed-up: {rows[0][1] / rows[-1][1]:.2f}x"
            for rows in groups[1:]
        ),
    ]


def bench_full(X, y, args):
    print(f"\n### Full scale: one epoch on {len(X)} samples\n")
    print("| training | s/epoch | 100 epochs (extrapolated) |")
    print("|---|---:|---:|")
    goals = []
    for label, train, params in (TRAINING_RUNS[0], TRAINING_RUNS[3]):
        seconds = timed(train, X, y, args.hidden_size, 1, **params)[1]
        print(f"| {label} | {seconds:.1f} | {100 * seconds / 60:.0f} min |")
        goals.append(f"- {label}: {seconds:.1f} s per full epoch")
    return goals


SECTIONS = ("epoch", "predict", "full")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=77516)
    parser.add_argument("--n-features", type=int, default=2048)
    parser.add_argument("--hidden-size", type=int, default=1024)
    parser.add_argument("--n-vehicles", type=int, default=1362)
    parser.add_argument(
        "--epoch-samples", type=int, default=20000, help="rows for the epoch section"
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--predict-samples", type=int, default=10000)
    parser.add_argument("--predict-train-samples", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sections", nargs="*", default=SECTIONS, choices=SECTIONS)
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)

    # The figures in docs/benchmarks.md were measured on the separated data.
    data = make_vehicle_x(
        args.n_samples,
        n_vehicles=args.n_vehicles,
        n_features=args.n_features,
        random_state=0,
        structure="separated",
    )
    X, y = data.data, data.vehicle_id
    print(
        f"{X.shape[0]} x {X.shape[1]} float32, {len(np.unique(y))} vehicles, "
        f"hidden {args.hidden_size}; fuzzyprune {fuzzyprune.__version__}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    rows = np.random.default_rng(0).permutation(len(X))
    X, y, vehicle_type = X[rows], y[rows], data.type[rows]
    goals = []
    if "epoch" in args.sections:
        goals += bench_epoch(X[: args.epoch_samples], y[: args.epoch_samples], args)
    if "predict" in args.sections:
        goals += bench_predict(X, y, vehicle_type, args)
    if "full" in args.sections:
        goals += bench_full(X, y, args)
    print("\nGoals:")
    print("\n".join(goals))


if __name__ == "__main__":
    main()
