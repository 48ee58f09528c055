"""Saving fitted estimators: the types skops loads, and networks as ONNX graphs."""

import os
from pathlib import Path

import numpy as np

#: Types that :func:`skops.io.load` must trust to load any fitted estimator
#: of the library: ``skops.io.load(file, trusted=list(SKOPS_TRUSTED_TYPES))``.
#: One list for all: each estimator needs some of them, none needs more
#: unless it was given objects of other types (its own callbacks, a scorer).
SKOPS_TRUSTED_TYPES = (
    "fuzzyprune._fcm.FuzzyCMeans",
    "fuzzyprune._fuzzifiers.PolynomialFuzzifier",
    "fuzzyprune._fuzzifiers.PowerFuzzifier",
    "fuzzyprune._ga.GAFeatureSelector",
    "fuzzyprune._mlp.PrunedMLPClassifier",
    "fuzzyprune._pruning.PruningCallback",
    "skorch.callbacks.logging.EpochTimer",
    "skorch.callbacks.logging.PrintLog",
    "skorch.callbacks.scoring.EpochScoring",
    "skorch.callbacks.scoring.PassthroughScoring",
    "skorch.classifier.NeuralNetClassifier",
    "skorch.dataset.ValidSplit",
    "skorch.history.History",
)

# Opset 17 and IR version 8 (ONNX 1.12, 2022) hold every operator used here
# and load in onnxruntime 1.13 and later.
_OPSET = 17
_IR_VERSION = 8


def _import_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            'Exporting to ONNX needs the onnx package: pip install "fuzzyprune[onnx]"'
        ) from error
    return onnx


def check_onnx_path(path):
    """Return ``path`` as a Path, checking that its folder exists."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or a path-like object; got {path!r}.")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"The folder of path={str(path)!r}, {str(path.parent)!r}, does not exist."
        )
    if path.is_dir():
        raise IsADirectoryError(f"path={str(path)!r} is a folder; name a file.")
    return path


def write_onnx(module, n_features, classes, path):
    """Write a classifier network as an ONNX graph, atomically.

    The graph takes ``X``, float32 of shape (n_samples, ``n_features``),
    and returns ``label`` (the entries of ``classes``, of their dtype) and
    ``probabilities`` (float32, the softmax of the module's logits).

    Parameters
    ----------
    module : torch.nn.Module
        A network of ``Linear`` and ``SparseLinear`` layers and ReLU
        activations, returning one logit per class.

    n_features : int
        Width of the input.

    classes : ndarray of shape (n_classes,)
        The label of each logit.

    path : pathlib.Path
        The file written; its folder exists.

    Raises
    ------
    ImportError
        If the onnx package is not installed.

    ValueError
        If the module holds an operation other than those above.
    """
    onnx = _import_onnx()
    from .datasets import _replacing

    model = _classifier_model(onnx, module, n_features, classes)
    onnx.checker.check_model(model, full_check=True)
    with _replacing(path) as file:
        file.write(model.SerializeToString())


def _classifier_model(onnx, module, n_features, classes):
    helper = onnx.helper
    builder = _GraphBuilder(onnx)
    logits = builder.add_module(module, "X")
    classes = np.asarray(classes)
    if classes.dtype.kind == "U":  # onnx takes strings as Python objects
        classes = classes.astype(object)
    builder.dense_initializer("classes", classes)
    builder.nodes += [
        helper.make_node("Softmax", [logits], ["probabilities"], axis=1),
        # Of the probabilities, not the logits, as predict: ties break alike.
        helper.make_node("ArgMax", ["probabilities"], ["index"], axis=1, keepdims=0),
        helper.make_node("Gather", ["classes", "index"], ["label"], axis=0),
    ]
    label_type = helper.np_dtype_to_tensor_dtype(classes.dtype)
    float32 = onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        builder.nodes,
        type(module).__name__,
        inputs=[helper.make_tensor_value_info("X", float32, ["n_samples", n_features])],
        outputs=[
            helper.make_tensor_value_info("label", label_type, ["n_samples"]),
            helper.make_tensor_value_info(
                "probabilities", float32, ["n_samples", len(classes)]
            ),
        ],
        initializer=builder.initializers,
    )
    # Here, not at the top: the package imports this module before its version.
    from . import __version__

    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET)],
        ir_version=_IR_VERSION,
        producer_name="fuzzyprune",
        producer_version=__version__,
    )


class _GraphBuilder:
    """Translate the operations of a traced module into ONNX nodes."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes = []
        self.initializers = []

    def add_module(self, module, input_name):
        """Add the nodes of ``module`` applied to ``input_name``; name its output."""
        import torch

        from ._pruning import SparseLinear

        class Tracer(torch.fx.Tracer):
            # Its forward pass is sparse algebra; the layer is one Gemm.
            def is_leaf_module(self, layer, name):
                return isinstance(layer, SparseLinear) or super().is_leaf_module(
                    layer, name
                )

        values = {}
        for node in Tracer().trace(module).nodes:
            if node.op == "placeholder":
                values[node] = input_name
            elif node.op == "output":
                return values[node.args[0]]
            else:
                self._add_operation(module, node, values)
                values[node] = node.name
        raise AssertionError("a traced graph ends with its output")

    def _add_operation(self, module, node, values):
        """Add the ONNX node of ``node``, whose input names are in ``values``."""
        import torch
        import torch.nn.functional as F

        from ._pruning import SparseLinear

        layer = module.get_submodule(node.target) if node.op == "call_module" else None
        if len(node.args) == 1 and node.args[0] in values:
            source = values[node.args[0]]
            if isinstance(layer, torch.nn.Linear | SparseLinear):
                return self._add_linear(layer, node.target, source, node.name)
            if isinstance(layer, torch.nn.ReLU) or node.target in (F.relu, torch.relu):
                relu = self.onnx.helper.make_node("Relu", [source], [node.name])
                return self.nodes.append(relu)
        raise ValueError(
            f"to_onnx cannot translate the operation {node.format_node()}: the "
            "network may hold only Linear layers and ReLU activations."
        )

    def _add_linear(self, layer, name, input_name, output_name):
        inputs = [input_name, self._weight(layer, f"{name}.weight")]
        if layer.bias is not None:
            inputs.append(self.dense_initializer(f"{name}.bias", _array(layer.bias)))
        self.nodes.append(
            self.onnx.helper.make_node("Gemm", inputs, [output_name], transB=1)
        )

    def _weight(self, layer, name):
        """Add a layer's weight, sparse where that takes fewer bytes."""
        import torch

        weight = layer.weight.detach().cpu()
        if weight.layout != torch.sparse_csr:
            return self.dense_initializer(name, _array(weight))
        values = _array(weight.values())
        # A sparse constant stores a float32 value and an int64 index for each
        # non-zero, 12 bytes against 4 for each dense entry.
        if 3 * values.size >= weight.shape[0] * weight.shape[1]:
            return self.dense_initializer(name, _array(weight.to_dense()))
        row_lengths = np.diff(weight.crow_indices().numpy())
        rows = np.repeat(np.arange(weight.shape[0]), row_lengths)
        indices = rows * weight.shape[1] + weight.col_indices().numpy()
        numpy_helper = self.onnx.numpy_helper
        sparse = self.onnx.helper.make_sparse_tensor(
            numpy_helper.from_array(values, name),
            numpy_helper.from_array(indices.astype(np.int64), f"{name}.indices"),
            weight.shape,
        )
        # A Constant node, rather than a sparse initializer, outputs a dense
        # tensor, which type and shape inference follow through the Gemm.
        self.nodes.append(
            self.onnx.helper.make_node("Constant", [], [name], sparse_value=sparse)
        )
        return name

    def dense_initializer(self, name, array):
        """Add ``array`` as a constant named ``name``; return the name."""
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name


def _array(tensor):
    """Return a tensor's values as float32, the type of the graph's input."""
    return tensor.detach().cpu().float().numpy()
