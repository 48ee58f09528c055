"""Pruning of the Linear layers of any skorch net, as a skorch callback."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from skorch.callbacks import Callback
from torch import nn

METHODS = ("l1_unstructured", "l1_structured", "distinctiveness")
SCHEDULES = ("per_epoch", "gradual", "once")
PRUNE_ON = ("epoch_begin", "epoch_end")


class PruningCallback(Callback):
    """Prune the Linear layers of a skorch net while it trains.

    At each epoch of the schedule the callback prunes the difference between
    the sparsity reached and the schedule's target for that epoch, at the
    beginning of the epoch or, with ``prune_on="epoch_end"``, once the
    epoch's training is over; it keeps the pruned weights at exactly zero
    after every optimizer step. Either way the epoch's validation happens on
    the pruned net. Parameters stay plain tensors throughout: no
    ``weight_orig``, no forward hooks, unchanged ``state_dict`` keys, so the
    net pickles, deep-copies, clones and checkpoints as an unpruned one, and
    the zeros are its only trace. A later ``partial_fit`` resumes from those
    zeros and keeps them.

    Parameters
    ----------
    amount : float, default=0.5
        With ``schedule="per_epoch"``, the fraction of the remaining weights
        (or hidden units) pruned at each epoch; otherwise the final fraction
        of weights (or hidden units) pruned. In [0, 1).

    method : {"l1_unstructured", "l1_structured", "distinctiveness"}, \
            default="l1_unstructured"
        - ``"l1_unstructured"``: the weights of smallest magnitude, ranked
          globally over all pruned layers;
        - ``"l1_structured"``: whole hidden units, those whose incoming
          weights have the smallest L1 norm in their layer; a unit's
          incoming weights, bias and outgoing weights are zeroed;
        - ``"distinctiveness"``: whole hidden units whose activations over
          the training data are most nearly a linear function of another
          unit's (near-duplicate or near-opposite directions) or constant;
          their outgoing weights are folded into that twin (or into the next
          layer's bias) before they are removed, so the net's output barely
          changes.

        Hidden units are the outputs of a Linear layer that feed the next
        Linear layer of the module (in order of registration) through an
        element-wise activation, as in a multilayer perceptron.

    schedule : {"per_epoch", "gradual", "once"}, default="gradual"
        - ``"per_epoch"``: prune ``amount`` of what remains at every epoch
          from ``start_epoch`` to ``end_epoch``; after ``k`` epochs the
          sparsity is ``1 - (1 - amount) ** k``;
        - ``"gradual"``: raise the sparsity along the cubic ramp of Zhu and
          Gupta, ``amount * (1 - (1 - p) ** 3)`` with ``p`` going from
          ``1 / n`` to 1 over the ``n`` epochs from ``start_epoch`` to
          ``end_epoch``;
        - ``"once"``: prune ``amount`` at ``start_epoch``, then fine-tune.

    start_epoch : int, default=None
        First epoch (counted from 1, as ``net.history``) that prunes.
        ``None`` means 1 for ``"per_epoch"`` and, for the other schedules,
        the epoch after the first quarter of ``max_epochs``.

    end_epoch : int, default=None
        Last epoch that prunes. ``None`` means no end for ``"per_epoch"``
        and the end of the third quarter of ``max_epochs`` for
        ``"gradual"``, leaving the last quarter to fine-tune.

    layers : list of str, default=None
        Names (as in ``module.named_modules()``) of the Linear layers whose
        weights are pruned; for the structured methods, the layers whose
        output units are pruned. ``None`` means all Linear layers (all
        hidden layers for the structured methods). Biases are never pruned
        by ``"l1_unstructured"``.

    min_layer_density : float, default=0.0
        Fraction of every layer's weights (or hidden units) kept whatever the
        global ranking says, so that no layer can be emptied. In [0, 1].

    n_activation_samples : int, default=2000
        Training samples, evenly spaced, whose hidden activations measure
        the distinctiveness of units.

    prune_on : {"epoch_begin", "epoch_end"}, default="epoch_begin"
        When, within each pruning epoch, the pruning step happens:

        - ``"epoch_begin"``: before the epoch's training, so the epoch
          trains the pruned net; with ``schedule="per_epoch"`` the first
          step prunes the initial, untrained weights;
        - ``"epoch_end"``: after the epoch's training and before its
          validation (at its first validation batch, or at the end of the
          epoch when there is none), so the step ranks the weights the epoch
          has just trained. This is the order of the study that
          :class:`~fuzzyprune.PrunedMLPClassifier` follows [3]_: train an
          epoch, then prune. Weights pruned at the end of the last epoch are
          not trained further.

        The schedule's targets are the same: after the step of epoch ``k``
        the sparsity is the target for epoch ``k``.

    Attributes
    ----------
    masks_ : dict of str to Tensor or None
        During training, for each pruned layer, the mask (1 kept, 0 pruned)
        of its weight, in the weight's dtype and device. ``None`` outside
        training: the masks are the zeros of the weights.

    structure_ : object or None
        During training, the Linear layers being pruned and the pairs of
        layers around hidden units. ``None`` outside training.

    active_masks_ : list of (Tensor, Tensor) or None
        During training, the tensors that hold pruned entries, each with its
        mask. ``None`` outside training.

    sparsity_ : float
        Fraction of the pruned layers' weights that are zero after the last
        epoch.

    step_due_ : bool
        With ``prune_on="epoch_end"``, whether the current epoch's pruning
        step is still to come: set when the epoch begins, cleared when the
        step has run.

    dataset_train_ : Dataset or None
        While the step is due, the epoch's training data, from which
        ``method="distinctiveness"`` reads activations. ``None`` otherwise.

    Notes
    -----
    Each epoch records in ``net.history``, when its pruning step runs:
    ``sparsity`` (over all pruned layers), ``sparsity_<layer>`` per pruned
    layer and, for the structured methods, ``units_<layer>``, the hidden
    units kept; skorch's printed log shows them. Both settings of
    ``prune_on`` record the same sparsity for each epoch, and the epoch's
    validation scores (``valid_loss``, ``valid_acc``) always describe the
    net with that sparsity, the one kept. ``train_loss`` averages the
    epoch's training batches, which with ``"epoch_end"`` ran at the previous
    epoch's sparsity. Without validation data, ``"epoch_end"`` prunes in
    ``on_epoch_end``: callbacks listed after this one (a ``Checkpoint``, for
    instance) see the pruned net, those listed before it the unpruned one.

    See Also
    --------
    fuzzyprune.PrunedMLPClassifier : A classifier that trains and prunes a
        one-hidden-layer perceptron with this callback.

    References
    ----------
    .. [1] M. Zhu and S. Gupta, "To prune, or not to prune: exploring the
       efficacy of pruning for model compression", ICLR workshop, 2018.
    .. [2] T. D. Gedeon and D. Harris, "Network reduction techniques",
       Proceedings of the International Conference on Neural Networks
       Methodologies and Applications, 1991.
    .. [3] A. C. Nara, "Image Classification Using Network Pruning and
       Clustering Techniques", Australian National University, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from fuzzyprune import PruningCallback
    >>> X = np.random.default_rng(0).normal(size=(200, 8)).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> module = torch.nn.Sequential(
    ...     torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    >>> net = NeuralNetClassifier(
    ...     module, criterion=torch.nn.CrossEntropyLoss, max_epochs=4,
    ...     callbacks=[PruningCallback(amount=0.5)], train_split=None,
    ...     verbose=0).fit(X, y)
    >>> net.history[-1, "sparsity"]
    0.5
    >>> float((module[0].weight == 0).float().mean()) > 0
    True
    """

    _parameter_constraints: dict = {
        "amount": [Interval(Real, 0, 1, closed="left")],
        "method": [StrOptions(set(METHODS))],
        "schedule": [StrOptions(set(SCHEDULES))],
        "start_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "end_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "layers": [list, tuple, None],
        "min_layer_density": [Interval(Real, 0, 1, closed="both")],
        "n_activation_samples": [Interval(Integral, 2, None, closed="left")],
        "prune_on": [StrOptions(set(PRUNE_ON))],
    }

    def __init__(
        self,
        amount=0.5,
        method="l1_unstructured",
        schedule="gradual",
        start_epoch=None,
        end_epoch=None,
        layers=None,
        min_layer_density=0.0,
        n_activation_samples=2000,
        prune_on="epoch_begin",
    ):
        self.amount = amount
        self.method = method
        self.schedule = schedule
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.layers = layers
        self.min_layer_density = min_layer_density
        self.n_activation_samples = n_activation_samples
        self.prune_on = prune_on

    def initialize(self):
        """Check the parameters; called by skorch when the net initializes."""
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )
        self.masks_ = None
        self.structure_ = None
        self.active_masks_ = None
        self.sparsity_ = 0.0
        self.step_due_ = False
        self.dataset_train_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Find the layers to prune and take their masks from their zeros."""
        self._check_epochs(net.max_epochs)
        self.structure_ = _PrunableStructure(net.module_, self.layers, self.method)
        self.masks_ = {
            name: (layer.weight != 0).to(layer.weight.dtype)
            for name, layer in self.structure_.weighted.items()
        }
        self._collect_active_masks()
        self.step_due_ = False
        self.dataset_train_ = None

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        """Prune now, or once the epoch's training is over."""
        if self.prune_on == "epoch_begin":
            self._step(net, dataset_train)
        else:
            self.step_due_ = True
            self.dataset_train_ = dataset_train

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        """Prune before the first validation batch when the step is due."""
        # The first validation batch is the only hook skorch calls between
        # the last optimizer step of an epoch and its validation.
        if not training and self.step_due_:
            self._step(net, self.dataset_train_)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        """Zero the pruned weights again after the optimizer moved them."""
        if training:
            with torch.no_grad():
                self._apply_masks()

    def on_epoch_end(self, net, **kwargs):
        """Prune now if the step is still due: the epoch had no validation."""
        if self.step_due_:
            self._step(net, self.dataset_train_)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Drop the masks: the weights' zeros hold them from now on."""
        self.masks_ = None
        self.structure_ = None
        self.active_masks_ = None
        self.step_due_ = False
        self.dataset_train_ = None

    def _step(self, net, dataset_train):
        """Prune up to this epoch's target, then record the sparsity."""
        self.step_due_ = False
        self.dataset_train_ = None
        epoch = len(net.history)
        target = pruning_target(
            self.schedule,
            self.amount,
            epoch,
            *self._epoch_range(net.max_epochs),
        )
        with torch.no_grad():
            if target > self._pruned_fraction():
                self._prune(net, target, dataset_train)
                self._collect_active_masks()
            self._apply_masks()
        self._record(net.history)

    def _check_epochs(self, max_epochs):
        start, end = self._epoch_range(max_epochs)
        if end is not None and end < start:
            raise ValueError(
                f"end_epoch={self.end_epoch} must be at least the first pruning "
                f"epoch, {start}."
            )

    def _epoch_range(self, max_epochs):
        """First and last pruning epochs (``None``: no last one)."""
        start = self.start_epoch
        if start is None:
            start = 1 if self.schedule == "per_epoch" else max_epochs // 4 + 1
        end = self.end_epoch
        if end is None and self.schedule == "gradual":
            end = max(start, math.ceil(3 * max_epochs / 4))
        return start, end

    def _pruned_fraction(self):
        """Fraction of weights (or hidden units) pruned so far."""
        if self.method == "l1_unstructured":
            return self.structure_.weight_sparsity(self.masks_)
        return self.structure_.unit_sparsity(self.masks_)

    def _prune(self, net, target, dataset_train):
        if self.method == "l1_unstructured":
            prune_global_l1(
                self.structure_.weighted,
                self.masks_,
                target,
                self.min_layer_density,
            )
        elif self.method == "l1_structured":
            for pair in self.structure_.hidden:
                prune_units_l1(pair, self.masks_, target, self.min_layer_density)
        else:
            activations = hidden_activations(
                net, dataset_train, self.structure_.hidden, self.n_activation_samples
            )
            for pair in self.structure_.hidden:
                prune_units_distinctiveness(
                    pair,
                    self.masks_,
                    activations[pair.source_name],
                    target,
                    self.min_layer_density,
                )

    def _collect_active_masks(self):
        """Pair each tensor that has pruned entries with its mask.

        Only these are masked after each optimizer step; biases only by the
        structured methods, which remove their units.
        """
        active = [
            (layer.weight, self.masks_[name])
            for name, layer in self.structure_.weighted.items()
            if not bool(self.masks_[name].all())
        ]
        if self.method != "l1_unstructured":
            for pair in self.structure_.hidden:
                units = pair.kept_units(self.masks_)
                if pair.source.bias is not None and not bool(units.all()):
                    active.append((pair.source.bias, units))
        self.active_masks_ = active

    def _apply_masks(self):
        for tensor, mask in self.active_masks_:
            tensor.mul_(mask)

    def _record(self, history):
        self.sparsity_ = self.structure_.weight_sparsity(self.masks_)
        history.record("sparsity", self.sparsity_)
        for name, mask in self.masks_.items():
            history.record(f"sparsity_{name}", 1.0 - float(mask.mean()))
        if self.method != "l1_unstructured":
            for pair in self.structure_.hidden:
                units = int(pair.kept_units(self.masks_).sum())
                history.record(f"units_{pair.source_name}", units)


def pruning_target(schedule, amount, epoch, start, end):
    """Fraction pruned by the end of ``epoch``'s pruning step."""
    if epoch < start:
        return 0.0
    if schedule == "once":
        return amount
    last = epoch if end is None else min(epoch, end)
    n_steps = last - start + 1
    if schedule == "per_epoch":
        return 1.0 - (1.0 - amount) ** n_steps
    progress = n_steps / (end - start + 1)
    return amount * (1.0 - (1.0 - progress) ** 3)


class _HiddenPair:
    """A Linear layer whose output units feed the next Linear layer."""

    def __init__(self, source_name, source, target_name, target):
        self.source_name, self.source = source_name, source
        self.target_name, self.target = target_name, target

    def kept_units(self, masks):
        """Mask of the units whose outgoing weights are not all pruned."""
        return (masks[self.target_name] != 0).any(dim=0).to(masks[self.target_name])

    def remove_units(self, masks, units):
        masks[self.source_name][units, :] = 0
        masks[self.target_name][:, units] = 0


def _linear_layers(module):
    return [
        (name, layer)
        for name, layer in module.named_modules()
        if isinstance(layer, nn.Linear)
    ]


def _hidden_pairs(linear):
    """Pair each Linear layer with the next when its outputs feed that one."""
    return [
        _HiddenPair(source_name, source, target_name, target)
        for (source_name, source), (target_name, target) in zip(
            linear[:-1], linear[1:], strict=True
        )
        if source.out_features == target.in_features
    ]


class _PrunableStructure:
    """The Linear layers of a module that a pruning method acts on."""

    def __init__(self, module, layer_names, method):
        linear = _linear_layers(module)
        if layer_names is not None:
            unknown = set(layer_names) - {name for name, _ in linear}
            if unknown:
                raise ValueError(
                    f"layers={sorted(unknown)} are not Linear layers of the "
                    f"module; its Linear layers are {[name for name, _ in linear]}."
                )
        self.hidden = [
            pair
            for pair in _hidden_pairs(linear)
            if layer_names is None or pair.source_name in layer_names
        ]
        if method == "l1_unstructured":
            self.weighted = {
                name: layer
                for name, layer in linear
                if layer_names is None or name in layer_names
            }
        else:
            self.weighted = {}
            for pair in self.hidden:
                self.weighted[pair.source_name] = pair.source
                self.weighted[pair.target_name] = pair.target
        if not self.weighted or (method != "l1_unstructured" and not self.hidden):
            kind = "Linear" if method == "l1_unstructured" else "hidden Linear"
            raise ValueError(f"method={method!r} found no {kind} layers to prune.")

    def weight_sparsity(self, masks):
        zeros = sum(float((mask == 0).sum()) for mask in masks.values())
        return zeros / sum(mask.numel() for mask in masks.values())

    def unit_sparsity(self, masks):
        kept = sum(float(pair.kept_units(masks).sum()) for pair in self.hidden)
        return 1.0 - kept / sum(pair.source.out_features for pair in self.hidden)


def _n_to_prune(n_total, n_pruned, target, min_density):
    """How many more of ``n_total`` units to prune to reach ``target``.

    A layer keeps at least one unit, or it would cut the network in two.
    """
    most = n_total - max(1, math.ceil(min_density * n_total))
    return max(0, min(round(target * n_total), most) - n_pruned)


def smallest(values, k):
    """Find the ``k`` smallest entries of a 1-D tensor (ties by position).

    A selection by ``kthvalue`` is several times faster than ``topk`` for the
    millions of weights of a layer.
    """
    if k <= 0:
        return torch.empty(0, dtype=torch.long, device=values.device)
    if k >= len(values):
        return torch.arange(len(values), device=values.device)
    threshold = torch.kthvalue(values, k).values
    below = torch.nonzero(values < threshold).squeeze(1)
    ties = torch.nonzero(values == threshold).squeeze(1)[: k - len(below)]
    return torch.cat([below, ties])


def prune_global_l1(layers, masks, target, min_density):
    """Zero the smallest remaining weights, ranked over all layers at once.

    Each layer keeps at least ``min_density`` of its weights: a layer whose
    share of the global ranking would exceed its allowance gets only the
    allowance, and the rest is ranked again among the other layers.
    """
    n_total = sum(mask.numel() for mask in masks.values())
    n_pruned = sum(int((mask == 0).sum()) for mask in masks.values())
    n_prune = round(target * n_total) - n_pruned
    allowance = {
        name: mask.numel()
        - math.ceil(min_density * mask.numel())
        - int((mask == 0).sum())
        for name, mask in masks.items()
    }
    open_layers = [name for name in layers if allowance[name] > 0]
    while n_prune > 0 and open_layers:
        magnitudes = [
            layers[name].weight.abs().masked_fill(masks[name] == 0, math.inf).ravel()
            for name in open_layers
        ]
        n_prune = min(n_prune, sum(allowance[name] for name in open_layers))
        chosen = smallest(torch.cat(magnitudes), n_prune)
        offsets = np.cumsum([0] + [len(m) for m in magnitudes])
        counts = torch.bucketize(chosen, torch.as_tensor(offsets[1:]), right=True)
        counts = torch.bincount(counts, minlength=len(open_layers))
        over = [
            name
            for name, count in zip(open_layers, counts.tolist(), strict=True)
            if count > allowance[name]
        ]
        if not over:
            for name, start, stop in zip(
                open_layers, offsets[:-1], offsets[1:], strict=True
            ):
                picked = chosen[(chosen >= start) & (chosen < stop)] - start
                masks[name].view(-1)[picked] = 0
            return
        for name in over:
            index = open_layers.index(name)
            masks[name].view(-1)[smallest(magnitudes[index], allowance[name])] = 0
            n_prune -= allowance[name]
            allowance[name] = 0
        open_layers = [name for name in open_layers if allowance[name] > 0]


def prune_units_l1(pair, masks, target, min_density):
    """Remove the hidden units of smallest incoming L1 norm."""
    kept = pair.kept_units(masks)
    n_units = len(kept)
    n_prune = _n_to_prune(n_units, n_units - int(kept.sum()), target, min_density)
    if n_prune == 0:
        return
    norms = pair.source.weight.abs().sum(dim=1).masked_fill(kept == 0, math.inf)
    pair.remove_units(masks, smallest(norms, n_prune))


def hidden_activations(net, dataset, pairs, n_samples):
    """Record the inputs of each pair's target layer on some training rows."""
    from torch.utils.data import Subset

    rows = np.linspace(0, len(dataset) - 1, min(n_samples, len(dataset)))
    subset = Subset(dataset, np.unique(rows.round().astype(int)).tolist())
    captured = {pair.source_name: [] for pair in pairs}
    hooks = [
        pair.target.register_forward_pre_hook(
            lambda _, inputs, name=pair.source_name: captured[name].append(
                inputs[0].detach()
            )
        )
        for pair in pairs
    ]
    training = net.module_.training
    net.module_.eval()
    try:
        for batch in net.get_iterator(subset, training=False):
            net.infer(batch[0])
    finally:
        for hook in hooks:
            hook.remove()
        net.module_.train(training)
    return {name: torch.cat(parts) for name, parts in captured.items()}


def prune_units_distinctiveness(pair, masks, activations, target, min_density):
    """Remove the least distinct hidden units, folding them into a twin.

    A unit whose centred activations are (nearly) a multiple ``alpha`` of
    another kept unit's is replaced by that unit: its outgoing weights,
    scaled by ``alpha``, are added to the twin's, and the difference of
    their means to the next layer's bias. A unit of constant activation is
    folded into the bias alone. Units go in order of decreasing absolute
    cosine with their closest twin, constant units first.
    """
    kept = pair.kept_units(masks).bool()
    n_units = len(kept)
    n_prune = _n_to_prune(n_units, n_units - int(kept.sum()), target, min_density)
    if n_prune == 0:
        return
    activations = activations.double()
    means = activations.mean(dim=0)
    centred = activations - means
    norms = centred.norm(dim=0)
    constant = norms <= 1e-6 * max(float(norms.max()), 1e-300)
    direction = centred / torch.where(constant, 1.0, norms)
    cosines = direction.T @ direction
    cosines.fill_diagonal_(0)
    cosines[:, ~kept | constant] = 0
    similarity = cosines.abs()
    similarity.fill_diagonal_(-1.0)
    similarity[constant] = 2.0  # constants go first
    similarity[~kept] = -1.0
    similarity[:, ~kept] = -1.0
    weights = pair.target.weight
    bias = pair.target.bias
    for _ in range(n_prune):
        unit = int(similarity.max(dim=1).values.argmax())
        outgoing = weights[:, unit].double()
        if constant[unit]:
            shift = outgoing * means[unit]
        else:
            twin = int(similarity[unit].argmax())
            alpha = cosines[unit, twin] * norms[unit] / norms[twin]
            weights[:, twin] += (alpha * outgoing).to(weights.dtype)
            shift = outgoing * (means[unit] - alpha * means[twin])
        if bias is not None:
            bias += shift.to(bias.dtype)
        pair.remove_units(masks, [unit])
        similarity[unit] = -1.0
        similarity[:, unit] = -1.0
        cosines[:, unit] = 0


class SparseLinear(nn.Module):
    """A Linear layer for inference whose weight is a sparse CSR tensor.

    The product is computed as ``weight @ input.T``, so the input is read in
    feature-major order, in which the sparse kernel is fastest; the output
    is returned as a transposed view, which the next ``SparseLinear`` reads
    without a copy.
    """

    def __init__(self, linear):
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        with warnings.catch_warnings():
            # torch calls its sparse CSR support a beta; what is used here works.
            warnings.filterwarnings("ignore", "Sparse CSR tensor support")
            weight = linear.weight.detach().to_sparse_csr()
            # 32-bit indices take half the memory, and MKL's kernels take them.
            weight = torch.sparse_csr_tensor(
                weight.crow_indices().int(),
                weight.col_indices().int(),
                weight.values(),
                weight.shape,
                check_invariants=True,
            )
        self.register_buffer("weight", weight)
        bias = None if linear.bias is None else linear.bias.detach().clone()
        self.register_buffer("bias", bias)

    def forward(self, input):
        """Apply the layer to a batch of shape (n_samples, in_features)."""
        output = self.weight @ input.T.contiguous()
        if self.bias is not None:
            output += self.bias[:, None]
        return output.T

    def extra_repr(self):
        """Describe the layer as ``nn.Linear`` does, with its density."""
        density = self.weight.values().numel() / (self.in_features * self.out_features)
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, density={density:.3f}"
        )


def _tensor_bytes(tensor):
    if tensor.layout == torch.sparse_csr:
        parts = (tensor.values(), tensor.crow_indices(), tensor.col_indices())
        return sum(part.numel() * part.element_size() for part in parts)
    return tensor.numel() * tensor.element_size()


def module_bytes(module):
    """Bytes held by a module's parameters and buffers."""
    tensors = [*module.parameters(), *module.buffers()]
    return sum(_tensor_bytes(tensor) for tensor in tensors)


def compact_module(module, *, sparse=False):
    """Shrink a pruned module: drop dead hidden units, optionally go sparse.

    A hidden unit (an output of a Linear layer that feeds the next Linear
    layer through an element-wise activation) whose outgoing weights are all
    zero contributes nothing; its row of the first layer, its bias and its
    column of the second are removed, which makes both layers smaller dense
    layers and leaves the module's outputs unchanged. With ``sparse=True``,
    every Linear layer whose weight takes less memory in CSR form (fewer than
    about half its weights non-zero) is then replaced by a
    :class:`SparseLinear`, for inference only.

    Parameters
    ----------
    module : torch.nn.Module
        The module, changed in place.

    sparse : bool, default=False
        Whether to store weights with zeros in CSR form.

    Returns
    -------
    report : dict
        ``bytes_before`` and ``bytes_after`` (parameters and buffers),
        ``bytes_saved``, and ``hidden_units``: for each hidden layer, the
        number of units before and after.

    See Also
    --------
    PruningCallback : Prunes the weights or units that this removes.

    Examples
    --------
    >>> import torch
    >>> from fuzzyprune import compact_module
    >>> module = torch.nn.Sequential(
    ...     torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    >>> with torch.no_grad():
    ...     module[2].weight[:, :3] = 0  # units 0-2 feed nothing
    >>> compact_module(module)["hidden_units"]
    {'0': (6, 3)}
    >>> module[0]
    Linear(in_features=4, out_features=3, bias=True)
    """
    bytes_before = module_bytes(module)
    linear = _linear_layers(module)
    hidden_units = {}
    for pair in _hidden_pairs(linear):
        alive = (pair.target.weight.detach() != 0).any(dim=0)
        hidden_units[pair.source_name] = (pair.source.out_features, int(alive.sum()))
        _drop_units(pair.source, pair.target, alive)
    if sparse:
        for name, layer in linear:
            if name and _smaller_as_csr(layer.weight):
                parent, _, child = name.rpartition(".")
                setattr(module.get_submodule(parent), child, SparseLinear(layer))
    bytes_after = module_bytes(module)
    return {
        "bytes_before": bytes_before,
        "bytes_after": bytes_after,
        "bytes_saved": bytes_before - bytes_after,
        "hidden_units": hidden_units,
    }


def _smaller_as_csr(weight):
    """Whether CSR with 32-bit indices takes less memory than dense."""
    n_nonzero = int((weight != 0).sum())
    csr_bytes = n_nonzero * (weight.element_size() + 4) + 4 * (len(weight) + 1)
    return csr_bytes < weight.numel() * weight.element_size()


def _drop_units(source, target, alive):
    with torch.no_grad():
        source.weight = nn.Parameter(source.weight[alive].clone())
        if source.bias is not None:
            source.bias = nn.Parameter(source.bias[alive].clone())
        target.weight = nn.Parameter(target.weight[:, alive].clone())
    source.out_features = target.in_features = int(alive.sum())
