"""A multilayer perceptron classifier, pruned while it trains."""

import contextlib
import copy
import functools
import math
import threading
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from skorch.dataset import ValidSplit
from torch import nn
from torch.nn.utils import skip_init
from torch.utils.data import Subset

from ._doc_link import DocumentationLinkMixin
from ._pruning import PruningCallback, SparseLinear, compact_module
from ._sklearn_compat import (
    InvalidParameterError,
    StrOptions,
    _fit_context,
    column_or_1d,
)
from ._validation import Interval, checking, keeps_state_on_error


class _DenormalFlush:
    """Treat denormal floats as zero on the CPU while any training runs.

    At the study's learning rate (0.01) training drives many values below
    float32's normal range, where CPUs compute tens of times slower: an epoch
    took 2.6 x as long. Flushing them to zero changes results only in values
    under 1.2e-38. The setting is process-wide, so it is switched on by the
    first of concurrent trainings and back off, to torch's default (torch
    offers no way to read it), when the last one ends: a training in one
    thread never runs with the flush turned off by another.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._n_trainings = 0
        self._flushed = False

    @contextlib.contextmanager
    def __call__(self):
        with self._lock:
            if self._n_trainings == 0:
                self._flushed = torch.set_flush_denormal(True)
            self._n_trainings += 1
        try:
            yield
        finally:
            with self._lock:
                self._n_trainings -= 1
                if self._n_trainings == 0 and self._flushed:
                    torch.set_flush_denormal(False)


_denormals_flushed = _DenormalFlush()


def fast_adam(params, **kwargs):
    """Adam, with its update fused into one kernel where torch offers one."""
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, **kwargs)


OPTIMIZERS = {"adam": fast_adam, "sgd": torch.optim.SGD}
# The classifier's parameters that configure its PruningCallback, each with
# the callback's parameter it sets: their checks come from the callback, and
# the net's callback is built and updated from them through this table alone.
# The callback's other parameters keep their defaults: ``layers`` (all of the
# module's Linear layers) and ``n_activation_samples``.
_PRUNING_PARAMS = {
    "amount": "amount",
    "method": "method",
    "schedule": "schedule",
    "start_epoch": "start_epoch",
    "end_epoch": "end_epoch",
    "prune_on": "prune_on",
    "min_layer_density": "min_layer_density",
    "rewind": "rewind",
    "rewind_epoch": "rewind_epoch",
}
# Parameters that a fitted net takes on when training continues.
_CONTINUABLE_PARAMS = ("max_epochs", "lr", "batch_size", "verbose")


class ArrayBatches:
    """Mini-batches cut from in-memory arrays by one indexing per batch.

    A drop-in for skorch's ``DataLoader`` on the datasets that
    :class:`PrunedMLPClassifier` builds (a skorch ``Dataset`` of arrays, or a
    ``Subset`` of one after a validation split): it skips the per-sample
    ``__getitem__`` and collation, which cost as much as a tenth of an epoch.
    A read-only array is not handed to torch, which cannot protect it from
    writes: each batch is copied out of it.
    Shuffling draws from a generator of its own seeded with ``seed``, which
    runs on from one epoch to the next (from torch's global generator when
    ``seed`` is ``None``, as ``DataLoader`` does).
    """

    def __init__(self, dataset, batch_size, shuffle=False, seed=None):
        rows = None
        while isinstance(dataset, Subset):
            subset_rows = torch.as_tensor(dataset.indices)
            rows = subset_rows if rows is None else subset_rows[rows]
            dataset = dataset.dataset
        self.X = _tensor_or_read_only(dataset.X)
        self.y = None if dataset.y is None else _tensor_or_read_only(dataset.y)
        self.rows = rows
        self.n_samples = len(self.X) if rows is None else len(rows)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)

    def __len__(self):
        return -(-self.n_samples // self.batch_size)

    def __iter__(self):
        rows = self.rows
        if self.shuffle:
            order = torch.randperm(self.n_samples, generator=self.generator)
            rows = order if rows is None else rows[order]
        for start in range(0, self.n_samples, self.batch_size):
            stop = min(start + self.batch_size, self.n_samples)
            batch = slice(start, stop) if rows is None else rows[start:stop]
            y = torch.zeros(stop - start) if self.y is None else _rows(self.y, batch)
            yield _rows(self.X, batch), y


def _tensor_or_read_only(data):
    """Return ``data`` as a tensor sharing its memory, unless it is read-only.

    torch cannot protect a read-only array (a memory map opened with mode
    ``"r"``, for instance) from writes, and warns: such an array is kept as
    it is, and each batch copied out of it by :func:`_rows`, rather than
    copying it whole.
    """
    if isinstance(data, np.ndarray) and not data.flags.writeable:
        return data
    return torch.as_tensor(data)


def _rows(data, batch):
    """Rows ``batch`` (a slice or a tensor of indices) of ``data`` as a tensor."""
    if isinstance(data, torch.Tensor):
        return data[batch]
    rows = batch if isinstance(batch, slice) else batch.numpy()
    return torch.from_numpy(np.require(data[rows], requirements="W"))


def _is_callback(callback, kind):
    """Whether ``callback`` is an instance or a subclass of ``kind``."""
    return isinstance(callback, kind) or (
        isinstance(callback, type) and issubclass(callback, kind)
    )


def _linear(n_in, n_out, generator):
    """Build a Linear layer initialised as torch's default, from ``generator``."""
    # skip_init builds the layer without drawing from the global generator.
    layer = skip_init(nn.Linear, n_in, n_out)
    bound = 1 / math.sqrt(n_in)  # torch's kaiming_uniform_(a=sqrt(5)) bound
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
    return layer


class MLPModule(nn.Module):
    """Input, hidden layers with ReLU, one output per class (logits).

    ``hidden_size`` is the units of the hidden layer, or a sequence of the
    units of each hidden layer from the input's side. The layers are
    ``hidden``, then ``hidden_2``, ``hidden_3``... and ``output``, so a
    single hidden layer has the state_dict keys it always had. The weights
    are drawn, layer after layer, with torch's default distribution for
    Linear layers, from a generator seeded with ``seed`` (from torch's
    global generator when it is ``None``).
    """

    # Modules pickled before deeper perceptrons existed have one hidden layer.
    n_hidden_layers = 1

    def __init__(self, n_features, hidden_size, n_classes, seed=None):
        super().__init__()
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        sizes = [n_features, *np.atleast_1d(hidden_size).tolist()]
        self.hidden = _linear(sizes[0], sizes[1], generator)
        for depth in range(2, len(sizes)):
            layer = _linear(sizes[depth - 1], sizes[depth], generator)
            setattr(self, f"hidden_{depth}", layer)
        self.activation = nn.ReLU()
        self.output = _linear(sizes[-1], n_classes, generator)
        self.n_hidden_layers = len(sizes) - 1

    def forward(self, X):
        """Logits of a batch of shape (n_samples, n_features)."""
        X = self.activation(self.hidden(X))
        for depth in range(2, self.n_hidden_layers + 1):
            X = self.activation(getattr(self, f"hidden_{depth}")(X))
        return self.output(X)


class PrunedMLPClassifier(DocumentationLinkMixin, ClassifierMixin, BaseEstimator):
    """Multilayer perceptron, trained and pruned with skorch.

    The module is input -> hidden (ReLU) -> one logit per class, with one
    hidden layer by default (``hidden_layers`` gives more), trained
    with cross-entropy by a skorch :class:`~skorch.NeuralNetClassifier`
    (kept as ``net_``, with its history and callbacks) and pruned during
    training by a :class:`~fuzzyprune.PruningCallback`. The defaults follow
    the network of the original study (hidden layer half the size of the
    input, Adam, learning rate 0.01, batches of 100); the pruning
    parameters are top-level, so ``GridSearchCV`` searches ``amount`` or
    ``hidden_size`` directly.

    The pruning parameters, ``amount`` to ``rewind_epoch``, are passed
    unchanged to the parameters of the same names of
    :class:`~fuzzyprune.PruningCallback`, which defines them in full; they
    have its defaults and its checks. Their epochs are counted from 1 at the
    first epoch of each ``fit``; ``partial_fit`` continues the schedule (see
    ``warm_start``).

    Parameters
    ----------
    hidden_size : int, default=None
        Units of the hidden layer. ``None`` means half the number of
        features (at least 1).

    hidden_layers : tuple of int, default=None
        Units of each hidden layer, from the input's side, for a deeper
        perceptron (each layer followed by ReLU); the layers of the module
        are named ``hidden``, ``hidden_2``, ``hidden_3``... and ``output``.
        ``None`` means one hidden layer of ``hidden_size`` units, which must
        then be ``None`` itself: set one of the two.

    amount : float, default=0.5
        The fraction of weights (or hidden units) pruned by the end of the
        schedule or, with ``schedule="per_epoch"``, the fraction of those
        remaining pruned at each pruning epoch. 0 trains an unpruned
        network.

    method : {"l1_unstructured", "l1_structured", "distinctiveness"}, \
            default="l1_unstructured"
        What is pruned: single weights by magnitude, ranked over both layers
        (as the original study), or whole hidden units, by the L1 norm of
        their incoming weights or by the distinctiveness of their
        activations.

    schedule : {"per_epoch", "gradual", "once"} or callable, \
            default="gradual"
        When it is pruned: ``amount`` of what remains at every epoch (the
        original study), along a cubic ramp up to ``amount``, all at once
        followed by fine-tuning, or, for a callable, to the target sparsity
        ``schedule(epoch)`` at each epoch (``amount`` is then not used). The
        classifier pickles when the callable does.

    start_epoch, end_epoch : int, default=None
        First and last pruning epochs; ``None`` chooses them from the
        schedule and ``max_epochs``. Epochs beyond ``max_epochs`` are
        allowed (``partial_fit`` may train on past them), but a ``fit`` that
        ends before its last pruning epoch ends below ``amount`` and warns:
        with ``start_epoch=10`` and ``max_epochs=4`` nothing is pruned, with
        ``end_epoch=10`` the ramp is cut short.

    prune_on : {"epoch_begin", "epoch_end"}, default="epoch_begin"
        When, within a pruning epoch, the pruning step happens: before the
        epoch's training (``"epoch_begin"``) or after it, before its
        validation (``"epoch_end"``), as the original study did (train an
        epoch, then prune). Either way the sparsity recorded for epoch ``k``
        is the schedule's target for epoch ``k``, and the epoch's
        ``valid_loss`` and ``valid_acc`` are those of the net with that
        sparsity.

    min_layer_density : float, default=0.0
        Fraction of each layer's weights (or of the hidden units) kept
        whatever the global ranking says.

    rewind : {"weights", "learning_rate"}, default=None
        Iterative magnitude pruning with rewinding: after each step that
        prunes, ``"weights"`` sets the surviving weights, the optimizer's
        state and the learning rate back to the rewind point (such as the
        initial weights of a lottery ticket); ``"learning_rate"`` replays
        from there the learning-rate schedule of an ``LRScheduler`` passed
        in ``callbacks`` (with none, training warns). ``None`` does not
        rewind. ``partial_fit``, which continues the schedule, is refused
        once past its rewind point while pruning steps remain.

    rewind_epoch : int, default=0
        The rewind point: the end of this epoch (0, the start of the
        ``fit``), before the first pruning epoch.

    max_epochs : int, default=20
        Epochs of training per ``fit``.

    lr : float, default=0.01
        Learning rate.

    batch_size : int, default=100
        Samples per training (and prediction) batch.

    optimizer : {"adam", "sgd"} or torch optimizer class, default="adam"
        The optimizer; ``"adam"`` uses torch's fused Adam (one kernel per
        step) where torch offers it, plain Adam otherwise.

    validation_fraction : float, default=None
        Fraction of the training data held out to compute ``valid_loss``
        and ``valid_acc`` in ``net_.history`` at each epoch. ``None`` trains
        on all the data.

    callbacks : list of skorch callbacks or (name, callback) pairs, \
            default=None
        More callbacks for the net (instances or classes); copies are used.
        The name ``"pruning"`` is the classifier's own, and so is pruning: a
        :class:`~fuzzyprune.PruningCallback` here is refused.

    device : str or torch.device, default="cpu"
        Torch device, such as ``"cuda"``; checked before training, which
        refuses a device that computes no values, such as ``"meta"``.

    warm_start : bool, default=False
        Whether ``fit`` continues training the fitted network (for
        ``max_epochs`` more epochs) instead of starting afresh. The pruning
        parameters, ``max_epochs``, ``lr``, ``batch_size`` and ``verbose``
        set since apply to the continued training (Adam keeps its state);
        ``hidden_size``, ``hidden_layers``, ``optimizer``,
        ``validation_fraction``, ``callbacks`` and ``device`` change only
        with a fresh fit. Each
        warm-started ``fit`` runs a new pruning schedule over its
        ``max_epochs`` epochs, from the sparsity reached to ``amount``: with
        ``schedule="gradual"`` a raised ``amount`` is reached along a new
        cubic ramp over the second and third quarters of those epochs (or
        ``start_epoch`` to ``end_epoch``, counted from the fit's first
        epoch), not at once. ``partial_fit`` continues the current schedule
        epoch by epoch, so that ``max_epochs`` calls prune as one ``fit``
        does, and starts a new one only when a pruning parameter has
        changed. Pruning is never undone: a lowered ``amount`` keeps the
        sparsity reached (pruned weights stay zero), and warns, except with
        ``schedule="per_epoch"``, whose ``amount`` is a fraction of what
        remains.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights' initialisation, the shuffling of batches and the
        validation split, through generators that the fit owns: torch's and
        numpy's global random states are neither used nor changed, so fits
        in concurrent threads are identical to the same fits run one after
        the other. With an int, two fits on the CPU are identical. ``None``
        seeds from fresh operating-system entropy. The module has no
        dropout, so training draws no other random numbers.

    verbose : int, default=0
        Print skorch's table of epochs (losses, sparsity) if positive.

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The trained net; ``net_.module_`` is the :class:`torch.nn.Module`
        and ``net_.history`` the per-epoch record, with ``sparsity``.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    compression_ : dict
        Set by :meth:`compact`: bytes before and after, and hidden units
        kept.

    See Also
    --------
    fuzzyprune.PruningCallback : The pruning, usable with any skorch net.
    sklearn.neural_network.MLPClassifier : An unpruned perceptron.

    Notes
    -----
    This is an scikit-learn estimator that builds its skorch net in ``fit``,
    rather than a subclass of ``NeuralNetClassifier``: that way every
    hyper-parameter is a plain constructor argument, labels of any type are
    encoded, and the estimator passes scikit-learn's common checks.

    References
    ----------
    .. [1] A. C. Nara, "Image Classification Using Network Pruning and
       Clustering Techniques", Australian National University, 2021.
    .. [2] M. Zhu and S. Gupta, "To prune, or not to prune: exploring the
       efficacy of pruning for model compression", ICLR workshop, 2018.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from fuzzyprune import PrunedMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PrunedMLPClassifier(amount=0.8, max_epochs=8, random_state=0)
    >>> clf.fit(X / 16, y).score(X / 16, y) > 0.9
    True
    >>> round(clf.net_.history[-1, "sparsity"], 2)
    0.8
    """

    _parameter_constraints: dict = {
        "hidden_size": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_layers": [tuple, list, None],
        **{
            name: PruningCallback._parameter_constraints[callback_name]
            for name, callback_name in _PRUNING_PARAMS.items()
        },
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, np.inf, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_size=None,
        *,
        hidden_layers=None,
        amount=0.5,
        method="l1_unstructured",
        schedule="gradual",
        start_epoch=None,
        end_epoch=None,
        prune_on="epoch_begin",
        min_layer_density=0.0,
        rewind=None,
        rewind_epoch=0,
        max_epochs=20,
        lr=0.01,
        batch_size=100,
        optimizer="adam",
        validation_fraction=None,
        callbacks=None,
        device="cpu",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.hidden_size = hidden_size
        self.hidden_layers = hidden_layers
        self.amount = amount
        self.method = method
        self.schedule = schedule
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.prune_on = prune_on
        self.min_layer_density = min_layer_density
        self.rewind = rewind
        self.rewind_epoch = rewind_epoch
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.callbacks = callbacks
        self.device = device
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_error
    def fit(self, X, y):
        """Train and prune the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, converted to float32.

        y : array-like of shape (n_samples,)
            Class labels, of any type.

        Returns
        -------
        self : PrunedMLPClassifier
            The fitted classifier.

        Raises
        ------
        ValueError
            If a parameter is out of its range, ``device`` is not a device
            torch can use here or one that computes no values (``"meta"``),
            ``X`` holds strings or complex numbers, ``y`` is None or holds
            complex numbers or NaN, ``X`` and ``y`` differ in length, ``y``
            has fewer than 2 classes, ``callbacks`` holds a
            ``PruningCallback``, or ``warm_start`` is set and the network
            was compacted with ``sparse=True`` or lost hidden units to
            :meth:`compact`.

        TypeError
            If a parameter has the wrong type, such as a ``callbacks`` entry
            that is not a skorch callback.

        Warns
        -----
        UserWarning
            If training ends below the sparsity the schedule requests for
            its end (an ``EarlyStopping`` callback stopped it,
            ``min_layer_density`` allows no more, or ``start_epoch`` or
            ``end_epoch`` lie beyond ``max_epochs``), or if a warm start
            lowers ``amount`` below the sparsity already reached.
        """
        self._check_components()
        continuing = self.warm_start and hasattr(self, "net_")
        X, y = self._validate_with_y(X, y, reset=not continuing)
        if continuing:
            self._continue_training(new_schedule=True)
            return self._train(X, self._encode(y), epochs=None)
        self._set_classes(y)
        self._initialize_net(X.shape[1])
        return self._train(X, self._encode(y), epochs=None)

    @keeps_state_on_error
    def partial_fit(self, X, y, classes=None):
        """Train (and prune) the network for one more epoch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class labels.

        classes : array-like of shape (n_classes,), default=None
            All the classes; required at the first call. Later calls may
            omit them or give the same ones.

        Returns
        -------
        self : PrunedMLPClassifier
            The updated classifier.

        Raises
        ------
        ValueError
            At any call, before training, if a parameter is out of its range
            (see :meth:`fit`) or ``X`` or ``y`` is refused as by
            :meth:`fit`; at the first call, if ``classes`` is missing;
            later, if ``classes`` differ from ``classes_``, ``y`` has
            labels not in ``classes_``, or :meth:`compact` stored layers as
            CSR or removed hidden units.

        TypeError
            At any call, before training, if a parameter has the wrong type.

        Warns
        -----
        UserWarning
            As :meth:`fit`, at the call that completes ``max_epochs`` epochs
            of the schedule, or at a call whose lowered ``amount`` starts a
            schedule below the sparsity already reached.
        """
        first_call = not hasattr(self, "net_")
        # Every call, as scikit-learn's partial_fit: parameters may have been
        # set since the last one, and continued training passes them on.
        self._validate_params()
        if first_call:
            self._check_components()
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
        elif classes is not None and not np.array_equal(
            classes := np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"classes={classes.tolist()} differ from those of the "
                f"first call to partial_fit (or fit), {self.classes_.tolist()}; "
                "fit afresh to change them."
            )
        X, y = self._validate_with_y(X, y, reset=first_call)
        if first_call:
            self._set_classes(np.asarray(classes))
            self._initialize_net(X.shape[1])
        else:
            self._continue_training(new_schedule=False)
        return self._train(X, self._encode(y), epochs=1)

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, float32, rows summing to 1.

        Raises
        ------
        ValueError
            If ``X`` holds strings, complex numbers or non-finite values, or
            has not ``n_features_in_`` features.
        """
        check_is_fitted(self)
        return self.net_.predict_proba(self._validate(X))

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def compact(self, *, sparse=False):
        """Make pruning pay: drop dead hidden units, optionally store CSR.

        Hidden units whose outgoing weights are all zero (all units removed
        by the structured methods) are cut out of the layers around them,
        leaving a smaller dense network with the same predictions (to
        float rounding), which predicts but trains on only if no unit was
        removed: pruning would otherwise start again against the smaller
        network. With
        ``sparse=True``, the layers that CSR storage makes smaller (those
        with enough zero weights, after unstructured pruning) are then
        stored as sparse CSR matrices, which saves memory and speeds up
        prediction at high sparsity; such a network predicts but can no
        longer be trained. With ``sparse="auto"``, each layer is
        stored in CSR form only if its product on a batch of ``batch_size``
        rows is measured to be faster that way on this machine: a choice
        that depends on the machine, unlike ``True`` and ``False`` (see
        :func:`~fuzzyprune.compact_module`).

        Parameters
        ----------
        sparse : bool or "auto", default=False
            Whether to store the weights with zeros in CSR form; ``"auto"``:
            for each layer, whether its CSR product is measured to be faster.

        Returns
        -------
        self : PrunedMLPClassifier
            The classifier, its ``net_.module_`` changed in place and
            ``compression_`` set: :func:`~fuzzyprune.compact_module`'s
            report and ``sparse``, whether any layer is stored in CSR form
            (for ``"auto"``, its ``timings`` say which).

        Raises
        ------
        TypeError
            If ``sparse`` is neither a bool nor ``"auto"`` (scikit-learn's
            ``InvalidParameterError``, also a ``ValueError``).
        ValueError
            If an earlier ``compact`` stored layers as CSR.
        """
        check_is_fitted(self)
        if not isinstance(sparse, bool | np.bool_) and not (
            isinstance(sparse, str) and sparse == "auto"
        ):
            raise InvalidParameterError(
                f"sparse must be a bool or 'auto'; got {sparse!r}."
            )
        if self._has_csr_layers():
            raise ValueError(
                "The network already has layers stored as CSR by an earlier "
                "compact(), which is final: it can only predict. Fit it again "
                "with warm_start=False to compact it otherwise."
            )
        # "auto" times the layers on batches the size of predict's.
        X = np.zeros((self.batch_size, self.n_features_in_), dtype=np.float32)
        self.compression_ = compact_module(self.net_.module_, X, sparse=sparse)
        self.compression_["sparse"] = self._has_csr_layers()
        if not self.compression_["sparse"]:
            # The optimizer still refers to the removed, larger tensors.
            self.net_.initialize_optimizer()
        return self

    def _has_csr_layers(self):
        return any(
            isinstance(layer, SparseLinear) for layer in self.net_.module_.modules()
        )

    def to_onnx(self, path):
        """Write the fitted network, with its labels, as an ONNX model.

        The model takes one input, ``X``: float32 of shape (n_samples,
        ``n_features_in_``), any number of samples. It returns ``label``, of
        shape (n_samples,), the entries of ``classes_`` with their dtype
        (integers, floats or strings), and ``probabilities``, float32 of
        shape (n_samples, n_classes): under onnxruntime, the results of
        :meth:`predict` and :meth:`predict_proba`. A network compacted with
        ``sparse=True`` is written too: each sparse layer as a ``Constant``
        node holding a sparse tensor (its non-zero values and their
        indices) where that is smaller (fewer than a third of its weights
        non-zero), densely otherwise; runtimes expand them to dense weights
        when they load the model. The model takes float32 only (cast
        float64 data first). The file is written whole or not at all.

        Parameters
        ----------
        path : str or path-like
            The file to write (``.onnx``), in an existing folder; it is
            replaced if it exists.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the classifier is not fitted.

        TypeError
            If ``path`` is not a str or path-like.

        FileNotFoundError
            If the folder of ``path`` does not exist.

        IsADirectoryError
            If ``path`` is a folder.

        ImportError
            If the onnx package is not installed (``pip install
            "fuzzyprune[onnx]"`` installs it, with onnxruntime).

        See Also
        --------
        compact : Make the network smaller before writing it.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> import onnxruntime
        >>> from sklearn.datasets import load_iris
        >>> from fuzzyprune import PrunedMLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> names = np.array(["setosa", "versicolor", "virginica"])[y]
        >>> clf = PrunedMLPClassifier(hidden_size=8, max_epochs=5, random_state=0)
        >>> clf = clf.fit(X, names).compact()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     clf.to_onnx(Path(folder) / "iris.onnx")
        ...     session = onnxruntime.InferenceSession(Path(folder) / "iris.onnx")
        >>> label, proba = session.run(None, {"X": X.astype(np.float32)})
        >>> label[:2]
        array(['...', '...'], dtype=object)
        >>> np.array_equal(label, clf.predict(X))
        True
        >>> np.allclose(proba, clf.predict_proba(X), atol=1e-5)
        True
        """
        from ._export import check_onnx_path, write_onnx

        check_is_fitted(self)
        path = check_onnx_path(path)
        write_onnx(self.net_.module_, self.n_features_in_, self.classes_, path)

    def __getstate__(self):
        state = dict(super().__getstate__())
        if "net_" in state:
            state["net_"], state["_net_references"] = _portable_net(self.net_)
        return state

    def __setstate__(self, state):
        references = state.pop("_net_references", None)
        super().__setstate__(state)
        if references is not None:
            _restore_references(self.net_, references)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    def _validate(self, X, reset=False):
        """Validate ``X`` as float32, naming it in refusals."""
        with checking(X, "X"):
            return validate_data(self, X, dtype=np.float32, order="C", reset=reset)

    def _validate_with_y(self, X, y, reset):
        """Validate ``X``, then ``y``, naming each in its refusals.

        One after the other, so that a refusal of ``y`` does not read as one
        of ``X``.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None."
            )
        X = self._validate(X, reset=reset)
        with checking(y, "y", text=True):
            y = column_or_1d(y, warn=True)
            assert_all_finite(y, input_name="y")
            check_consistent_length(X, y)
        return X, y

    def _set_classes(self, y):
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                "PrunedMLPClassifier needs samples of at least 2 classes; got "
                f"1 class: {self.classes_[0]!r}."
            )

    def _encode(self, y):
        check_classification_targets(y)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()[:5]} not in classes_."
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _check_components(self):
        """Check what the constraints cannot: hidden layers, device, callbacks."""
        self._check_hidden_layers()
        try:
            torch.empty(0, device=self.device)
        except (RuntimeError, AssertionError) as error:
            raise ValueError(
                f"device={self.device!r} is not a torch device available here: {error}"
            ) from error
        try:
            # A device that holds no values, such as "meta", would fail only
            # once training reads its first loss.
            torch.ones(1, device=self.device).sum().item()
        except (RuntimeError, NotImplementedError) as error:
            raise ValueError(
                f"device={self.device!r} cannot train a network: it computes "
                f"no values ({error})."
            ) from error
        if isinstance(self.optimizer, type) and not issubclass(
            self.optimizer, torch.optim.Optimizer
        ):
            raise TypeError(
                "optimizer must be 'adam', 'sgd' or a torch.optim.Optimizer "
                f"subclass; got {self.optimizer!r}."
            )
        for index, item in enumerate(self.callbacks or []):
            pair = isinstance(item, tuple | list) and len(item) == 2
            name, callback = item if pair else (None, item)
            if not _is_callback(callback, Callback) or (
                pair and not isinstance(name, str)
            ):
                raise TypeError(
                    f"callbacks[{index}] must be a skorch Callback (an instance "
                    f"or a class) or a (name, callback) pair; got {item!r}."
                )
            if name == "pruning":
                raise ValueError(
                    f"callbacks[{index}] is named 'pruning', the name of the "
                    "classifier's own PruningCallback; choose another name."
                )
            if _is_callback(callback, PruningCallback):
                raise ValueError(
                    f"callbacks[{index}] is a PruningCallback; the classifier "
                    "prunes with its own, set by its pruning parameters."
                )

    def _continue_training(self, new_schedule):
        """Check the net can train on, and give it the current parameters.

        Setting the pruning parameters re-initializes the callbacks, which
        starts a new schedule: a warm-started ``fit`` always does,
        ``partial_fit`` only when a pruning parameter has changed.
        """
        if self._has_csr_layers():
            raise ValueError(
                "The network has layers stored as CSR by compact(sparse=True "
                "or 'auto') and can only predict; fit it again with "
                "warm_start=False to train."
            )
        units = getattr(self, "compression_", {}).get("hidden_units", {})
        if any(after < before for before, after in units.values()):
            # The callback would count its targets against the smaller net
            # and prune what is left again, reporting the wrong sparsity.
            raise ValueError(
                "compact() removed hidden units from the network, so it can "
                "only predict: pruning on would start again against the "
                "smaller network. Fit it again with warm_start=False to train."
            )
        self.net_.set_params(
            **{name: getattr(self, name) for name in _CONTINUABLE_PARAMS}
        )
        params = self._pruning_params()
        pruning = self._pruning_callback()
        if new_schedule or any(getattr(pruning, k) != v for k, v in params.items()):
            self.net_.set_params(
                **{f"callbacks__pruning__{name}": v for name, v in params.items()}
            )

    def _pruning_params(self):
        """Return the pruning callback's parameters, set from the classifier's."""
        return {
            callback_name: getattr(self, name)
            for name, callback_name in _PRUNING_PARAMS.items()
        }

    def _pruning_callback(self):
        return dict(self.net_.callbacks_)["pruning"]

    def _initialize_net(self, n_features):
        self.net_ = self._build_net(n_features)
        self.net_.initialize()

    def _check_hidden_layers(self):
        """Check the units of ``hidden_layers``, and that it comes alone."""
        if self.hidden_layers is None:
            return
        message = (
            "hidden_layers must be None or a non-empty tuple of ints of at "
            f"least 1, the units of each hidden layer; got {self.hidden_layers!r}."
        )
        for units in self.hidden_layers:
            if isinstance(units, bool) or not isinstance(units, Integral):
                raise TypeError(message)
        if not self.hidden_layers or min(self.hidden_layers) < 1:
            raise ValueError(message)
        if self.hidden_size is not None:
            raise ValueError(
                f"hidden_size={self.hidden_size!r} and hidden_layers="
                f"{self.hidden_layers!r} are both set; set hidden_layers alone "
                "for several hidden layers, or hidden_size alone for one."
            )

    def _hidden_sizes(self, n_features):
        """Units of the hidden layer, or a tuple of those of each hidden layer."""
        if self.hidden_layers is not None:
            return tuple(int(units) for units in self.hidden_layers)
        return self.hidden_size or max(1, n_features // 2)

    def _build_net(self, n_features):
        hidden_size = self._hidden_sizes(n_features)
        optimizer = OPTIMIZERS.get(self.optimizer, self.optimizer)
        train_split = None
        if self.validation_fraction is not None:
            train_split = ValidSplit(
                self.validation_fraction,
                stratified=False,
                random_state=self._seed(),
            )
        pruning = PruningCallback(**self._pruning_params())
        # The initial weights and the order of batches are drawn from
        # generators of their own, seeded here and at each training: neither
        # touches torch's global generator, so fits in concurrent threads do
        # not disturb each other, and the net pickles the seeds (ints), not
        # generator states.
        return NeuralNetClassifier(
            MLPModule,
            module__n_features=n_features,
            module__hidden_size=hidden_size,
            module__n_classes=len(self.classes_),
            module__seed=self._seed(),
            criterion=nn.CrossEntropyLoss,
            optimizer=optimizer,
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            train_split=train_split,
            iterator_train=ArrayBatches,
            iterator_valid=ArrayBatches,
            iterator_train__shuffle=True,
            iterator_train__seed=None,
            callbacks=[("pruning", pruning), *copy.deepcopy(self.callbacks or [])],
            classes=np.arange(len(self.classes_)),
            device=self.device,
            verbose=self.verbose,
        )

    def _seed(self):
        """Draw a seed from ``random_state``, or fresh entropy when it is None."""
        if self.random_state is None:
            # Not numpy's global generator: a fit draws from no global state.
            return int(np.random.SeedSequence().generate_state(1)[0])
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _train(self, X, y, epochs):
        # Each training shuffles from a seed of its own, from random_state and
        # the epochs run, so that its batches do not depend on what else the
        # process drew, nor on whether the net was pickled in between.
        # skorch's set_params refuses iterator parameters of an initialized
        # net; it reads them from the attributes when it builds the iterator.
        self.net_.iterator_train__seed = self._seed() + len(self.net_.history) + 1
        if epochs is not None:
            self._pruning_callback().expect_epochs(epochs)
        with _denormals_flushed():
            self.net_.partial_fit(X, y, epochs=epochs)
        return self


# What a fitted net refers to that is not its state: functions and classes
# that the classifier and skorch's default callbacks set on every net. skops
# loads only types its user trusts; these are pickled as their names and put
# back from this table, so that none of them (not even ``print``, the sink of
# the printed log) needs trusting, and a file can name nothing else.
@functools.cache
def _named_objects():
    from skorch.dataset import Dataset
    from skorch.setter import optimizer_setter
    from skorch.utils import check_indexing, to_numpy

    objects = (
        MLPModule,
        ArrayBatches,
        nn.CrossEntropyLoss,
        Dataset,
        *OPTIMIZERS.values(),
        optimizer_setter,
        print,
        to_numpy,
        # How the scoring callbacks index the arrays the classifier passes.
        check_indexing(np.empty(0)),
    )
    return {f"{obj.__module__}.{obj.__qualname__}": obj for obj in objects}


def _portable_net(net):
    """Return a copy of ``net`` without the objects of the table, and their places.

    The copy is shallow, and so are the copies of the callbacks that refer
    to one of these objects (a callback in both ``callbacks`` and
    ``callbacks_`` stays one object): ``net`` itself is unchanged. The
    optimizer's parameter setters, ``functools.partial`` objects, are kept
    as their function's name and keywords.
    """
    names = {id(obj): name for name, obj in _named_objects().items()}
    references = {"net": _named_attributes(net, names), "callbacks_": {}}
    portable = _shallow_copy(net, without=references["net"])
    copies = {}
    for name, callback in net.callbacks_:
        found = _named_attributes(callback, names)
        copies[id(callback)] = _shallow_copy(callback, found) if found else callback
        if found:
            references["callbacks_"][name] = found
    portable.callbacks_ = [(name, copies[id(cb)]) for name, cb in net.callbacks_]
    portable.callbacks = [_with_copies(entry, copies) for entry in net.callbacks]
    setters = net.virtual_params_.items()
    if all(_is_named_partial(setter, names) for _, setter in setters):
        references["virtual_params_"] = {
            pattern: (names[id(setter.func)], setter.keywords)
            for pattern, setter in setters
        }
        portable.virtual_params_ = {}
    return portable, references


def _named_attributes(obj, names):
    """Map the attributes of ``obj`` that hold an object in ``names`` to its name."""
    return {key: names[id(v)] for key, v in vars(obj).items() if id(v) in names}


def _shallow_copy(obj, without):
    """Copy the attributes of ``obj`` but ``without``, and nothing else.

    Not ``copy.copy``, which goes through pickling methods: a skorch net's
    would serialize its module and optimizer.
    """
    copied = object.__new__(type(obj))
    vars(copied).update({k: v for k, v in vars(obj).items() if k not in without})
    return copied


def _with_copies(entry, copies):
    """Return a ``callbacks`` entry, a callback or a pair, with its copy if any."""
    if isinstance(entry, tuple | list):
        name, callback = entry
        return type(entry)((name, copies.get(id(callback), callback)))
    return copies.get(id(entry), entry)


def _is_named_partial(setter, names):
    return (
        isinstance(setter, functools.partial)
        and not setter.args
        and id(setter.func) in names
    )


def _restore_references(net, references):
    """Put back on ``net`` the objects that :func:`_portable_net` took off."""
    objects = _named_objects()
    for key, name in references["net"].items():
        setattr(net, key, objects[name])
    callbacks = dict(net.callbacks_)
    for callback_name, found in references["callbacks_"].items():
        for key, name in found.items():
            setattr(callbacks[callback_name], key, objects[name])
    if "virtual_params_" in references:
        net.virtual_params_ = {
            pattern: functools.partial(objects[name], **keywords)
            for pattern, (name, keywords) in references["virtual_params_"].items()
        }
