import copy
import os
import pickle
import stat
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from torch import nn

from fuzzyprune import (
    SKOPS_TRUSTED_TYPES,
    FuzzyCMeans,
    GAFeatureSelector,
    PrunedMLPClassifier,
)

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
sio = pytest.importorskip("skops.io")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(n_class=4, return_X_y=True)
    return (X / 16).astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(data):
    """A network pruned to 90 %, as fitted, compacted and compacted sparse."""
    X, y = data
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    clf = PrunedMLPClassifier(
        hidden_size=16, amount=0.9, max_epochs=3, random_state=0
    ).fit(X, labels)
    return {
        "dense": clf,
        "compact": copy.deepcopy(clf).compact(),
        "sparse": copy.deepcopy(clf).compact(sparse=True),
    }


def run_onnx(path, X):
    session = onnxruntime.InferenceSession(path)
    return session.run(["label", "probabilities"], {"X": X})


@pytest.mark.parametrize("kind", ["dense", "compact", "sparse"])
def test_onnx_predicts_as_the_classifier(fitted, data, tmp_path, kind):
    clf, (X, _) = fitted[kind], data
    clf.to_onnx(tmp_path / "model.onnx")
    for rows in (X[:1], X):  # the batch axis is dynamic
        label, proba = run_onnx(tmp_path / "model.onnx", rows)
        assert proba.dtype == np.float32 and proba.shape == (len(rows), 4)
        np.testing.assert_allclose(proba, clf.predict_proba(rows), atol=1e-5)
        np.testing.assert_array_equal(label, clf.predict(rows))
    assert len(set(clf.predict(X))) > 1  # the comparison tells classes apart


def test_onnx_stores_sparse_layers_as_their_non_zeros(fitted, tmp_path):
    for kind in ("compact", "sparse"):
        fitted[kind].to_onnx(tmp_path / f"{kind}.onnx")
    model = onnx.load(tmp_path / "sparse.onnx")
    (constant,) = [node for node in model.graph.node if node.op_type == "Constant"]
    sparse = constant.attribute[0].sparse_tensor
    hidden = fitted["sparse"].net_.module_.hidden
    assert list(sparse.dims) == [hidden.out_features, hidden.in_features]
    assert sparse.values.dims == [hidden.weight.values().numel()]
    assert hidden.weight.values().numel() < hidden.in_features * hidden.out_features / 3
    size = {
        kind: (tmp_path / f"{kind}.onnx").stat().st_size
        for kind in ("compact", "sparse")
    }
    assert size["sparse"] < size["compact"] / 2


def test_onnx_of_a_network_without_hidden_units(fitted, data, tmp_path):
    X, _ = data
    clf = copy.deepcopy(fitted["dense"])
    with torch.no_grad():
        clf.net_.module_.output.weight.zero_()
    clf.compact(sparse=True)
    assert clf.net_.module_.hidden.out_features == 0
    clf.to_onnx(tmp_path / "model.onnx")
    label, proba = run_onnx(tmp_path / "model.onnx", X)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(label, clf.predict(X))


@pytest.mark.parametrize(
    "labels",
    [np.array([3, 5, 7, 9]), np.array([-1.0, 0.0, 2.0, 4.0]), [10, 20, 30, 40]],
)
def test_onnx_labels_keep_their_dtype(data, tmp_path, labels):
    X, y = data
    classes = np.asarray(labels, dtype=np.int32 if isinstance(labels, list) else None)
    clf = PrunedMLPClassifier(max_epochs=1, random_state=0).fit(X, classes[y])
    clf.to_onnx(tmp_path / "model.onnx")
    label, _ = run_onnx(tmp_path / "model.onnx", X)
    assert label.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(label, clf.predict(X))


def test_to_onnx_refusals_write_nothing(fitted, tmp_path):
    with pytest.raises(NotFittedError):
        PrunedMLPClassifier().to_onnx(tmp_path / "model.onnx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fitted["dense"].to_onnx(tmp_path / "missing" / "model.onnx")
    with pytest.raises(TypeError, match="path must be"):
        fitted["dense"].to_onnx(3)
    assert list(tmp_path.iterdir()) == []


def test_to_onnx_refuses_an_unknown_operation_and_keeps_the_old_file(fitted, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous")
    clf = copy.deepcopy(fitted["compact"])
    clf.net_.module_.activation = nn.Tanh()
    with pytest.raises(ValueError, match="cannot translate .*activation"):
        clf.to_onnx(path)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_to_onnx_names_the_extra_when_onnx_is_missing(fitted, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "fuzzyprune\[onnx\]"'):
        fitted["dense"].to_onnx(tmp_path / "model.onnx")


@pytest.fixture(scope="module")
def estimators(data, fitted):
    X, y = data
    return {
        **fitted,
        # Its own validation split keeps a skorch ValidSplit in the net.
        "validated": PrunedMLPClassifier(
            hidden_size=8, max_epochs=2, validation_fraction=0.2, random_state=0
        ).fit(X, y),
        "fcm": FuzzyCMeans(4, random_state=0).fit(X),
        "fcm_polynomial": FuzzyCMeans(4, fuzzifier="polynomial", random_state=0).fit(X),
        "ga": GAFeatureSelector(
            FuzzyCMeans(4, random_state=0),
            population_size=4,
            n_generations=1,
            random_state=0,
        ).fit(X[:100, :16]),
    }


def test_skops_needs_exactly_the_documented_types(estimators):
    needed = set()
    for estimator in estimators.values():
        needed.update(sio.get_untrusted_types(data=sio.dumps(estimator)))
    assert needed == set(SKOPS_TRUSTED_TYPES)
    assert not any(name.startswith(("builtins.", "functools.")) for name in needed)


@pytest.mark.parametrize("name", ["dense", "sparse", "validated", "fcm", "ga"])
def test_skops_round_trip_with_the_documented_types(estimators, data, name):
    X, _ = data
    estimator = estimators[name]
    loaded = sio.loads(sio.dumps(estimator), trusted=list(SKOPS_TRUSTED_TYPES))
    if name == "ga":
        X = X[:, :16]
        np.testing.assert_array_equal(loaded.transform(X), estimator.transform(X))
    else:
        np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    if name in ("dense", "sparse", "validated"):
        np.testing.assert_array_equal(
            loaded.predict_proba(X), estimator.predict_proba(X)
        )


def test_saving_leaves_the_net_as_it_was_and_training_goes_on_alike(data):
    X, y = data
    clf = PrunedMLPClassifier(hidden_size=8, max_epochs=2, lr=0.05, random_state=0)
    clf.fit(X, y)
    before = {name: vars(cb).copy() for name, cb in clf.net_.callbacks_}
    loaded = sio.loads(sio.dumps(clf), trusted=list(SKOPS_TRUSTED_TYPES))
    assert {name: vars(cb) for name, cb in clf.net_.callbacks_} == before
    assert dict(clf.net_.callbacks_)["print_log"].sink is print
    assert dict(loaded.net_.callbacks_)["print_log"].sink is print
    # A new lr reaches Adam through the restored setters, with its state kept.
    for model in (clf, loaded):
        model.set_params(lr=0.01).partial_fit(X, y)
        assert model.net_.optimizer_.param_groups[0]["lr"] == 0.01
    for original, restored in zip(
        clf.net_.module_.parameters(), loaded.net_.module_.parameters(), strict=True
    ):
        np.testing.assert_array_equal(original.detach(), restored.detach())
    assert loaded.net_.history[:, "train_loss"] == clf.net_.history[:, "train_loss"]


@pytest.mark.slow
def test_loading_a_sparse_network_gives_no_beta_warning(fitted, tmp_path):
    # torch warns once per process: a fresh one shows whether loading warns.
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(fitted["sparse"]))
    sio.dump(fitted["sparse"], tmp_path / "model.skops")
    code = (
        "import pickle, skops.io, fuzzyprune\n"
        f"with open({str(tmp_path / 'model.pkl')!r}, 'rb') as file:\n"
        "    pickle.load(file)\n"
        f"skops.io.load({str(tmp_path / 'model.skops')!r}, "
        "trusted=list(fuzzyprune.SKOPS_TRUSTED_TYPES))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_onnx_file_is_written_as_a_plain_write_would(fitted, tmp_path):
    # Through a link the target is replaced, a file keeps its permissions,
    # a read-only one is refused, and errors name the path asked for.
    clf = fitted["dense"]
    target = tmp_path / "models" / "real.onnx"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o600)
    link = tmp_path / "latest.onnx"
    link.symlink_to(target)
    clf.to_onnx(link)
    assert link.is_symlink() and target.read_bytes() != b"old"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o400)
    if not os.access(target, os.W_OK):  # root writes anyway
        with pytest.raises(PermissionError, match="real.onnx"):
            clf.to_onnx(target)
    with pytest.raises(FileNotFoundError, match=r"'[^']*nowhere/clf.onnx'"):
        clf.to_onnx(tmp_path / "nowhere" / "clf.onnx")
