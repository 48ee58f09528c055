"""Reproduce the experiments of the original study and write a report.

The four experiments of A. C. Nara, "Image Classification Using Network
Pruning and Clustering Techniques" (2021), on Vehicle-X features or on the
synthetic data of :func:`fuzzyprune.datasets.make_vehicle_x`:

- Table 3: an unpruned one-hidden-layer perceptron (baseline) for two epoch
  counts; training, validation and test accuracy of vehicle identities;
- Table 4: the same network pruned after every epoch (global L1, the study's
  ``per_epoch`` schedule) for several amounts, and with the library's default
  ``gradual`` schedule for comparison;
- Tables 5 and 6: fuzzy c-means with 11 clusters on the training features,
  against the vehicle types, for several iteration counts and fuzzifiers;
- the genetic feature selection scored by the silhouette of fuzzy c-means,
  with the study's population of 10 for 2 generations and with the
  library's defaults.

Each table keeps the study's rows and columns and adds what the study did not
report: the cluster accuracy after Hungarian matching of clusters to types,
the adjusted Rand index, the normalised mutual information, the silhouette,
the sparsity, and the wall time. Figures 1 and 3 (histograms of identities,
types and cluster labels) and the GA fitness curve are drawn when matplotlib
is installed.
"""

import csv
import dataclasses
import os
import platform
import stat
import time
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics import silhouette_score as _silhouette_score
from sklearn.utils import Bunch
from sklearn.utils.validation import check_array, check_consistent_length
from tqdm.auto import tqdm

from . import __version__, _import_nn
from ._fcm import FuzzyCMeans
from ._ga import GAFeatureSelector
from ._sklearn_compat import (
    column_or_1d,
    validate_parameter_constraints,
    validate_params,
)
from ._validation import Interval, check_random_state
from .datasets import _MAX_COUNT, load_vehicle_x, make_vehicle_x
from .metrics import cluster_accuracy

__all__ = ["FULL", "QUICK", "Settings", "reproduce"]

N_CLUSTERS = 11
# The clusterings need a training sample per cluster, and the networks one
# validation and one test sample.
MIN_SAMPLES = N_CLUSTERS + 2
# NumPy's largest array size, as make_vehicle_x takes at most.
MAX_SAMPLES = _MAX_COUNT
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a reproduction runs; see :data:`QUICK` and :data:`FULL`.

    Parameters
    ----------
    name : str
        Shown in the report.
    max_samples : int or None
        Most samples used (synthetic: generated), from :data:`MIN_SAMPLES`
        to :data:`MAX_SAMPLES`; ``None`` for all.
    baseline_epochs : tuple of int
        Epoch counts of the unpruned network (Table 3).
    pruned_epochs : int
        Epochs of each pruned network (Table 4).
    amounts : tuple of float
        Pruning amounts of Table 4.
    fcm_iterations : tuple of int
        Iteration counts of Table 5.
    fuzzifiers : tuple of float
        Values of ``m`` of Table 6.
    ga_settings : tuple of (int, int)
        (population size, generations) of each genetic search.
    silhouette_sample_size : int, default=2000
        Rows on which the reported silhouettes are computed.
    well_trained_lr : float, default=0.001
        Learning rate of Table 4's extra rows, at which the dense network
        trains well, so that pruning is compared with a network that does.

    Raises
    ------
    ValueError or TypeError
        Naming the field and its allowed values, if ``max_samples`` is below
        :data:`MIN_SAMPLES` or above :data:`MAX_SAMPLES`, a tuple is empty
        or not a tuple, an epoch or iteration count is below 1, an amount is
        outside [0, 1), a fuzzifier is not above 1, a population is below 3
        or a number of generations below 0 (or an entry of ``ga_settings`` is
        not such a pair), ``silhouette_sample_size`` is below 2,
        ``well_trained_lr`` is not a positive finite number, or a number is
        a bool.
    """

    name: str
    max_samples: int | None
    baseline_epochs: tuple
    pruned_epochs: int
    amounts: tuple
    fcm_iterations: tuple
    fuzzifiers: tuple
    ga_settings: tuple
    silhouette_sample_size: int = 2000
    well_trained_lr: float = 0.001

    def __post_init__(self):
        """Refuse a field out of its range (see Raises)."""
        _check_settings(self)


_AT_LEAST_ONE = Interval(Integral, 1, None, closed="left")
_N_SAMPLES = Interval(Integral, MIN_SAMPLES, MAX_SAMPLES, closed="both")
_SETTINGS_CONSTRAINTS = {
    "name": [str],
    "max_samples": [_N_SAMPLES, None],
    "pruned_epochs": [_AT_LEAST_ONE],
    "silhouette_sample_size": [Interval(Integral, 2, None, closed="left")],
    "well_trained_lr": [Interval(Real, 0, None, closed="neither")],
}
# The fields that are tuples, with the constraints on each of their entries.
_SETTINGS_ENTRY_CONSTRAINTS = {
    "baseline_epochs": [_AT_LEAST_ONE],
    "amounts": [Interval(Real, 0, 1, closed="left")],
    "fcm_iterations": [_AT_LEAST_ONE],
    "fuzzifiers": [Interval(Real, 1, None, closed="neither")],
    "ga_settings": [tuple],
}
# (population size, generations), as GAFeatureSelector takes them with its
# default tournament size and elites, which the population must exceed.
_GA_DEFAULTS = GAFeatureSelector(None).get_params()
_GA_SETTING_CONSTRAINTS = (
    [
        Interval(
            Integral,
            max(_GA_DEFAULTS["tournament_size"], _GA_DEFAULTS["n_elites"] + 1),
            None,
            closed="left",
        )
    ],
    [Interval(Integral, 0, None, closed="left")],
)


def _check_settings(settings):
    """Refuse a field of ``settings`` out of its range, naming the field."""
    fields = {
        field.name: getattr(settings, field.name)
        for field in dataclasses.fields(settings)
    }
    tuples = {name: [tuple] for name in _SETTINGS_ENTRY_CONSTRAINTS}
    validate_parameter_constraints(
        _SETTINGS_CONSTRAINTS | tuples, fields, caller_name="Settings"
    )
    for name in _SETTINGS_ENTRY_CONSTRAINTS:
        if not fields[name]:
            raise ValueError(f"The {name!r} field of Settings must not be empty.")
    entries = {
        f"{name}[{index}]": (constraints, value)
        for name, constraints in _SETTINGS_ENTRY_CONSTRAINTS.items()
        for index, value in enumerate(fields[name])
    }
    _check_entries(entries)
    for index, pair in enumerate(settings.ga_settings):
        if len(pair) != 2:
            raise ValueError(
                f"The 'ga_settings[{index}]' field of Settings must be a pair "
                f"(population size, generations). Got {pair!r} instead."
            )
    _check_entries(
        {
            f"ga_settings[{index}][{position}]": (constraints, value)
            for index, pair in enumerate(settings.ga_settings)
            for position, (constraints, value) in enumerate(
                zip(_GA_SETTING_CONSTRAINTS, pair, strict=True)
            )
        }
    )


def _check_entries(entries):
    """Check each ``name: (constraints, value)`` as a field of Settings."""
    validate_parameter_constraints(
        {name: constraints for name, (constraints, _) in entries.items()},
        {name: value for name, (_, value) in entries.items()},
        caller_name="Settings",
    )


QUICK = Settings(
    name="quick",
    max_samples=6000,
    baseline_epochs=(10, 4),
    pruned_epochs=4,
    amounts=(0.2, 0.3, 0.4, 0.5),
    fcm_iterations=(5, 10, 15),
    fuzzifiers=(1.7, 2.5, 3.5, 4.5, 5.5),
    ga_settings=((10, 2), (20, 5)),
)

FULL = dataclasses.replace(
    QUICK, name="full", max_samples=None, baseline_epochs=(500, 100), pruned_epochs=100
)

PAPER_M = 1.7
PAPER_FCM_ITERATIONS = 5
GA_FCM_ITERATIONS = 10
PAPER_LR = 0.01
PAPER_AMOUNT = 0.2
# The study's GA fitness: the silhouette on the selected features, from an
# initial population with half of the features on.
PAPER_GA = {"silhouette_features": "selected", "init_proba": 0.5}
# The library's fuzzifiers for high-dimensional data, beside the study's m.
LIBRARY_FUZZIFIERS = {
    "auto": {"m": "auto"},
    "polynomial": {"fuzzifier": "polynomial", "beta": 0.5},
}


@dataclasses.dataclass
class _Table:
    """A results table: the study's columns first, then the added ones."""

    name: str
    title: str
    columns: list
    rows: list = dataclasses.field(default_factory=list)

    def markdown(self):
        lines = [
            f"**{self.title}**",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "---|" * len(self.columns),
        ]
        for row in self.rows:
            lines.append(
                "| " + " | ".join(_format(row[c]) for c in self.columns) + " |"
            )
        return "\n".join(lines) + "\n"

    def write(self, folder):
        (folder / f"{self.name}.md").write_text(self.markdown())
        with open(folder / f"{self.name}.csv", "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(self.rows)


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _percent(fraction):
    return f"{100 * fraction:.2f}%"


class _Data:
    """The features and labels of each split."""

    def __init__(self, bunch, max_samples, seed, description):
        rows = np.arange(len(bunch.data))
        if max_samples is not None and len(rows) > max_samples:
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(rows, max_samples, replace=False))
        self.bunch = bunch
        self.rows = {split: rows[bunch.split[rows] == split] for split in SPLITS}
        self.description = description
        self._features = {}

    def X(self, split):
        # Each split is read out of the (possibly memory-mapped) data once.
        if split not in self._features:
            rows = self.rows[split]
            self._features[split] = np.asarray(self.bunch.data[rows], np.float32)
        return self._features[split]

    def identities(self, split):
        return self.bunch.vehicle_id[self.rows[split]]

    def types(self, split):
        return self.bunch.type[self.rows[split]]


def _output_folder_problem(out):
    """Say why no results can be written to the folder ``out``, or return None.

    The path is walked from its root down, so that the first part at fault is
    named: a file, a symbolic link to nothing or in a loop, a folder that may
    not be searched. Missing folders below the deepest existing one are
    created by :func:`_prepare`, which must be able to write there.
    """
    if not os.fspath(out):
        return "the path is empty"
    folder = Path(out)
    existing = None
    for path in reversed((folder, *folder.parents)):
        try:
            is_folder = stat.S_ISDIR(path.stat().st_mode)
        except FileNotFoundError:
            if path.is_symlink():
                return (
                    f"{str(path)!r} is a symbolic link to {os.readlink(path)!r}, "
                    "which does not exist"
                )
            if existing is None:
                return f"{str(path)!r} does not exist"
            break
        except (OSError, ValueError) as error:  # a link loop, no search right, NUL
            return str(error)
        if not is_folder:
            return f"{str(path)!r} is a file, not a folder"
        existing = path
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{str(existing)!r} is not writable"
    return None


def _checked_bunch(bunch):
    """Return ``bunch`` with 1-D label arrays, or raise naming what is wrong."""
    missing = [
        key
        for key in ("data", "vehicle_id", "type", "split", "type_names")
        if key not in bunch
    ]
    if missing:
        raise ValueError(
            f"data has no {', '.join(missing)}: pass a Vehicle-X folder or what "
            "load_vehicle_x returned for one."
        )
    if not isinstance(bunch.data, np.ndarray) or bunch.data.ndim != 2:
        raise ValueError(
            f"data.data must be a 2-D array of features; got {type(bunch.data)} "
            f"of shape {np.shape(bunch.data)}."
        )
    labels = {
        key: column_or_1d(bunch[key], input_name=f"data.{key}")
        for key in ("vehicle_id", "type", "split")
    }
    check_consistent_length(bunch.data, *labels.values())
    unknown = sorted(set(np.unique(labels["split"]).tolist()) - set(SPLITS))
    if unknown:
        raise ValueError(f"data.split holds {unknown}; expected only {list(SPLITS)}.")
    n_types = len(bunch.type_names)
    types = labels["type"]
    if types.dtype.kind not in "iu" or np.any((types < 0) | (types >= n_types)):
        raise ValueError(
            f"data.type must hold integers from 0 to {n_types - 1}, indices into "
            "data.type_names."
        )
    return Bunch(**{**bunch, **labels})


def _load(data, settings, n_samples, seed):
    cap = n_samples if n_samples is not None else settings.max_samples
    if data is None:
        n = cap if cap is not None else 77516
        description = (
            f"synthetic Vehicle-X-shaped features, make_vehicle_x({n}, "
            f"random_state={seed})"
        )
        return _Data(make_vehicle_x(n, random_state=seed), None, seed, description)
    bunch = data if isinstance(data, Bunch) else load_vehicle_x(data)
    return _Data(_checked_bunch(bunch), cap, seed, "Vehicle-X features")


def _check_splits(loaded):
    """Refuse data too small for the experiments or with non-finite features."""
    sizes = {split: len(rows) for split, rows in loaded.rows.items()}
    if sizes["train"] < N_CLUSTERS or min(sizes["val"], sizes["test"]) < 1:
        counts = ", ".join(f"{size} {split!r}" for split, size in sizes.items())
        raise ValueError(
            f"The data have {counts} samples; the experiments need at least "
            f"{N_CLUSTERS} training samples (one per cluster), one to validate "
            "and one to test. Use more samples (n_samples, or the settings' "
            "max_samples) or more data."
        )
    for split in SPLITS:
        # The estimators would refuse them too, but only after output is written.
        check_array(loaded.X(split), input_name=f"data ({split!r} features)")


def _prepare(out, data, settings, seed, n_samples):
    """Check every input and load the data, then create the output folder.

    Returns
    -------
    folder : Path
        The output folder, created with any missing parent folders.
    loaded : _Data
        The samples of each split.
    settings : Settings
        ``settings`` with ``max_samples`` set to ``n_samples`` when given.

    Raises
    ------
    ValueError or OSError
        If no results can be written to ``out`` (checked before the data are
        loaded, then when the folder is created), if ``data`` is an empty
        path, or if the data cannot be loaded or are too small or malformed
        for the experiments.
    """
    problem = _output_folder_problem(out)
    if problem is not None:
        raise ValueError(f"Cannot write results to out={str(out)!r}: {problem}.")
    if isinstance(data, str | os.PathLike) and not os.fspath(data):
        # Path("") is the current folder, which the user did not name.
        raise ValueError(
            "The 'data' parameter of reproduce must be a non-empty path, a "
            "Bunch or None. Got '' instead."
        )
    if n_samples is not None:
        settings = dataclasses.replace(settings, max_samples=n_samples)
    loaded = _load(data, settings, n_samples, seed)
    _check_splits(loaded)
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # what the checks cannot foresee, such as a race
        raise ValueError(
            f"Cannot write results to out={str(out)!r}: {error}."
        ) from error
    return folder, loaded, settings


def _import_networks():
    """Import the networks' module: without torch or skorch, stop before any work."""
    _import_nn("._mlp", "Reproducing the study")


def _mlp_row(data, seed, epochs, **params):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._mlp import PrunedMLPClassifier

    start = time.perf_counter()
    model = make_pipeline(
        StandardScaler(),
        PrunedMLPClassifier(max_epochs=epochs, random_state=seed, **params),
    ).fit(data.X("train"), data.identities("train"))
    seconds = time.perf_counter() - start
    history = model[-1].net_.history
    return {
        "Training": _percent(model.score(data.X("train"), data.identities("train"))),
        "Validation": _percent(model.score(data.X("val"), data.identities("val"))),
        "Test": _percent(model.score(data.X("test"), data.identities("test"))),
        "sparsity": float(history[-1, "sparsity"]),
        "seconds": round(seconds, 2),
    }


def _baseline_table(data, settings, seed, progress):
    table = _Table(
        "table3_baseline",
        "Table 3. Accuracy of the baseline model (vehicle identities)",
        ["(epochs)", "Training", "Validation", "Test", "seconds"],
    )
    for epochs in settings.baseline_epochs:
        progress.set_description(f"Table 3: baseline, {epochs} epochs")
        row = _mlp_row(data, seed, epochs, amount=0.0)
        del row["sparsity"]  # always 0 here
        table.rows.append({"(epochs)": epochs, **row})
        progress.update()
    return table


def _pruned_table(data, settings, seed, progress):
    table = _Table(
        "table4_pruned",
        "Table 4. Accuracy of the pruned network model (vehicle identities)",
        ["(epochs , amount)", "Training", "Validation", "Test", "schedule", "lr"]
        + ["sparsity", "seconds"],
    )
    epochs = settings.pruned_epochs
    runs = [("per_epoch", amount, PAPER_LR) for amount in settings.amounts]
    runs.append(("gradual", max(settings.amounts), PAPER_LR))
    # The dense network and the study's proposal at a rate where it trains well.
    runs += [
        ("per_epoch", 0.0, settings.well_trained_lr),
        ("per_epoch", PAPER_AMOUNT, settings.well_trained_lr),
    ]
    for schedule, amount, lr in runs:
        progress.set_description(f"Table 4: pruned, {schedule} {amount}, lr {lr}")
        # As in the study: train an epoch, then prune.
        row = _mlp_row(
            data,
            seed,
            epochs,
            amount=amount,
            schedule=schedule,
            prune_on="epoch_end",
            lr=lr,
        )
        table.rows.append(
            {
                "(epochs , amount)": f"({epochs}, {amount})",
                "schedule": schedule if amount else "none",
                "lr": lr,
                **row,
            }
        )
        progress.update()
    return table


def _silhouette(X, labels, sample_size, seed):
    """Return the silhouette of ``sample_size`` rows, or nan where undefined.

    The rows are drawn as ``silhouette_score(..., sample_size, random_state)``
    draws them; the silhouette needs at least 2 distinct labels among them,
    and fewer labels than rows.
    """
    rows = check_random_state(seed).permutation(len(X))[:sample_size]
    X, labels = X[rows], labels[rows]
    if not 2 <= np.unique(labels).size < len(labels):
        return float("nan")
    return float(_silhouette_score(X, labels))


def _clustering_metrics(X, types, labels, sample_size, seed):
    return {
        "Accuracy": _percent(cluster_accuracy(types, labels)),
        "ARI": float(adjusted_rand_score(types, labels)),
        "NMI": float(normalized_mutual_info_score(types, labels)),
        "silhouette": _silhouette(X, labels, sample_size, seed),
        "clusters found": np.unique(labels).size,
    }


def _fcm(max_iter, seed, init="random", **fuzzifier):
    # The study's FCM: random initial memberships, a fixed iteration count.
    return FuzzyCMeans(
        N_CLUSTERS, max_iter=max_iter, tol=0, init=init, random_state=seed, **fuzzifier
    )


def _fuzzifier_name(fitted):
    if fitted.fuzzifier == "polynomial":
        return f"polynomial beta={fitted.beta}"
    if fitted.m == "auto":
        return f"m=auto ({fitted.m_:.4g})"
    return f"m={fitted.m_:.4g}"


def _collapsed(fitted):
    """Whether the fit's partition is degenerate (the reason it would warn)."""
    return "yes" if fitted._partition_problems() else "no"


def _fcm_runs(settings):
    """Return (table, key value, iterations, fuzzifier, init) of each FCM run."""
    study = {"m": PAPER_M}
    last = max(settings.fcm_iterations)
    runs = [("5", it, it, study, "random") for it in settings.fcm_iterations]
    runs += [
        ("5", it, it, fuzzifier, "random")
        for fuzzifier in LIBRARY_FUZZIFIERS.values()
        for it in settings.fcm_iterations
    ]
    # The library's default start, for comparison with the study's random one.
    runs.append(("5", last, last, study, "k-means++"))
    runs += [
        ("6", m, PAPER_FCM_ITERATIONS, {"m": m}, "random") for m in settings.fuzzifiers
    ]
    runs += [
        ("6", name, PAPER_FCM_ITERATIONS, fuzzifier, "random")
        for name, fuzzifier in LIBRARY_FUZZIFIERS.items()
    ]
    runs.append(("6", PAPER_M, PAPER_FCM_ITERATIONS, study, "k-means++"))
    return runs


def _fcm_tables(data, settings, seed, progress):
    X, types = data.X("train"), data.types("train")
    added = ["fuzzifier", "init", "ARI", "NMI", "silhouette", "clusters found"]
    added += ["partition coefficient", "collapsed", "seconds"]
    tables = {
        "5": _Table(
            "table5_fcm_iterations",
            f"Table 5. Accuracy for different iterations on the training data with "
            f"m={PAPER_M} (and the library's fuzzifiers) and cluster={N_CLUSTERS}",
            ["Iterations", "Accuracy", *added],
        ),
        "6": _Table(
            "table6_fcm_fuzzifier",
            f"Table 6. Accuracy for different m on the training data with "
            f"Iterations={PAPER_FCM_ITERATIONS} and cluster={N_CLUSTERS}",
            ["m", "Accuracy", *added],
        ),
    }
    labels_by_iterations = {}
    for table, value, iterations, fuzzifier, init in _fcm_runs(settings):
        progress.set_description(f"Tables 5-6: FCM, {iterations} iterations, {value}")
        start = time.perf_counter()
        fitted = _fcm(iterations, seed, init, **fuzzifier).fit(X)
        seconds = time.perf_counter() - start
        metrics = _clustering_metrics(
            X, types, fitted.labels_, settings.silhouette_sample_size, seed
        )
        key = tables[table].columns[0]
        tables[table].rows.append(
            {
                key: value,
                **metrics,
                "fuzzifier": _fuzzifier_name(fitted),
                "init": init,
                "partition coefficient": fitted.partition_coefficient_,
                "collapsed": _collapsed(fitted),
                "seconds": round(seconds, 2),
            }
        )
        if table == "5" and init == "random" and fuzzifier.get("m") == PAPER_M:
            labels_by_iterations[iterations] = fitted.labels_
        progress.update()
    return tables["5"], tables["6"], labels_by_iterations


def _ga_runs(settings):
    """Return (population, generations, fuzzifier parameters) of each search."""
    runs = [(*setting, {"m": PAPER_M}) for setting in settings.ga_settings]
    # The library's fuzzifiers with the study's search.
    runs += [
        (*settings.ga_settings[0], fuzzifier)
        for fuzzifier in LIBRARY_FUZZIFIERS.values()
    ]
    return runs


def _ga_table(data, settings, seed, progress):
    X, types = data.X("train"), data.types("train")
    table = _Table(
        "table_ga_fcm",
        f"GA feature selection, then FCM (cluster={N_CLUSTERS}, "
        f"Iterations={GA_FCM_ITERATIONS}) on the selected features",
        ["(population, generations)", "Accuracy", "features selected"]
        + ["fitness (silhouette)", "fuzzifier", "ARI", "NMI", "silhouette"]
        + ["clusters found", "collapsed", "seconds"],
    )
    selectors = {}
    for population, generations, fuzzifier in _ga_runs(settings):
        progress.set_description(f"GA + FCM: population {population} x {generations}")
        start = time.perf_counter()
        # Fitness and result come from the same clusterer, refitted on the
        # selected features as ``estimator_``.
        selector = GAFeatureSelector(
            _fcm(GA_FCM_ITERATIONS, seed, **fuzzifier),
            population_size=population,
            n_generations=generations,
            random_state=seed,
            **PAPER_GA,
        ).fit(X)
        X_selected = selector.transform(X)
        labels = selector.estimator_.labels_
        seconds = time.perf_counter() - start
        metrics = _clustering_metrics(
            X_selected, types, labels, settings.silhouette_sample_size, seed
        )
        table.rows.append(
            {
                "(population, generations)": f"({population}, {generations})",
                "features selected": int(selector.support_.sum()),
                "fitness (silhouette)": float(selector.best_score_),
                "fuzzifier": _fuzzifier_name(selector.estimator_),
                **metrics,
                "collapsed": _collapsed(selector.estimator_),
                "seconds": round(seconds, 2),
            }
        )
        if fuzzifier.get("m") == PAPER_M:
            selectors[(population, generations)] = selector
        progress.update()
    return table, selectors


def _figures(folder, data, labels_by_iterations, selector):
    """Draw the figures; return their file names, or [] without matplotlib.

    Figures are made without pyplot, so neither the caller's backend nor its
    open figures are touched.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return []
    from .plotting import plot_ga_history

    bunch = data.bunch
    type_names = list(bunch.type_names)
    all_rows = np.concatenate(list(data.rows.values()))
    figure = Figure(figsize=(11, 4))
    axes = figure.subplots(1, 2)
    identities = bunch.vehicle_id[all_rows]
    axes[0].hist(identities, bins=min(100, np.unique(identities).size))
    axes[0].set(
        title="Vehicle identities",
        xlabel="vehicle id",
        ylabel="images per bin of vehicle ids",
    )
    _type_bars(axes[1], bunch.type[all_rows], type_names)
    axes[1].set(title="Vehicle types", ylabel="images")
    names = [_save(figure, folder, "fig1_histograms.png")]

    figure = Figure(figsize=(10, 8))
    axes = figure.subplots(2, 2, sharex=True)
    types = data.types("train")
    panels = [("actual type labels", types)]
    panels += [
        (f"FCM m={PAPER_M}, {iterations} iterations, clusters matched to types", labels)
        for iterations, labels in labels_by_iterations.items()
    ]
    for ax, (title, labels) in zip(axes.ravel(), panels, strict=False):
        _type_bars(ax, _matched_to_types(types, labels, len(type_names)), type_names)
        ax.set(title=title, ylabel="training images")
    names.append(_save(figure, folder, "fig3_cluster_histograms.png"))

    figure = Figure(figsize=(6, 4))
    ax = plot_ga_history(selector, ax=figure.subplots())
    population, generations = selector.population_size, selector.n_generations
    ax.set_title(
        f"GA ({population} x {generations}), FCM m={PAPER_M}: silhouette by generation"
    )
    names.append(_save(figure, folder, "ga_fitness.png"))
    return names


def _matched_to_types(types, labels, n_types):
    """Relabel clusters by the type each is matched to (Hungarian matching)."""
    n = max(n_types, int(labels.max()) + 1)
    counts = np.zeros((n, n))
    np.add.at(counts, (labels, types), 1)
    clusters, matched = linear_sum_assignment(counts, maximize=True)
    mapping = np.empty(n, dtype=int)
    mapping[clusters] = matched
    return mapping[labels]


def _type_bars(ax, types, type_names):
    counts = np.bincount(types, minlength=len(type_names))[: len(type_names)]
    ax.bar(np.arange(len(type_names)), counts)
    ax.set_xticks(np.arange(len(type_names)), type_names, rotation=45, ha="right")


def _save(figure, folder, name):
    figure.tight_layout()
    figure.savefig(folder / name, dpi=100)
    return name


def _rows(table, **match):
    return [row for row in table if all(row[k] == v for k, v in match.items())]


def _percent_value(text):
    return float(text.rstrip("%"))


def _clustering_finding(row):
    collapsed = ", collapsed" if row["collapsed"] == "yes" else ""
    return (
        f"{row['Accuracy']} accuracy, ARI {row['ARI']:.3f}, "
        f"{row['clusters found']} of {N_CLUSTERS} clusters found{collapsed}"
    )


def _data_finding(data, settings, seed):
    X, types = data.X("train"), data.types("train")
    silhouette = _silhouette(X, types, settings.silhouette_sample_size, seed)
    if np.isnan(silhouette):
        shape = "undefined: the sampled rows hold one type, or one row per type"
    elif abs(silhouette) < 0.05:
        shape = f"{silhouette:.3f}, so the types barely differ in feature space"
    else:
        shape = f"{silhouette:.3f}, so the types form clusters"
    return (
        f"- Data: the silhouette of the {N_CLUSTERS} vehicle types on the "
        f"training features is {shape} (the study's clusterings: -0.026 to "
        "-0.012, its Table 2)."
    )


def _fit_verdict(row):
    training, test = _percent_value(row["Training"]), _percent_value(row["Test"])
    if training < 50:
        return "does not fit its training images"
    if training - test > 30:
        return "memorises its training images"
    return "generalises"


def _amount(row):
    return row["(epochs , amount)"].strip("()").split(", ")[1]


def _compare(first, second, n_test):
    """Say how two test accuracies (in %) compare, given the test set's size."""
    mean = (first + second) / 200
    # Twice the standard error of the difference of two accuracies.
    noise = 200 * np.sqrt(2 * mean * (1 - mean) / max(n_test, 1))
    if abs(first - second) <= noise:
        return f"within noise ({noise:.2f} points on {n_test} test images)"
    return "higher" if first > second else "lower"


def _network_findings(tables, data, settings):
    lines = [
        f"- Baseline, {row['(epochs)']} epochs: {row['Training']} training and "
        f"{row['Test']} test accuracy on identities: the network "
        f"{_fit_verdict(row)} (the study: 95.30% and 5.29% after 500 epochs, "
        "78.60% and 4.11% after 100)."
        for row in tables["table3_baseline"]
    ]
    n_test = len(data.rows["test"])
    epochs = settings.pruned_epochs
    dense = _rows(tables["table3_baseline"], **{"(epochs)": epochs})
    pruned = tables["table4_pruned"]
    paper = _rows(pruned, schedule="per_epoch", lr=PAPER_LR)
    results = ", ".join(
        f"{row['Test']} at amount {_amount(row)} (sparsity {row['sparsity']:.2f})"
        for row in paper
    )
    line = (
        f"- Pruning after each epoch at lr {PAPER_LR} for {epochs} epochs: test "
        f"accuracy {results}"
    )
    if dense:
        best = max(_percent_value(row["Test"]) for row in paper)
        comparison = _compare(best, _percent_value(dense[0]["Test"]), n_test)
        line += (
            f"; the best of them is {comparison} against {dense[0]['Test']} unpruned"
        )
    if any(row["sparsity"] > 0.999 for row in paper):
        line += (
            "; at sparsity 1.00 every weight is zero and the network gives the "
            "same answer for every image"
        )
    gradual = _rows(pruned, schedule="gradual")[0]
    lines.append(
        line + f". The gradual schedule reaches {gradual['Test']} at sparsity "
        f"{gradual['sparsity']:.2f}."
    )
    good_dense, good_pruned = _rows(pruned, lr=settings.well_trained_lr)
    if _percent_value(good_dense["Training"]) < 50:
        verdict = (
            f"but the network fits only {good_dense['Training']} of its training "
            "images at this rate, so the comparison says little"
        )
    else:
        comparison = _compare(
            _percent_value(good_pruned["Test"]),
            _percent_value(good_dense["Test"]),
            n_test,
        )
        verdict = f"the pruned network is {comparison}"
    lines.append(
        f"- At lr {settings.well_trained_lr} the unpruned network reaches "
        f"{good_dense['Test']} test accuracy and the study's pruning "
        f"({PAPER_AMOUNT} per epoch) {good_pruned['Test']}: {verdict}."
    )
    return lines


def _clustering_findings(tables, settings):
    # Table 5: each fuzzifier after the most iterations; Table 6: every m.
    longest = {}
    for row in _rows(tables["table5_fcm_iterations"], init="random"):
        longest[row["fuzzifier"]] = row
    lines = [
        f"- Table 5, after {max(settings.fcm_iterations)} iterations from random "
        "memberships: "
        + "; ".join(
            f"{name}: {_clustering_finding(row)}" for name, row in longest.items()
        )
        + ".",
        f"- Table 6, {PAPER_FCM_ITERATIONS} iterations: "
        + "; ".join(
            f"{row['fuzzifier']}: {_clustering_finding(row)}"
            for row in _rows(tables["table6_fcm_fuzzifier"], init="random")
        )
        + ". A collapsed partition has nearly uniform memberships (partition "
        f"coefficient near 1/{N_CLUSTERS} = {1 / N_CLUSTERS:.3f}) or merged "
        "centers: fuzzy c-means found no cluster structure, and its accuracy "
        "is what guessing the labels of near-uniform memberships gives.",
    ]
    for row in tables["table_ga_fcm"]:
        if row["fitness (silhouette)"] == -1:
            search = (
                "every subset evaluated collapsed and scored -1, so the search "
                "had nothing to select on and kept the first subset"
            )
        else:
            search = f"best silhouette {row['fitness (silhouette)']:.3f}"
        lines.append(
            f"- GA {row['(population, generations)']} with FCM "
            f"{row['fuzzifier']}: {row['features selected']} features selected, "
            f"{search}; FCM on them: {_clustering_finding(row)}."
        )
    return lines


def _findings(tables, data, settings, seed):
    """Return one sentence, with its numbers, for each experiment."""
    return [
        _data_finding(data, settings, seed),
        *_network_findings(tables, data, settings),
        *_clustering_findings(tables, settings),
    ]


def _silhouette_rows(data, settings):
    """Say how many training rows the silhouettes are computed on."""
    n_train = len(data.rows["train"])
    if settings.silhouette_sample_size < n_train:
        return f"{settings.silhouette_sample_size} sampled training rows"
    return f"all {n_train} training rows"


def _report(folder, data, settings, seed, tables, figures, seconds):
    sizes = ", ".join(f"{split} {len(rows)}" for split, rows in data.rows.items())
    lines = [
        "# Reproduction of the pruning, FCM and GA experiments",
        "",
        f"- data: {data.description} ({sizes} samples, "
        f"{data.bunch.data.shape[1]} features)",
        f"- settings: {settings.name} (`{settings}`)",
        f"- seed: {seed}; fuzzyprune {__version__}, Python "
        f"{platform.python_version()}; {seconds:.0f} s in all",
        "",
        "Accuracy in Tables 5, 6 and the GA table is the cluster accuracy after "
        "the best one-to-one (Hungarian) matching of the 11 clusters to the 11 "
        "vehicle types; unlike mapping clusters to their majority type, it cannot "
        "credit two clusters with one type. ARI and NMI compare the clusters "
        "with the types without any matching; the silhouette is computed on "
        f"{_silhouette_rows(data, settings)} (nan when one cluster "
        "is found); 'fitness (silhouette)' is the best fitness of the genetic "
        "search, -1 when every subset it evaluated collapsed; 'clusters found' "
        "counts "
        "distinct labels (fuzzy c-means merges clusters when m is large for the "
        "dimension); init 'random' is the study's start from random memberships, "
        "'k-means++' the library's default; fuzzifier 'm=auto' is the "
        "library's default fuzzifier chosen from the shape of the data, "
        "'polynomial' its polynomial fuzzifier function; 'partition "
        "coefficient' runs from 1/11 (uniform memberships) to 1 (crisp), and "
        "'collapsed' says whether the partition is degenerate (memberships "
        "nearly uniform, centers merged, or fewer clusters than asked for), "
        "which FuzzyCMeans warns about. In Table 4, schedule "
        "'per_epoch' prunes the given amount of the remaining weights after "
        "every epoch's training, as in the study, so the final sparsity "
        "compounds to 1 - (1 - amount)^epochs; 'gradual' reaches the amount by "
        "the end of training; 'none' is the unpruned network. 'sparsity' is the "
        "fraction of the weights that are zero at the end of training, "
        "'seconds' the wall time of each experiment.",
        "",
        "## Findings",
        "",
        *_findings({table.name: table.rows for table in tables}, data, settings, seed),
        "",
    ]
    for table in tables:
        lines += [table.markdown(), f"CSV: `{table.name}.csv`", ""]
    for name in figures:
        lines += [f"![{name}]({name})", ""]
    if not figures:
        lines += ["(Figures need matplotlib: `pip install 'fuzzyprune[plot]'`.)", ""]
    (folder / "report.md").write_text("\n".join(lines))


@validate_params(
    {
        "out": [str, os.PathLike],
        "data": [str, os.PathLike, Bunch, None],
        "settings": [Settings],
        "seed": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "n_samples": [_N_SAMPLES, None],
        "progress": ["boolean"],
    },
    # The experiments' estimators check their own parameters.
    prefer_skip_nested_validation=False,
)
def reproduce(out, *, data=None, settings=QUICK, seed=0, n_samples=None, progress=True):
    """Run the study's experiments and write tables, figures and a report.

    Every input is checked, and the data loaded, before anything is written;
    then the output folder is created, before the experiments run.

    Parameters
    ----------
    out : str or path-like
        Output folder, created if needed with any missing parent folders; an
        existing folder's files of the same names are replaced.

    data : str, path-like or Bunch, default=None
        Vehicle-X feature folder (a non-empty path), or what
        :func:`~fuzzyprune.datasets.load_vehicle_x` returned for one; ``None``
        uses synthetic data of the same structure.

    settings : Settings, default=QUICK
        :data:`QUICK` (about a minute on 2 cores) or :data:`FULL` (the study's
        epochs on all samples: hours on a CPU).

    seed : int, default=0
        Seeds the data, the sampling and every estimator; from 0 to
        ``2**32 - 1``, not a bool.

    n_samples : int, default=None
        Number of samples to use (synthetic: to generate), from
        :data:`MIN_SAMPLES` to :data:`MAX_SAMPLES` (NumPy's largest array
        size) and not a bool; ``None`` uses the settings' limit.

    progress : bool, default=True
        Show a progress bar.

    Returns
    -------
    tables : dict of str to list of dict
        The rows of each table, by file name.

    Raises
    ------
    ValueError or TypeError
        Naming the parameter, if a parameter has the wrong type (``True`` or
        ``False`` for ``seed`` or ``n_samples`` included) or is out of its
        range; if ``out`` or ``data`` is an empty path; if ``out`` is a file,
        lies inside a file, is or lies inside a symbolic link to nothing or in
        a loop, or lies in a folder that may not be searched or is not
        writable, or if it cannot be created; if ``data`` is a Bunch without
        the fields of :func:`~fuzzyprune.datasets.load_vehicle_x`'s, with
        labels of other lengths than its features, unknown splits or types,
        or non-finite features; or if the samples used leave fewer training
        samples than the 11 clusters, or no validation or test sample.
    OSError or ValueError
        Raised by :func:`~fuzzyprune.datasets.load_vehicle_x`, naming the
        file, if the folder ``data`` cannot be read as Vehicle-X features.
    ModuleNotFoundError
        If torch or skorch, which the networks need, is not installed
        (``pip install "fuzzyprune[nn]"``); after the parameters are checked,
        before the data are loaded.

    See Also
    --------
    fuzzyprune.datasets.load_vehicle_x : The loader used for ``data``.

    Examples
    --------
    A run of one experiment of each kind, on 16 synthetic features:

    >>> import dataclasses, tempfile
    >>> from fuzzyprune.datasets import make_vehicle_x
    >>> from fuzzyprune.reproduce import QUICK, reproduce
    >>> few = dataclasses.replace(QUICK, baseline_epochs=(2,), pruned_epochs=1,
    ...                           amounts=(0.2,), fcm_iterations=(2,),
    ...                           fuzzifiers=(1.7,), ga_settings=((3, 1),))
    >>> data = make_vehicle_x(100, n_vehicles=10, n_features=16, random_state=0)
    >>> tables = reproduce(tempfile.mkdtemp(), data=data, settings=few,
    ...                    progress=False)
    >>> sorted(tables)  # doctest: +NORMALIZE_WHITESPACE
    ['table3_baseline', 'table4_pruned', 'table5_fcm_iterations',
     'table6_fcm_fuzzifier', 'table_ga_fcm']
    >>> [row["(epochs)"] for row in tables["table3_baseline"]]
    [2]
    """
    start = time.perf_counter()
    _import_networks()
    folder, loaded, settings = _prepare(out, data, settings, seed, n_samples)
    return _run(folder, loaded, settings, seed, progress, start)


def _run(folder, loaded, settings, seed, progress, start):
    """Run the experiments on checked inputs, then write every output.

    ``folder`` is the output folder, created by :func:`_prepare`, and
    ``start`` the :func:`time.perf_counter` time at which the run began.
    """
    n_steps = (
        len(settings.baseline_epochs)
        + len(settings.amounts)
        + 3
        + len(_fcm_runs(settings))
        + len(_ga_runs(settings))
    )
    bar = tqdm(total=n_steps, disable=not progress, unit="experiment")
    with bar, warnings.catch_warnings():
        # Merged clusters are reported in the tables ('clusters found'); a
        # thousand identities on a few thousand samples are expected here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "The number of unique classes is greater")
        # The GA table reports the fitness found and the features selected.
        warnings.filterwarnings("ignore", "All .* feature subsets evaluated scored")
        warnings.filterwarnings("ignore", "GAFeatureSelector selected a single")
        tables = [
            _baseline_table(loaded, settings, seed, bar),
            _pruned_table(loaded, settings, seed, bar),
        ]
        by_iterations, by_fuzzifier, labels = _fcm_tables(loaded, settings, seed, bar)
        ga_table, selectors = _ga_table(loaded, settings, seed, bar)
    tables += [by_iterations, by_fuzzifier, ga_table]
    for table in tables:
        table.write(folder)
    figures = _figures(folder, loaded, labels, selectors[settings.ga_settings[-1]])
    seconds = time.perf_counter() - start
    _report(folder, loaded, settings, seed, tables, figures, seconds)
    return {table.name: table.rows for table in tables}
