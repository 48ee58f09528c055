"""Pruning of the Linear layers of any skorch net, as a skorch callback."""

import copy
import functools
import inspect
import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from skorch.callbacks import Callback, LRScheduler
from torch import nn
from torch.overrides import TorchFunctionMode

from ._sklearn_compat import (
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from ._validation import Interval, external_stacklevel

METHODS = ("l1_unstructured", "l1_structured", "distinctiveness")
SCHEDULES = ("per_epoch", "gradual", "once")
PRUNE_ON = ("epoch_begin", "epoch_end")
REWINDS = ("weights", "learning_rate")


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

    A schedule starts with the first training after the callback is
    initialized: at ``net.initialize()`` (every ``fit`` without skorch's
    ``warm_start``), or when its parameters are set through
    ``net.set_params(callbacks__<name>__<parameter>=...)``. It starts from
    the sparsity the net has then, and its epochs are counted from 1 at its
    first epoch; ``partial_fit`` and warm-started ``fit`` calls continue it,
    so a training split into calls prunes as one would. Setting a parameter
    between trainings thus starts a new schedule: a raised ``amount`` with
    ``schedule="gradual"`` is reached along a new ramp, from the sparsity
    reached, over the epochs the defaults of ``start_epoch`` and
    ``end_epoch`` give for ``max_epochs``, not at once.

    Parameters
    ----------
    amount : float, default=0.5
        With ``schedule="per_epoch"``, the fraction of the remaining weights
        (or hidden units) pruned at each epoch; otherwise the final fraction
        of weights (or hidden units) pruned. In [0, 1). Pruning is never
        undone: pruned weights stay zero, so a schedule started on a net
        already pruned beyond ``amount`` (a lowered ``amount`` between
        trainings) keeps the sparsity reached, and warns unless the
        schedule is ``"per_epoch"``.

    method : {"l1_unstructured", "l1_structured", "distinctiveness"}, \
            default="l1_unstructured"
        - ``"l1_unstructured"``: the weights of smallest magnitude, ranked
          globally over all pruned layers;
        - ``"l1_structured"``: whole hidden units, those whose incoming
          weights have the smallest L1 norm in their layer (or group of
          layers, see below); a unit's incoming weights, bias and outgoing
          weights are zeroed;
        - ``"distinctiveness"``: whole hidden units whose activations over
          the training data are most nearly a linear function of another
          unit's (near-duplicate or near-opposite directions) or constant;
          their outgoing weights are folded into that twin (or into the next
          layer's bias) before they are removed, so the net's output barely
          changes. Units read by several layers are compared at each of
          them, and are as distinct as they are at the most distinct.

        Hidden units are the outputs of a Linear layer that reach later
        Linear layers (one, or several heads) only through per-unit
        operations (element-wise activations and arithmetic with scalars,
        tensors of one value or units of the same shape, copies and views of that
        shape, ``Dropout``, ``BatchNorm1d``, ``PReLU``), as in a multilayer
        perceptron. Units added unit by unit to another Linear layer's
        units, as a residual connection adds them (in place too, ``h +=
        branch(h)``), are one group of units
        with them: a unit of the group is pruned from every layer that
        writes it (its rows and biases, ranked by ``"l1_structured"`` by
        their L1 norm over all these layers) and from every layer that
        reads it (its columns). The operations of one forward pass on two
        training rows, in evaluation mode and recorded in the training
        thread only, tell which (a module whose forward pass takes other
        operations in training mode, such as a normalisation applied only
        when ``self.training``, is judged by its evaluation-mode
        operations). The structured methods refuse, before training, a
        forward pass that reads tensor values in Python (other data could
        run other operations) and a Linear layer (among ``layers``) whose
        outputs reach a later Linear layer in any other way: through
        ``LayerNorm`` or ``GroupNorm``, which normalise across units, a
        reduction, a concatenation or a reshape, an addition of a tensor
        that is not units of Linear layers (such as the module's input),
        into the module's output as well, a layer called twice, a parameter
        of a layer on the way read outside that layer's call (such as
        ``self.hidden.bias.mean()``), a parameter shared with another layer
        (tied weights) or a layer registered under several names.
        ``"l1_unstructured"`` works on any module; a weight tied between
        Linear layers is ranked and masked once, under the name of the
        first of them.

    schedule : {"per_epoch", "gradual", "once"} or callable, \
            default="gradual"
        - ``"per_epoch"``: prune ``amount`` of what remains at every epoch
          from ``start_epoch`` to ``end_epoch``; after ``k`` epochs the
          sparsity is ``1 - (1 - s0) * (1 - amount) ** k``;
        - ``"gradual"``: raise the sparsity along the cubic ramp of Zhu and
          Gupta, ``s0 + (amount - s0) * (1 - (1 - p) ** 3)`` with ``p``
          going from ``1 / n`` to 1 over the ``n`` epochs from
          ``start_epoch`` to ``end_epoch``, where ``s0`` is the sparsity at
          the schedule's start (0 for an unpruned net);
        - ``"once"``: prune ``amount`` at ``start_epoch``, then fine-tune;
        - a callable ``schedule(epoch)``: the target sparsity (a number in
          [0, 1)) after the pruning step of ``epoch``, counted as
          ``start_epoch`` is; ``amount`` is not used. It is called for the
          epochs from ``start_epoch`` to ``end_epoch`` (after
          ``end_epoch``, its target there holds), for those of each training
          when it begins, so that a bad value is refused before anything is
          trained, and again at each step: it should depend on ``epoch``
          alone. A target below the sparsity reached prunes nothing, since
          pruning is never undone. A net with a callable schedule pickles
          when the callable does (a function defined at a module's top
          level, not a lambda).

        A step that prunes something ends a round of iterative pruning:
        see ``rewind``.

    start_epoch : int, default=None
        First epoch of the schedule that prunes (counted from 1 at the
        schedule's first epoch, which for a fresh net is the first epoch of
        ``net.history``).
        ``None`` means 1 for ``"per_epoch"`` and a callable and, for the
        other schedules, the epoch after the first quarter of
        ``max_epochs``; with ``rewind``, never before the epoch after
        ``rewind_epoch``. A schedule is
        expected to run ``net.max_epochs`` epochs: when the training that
        completes them ends below the schedule's final target because its
        pruning epochs lie beyond them, it warns (see Warns).

    end_epoch : int, default=None
        Last epoch that prunes. ``None`` means no end for ``"per_epoch"``
        and a callable, and the end of the third quarter of ``max_epochs`` for
        ``"gradual"``, leaving the last quarter to fine-tune. Beyond
        ``net.max_epochs``, the ramp is cut short and training ends below
        ``amount``, with a warning.

    layers : list of str, default=None
        Names (as in ``module.named_modules()``) of the Linear layers whose
        weights are pruned; for the structured methods, the layers whose
        output units are pruned (a group of units that several layers write
        is pruned when one of them is named, and recorded under the name of
        the first of them to run). ``None`` means all Linear layers (all
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
          has just trained. This is the order of the original study [3]_
          (``fuzzyprune reproduce`` uses it): train an epoch, then prune.
          Weights pruned at the end of the last epoch are not trained
          further.

        The schedule's targets are the same: after the step of epoch ``k``
        the sparsity is the target for epoch ``k``.

    rewind : {"weights", "learning_rate"}, default=None
        Iterative magnitude pruning with rewinding: after each pruning step
        that prunes something, the training goes back to the rewind point,
        the end of the schedule's epoch ``rewind_epoch`` (with 0, its
        start), and the epochs up to the next step form one round.

        - ``"weights"``: weight rewinding [4]_ [5]_. The module's parameters
          and buffers (all of them, as the papers rewind the whole network,
          not only the pruned layers) are set back to their values at the
          rewind point, bit for bit, and the pruned weights to zero;
          ``rewind_epoch=0`` on a fresh net is the lottery ticket of
          Frankle and Carbin, the surviving weights at their initial
          values. The optimizer's state (Adam's moments and step counts)
          and learning rate, and the state of every skorch
          :class:`~skorch.callbacks.LRScheduler`, are set back with them,
          so each round replays the training from the rewind point, as a
          new training run started there does in the papers: moments
          accumulated at the end of a round describe the gradients of other
          weights, and would scale the first updates of the rewound ones
          wrongly.
        - ``"learning_rate"``: learning-rate rewinding [6]_. The weights
          and the optimizer's state are kept, and the learning-rate
          schedule is replayed from the rewind point: the optimizer's
          hyper-parameters (learning rate, and the momentum that some
          schedulers cycle) and the state of every ``LRScheduler`` callback
          are set back to theirs at the rewind point. Without an
          ``LRScheduler`` the learning rate is constant unless another
          callback changes it, so this rewinding changes nothing and
          retraining is plain fine-tuning; training then warns.
        - ``None``: no rewinding; training continues from the pruned
          weights.

        The weights are rewound within the pruning step, so the epoch's
        validation scores the rewound net. The optimizer and the
        schedulers are rewound when the next epoch begins (with
        ``prune_on="epoch_begin"``, the step's own epoch), after the
        schedulers have stepped at the end of the previous one, or when
        training ends: the first epoch of a round trains with the learning
        rate of epoch ``rewind_epoch + 1``. A skorch ``LRScheduler``
        rebuilds its schedule from the length of ``net.history`` at the
        start of each training, so a rewound learning rate lasts until the
        end of the training.

        The rewind point is copied (on the weights' devices, in their
        dtypes) when the schedule reaches it and dropped when the training
        ends, so a fitted net carries no copy. A later training that
        continues the schedule (``partial_fit``) past its rewind point
        therefore cannot rewind, and is refused before it trains while the
        schedule has pruning steps to come: prune with rewinding in one
        training, or start a new schedule (by setting a parameter of the
        callback), whose rewind point is then counted from its start.

    rewind_epoch : int, default=0
        Epoch of the schedule (counted as ``start_epoch`` is) whose end is
        the rewind point: 0 rewinds to the schedule's start, such as the
        initial weights, ``k > 0`` to the end of epoch ``k``, as in weight
        rewinding to an early epoch [5]_. It must come before the first
        pruning epoch. Not used without ``rewind``.

    Attributes
    ----------
    masks_ : dict of str to Tensor or None
        During training, for each pruned layer, the mask (1 kept, 0 pruned)
        of its weight, in the weight's dtype and device. ``None`` outside
        training: the masks are the zeros of the weights.

    structure_ : object or None
        During training, the Linear layers being pruned and the groups of
        layers that write and read hidden units. ``None`` outside
        training.

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

    schedule_start_ : int or None
        Epochs in ``net.history`` when the current schedule started;
        ``None`` until the first training after initialization.

    schedule_sparsity_ : float
        Fraction of weights (or hidden units) pruned when it started.

    train_start_ : int
        Epochs in ``net.history`` when the current training started.

    epochs_expected_ : int or None
        Epochs the next training runs, as announced by
        :meth:`expect_epochs`; ``None`` means ``net.max_epochs``.

    rewind_state_ : dict or None
        With ``rewind``, from the rewind point to the end of training, the
        copies that rewinding restores: ``"module"``, the module's state
        (``rewind="weights"`` only), ``"optimizers"``, each optimizer's
        state (or, with ``"learning_rate"``, its hyper-parameters), and
        ``"lr_schedulers"``, each ``LRScheduler`` callback with its
        scheduler's state. ``None`` otherwise.

    rewind_due_ : bool
        Whether the optimizers and schedulers are still to be rewound after
        the last pruning step.

    Raises
    ------
    ValueError
        When training begins, if a parameter is out of its range, the net
        has another ``PruningCallback`` (or this one twice: they would prune
        over each other and record a false sparsity), ``layers`` names no
        Linear layer of the module, or a structured method finds
        hidden units it cannot remove exactly, or a forward pass that reads
        tensor values (see ``method``); if ``rewind_epoch`` is not before
        the first pruning epoch, or a training continues a schedule with
        pruning steps to come past its rewind point; if a callable
        ``schedule`` returns a number outside [0, 1) for an epoch of the
        training.

    TypeError
        When training begins, if a callable ``schedule`` cannot be called
        with an epoch or returns something other than a number.

    Warns
    -----
    UserWarning
        When training ends with less pruned than the schedule's target for
        the training's expected last epoch: an ``EarlyStopping`` callback or
        an interrupt stopped it early, or ``min_layer_density`` (or the unit
        each hidden layer keeps) allows no more. Also when the training that
        completes the schedule's ``net.max_epochs`` epochs ends below the
        schedule's final target because ``start_epoch`` or ``end_epoch`` lie
        beyond them; when a ``"gradual"`` or ``"once"`` schedule starts
        with more already pruned than ``amount``; and when training begins
        with ``rewind="learning_rate"`` and no ``LRScheduler`` callback.

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
        multilayer perceptron with this callback.

    References
    ----------
    .. [1] M. Zhu and S. Gupta, "To prune, or not to prune: exploring the
       efficacy of pruning for model compression", ICLR workshop, 2018.
    .. [2] T. D. Gedeon and D. Harris, "Network reduction techniques",
       Proceedings of the International Conference on Neural Networks
       Methodologies and Applications, 1991.
    .. [3] A. C. Nara, "Image Classification Using Network Pruning and
       Clustering Techniques", Australian National University, 2021.
    .. [4] J. Frankle and M. Carbin, "The lottery ticket hypothesis: finding
       sparse, trainable neural networks", ICLR, 2019.
    .. [5] J. Frankle, G. K. Dziugaite, D. M. Roy and M. Carbin, "Linear
       mode connectivity and the lottery ticket hypothesis", ICML, 2020.
    .. [6] A. Renda, J. Frankle and M. Carbin, "Comparing rewinding and
       fine-tuning in neural network pruning", ICLR, 2020.

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

    Iterative magnitude pruning with rewinding to the initial weights (the
    lottery ticket): train two epochs, prune 20 % of the weights that
    remain, set the survivors back to their initial values, and repeat;
    after the last step (``end_epoch=6``), train the ticket found.

    >>> module = torch.nn.Sequential(
    ...     torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    >>> callback = PruningCallback(
    ...     schedule=lambda epoch: 1 - 0.8 ** (epoch // 2), end_epoch=6,
    ...     prune_on="epoch_end", rewind="weights")
    >>> net = NeuralNetClassifier(
    ...     module, criterion=torch.nn.CrossEntropyLoss, max_epochs=9,
    ...     callbacks=[callback], train_split=None, verbose=0).fit(X, y)
    >>> [round(s, 2) for s in net.history[:, "sparsity"]]
    [0.0, 0.2, 0.2, 0.36, 0.36, 0.49, 0.49, 0.49, 0.49]
    """

    _parameter_constraints: dict = {
        "amount": [Interval(Real, 0, 1, closed="left")],
        "method": [StrOptions(set(METHODS))],
        "schedule": [StrOptions(set(SCHEDULES)), callable],
        "start_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "end_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "layers": [list, tuple, None],
        "min_layer_density": [Interval(Real, 0, 1, closed="both")],
        "n_activation_samples": [Interval(Integral, 2, None, closed="left")],
        "prune_on": [StrOptions(set(PRUNE_ON))],
        "rewind": [StrOptions(set(REWINDS)), None],
        "rewind_epoch": [Interval(Integral, 0, None, closed="left")],
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
        rewind=None,
        rewind_epoch=0,
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
        self.rewind = rewind
        self.rewind_epoch = rewind_epoch

    def initialize(self):
        """Reset the schedule; called by skorch when the net initializes.

        The parameters are checked when training begins, not here: skorch
        initializes a callback before it sets new parameters on it, so a
        check here would see the old values (and refuse every later
        setting after a bad one).
        """
        self.masks_ = None
        self.structure_ = None
        self.active_masks_ = None
        self.sparsity_ = 0.0
        self.step_due_ = False
        self.dataset_train_ = None
        self.schedule_start_ = None
        self.schedule_sparsity_ = 0.0
        self.train_start_ = 0
        self.epochs_expected_ = None
        self.rewind_state_ = None
        self.rewind_due_ = False
        return self

    def expect_epochs(self, epochs):
        """Announce that the next training runs ``epochs`` epochs.

        Call it before ``net.partial_fit(X, y, epochs=epochs)``: a training
        is otherwise expected to run ``net.max_epochs`` epochs, and one that
        ends short of its expected epochs below the schedule's target for
        them warns.

        Parameters
        ----------
        epochs : int
            Epochs of the next training.

        Returns
        -------
        self : PruningCallback
            The callback.
        """
        self.epochs_expected_ = epochs
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Check the parameters, find the layers to prune, take their masks."""
        # Every training, partial_fit's included: parameters may have been
        # set since the last one.
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )
        _check_single_pruning(net)
        self._check_epochs(net.max_epochs)
        self._check_training(net)
        forward = None
        if self.method != "l1_unstructured":
            forward = _first_rows_forward(net, X, y)
        self.structure_ = _PrunableStructure(
            net.module_, self.layers, self.method, forward
        )
        self.masks_ = {
            name: (layer.weight != 0).to(layer.weight.dtype)
            for name, layer in self.structure_.weighted.items()
        }
        self._collect_active_masks()
        self.step_due_ = False
        self.dataset_train_ = None
        self.train_start_ = len(net.history)
        self.rewind_state_ = None
        self.rewind_due_ = False
        if self.schedule_start_ is None:
            # The first training since the callback was (re)initialized
            # starts the schedule, from the sparsity the net has.
            self.schedule_start_ = self.train_start_
            self.schedule_sparsity_ = self._pruned_fraction()
            self._warn_if_amount_below_reached()
        self._warn_if_learning_rate_constant(net)

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        """Prune now, or once the epoch's training is over."""
        self._copy_rewind_point(net)
        if self.prune_on == "epoch_begin":
            self._step(net, dataset_train)
        else:
            self.step_due_ = True
            self.dataset_train_ = dataset_train
        self._rewind_training_state(net)

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
        """Warn if pruning fell short, then drop the masks.

        The weights' zeros hold the masks from now on, and the rewind point,
        if any, is dropped once the optimizer is rewound to it.
        """
        self._warn_if_short(net)
        self._warn_if_ending_rewound(net)
        self._rewind_training_state(net)
        self.rewind_state_ = None
        self.epochs_expected_ = None
        self.masks_ = None
        self.structure_ = None
        self.active_masks_ = None
        self.step_due_ = False
        self.dataset_train_ = None

    def _step(self, net, dataset_train):
        """Prune up to this epoch's target, then record the sparsity."""
        self.step_due_ = False
        self.dataset_train_ = None
        target = self._target(len(net.history), net.max_epochs)
        with torch.no_grad():
            reached = self._pruned_fraction()
            if target > reached:
                self._prune(net, target, dataset_train)
                self._collect_active_masks()
                if self.rewind is not None and self._pruned_fraction() > reached:
                    self._rewind(net)
            self._apply_masks()
        self._record(net.history)

    def _copy_rewind_point(self, net):
        """Copy the state to rewind to when the epoch after it begins.

        Not at the end of the rewind epoch: learning-rate schedulers step
        then, possibly after this callback.
        """
        epoch = len(net.history) - self.schedule_start_
        if self.rewind is None or epoch != self.rewind_epoch + 1:
            return
        weights = self.rewind == "weights"
        self.rewind_state_ = {
            "module": _copy_state(net.module_) if weights else None,
            "optimizers": [
                copy.deepcopy(optimizer.state_dict())
                if weights
                else _hyperparameters(optimizer)
                for optimizer in _optimizers(net)
            ],
            "lr_schedulers": [
                (callback, copy.deepcopy(callback.lr_scheduler_.state_dict()))
                for callback in _lr_schedulers(net)
            ],
        }

    def _rewind(self, net):
        """Rewind after a step that pruned.

        The module now (the masks are applied next), the optimizers and
        schedulers when the next epoch begins or training ends.
        """
        self.rewind_due_ = True
        if self.rewind == "weights":
            state = net.module_.state_dict()
            for name, saved in self.rewind_state_["module"].items():
                state[name].copy_(saved)

    def _rewind_training_state(self, net):
        """Set the optimizers and LR schedulers back to the rewind point."""
        if not self.rewind_due_:
            return
        self.rewind_due_ = False
        saved = self.rewind_state_["optimizers"]
        for optimizer, state in zip(_optimizers(net), saved, strict=True):
            # Copies: the optimizer would otherwise update the saved tensors.
            if self.rewind == "weights":
                optimizer.load_state_dict(copy.deepcopy(state))
            else:
                for group, values in zip(optimizer.param_groups, state, strict=True):
                    group.update(copy.deepcopy(values))
        for callback, state in self.rewind_state_["lr_schedulers"]:
            callback.lr_scheduler_.load_state_dict(copy.deepcopy(state))

    def _target(self, epoch, max_epochs):
        """Return the schedule's target for the net's epoch ``epoch``."""
        return pruning_target(
            self.schedule,
            self.amount,
            epoch - self.schedule_start_,
            *self._epoch_range(max_epochs),
            initial=self.schedule_sparsity_,
        )

    def _warn_if_short(self, net):
        expected = self.epochs_expected_ or net.max_epochs
        train_end = self.train_start_ + expected - self.schedule_start_
        last = self._last_pruning_epoch(net.max_epochs, train_end)
        # The training that completes the schedule's max_epochs epochs is
        # answerable for all of it: pruning still due after it never runs.
        done_before = self.train_start_ - self.schedule_start_
        completes = done_before < net.max_epochs <= train_end
        epoch = max(train_end, last) if completes else train_end
        requested = self._target(self.schedule_start_ + epoch, net.max_epochs)
        reached = self._pruned_fraction()
        if reached >= requested - self.structure_.resolution(self.masks_):
            return
        n_run = len(net.history) - self.train_start_
        if n_run < expected:
            why = f"training stopped after {n_run} of its {expected} epochs"
        elif epoch > train_end:
            names = "start_epoch or end_epoch"
            settings = f"start_epoch={self.start_epoch}, end_epoch={self.end_epoch}"
            if self.rewind is not None:
                # rewind_epoch delays a default start_epoch past it.
                names = "start_epoch, end_epoch or rewind_epoch"
                settings += f", rewind_epoch={self.rewind_epoch}"
            why = (
                f"the schedule prunes until its epoch {last} ({settings}), after "
                f"its {train_end} epochs of training (max_epochs={net.max_epochs}); "
                f"lower {names}, or raise max_epochs"
            )
        else:
            why = (
                f"min_layer_density={self.min_layer_density} and the unit each "
                "hidden layer keeps allow no more"
            )
        kind = "weights" if self.method == "l1_unstructured" else "hidden units"
        warnings.warn(
            f"Pruning ended with a fraction {reached:.4g} of the {kind} pruned, "
            f"below the {requested:.4g} requested for the end of training "
            f"({self._schedule_text()}): {why}.",
            UserWarning,
            stacklevel=external_stacklevel(),
        )

    def _last_pruning_epoch(self, max_epochs, train_end):
        """Last epoch of the schedule that prunes (``train_end`` if none)."""
        start, end = self._epoch_range(max_epochs)
        if self.schedule == "once":
            return start
        return train_end if end is None else end

    def _schedule_text(self):
        if callable(self.schedule):
            return f"schedule={self.schedule!r}"  # amount is not used
        return f"amount={self.amount}, schedule={self.schedule!r}"

    def _warn_if_amount_below_reached(self):
        if self.schedule == "per_epoch" or callable(self.schedule):
            return  # amount is a fraction of what remains, or not used
        if self.amount < self.schedule_sparsity_ - self.structure_.resolution(
            self.masks_
        ):
            kind = "weights" if self.method == "l1_unstructured" else "hidden units"
            warnings.warn(
                f"amount={self.amount} is below the fraction "
                f"{self.schedule_sparsity_:.4g} of the {kind} already pruned; "
                "pruned weights stay zero, so the net keeps that sparsity.",
                UserWarning,
                stacklevel=external_stacklevel(),
            )

    def _check_epochs(self, max_epochs):
        start, end = self._epoch_range(max_epochs)
        if end is not None and end < start:
            raise ValueError(
                f"end_epoch={self.end_epoch} must be at least the first pruning "
                f"epoch, {start}."
            )
        if self.rewind is not None and self.rewind_epoch >= start:
            raise ValueError(
                f"rewind_epoch={self.rewind_epoch} must come before the first "
                f"pruning epoch, {start} (start_epoch={self.start_epoch}): each "
                "pruning step rewinds to the end of epoch rewind_epoch."
            )

    def _check_training(self, net):
        """Refuse a training that cannot follow the schedule, before it trains.

        A callable schedule is asked for the targets of the training's
        epochs; a training that continues the schedule past its rewind point
        has no copy of it left to rewind to.
        """
        done = 0
        if self.schedule_start_ is not None:
            done = len(net.history) - self.schedule_start_
        start, end = self._epoch_range(net.max_epochs)
        if callable(self.schedule):
            last = done + (self.epochs_expected_ or net.max_epochs)
            for epoch in range(max(start, done + 1), min(last, end or last) + 1):
                _scheduled_target(self.schedule, epoch)
        last_step = start if self.schedule == "once" else end
        steps_to_come = last_step is None or last_step > done
        if self.rewind is not None and done > self.rewind_epoch and steps_to_come:
            raise ValueError(
                f"rewind={self.rewind!r} cannot continue this schedule: its "
                f"rewind point, the end of its epoch {self.rewind_epoch}, was "
                f"passed in an earlier training ({done} epochs of the schedule "
                "are done) and a net keeps no copy of it between trainings, "
                "while the schedule has pruning steps to come. Prune with "
                "rewinding in one training (fit), or start a new schedule by "
                "changing a pruning parameter with set_params."
            )

    def _warn_if_ending_rewound(self, net):
        """Warn if the weights were rewound by the last epoch's step.

        With ``prune_on="epoch_end"`` no training follows that step: the net
        ends at the rewind point's weights, pruned but not retrained.
        """
        if self.rewind != "weights" or not self.rewind_due_:
            return
        warnings.warn(
            "PruningCallback rewound the weights at the end of the last epoch "
            f"(epoch {len(net.history)}): the net ends at the rewind point's "
            "weights, pruned and not retrained. Leave epochs to train after "
            "the last pruning step: set end_epoch below max_epochs (the "
            "'per_epoch' and callable schedules have no end by default).",
            UserWarning,
            stacklevel=external_stacklevel(),
        )

    def _warn_if_learning_rate_constant(self, net):
        if self.rewind == "learning_rate" and not _lr_schedulers(net):
            warnings.warn(
                "rewind='learning_rate' with no LRScheduler callback: unless "
                "another callback changes it, the learning rate is constant, so "
                "rewinding it changes nothing and each round fine-tunes the "
                "pruned net. Add a skorch.callbacks.LRScheduler to replay its "
                "schedule.",
                UserWarning,
                stacklevel=external_stacklevel(),
            )

    def _epoch_range(self, max_epochs):
        """First and last pruning epochs (``None``: no last one)."""
        start = self.start_epoch
        if start is None:
            start = 1
            if self.schedule in ("gradual", "once"):
                start = max_epochs // 4 + 1
            if self.rewind is not None:
                start = max(start, self.rewind_epoch + 1)
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
            for group in self.structure_.hidden:
                prune_units_l1(group, self.masks_, target, self.min_layer_density)
        else:
            activations = hidden_activations(
                net, dataset_train, self.structure_.hidden, self.n_activation_samples
            )
            for group in self.structure_.hidden:
                prune_units_distinctiveness(
                    group,
                    self.masks_,
                    activations[group.name],
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
            for group in self.structure_.hidden:
                units = group.kept_units(self.masks_)
                if not bool(units.all()):
                    active += [
                        (layer.bias, units)
                        for _, layer in group.writers
                        if layer.bias is not None
                    ]
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
            for group in self.structure_.hidden:
                units = int(group.kept_units(self.masks_).sum())
                history.record(f"units_{group.name}", units)


def _check_single_pruning(net):
    """Refuse a net with several pruning callbacks.

    Each would prune, mask and record sparsity without knowing of the other,
    leaving a history that misstates the weights (or state cleared by one
    that another still reads, for a callback registered twice).
    """
    names = [name for name, cb in net.callbacks_ if isinstance(cb, PruningCallback)]
    if len(names) > 1:
        raise ValueError(
            f"The net has {len(names)} PruningCallbacks ({', '.join(names)}); "
            "give it one, which prunes all the layers listed in its layers."
        )


def _first_rows_forward(net, X, y):
    """Make a function that runs the net's module on two training rows."""
    from torch.utils.data import Subset

    dataset = net.get_dataset(X, y)
    rows = Subset(dataset, list(range(min(2, len(dataset)))))
    batch = next(iter(net.get_iterator(rows, training=False)))
    return lambda: net.infer(batch[0])


def _optimizers(net):
    return [getattr(net, f"{name}_") for name in net._optimizers]


def _lr_schedulers(net):
    return [cb for _, cb in net.callbacks_ if isinstance(cb, LRScheduler)]


def _copy_state(module):
    """Copy a module's parameters and buffers, on their devices."""
    return {
        name: tensor.detach().clone() for name, tensor in module.state_dict().items()
    }


def _hyperparameters(optimizer):
    """Copy an optimizer's hyper-parameters (learning rate...) group by group."""
    return [
        {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
        for group in optimizer.param_groups
    ]


def _scheduled_target(schedule, epoch):
    """Ask a callable schedule for its target at ``epoch``, and check it.

    Any real number of zero dimensions is a target (a Python or NumPy float,
    a 0-d torch tensor); an error raised inside the schedule keeps its type,
    with a note saying which call raised it.
    """
    try:
        inspect.signature(schedule).bind(epoch)
    except TypeError as error:
        raise TypeError(
            "schedule must be one of the named schedules or a function of "
            f"the epoch; {schedule!r} cannot be called with one: {error}"
        ) from error
    except ValueError:
        pass  # no signature to read
    try:
        target = schedule(epoch)
    except Exception as error:
        error.add_note(f"raised by schedule({epoch}), the pruning schedule")
        raise
    message = (
        f"schedule({epoch}) returned {target!r}; a callable schedule must "
        "return the target sparsity, a number in [0, 1)."
    )
    if isinstance(target, (bool, np.bool_, str, bytes)) or np.ndim(target) != 0:
        raise TypeError(message)
    try:
        value = float(target)
    except (TypeError, ValueError) as error:
        raise TypeError(message) from error
    if not 0 <= value < 1:
        raise ValueError(message)
    return value


def pruning_target(schedule, amount, epoch, start, end, initial=0.0):
    """Fraction pruned by the end of ``epoch``'s pruning step.

    Epochs are counted from 1 at the first epoch of the schedule, which
    starts from the fraction ``initial`` already pruned. A callable
    ``schedule`` gives the target itself, that of ``end`` after ``end``.
    """
    if epoch < start:
        return initial
    last = epoch if end is None else min(epoch, end)
    if callable(schedule):
        return _scheduled_target(schedule, last)
    if schedule == "once":
        return max(initial, amount)
    n_steps = last - start + 1
    if schedule == "per_epoch":
        return initial + (1.0 - initial) * (1.0 - (1.0 - amount) ** n_steps)
    progress = n_steps / (end - start + 1)
    return initial + max(0.0, amount - initial) * (1.0 - (1.0 - progress) ** 3)


class _HiddenGroup:
    """The hidden units shared by Linear layers, through per-unit operations.

    ``writers`` are the Linear layers whose output units are these units:
    one, or several whose outputs are added (or otherwise combined unit by
    unit), as a residual connection adds them. ``readers`` are the Linear
    layers that take them as input: one, or several heads. ``between`` holds
    the layers on the way that act on every unit separately with per-unit
    parameters or buffers (``BatchNorm1d``, ``PReLU``). A layer may write
    the units and read them, as the branch of a residual block does. The
    group is named after its first writer.
    """

    def __init__(self, writers, readers=(), between=()):
        self.writers = list(writers)
        self.readers = list(readers)
        self.between = list(between)
        self.name = self.writers[0][0]
        self.width = self.writers[0][1].out_features
        self.reason = None  # why its units cannot be removed exactly, if so

    def merge(self, other):
        """Take in the layers of another group whose units are these."""
        for attribute in ("writers", "readers", "between"):
            mine = getattr(self, attribute)
            mine += [layer for layer in getattr(other, attribute) if layer not in mine]
        self.reason = self.reason or other.reason

    def layers(self):
        """Every layer of the group, each once, in the order of the flow."""
        unique = {}
        for name, layer in [*self.writers, *self.between, *self.readers]:
            unique.setdefault(name, layer)
        return list(unique.items())

    def kept_units(self, masks):
        """Mask of the units whose outgoing weights are not all pruned."""
        kept = [(masks[name] != 0).any(dim=0) for name, _ in self.readers]
        mask = masks[self.readers[0][0]]
        return torch.stack(kept).any(dim=0).to(mask)

    def incoming_norms(self):
        """L1 norm of each unit's incoming weights, over all its writers."""
        return sum(layer.weight.abs().sum(dim=1) for _, layer in self.writers)

    def remove_units(self, masks, units):
        for name, _ in self.writers:
            masks[name][units, :] = 0
        for name, _ in self.readers:
            masks[name][:, units] = 0

    def drop_units(self, alive):
        """Cut the units not ``alive`` out of every layer of the group."""
        n_alive = int(alive.sum())
        with torch.no_grad():
            for _, layer in self.writers:
                _keep(layer, "weight", alive)
                _keep(layer, "bias", alive)
                layer.out_features = n_alive
            for _, layer in self.readers:
                _keep(layer, "weight", alive, dim=1)
                layer.in_features = n_alive
            for _, layer in self.between:
                for name in ("weight", "bias", "running_mean", "running_var"):
                    _keep(layer, name, alive)
        for _, layer in self.between:
            if isinstance(layer, nn.BatchNorm1d):
                layer.num_features = n_alive
            elif isinstance(layer, nn.PReLU) and layer.num_parameters > 1:
                layer.num_parameters = n_alive


def _keep(layer, name, alive, dim=0):
    """Keep the entries ``alive`` along ``dim`` of a parameter or buffer."""
    tensor = getattr(layer, name, None)
    if tensor is None or (isinstance(layer, nn.PReLU) and tensor.numel() == 1):
        return
    kept = tensor.index_select(dim, torch.nonzero(alive).squeeze(1)).clone()
    if isinstance(tensor, nn.Parameter):
        kept = nn.Parameter(kept, requires_grad=tensor.requires_grad)
    setattr(layer, name, kept)


def _linear_layers(module):
    return [
        (name, layer)
        for name, layer in module.named_modules()
        if isinstance(layer, nn.Linear)
    ]


# Operations that act on each element separately, or copy their input, as
# long as their output has their input's shape and any other operand is a
# 0-d tensor or the same units (checked in ``_acts_per_unit``): a unit
# removed from their input is exactly removed from their output.
_ELEMENTWISE = {
    torch.relu,
    torch.relu_,
    torch.sigmoid,
    torch.tanh,
    torch.Tensor.relu,
    torch.Tensor.relu_,
    torch.Tensor.sigmoid,
    torch.Tensor.tanh,
    F.relu,
    F.relu6,
    F.leaky_relu,
    F.elu,
    F.selu,
    F.celu,
    F.gelu,
    F.silu,
    F.mish,
    F.softplus,
    F.softsign,
    F.hardtanh,
    F.hardswish,
    F.hardsigmoid,
    F.logsigmoid,
    F.tanhshrink,
    F.dropout,
    F.alpha_dropout,
    torch.where,
    torch.Tensor.__rsub__,
    torch.Tensor.__rtruediv__,
    torch.Tensor.__pow__,  # h ** 2 records it, not Tensor.pow
    *(
        getattr(owner, name)
        for owner in (torch, torch.Tensor)
        for name in (
            # Arithmetic and comparisons, per unit when every other operand
            # is a 0-d tensor or another tensor of the same units.
            "add",
            "sub",
            "mul",
            "div",
            "neg",
            "abs",
            "clamp",
            "clamp_min",
            "clamp_max",
            "gt",
            "ge",
            "lt",
            "le",
            "eq",
            "ne",
            "relu",
            "sigmoid",
            "tanh",
            "exp",
            "square",
            "pow",
            "sqrt",
            "rsqrt",
            "log",
            "log1p",
            "expm1",
            "sin",
            "cos",
            "reciprocal",
            "sign",
            "erf",
            "floor",
            "ceil",
            "round",
            "trunc",
            # Copies and layout or type changes that keep the units' shape.
            "clone",
            "detach",
        )
    ),
    *(
        getattr(torch.Tensor, name)
        for name in ("view", "reshape", "contiguous", "to", "float", "double")
    ),
    # The same arithmetic in place (``h += branch(h)``): the recorder keys a
    # tensor by its version, so the result is a new step of the flow.
    *(
        getattr(torch.Tensor, name)
        for name in ("add_", "sub_", "mul_", "div_", "neg_", "abs_", "clamp_")
    ),
}
# Operations that hold one parameter (or statistic) per unit, shrunk with
# the units; checked against their layer below.
_PER_UNIT = {F.batch_norm: nn.BatchNorm1d, torch.prelu: nn.PReLU, F.prelu: nn.PReLU}
# Reading tensor values in Python lets the forward pass branch on the data.
_VALUE_READS = {"__bool__", "item", "tolist", "numpy", "__int__", "__float__"}


def _tensors(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [tensor for item in value for tensor in _tensors(item)]
    return []


def _key(tensor):
    # An in-place operation keeps the object but bumps its version.
    return id(tensor), tensor._version


class _Operation:
    def __init__(self, func, inputs, keys, outputs):
        self.func, self.inputs, self.keys = func, inputs, keys
        self.outputs = outputs
        self.output_keys = [_key(tensor) for tensor in outputs]


class _ForwardRecorder(TorchFunctionMode):
    """Record the torch operations of a forward pass run in this thread.

    Torch function modes are thread-local, unlike ``torch.fx`` tracing,
    which patches ``torch.nn.Module`` for every thread while it runs.
    """

    def __init__(self):
        super().__init__()
        self.operations = []
        self.value_reads = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        inputs = _tensors([args, kwargs])
        keys = [_key(tensor) for tensor in inputs]
        output = func(*args, **kwargs)
        if getattr(func, "__name__", None) in _VALUE_READS:
            self.value_reads.append(func.__name__)
        # Operations that return an input unchanged are not steps of the flow.
        outputs = [t for t in _tensors(output) if _key(t) not in keys]
        if outputs:
            self.operations.append(_Operation(func, inputs, keys, outputs))
        return output


def _func_name(func):
    """Name a recorded function; a tensor property read by its property."""
    name = getattr(func, "__name__", func)
    if name == "__get__":  # torch records ``x.T`` as the property's __get__
        return getattr(getattr(func, "__self__", None), "__name__", name)
    return name


# Stands for the caller of the forward pass, which reads the module's output.
_MODULE_OUTPUT = _Operation(None, [], [], [])


class _Dataflow:
    """Which recorded operation reads which tensor, and whose layer it is."""

    def __init__(self, module, operations, output):
        # Parameter or buffer -> every (layer name, layer, tensor name) that
        # holds it: more than one when it is tied, or its layer registered
        # under several names.
        self.owners = {}
        for name, layer in module.named_modules(remove_duplicate=False):
            tensors = [*layer.named_parameters(recurse=False)]
            tensors += [*layer.named_buffers(recurse=False)]
            for tensor_name, tensor in tensors:
                if tensor is not None:
                    self.owners.setdefault(id(tensor), []).append(
                        (name, layer, tensor_name)
                    )
        self.operations = operations
        self.readers = {}
        for operation in operations:
            for key in operation.keys:
                self.readers.setdefault(key, []).append(operation)
        for tensor in _tensors(output):
            self.readers.setdefault(_key(tensor), []).append(_MODULE_OUTPUT)
        self.uses = {}  # layer name -> the operations that read its tensors
        for operation in operations:
            layer = self.layer(operation)
            if layer is not None:
                self.uses.setdefault(layer[0], []).append(operation)

    def layer(self, operation):
        """Return the ``(name, layer)`` whose parameters the operation uses.

        Of the layers holding a tied parameter, the first that holds all the
        operation's parameters (a Linear layer's weight and bias).
        """
        holders = [
            [owner[:2] for owner in self.owners[id(tensor)]]
            for tensor in operation.inputs
            if id(tensor) in self.owners
        ]
        if not holders:
            return None
        common = set.intersection(*({name for name, _ in h} for h in holders))
        return next((h for h in holders[0] if h[0] in common), holders[0][0])

    def tensor_names(self, operation):
        """Return the qualified names of the parameters an operation reads."""
        # The module's own tensors are named without a layer ("scale").
        return [
            ".".join(filter(None, self.owners[id(tensor)][0][::2]))
            for tensor in operation.inputs
            if id(tensor) in self.owners
        ]

    def values(self, operation):
        """Return the operation's tensor inputs that are not a layer's own."""
        return [t for t in operation.inputs if id(t) not in self.owners]

    def linear(self, operation):
        layer = self.layer(operation)
        if operation.func is F.linear and layer and isinstance(layer[1], nn.Linear):
            return layer
        return None

    def users(self, operation):
        """Return the operations that read the first output of ``operation``."""
        return self.readers.get(operation.output_keys[0], [])

    def describe(self, operation):
        if operation is _MODULE_OUTPUT:
            return "the module's output"
        layer = self.layer(operation)
        if layer is None:
            return f"{_func_name(operation.func)}()"
        # The module's own parameters (named '') are read by its code, in an
        # operation that the reading names better than the module's class.
        if layer[0] and self.is_call(operation):
            return f"{type(layer[1]).__name__} {layer[0]!r}"
        return self.reading(operation)

    def is_call(self, operation):
        """Whether the operation is its layer's call: it reads all its parameters.

        Other operations read a layer's parameters only in the module's own
        code, such as ``self.hidden.bias.mean()``.
        """
        read = {id(tensor) for tensor in operation.inputs}
        parameters = self.layer(operation)[1].parameters(recurse=False)
        return all(id(parameter) in read for parameter in parameters)

    def reading(self, operation):
        """Name an operation by its function and the parameters it reads."""
        names = ", ".join(map(repr, self.tensor_names(operation)))
        return f"{_func_name(operation.func)}() reading {names}"

    def reuse(self, operation):
        """Say why the layer called by ``operation`` is used elsewhere too.

        Return None when this call is the only operation that reads the
        layer's parameters and buffers.
        """
        name, layer = self.layer(operation)
        others = [op for op in self.uses[name] if op is not operation]
        if any(self.is_call(op) for op in others):
            return f"{type(layer).__name__} {name!r} is called more than once"
        if others:
            return (
                f"a parameter of {type(layer).__name__} {name!r} is used outside "
                f"the layer's call, by {self.reading(others[0])}"
            )
        return None

    def sharing(self, name, layer):
        """Say why a layer's tensors are also another layer's, or None."""
        kind = f"{type(layer).__name__} {name!r}"
        tensors = [*layer.named_parameters(recurse=False)]
        tensors += [*layer.named_buffers(recurse=False)]
        for tensor_name, tensor in tensors:
            if tensor is None:
                continue
            holders = self.owners[id(tensor)]
            names = [f"{owner}.{held}" for owner, _, held in holders]
            if len({id(held_by) for _, held_by, _ in holders}) > 1:
                return (
                    f"{kind} shares its parameter {tensor_name!r} with another "
                    f"layer (tied: {' is '.join(map(repr, names))})"
                )
            if len(holders) > 1:
                owners = ", ".join(repr(owner) for owner, _, _ in holders)
                return f"{kind} is registered under several names ({owners})"
        return None

    def reaches_linear(self, operation):
        pending, seen = [operation], set()
        while pending:
            current = pending.pop()
            for key in current.output_keys:
                for user in self.readers.get(key, []):
                    if self.linear(user):
                        return True
                    if id(user) not in seen:
                        seen.add(id(user))
                        pending.append(user)
        return False


def _acts_per_unit(flow, operation, units, shape):
    """Whether ``operation`` transforms each unit of the ``units`` on its own.

    Its output has the units' ``shape``, and each of its tensor inputs is a
    tensor of ``units`` of that shape (keys of the tensors derived unit by
    unit from Linear layers' outputs) or a tensor of one value, the same
    for every unit.
    """
    if len(operation.outputs) != 1 or operation.outputs[0].shape != shape:
        return False  # it reduces, expands or reorders the units
    layer_type = _PER_UNIT.get(operation.func)
    if layer_type is None:
        # A tensor of one value (0-d, or of shape (1,)) is the same for
        # every unit wherever it broadcasts.
        return operation.func in _ELEMENTWISE and all(
            (key in units and tensor.shape == shape) or tensor.numel() == 1
            for tensor, key in zip(operation.inputs, operation.keys, strict=True)
        )
    values = flow.values(operation)
    layer = flow.layer(operation)
    if len(values) != 1 or layer is None or not isinstance(layer[1], layer_type):
        return False
    if isinstance(layer[1], nn.PReLU) and layer[1].num_parameters == 1:
        return True
    # Their parameters apply along dimension 1: the units of a 2-D value.
    n_parameters = getattr(layer[1], "num_features", None) or layer[1].num_parameters
    return len(shape) == 2 and n_parameters == shape[1]


def _unit_use(flow, operation):
    """Say why the output of a step of the units is used wrongly, or None."""
    users = flow.users(operation)
    if not users:
        return f"its units reach {flow.describe(operation)}, whose result is unused"
    if users == [_MODULE_OUTPUT]:
        return "its units reach the module's output"
    if _MODULE_OUTPUT in users:
        names = ", ".join(flow.describe(user) for user in users)
        return f"its units feed {len(users)} operations ({names})"
    return None


class _UnitTracer:
    """Follow the units of every Linear layer's output through the flow.

    The recorded operations run in order, so every input of an operation is
    classified before it. A Linear layer's call starts a group of units;
    an operation acting on each unit of its inputs separately extends the
    group of its input, and joins the groups of several inputs (a residual
    addition) into one, whose units are then removed together; a Linear
    layer's call that reads the units is one of the group's readers. Any
    other use of the units is the reason the group cannot lose units.
    """

    def __init__(self, flow):
        self.flow = flow
        self.groups = []  # in the order their first writer runs
        self.group_of = {}  # tensor key -> index into groups, before joins
        self.joined = {}  # index -> the index it was joined into
        self.shapes = []  # index -> shape of the group's tensors

    def find(self, index):
        while index in self.joined:
            index = self.joined[index]
        return index

    def trace(self):
        for operation in self.flow.operations:
            touched = sorted(
                {
                    self.find(self.group_of[k])
                    for k in operation.keys
                    if k in self.group_of
                }
            )
            if touched:
                self._extend(operation, touched)
            if self.flow.linear(operation):
                self._start(operation)
        return [
            group for index, group in enumerate(self.groups) if index not in self.joined
        ]

    def _start(self, operation):
        group = _HiddenGroup([self.flow.linear(operation)])
        group.reason = self.flow.reuse(operation) or _unit_use(self.flow, operation)
        self.group_of[operation.output_keys[0]] = len(self.groups)
        self.groups.append(group)
        self.shapes.append(operation.outputs[0].shape)

    def _fail(self, indices, reason, operation=None):
        """Give the groups a reason, unless they have one.

        The outputs of the ``operation`` that fails them still count as
        theirs (except a Linear layer's, which start a group), so that a
        group into which they are later added is refused for that reason.
        """
        for index in indices:
            group = self.groups[index]
            group.reason = group.reason or reason
        if operation is not None and not self.flow.linear(operation):
            for key in operation.output_keys:
                self.group_of[key] = indices[0]

    def _extend(self, operation, touched):
        flow = self.flow
        reason = flow.layer(operation) and flow.reuse(operation)
        if reason:
            self._fail(touched, reason, operation)
            return
        # The operation's inputs that are units: those of the touched groups.
        units = {key for key in operation.keys if key in self.group_of}
        if flow.linear(operation):
            self._read(operation, touched, units)
            return
        if not _acts_per_unit(flow, operation, units, self.shapes[touched[0]]):
            self._fail(
                touched,
                f"its units reach {flow.describe(operation)}, which does not "
                "act on each unit separately",
                operation,
            )
            return
        first = self.groups[touched[0]]
        for index in touched[1:]:
            first.merge(self.groups[index])
            self.joined[index] = touched[0]
        if operation.func in _PER_UNIT:
            first.between.append(flow.layer(operation))
        self._fail(touched[:1], _unit_use(flow, operation))
        self.group_of[operation.output_keys[0]] = touched[0]

    def _read(self, operation, touched, units):
        """Record a Linear layer reading the units, or why it cannot."""
        flow = self.flow
        read = [
            key
            for tensor, key in zip(operation.inputs, operation.keys, strict=True)
            if id(tensor) not in flow.owners
        ]
        name, layer = flow.linear(operation)
        index = touched[0]
        if (
            len(touched) != 1
            or len(read) != 1
            or read[0] not in units
            or layer.in_features != self.groups[index].width
        ):
            self._fail(touched, f"{flow.describe(operation)} reads them reshaped")
            return
        self.groups[index].readers.append((name, layer))


def _find_groups(module, forward):
    """Find the groups of hidden units of a module, from one forward pass.

    ``forward`` runs the module on a batch of its input and returns the
    output; the operations it runs in this thread are recorded, with the
    module in evaluation mode and no gradients. The output units of a
    Linear layer are hidden units when they reach other Linear layers
    (one or several) only through per-unit operations (element-wise
    activations and arithmetic with scalars, tensors of one value or units of the
    same shape, copies and views of that shape, ``Dropout``,
    ``BatchNorm1d``, ``PReLU``), every result used and none by the caller.
    Units added unit by unit to other Linear layers' units (a residual
    connection) are one group with them, removed from all those layers
    together. Every layer of a group is called once, its parameters read by
    no other operation and shared with no other layer (nor the layer
    registered under two names).

    Returns
    -------
    groups : list of _HiddenGroup
        The groups whose units reach a Linear layer, in the order of their
        first writer; ``group.reason`` says why the units of a group
        cannot be removed exactly, and is None for the others.
    """
    recorder = _ForwardRecorder()
    modes = [(layer, layer.training) for layer in module.modules()]
    module.eval()
    try:
        with torch.no_grad(), recorder:
            output = forward()
    finally:
        for layer, training in modes:
            layer.training = training
    if recorder.value_reads:
        raise ValueError(
            f"The forward pass of the {type(module).__name__} module reads "
            f"tensor values in Python ({', '.join(sorted(set(recorder.value_reads)))}"
            "), so the operations it runs, and which Linear layer each hidden "
            "unit feeds, may change with the input; hidden units can only be "
            "removed from a module whose operations do not depend on the data."
        )
    flow = _Dataflow(module, recorder.operations, output)
    calls = {}  # Linear layer's name -> its calls
    for operation in recorder.operations:
        layer = flow.linear(operation)
        if layer:
            calls.setdefault(layer[0], []).append(operation)
    groups = []
    for group in _UnitTracer(flow).trace():
        writers = [op for name, _ in group.writers for op in calls[name]]
        if not any(map(flow.reaches_linear, writers)):
            continue  # output units, not hidden ones
        if group.reason is None:
            # Tied tensors would be shrunk in one layer and not in the other.
            group.reason = next(
                filter(None, (flow.sharing(*layer) for layer in group.layers())), None
            )
        groups.append(group)
    return groups


def _unpairable_message(groups):
    reasons = {f"layer {group.name!r}: {group.reason}": None for group in groups}
    return "; ".join(reasons)


class _PrunableStructure:
    """The Linear layers of a module that a pruning method acts on."""

    def __init__(self, module, layer_names, method, forward=None):
        linear = _linear_layers(module)
        if layer_names is not None:
            known = {name for name, _ in linear}
            unknown = [name for name in layer_names if name not in known]
            if unknown or not layer_names:
                raise ValueError(
                    f"layers={list(layer_names)} must name Linear layers of the "
                    f"module; its Linear layers are {[name for name, _ in linear]}."
                )
        self.hidden = []
        if method == "l1_unstructured":
            self.weighted = {}
            seen = set()
            for name, layer in linear:
                # A weight tied between layers is ranked and masked once.
                if (layer_names is None or name in layer_names) and (
                    id(layer.weight) not in seen
                ):
                    seen.add(id(layer.weight))
                    self.weighted[name] = layer
        else:
            self.hidden = self._hidden_groups(module, layer_names, method, forward)
            self.weighted = {}
            for group in self.hidden:
                self.weighted.update(group.writers)
                self.weighted.update(group.readers)
        if not self.weighted:
            kind = "Linear" if method == "l1_unstructured" else "hidden Linear"
            raise ValueError(f"method={method!r} found no {kind} layers to prune.")

    @staticmethod
    def _hidden_groups(module, layer_names, method, forward):
        """Find the groups of hidden units to prune: those with a writer named."""
        groups = _find_groups(module, forward)
        if layer_names is not None:
            groups = [
                group
                for group in groups
                if any(name in layer_names for name, _ in group.writers)
            ]
        unpairable = [group for group in groups if group.reason]
        if unpairable:
            removable = sorted(
                name
                for group in groups
                if not group.reason
                for name, _ in group.writers
            )
            restrict = (
                f"Restrict pruning with layers= to the layers whose units can "
                f"be removed ({removable}), or use method='l1_unstructured'."
                if removable
                else "No layer's units can be removed here: use "
                "method='l1_unstructured'."
            )
            raise ValueError(
                f"method={method!r} removes whole hidden units and cannot "
                f"remove them exactly from this module "
                f"({_unpairable_message(unpairable)}). {restrict}"
            )
        return groups

    def weight_sparsity(self, masks):
        zeros = sum(float((mask == 0).sum()) for mask in masks.values())
        return zeros / sum(mask.numel() for mask in masks.values())

    def unit_sparsity(self, masks):
        kept = sum(float(group.kept_units(masks).sum()) for group in self.hidden)
        return 1.0 - kept / sum(group.width for group in self.hidden)

    def resolution(self, masks):
        """How far below a target rounding to whole weights (units) may land."""
        if not self.hidden:
            return 0.5 / sum(mask.numel() for mask in masks.values())
        n_units = sum(group.width for group in self.hidden)
        return 0.5 * len(self.hidden) / n_units


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


def prune_units_l1(group, masks, target, min_density):
    """Remove the hidden units of smallest incoming L1 norm."""
    kept = group.kept_units(masks)
    n_units = len(kept)
    n_prune = _n_to_prune(n_units, n_units - int(kept.sum()), target, min_density)
    if n_prune == 0:
        return
    norms = group.incoming_norms().masked_fill(kept == 0, math.inf)
    group.remove_units(masks, smallest(norms, n_prune))


def hidden_activations(net, dataset, groups, n_samples):
    """Record the inputs of the readers of hidden units on some training rows.

    Returns a dict from each group's name to the inputs of its readers, side
    by side (one block of ``group.width`` columns per reader, in the order
    of ``group.readers``), one row per sample, or per position of a sample
    for a reader applied along a sequence.
    """
    from torch.utils.data import Subset

    rows = np.linspace(0, len(dataset) - 1, min(n_samples, len(dataset)))
    subset = Subset(dataset, np.unique(rows.round().astype(int)).tolist())
    readers = dict(reader for group in groups for reader in group.readers)
    captured = {name: [] for name in readers}
    hooks = [
        reader.register_forward_pre_hook(
            lambda _, inputs, name=name: captured[name].append(inputs[0].detach())
        )
        for name, reader in readers.items()
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
    # A layer applied to every position of a sequence (inputs of shape
    # (..., units)) sees one row of activations per position.
    inputs = {
        name: torch.cat([part.reshape(-1, part.shape[-1]) for part in parts])
        for name, parts in captured.items()
    }
    return {
        group.name: torch.cat([inputs[name] for name, _ in group.readers], dim=1)
        for group in groups
    }


class _Twins:
    """How nearly each hidden unit's activations are another's, at one reader.

    ``activations`` are the reader's inputs; ``similarity`` is the absolute
    cosine of the centred activations of each pair of kept units, 2 for a
    constant unit (it goes first), -1 where a unit is pruned or compared
    with itself.
    """

    def __init__(self, activations, kept):
        activations = activations.double()
        self.means = activations.mean(dim=0)
        centred = activations - self.means
        self.norms = centred.norm(dim=0)
        self.constant = self.norms <= 1e-6 * max(float(self.norms.max()), 1e-300)
        direction = centred / torch.where(self.constant, 1.0, self.norms)
        self.cosines = direction.T @ direction
        self.cosines.fill_diagonal_(0)
        self.cosines[:, ~kept | self.constant] = 0
        self.similarity = self.cosines.abs()
        self.similarity.fill_diagonal_(-1.0)
        self.similarity[self.constant] = 2.0
        self.similarity[~kept] = -1.0
        self.similarity[:, ~kept] = -1.0

    def fold(self, reader, unit, twin):
        """Replace ``unit`` in the reader's input by its twin, or its mean."""
        weights, bias = reader.weight, reader.bias
        outgoing = weights[:, unit].double()
        if self.constant[unit] or self.constant[twin]:
            shift = outgoing * self.means[unit]
        else:
            alpha = self.cosines[unit, twin] * self.norms[unit] / self.norms[twin]
            weights[:, twin] += (alpha * outgoing).to(weights.dtype)
            shift = outgoing * (self.means[unit] - alpha * self.means[twin])
        if bias is not None:
            bias += shift.to(bias.dtype)

    def remove(self, unit):
        self.cosines[:, unit] = 0


def prune_units_distinctiveness(group, masks, activations, target, min_density):
    """Remove the least distinct hidden units, folding them into a twin.

    A unit whose centred activations are (nearly) a multiple ``alpha`` of
    another kept unit's is replaced by that unit: its outgoing weights,
    scaled by ``alpha``, are added to the twin's, and the difference of
    their means to the next layer's bias. A unit of constant activation is
    folded into the bias alone. Units go in order of decreasing absolute
    cosine with their closest twin, constant units first. With several
    readers (``activations`` holds their inputs side by side, in the order
    of ``group.readers``), a pair of units is as similar as it is at the
    reader where it is least so, and each reader folds with its own
    ``alpha``.
    """
    kept = group.kept_units(masks).bool()
    n_units = len(kept)
    n_prune = _n_to_prune(n_units, n_units - int(kept.sum()), target, min_density)
    if n_prune == 0:
        return
    twins = [_Twins(inputs, kept) for inputs in activations.split(n_units, dim=1)]
    similarity = torch.stack([twin.similarity for twin in twins]).amin(dim=0)
    for _ in range(n_prune):
        unit = int(similarity.max(dim=1).values.argmax())
        twin = int(similarity[unit].argmax())
        for (_, reader), reader_twins in zip(group.readers, twins, strict=True):
            reader_twins.fold(reader, unit, twin)
            reader_twins.remove(unit)
        group.remove_units(masks, [unit])
        similarity[unit] = -1.0
        similarity[:, unit] = -1.0


class SparseLinear(nn.Module):
    """A Linear layer for inference whose weight is a sparse CSR tensor.

    The product is computed as ``weight @ input.T``, so the input is read in
    feature-major order, in which the sparse kernel is fastest; the output
    is returned as a transposed view, which the next ``SparseLinear`` reads
    without a copy. Pickled (or copied), the weight is stored as its three
    dense parts, and rebuilt from them when loaded: torch warns that its
    sparse CSR support is a beta whenever it unpickles a CSR tensor.
    """

    def __init__(self, linear):
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        weight = _quiet_csr(linear.weight.detach().to_sparse_csr)
        self.register_buffer("weight", _csr_from_parts(*_csr_parts(weight)))
        bias = None if linear.bias is None else linear.bias.detach().clone()
        self.register_buffer("bias", bias)

    def __getstate__(self):
        state = super().__getstate__()
        state["_buffers"] = dict(state["_buffers"])
        state["_csr_weight"] = _csr_parts(state["_buffers"].pop("weight"))
        return state

    def __setstate__(self, state):
        weight = _csr_from_parts(*state.pop("_csr_weight"))
        # The weight first, as registered: state_dict keys keep their order.
        state["_buffers"] = {"weight": weight, **state["_buffers"]}
        super().__setstate__(state)

    def forward(self, input):
        """Apply the layer to ``input`` of shape (..., in_features), as Linear."""
        if input.dim() != 2:
            # The sparse product takes matrices: other shapes go through one.
            rows = input.reshape(-1, self.in_features)
            return self(rows).reshape(*input.shape[:-1], self.out_features)
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


def _quiet_csr(build, *args, **kwargs):
    """Call ``build``, which makes a CSR tensor, without torch's beta warning."""
    with warnings.catch_warnings():
        # torch calls its sparse CSR support a beta; what is used here works.
        warnings.filterwarnings("ignore", "Sparse CSR tensor support")
        return build(*args, **kwargs)


def _csr_parts(weight):
    """Return the row pointers, column indices, values and shape of a CSR tensor."""
    return weight.crow_indices(), weight.col_indices(), weight.values(), weight.shape


def _csr_from_parts(crow_indices, col_indices, values, shape):
    """Build a CSR tensor with 32-bit indices, checked, from its parts."""
    # 32-bit indices take half the memory, and MKL's kernels take them.
    return _quiet_csr(
        torch.sparse_csr_tensor,
        crow_indices.int(),
        col_indices.int(),
        values,
        shape,
        check_invariants=True,
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


@validate_params(
    {
        "module": [nn.Module],
        "X": ["array-like", dict, None],
        "sparse": ["boolean", StrOptions({"auto"})],
        "layers": [list, tuple, None],
    },
    prefer_skip_nested_validation=True,
)
def compact_module(module, X=None, *, sparse=False, layers=None):
    """Shrink a pruned module: drop dead hidden units, optionally go sparse.

    A hidden unit (an output of a Linear layer that reaches later Linear
    layers, one or several heads, through operations acting on each unit
    separately) whose outgoing weights are all zero contributes nothing; its
    row of the layer that writes it, its bias, its entries in the per-unit
    layers between (``BatchNorm1d`` statistics and affine parameters,
    ``PReLU`` slopes) and its column of every layer that reads it are
    removed, which makes these layers smaller and leaves the module's
    outputs unchanged. Units that a residual connection adds unit by unit
    to other Linear layers' units are one group with them: a unit that no
    layer reads is removed from every layer that writes or reads the group,
    together. With ``sparse=True``,
    every Linear layer whose weight takes less memory in CSR form (fewer than
    about half its weights non-zero) is then replaced by a
    :class:`SparseLinear`, for inference only. With ``sparse="auto"``, each
    Linear layer is instead stored in whichever form computes its product
    faster, as timed on this machine when compacting: on a batch of random
    inputs as many rows as ``X`` (100 rows without ``X``), the layer's dense
    product and its CSR product each run once to warm up, then in turn,
    three to five times, the best time of each counting. A CSR product pays
    only below a density of non-zero weights that depends on the machine's
    dense BLAS, its sparse kernels, the number of threads and the batch
    size, so the choice is not reproducible from one machine to another,
    nor always from run to run for a layer near that density, and other
    processes competing for the cores while it is timed can mislead it;
    ``True`` and ``False`` are reproducible.

    Which units feed which layer is read from the operations of one forward
    pass, in evaluation mode and without gradients, recorded in the calling
    thread only: a module whose forward pass takes other operations in
    training mode (a normalisation applied only when ``self.training``, for
    instance) is judged, and compacted, by its evaluation-mode path. A
    module whose Linear layers feed later Linear layers in any other way
    (through ``LayerNorm`` or ``GroupNorm``, which normalise across units;
    through a reduction, a concatenation or a reshape; added to a tensor
    that is not units of Linear layers, such as the module's input; into
    the module's output as well; a layer called twice; a parameter of a
    layer on the way read outside that layer's call; a parameter shared
    with another layer, as tied weights are, or a layer registered under
    several names, which would be shrunk under one name and not the
    other), or whose forward pass
    reads tensor values in Python (and so may run other operations on other
    data), is refused and left unchanged, since removing units there would
    change its outputs. With ``sparse=True``, layers that share a weight, or
    a layer registered under several names, share its sparse form.

    Parameters
    ----------
    module : torch.nn.Module
        The module, changed in place.

    X : array-like or Tensor of shape (n_samples, ...), or dict, default=None
        A batch of the module's input for the forward pass; for a module of
        several inputs, a dict of them, passed as keyword arguments as
        skorch passes a dict ``X``. ``None`` means two rows of zeros as wide
        as the first Linear layer's input, on its device.

    sparse : bool or "auto", default=False
        Whether to store weights with zeros in CSR form; ``"auto"``: for
        each layer, whether its CSR product is measured to be faster.

    layers : list of str, default=None
        Names (as in ``module.named_modules()``) of the Linear layers whose
        dead hidden units are removed, as :class:`PruningCallback`'s
        ``layers``: a group of units is compacted when one of the layers
        writing it is named, and the others are left as they are, even
        where their units could not be removed exactly (a later layer
        behind a ``LayerNorm``, say). ``None`` means every group; ``[]``
        none, so that ``sparse`` alone applies.

    Returns
    -------
    report : dict
        ``bytes_before`` and ``bytes_after`` (parameters and buffers),
        ``bytes_saved``, and ``hidden_units``: for each hidden layer (for
        a group of units that several layers write, the first of them to
        run), the number of units before and after. With ``sparse="auto"``,
        also ``timing_rows``, the rows of the timed batch, and ``timings``:
        for each Linear layer (a layer registered under several names, or
        layers sharing a weight, under the first name), its ``density``
        (fraction of non-zero weights), ``dense_seconds`` and
        ``csr_seconds`` (the best time of each product), and ``csr``,
        whether it is now stored in CSR form.

    Raises
    ------
    TypeError
        If ``module`` is not a ``torch.nn.Module``, or ``sparse`` neither a
        bool nor ``"auto"`` (scikit-learn's ``InvalidParameterError``, also
        a ``ValueError``).

    ValueError
        If a Linear layer's units (among ``layers``) reach a later Linear
        layer other than unit by unit, a layer they pass shares a parameter
        or is read outside its call, or the forward pass reads tensor values
        or fails on ``X``; or if ``layers`` names no Linear layer of the
        module. The message names the layer and the reason, and the module
        is unchanged.

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

    A residual block: the units of ``hidden`` and ``branch`` are added, so
    a unit that neither ``branch`` nor ``head`` reads is removed from all
    three layers.

    >>> class Residual(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = torch.nn.Linear(4, 6)
    ...         self.branch = torch.nn.Linear(6, 6)
    ...         self.head = torch.nn.Linear(6, 2)
    ...     def forward(self, X):
    ...         hidden = torch.relu(self.hidden(X))
    ...         return self.head(hidden + torch.relu(self.branch(hidden)))
    >>> module = Residual()
    >>> with torch.no_grad():
    ...     module.branch.weight[:, 4:] = 0
    ...     module.head.weight[:, 4:] = 0  # units 4 and 5 are read by none
    >>> compact_module(module)["hidden_units"]
    {'hidden': (6, 4)}
    >>> module.branch
    Linear(in_features=4, out_features=4, bias=True)

    With ``sparse="auto"``, each layer is stored as its timings say:

    >>> module = torch.nn.Sequential(torch.nn.Linear(64, 8))
    >>> report = compact_module(module, sparse="auto")
    >>> timing = report["timings"]["0"]
    >>> list(timing)
    ['density', 'dense_seconds', 'csr_seconds', 'csr']
    >>> timing["csr"] == (module[0].weight.layout == torch.sparse_csr)
    True
    """
    groups = _chosen_groups(
        _find_groups(module, _example_forward(module, X)), layers, module
    )
    unpairable = [group for group in groups if group.reason]
    if unpairable:
        raise ValueError(
            "compact_module cannot remove hidden units exactly from this "
            f"module ({_unpairable_message(unpairable)}); it is left unchanged. "
            "Name the layers whose units can be removed in layers= to compact "
            "those alone."
        )
    bytes_before = module_bytes(module)
    hidden_units = {}
    for group in groups:
        # A unit no reader reads contributes nothing, wherever it is added.
        alive = torch.stack(
            [(layer.weight.detach() != 0).any(dim=0) for _, layer in group.readers]
        ).any(dim=0)
        hidden_units[group.name] = (group.width, int(alive.sum()))
        group.drop_units(alive)
    timed = {}
    if isinstance(sparse, str):  # "auto"
        rows = _TIMING_ROWS if X is None else max(_n_rows(X), 1)
        timed = {"timing_rows": rows, "timings": {}}

        def faster_as_csr(name, layer):
            timed["timings"][name] = _timed_products(layer, rows)
            return timed["timings"][name]["csr"]

        _sparsify(module, faster_as_csr)
    elif sparse:
        _sparsify(module, lambda name, layer: _smaller_as_csr(layer.weight))
    bytes_after = module_bytes(module)
    return {
        "bytes_before": bytes_before,
        "bytes_after": bytes_after,
        "bytes_saved": bytes_before - bytes_after,
        "hidden_units": hidden_units,
        **timed,
    }


def _chosen_groups(groups, layers, module):
    """Return the groups of units with a writer among ``layers`` (all for None)."""
    if layers is None:
        return groups
    linear = {name for name, _ in _linear_layers(module)}
    unknown = sorted(set(layers) - linear)
    if unknown:
        raise ValueError(
            f"layers={list(layers)!r}: {unknown} name no Linear layer of the "
            f"module, whose Linear layers are {sorted(linear)}."
        )
    return [
        group for group in groups if any(name in layers for name, _ in group.writers)
    ]


def _sparsify(module, to_csr):
    """Replace the Linear layers for which ``to_csr(name, layer)`` holds.

    ``to_csr`` is asked once per weight tensor, with the first name of a
    layer holding it: a layer registered under several names is replaced
    by one ``SparseLinear`` under all of them, and tied tensors stay tied.
    """
    choices, layers = {}, []
    for name, layer in module.named_modules(remove_duplicate=False):
        if name and isinstance(layer, nn.Linear):
            if id(layer.weight) not in choices:
                choices[id(layer.weight)] = to_csr(name, layer)
            if choices[id(layer.weight)]:
                layers.append((name, layer))
    replacements, tensors = {}, {}
    for name, layer in layers:
        if id(layer) not in replacements:
            sparse = SparseLinear(layer)
            for key in ("weight", "bias"):
                original = getattr(layer, key)
                if original is not None:
                    shared = tensors.setdefault(id(original), getattr(sparse, key))
                    setattr(sparse, key, shared)
            replacements[id(layer)] = sparse
        parent, _, child = name.rpartition(".")
        setattr(module.get_submodule(parent), child, replacements[id(layer)])


def _n_rows(X):
    """Rows of a batch: of its arrays, for a dict of them."""
    if isinstance(X, dict):
        return len(next(iter(X.values()), ()))
    return len(X)


def _as_input(values, weight):
    """Return ``values`` as a tensor on the weights' device, floats in their dtype."""
    if isinstance(values, torch.Tensor):
        return values
    values = torch.as_tensor(np.asarray(values), device=getattr(weight, "device", None))
    if values.is_floating_point() and weight is not None:
        values = values.to(weight.dtype)
    return values


def _example_forward(module, X):
    """Make a function that runs ``module`` on ``X``, or on zeros if None.

    A dict of arrays is passed as keyword arguments, as skorch passes a
    dict ``X`` to a module of several inputs.
    """
    linear = _linear_layers(module)
    if X is None and not linear:
        return lambda: None
    weight = linear[0][1].weight if X is None else next(module.parameters(), None)
    if X is None:
        X = torch.zeros(2, weight.shape[1], dtype=weight.dtype, device=weight.device)
    if isinstance(X, dict):
        inputs = {name: _as_input(values, weight) for name, values in X.items()}
        shape = {name: tuple(values.shape) for name, values in inputs.items()}
        run = functools.partial(module, **inputs)
    else:
        X = _as_input(X, weight)
        shape = tuple(X.shape)
        run = functools.partial(module, X)

    def forward():
        try:
            return run()
        except Exception as error:  # whatever the module raises on this input
            raise ValueError(
                f"compact_module could not run the module on X of shape "
                f"{shape} ({type(error).__name__}: {error}); pass X, a batch of "
                "the module's input (a dict of arrays for a module of several "
                "inputs, passed as keyword arguments)."
            ) from error

    return forward


# Rows timed without X: the batch size of PrunedMLPClassifier's predict.
_TIMING_ROWS = 100
# Three to five timed rounds: past three, none starts after this many seconds.
_TIMING_ROUNDS, _TIMING_MIN_ROUNDS, _TIMING_BUDGET_S = 5, 3, 0.02


def _timed_products(layer, rows):
    """Time a Linear layer's dense and CSR products on ``rows`` random rows.

    Each product runs once untimed (its first run allocates memory and
    loads kernels), then both run in turn, round after round, so that both
    meet the same load on the machine; the best time of each counts.
    """
    weight = layer.weight.detach()
    generator = torch.Generator().manual_seed(0)
    batch = torch.randn(rows, layer.in_features, generator=generator)
    batch = batch.to(weight.device, weight.dtype)
    products = (layer, SparseLinear(layer))
    times = ([], [])
    with torch.inference_mode():
        for product in products:
            _run_synchronized(product, batch)
        while len(times[0]) < _TIMING_ROUNDS and (
            len(times[0]) < _TIMING_MIN_ROUNDS
            or sum(map(sum, times)) < _TIMING_BUDGET_S
        ):
            for product, product_times in zip(products, times, strict=True):
                product_times.append(_run_seconds(product, batch))
    dense_seconds, csr_seconds = min(times[0]), min(times[1])
    n_nonzero = int(torch.count_nonzero(weight))
    return {
        "density": n_nonzero / weight.numel() if weight.numel() else 0.0,
        "dense_seconds": dense_seconds,
        "csr_seconds": csr_seconds,
        "csr": csr_seconds < dense_seconds,
    }


def _run_seconds(layer, batch):
    """Seconds that one run of ``layer(batch)`` takes."""
    start = time.perf_counter()
    _run_synchronized(layer, batch)
    return time.perf_counter() - start


def _run_synchronized(layer, batch):
    """Run ``layer(batch)`` and wait for it to finish, on a GPU too."""
    layer(batch)
    if batch.device.type == "cuda":
        torch.cuda.synchronize(batch.device)


def _smaller_as_csr(weight):
    """Whether CSR with 32-bit indices takes less memory than dense."""
    n_nonzero = int((weight != 0).sum())
    csr_bytes = n_nonzero * (weight.element_size() + 4) + 4 * (len(weight) + 1)
    return csr_bytes < weight.numel() * weight.element_size()
