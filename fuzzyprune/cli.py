"""Command-line entry point: ``fuzzyprune`` or ``python -m fuzzyprune``."""

import argparse
import math
import re
import sys
import time
import warnings
from numbers import Integral

import numpy as np
from sklearn import datasets
from sklearn.preprocessing import StandardScaler

from . import __version__
from ._fcm import FuzzyCMeans
from ._sklearn_compat import (
    HasMethods,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from ._validation import Interval
from .metrics import (
    cluster_accuracy,
    fuzzy_silhouette_score,
    modified_partition_coefficient,
    partition_coefficient,
    partition_entropy,
    simplified_silhouette_score,
    xie_beni_index,
)
from .reproduce import MAX_SAMPLES, MIN_SAMPLES, _output_folder_problem

_DATASETS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}


def _fuzzifier_label(fcm):
    """Name the fuzzifier of a fit: ``m``, and what "auto" chose."""
    return f"auto ({fcm.m_:.4g})" if fcm.m == "auto" else fcm.m


def _validity_row(X, y, fcm):
    memberships = fcm.memberships_
    return {
        "m": _fuzzifier_label(fcm),
        "PC": partition_coefficient(memberships),
        "MPC": modified_partition_coefficient(memberships),
        "PE": partition_entropy(memberships),
        "XB": xie_beni_index(X, memberships, fcm.cluster_centers_, m=fcm.m_),
        "fuzzy silhouette": fuzzy_silhouette_score(X, memberships),
        "simplified silhouette": simplified_silhouette_score(
            X, fcm.labels_, fcm.cluster_centers_
        ),
        "cluster accuracy": cluster_accuracy(y, fcm.labels_),
        "iterations": fcm.n_iter_,
    }


def _print_table(rows, out):
    columns = list(rows[0])
    lines = [columns] + [
        [
            f"{row[name]:.4g}" if isinstance(row[name], float) else str(row[name])
            for name in columns
        ]
        for row in rows
    ]
    widths = [max(8, *(len(line[i]) for line in lines)) for i in range(len(columns))]
    for line in lines:
        out.write(
            "  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True))
            + "\n"
        )


@validate_params(
    {
        "dataset": [StrOptions(set(_DATASETS))],
        "fuzzifiers": [tuple, list],
        # A random state, as scikit-learn takes one, but no bool.
        "seed": [
            Interval(Integral, 0, 2**32 - 1, closed="both"),
            np.random.RandomState,
            None,
        ],
        "out": [HasMethods(["write"]), None],
    },
    prefer_skip_nested_validation=True,
)
def demo(dataset="iris", fuzzifiers=(1.5, 2.0, 3.0), seed=0, out=None):
    """Cluster a bundled data set and print memberships and validity indices.

    Parameters
    ----------
    dataset : {"iris", "wine", "breast_cancer", "digits"}, default="iris"
        scikit-learn's bundled data set to cluster, standardised.

    fuzzifiers : tuple or list of float or "auto", default=(1.5, 2.0, 3.0)
        Values of ``m`` to compare, each greater than 1 or ``"auto"``; at
        least one.

    seed : int, RandomState instance or None, default=0
        Random state of the clusterings; not a bool.

    out : file-like, default=None
        Where to print; ``None`` means standard output.

    Returns
    -------
    rows : list of dict
        The validity indices for each fuzzifier, as printed; ``"m"`` is the
        fuzzifier, or for ``"auto"`` the string ``"auto (<chosen m>)"``.

    Raises
    ------
    ValueError or TypeError
        Naming the parameter, if ``dataset`` is not one of the above,
        ``fuzzifiers`` is empty or holds a value that is neither greater than
        1 nor ``"auto"``, ``seed`` is not a random state (or is a bool), or
        ``out`` has no ``write`` method; before anything is printed.
    """
    _check_fuzzifiers(fuzzifiers)
    out = sys.stdout if out is None else out
    bunch = _DATASETS[dataset]()
    X = StandardScaler().fit_transform(bunch.data)
    n_clusters = len(bunch.target_names)
    out.write(
        f"fuzzyprune {__version__}: fuzzy c-means on {dataset} "
        f"({X.shape[0]} samples, {X.shape[1]} features, {n_clusters} clusters)\n\n"
    )
    rows = []
    for m in fuzzifiers:
        start = time.perf_counter()
        fcm = FuzzyCMeans(n_clusters, m=m, n_init=5, random_state=seed).fit(X)
        row = _validity_row(X, bunch.target, fcm)
        row["seconds"] = time.perf_counter() - start
        if not rows:
            out.write(f"Memberships of the first 5 samples (m={row['m']}):\n")
            out.write(np.array2string(fcm.memberships_[:5], precision=3) + "\n\n")
        rows.append(row)
    out.write(
        "Validity indices (PC, MPC, silhouettes, accuracy: larger is better; "
        "PE, XB: smaller is better):\n"
    )
    _print_table(rows, out)
    return rows


def _check_fuzzifiers(fuzzifiers):
    if not fuzzifiers:
        raise ValueError("The 'fuzzifiers' parameter of demo must not be empty.")
    validate_parameter_constraints(
        {
            f"fuzzifiers[{index}]": FuzzyCMeans._parameter_constraints["m"]
            for index in range(len(fuzzifiers))
        },
        {f"fuzzifiers[{index}]": m for index, m in enumerate(fuzzifiers)},
        caller_name="demo",
    )


# A number in ASCII: float() also reads digits of other scripts ("٢", "２")
# and underscores ("2_0" as 20), which the user cannot have meant.
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _fuzzifier(text):
    """Read a value of ``--m``: a finite number greater than 1, or "auto"."""
    if text == "auto":
        return text
    m = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not 1 < m < math.inf:
        raise argparse.ArgumentTypeError(
            f"must be a finite number greater than 1, or 'auto'; got {text!r}"
        )
    return m


def _integer_at_least(low, high=None):
    """Return an argparse type: an integer ``low <= value < high``."""
    allowed = f"at least {low}" if high is None else f"from {low} to {high - 1}"

    def convert(text):
        # int() also takes spaces, "+", "_" and non-ASCII digits such as "١".
        value = int(text) if text.isascii() and text.isdigit() else None
        if value is None or value < low or (high is not None and value >= high):
            raise argparse.ArgumentTypeError(
                f"must be an integer {allowed}; got {text!r}"
            )
        return value

    return convert


# What every seed reaches: NumPy's legacy RandomState takes 32-bit seeds.
_seed = _integer_at_least(0, 2**32)


def _data_folder(text):
    """Read ``--data``: a path, which an empty text is not."""
    if not text:
        raise argparse.ArgumentTypeError("must be a Vehicle-X folder, not ''")
    return text


def _output_folder(text):
    """Read ``--out``: a folder that exists or can be created, writable."""
    problem = _output_folder_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"cannot write results to {text!r}: {problem}")
    return text


def main(argv=None):
    """Run the ``fuzzyprune`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; ``None`` reads them from the command line.

    Returns
    -------
    status : int
        0 on success. A usage error (a bad argument, or a ``--data`` folder
        that cannot be read) exits with status 2 and one line on standard
        error, before anything is written. ``reproduce`` without torch or
        skorch returns 1, after one line on standard error that says how to
        install them, before anything is written. A warning is printed as one
        line ``fuzzyprune <command>: warning: <message>`` on standard error.
    """
    parser = argparse.ArgumentParser(
        prog="fuzzyprune",
        description="Fuzzy clustering, genetic feature selection and pruned "
        "networks: run the original study's experiments (reproduce) or cluster "
        "a bundled data set (demo).",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="cluster a bundled data set and print validity indices"
    )
    demo_parser.add_argument("--dataset", choices=sorted(_DATASETS), default="iris")
    demo_parser.add_argument(
        "--m",
        type=_fuzzifier,
        nargs="+",
        default=[1.5, 2.0, 3.0, "auto"],
        help="fuzzifiers to compare: numbers greater than 1, or 'auto' "
        "(default 1.5 2 3 auto)",
    )
    demo_parser.add_argument(
        "--seed", type=_seed, default=0, help="from 0 to 2**32 - 1 (default 0)"
    )
    reproduce_parser = _add_reproduce_parser(commands)
    args = parser.parse_args(argv)
    # catch_warnings restores the caller's hook and filters on any exit.
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(f"{parser.prog} {args.command}")
        if args.command == "reproduce":
            return _run_reproduce(args, reproduce_parser)
        demo(args.dataset, tuple(args.m), args.seed)
    return 0


def _warning_printer(prefix):
    """Return a :func:`warnings.showwarning` that prints one line per warning.

    The default names the source line that warned: for a command, the entry
    script's ``sys.exit(main())``, which tells a user nothing.
    """

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"{prefix}: warning: {text}", file=file or sys.stderr)

    return show


def _add_reproduce_parser(commands):
    parser = commands.add_parser(
        "reproduce",
        help="run the study's experiments and write tables, figures and a report",
        description="Run the baseline and pruned MLP, fuzzy c-means and GA + FCM "
        "experiments and write Tables 3-6 (Markdown and CSV), figures and "
        "report.md to the output folder.",
    )
    parser.add_argument(
        "--data",
        metavar="ROOT",
        type=_data_folder,
        help="Vehicle-X feature folder (train/, val/, test/ and a label file); "
        "without it, synthetic data of the same structure",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        dest="settings",
        action="store_const",
        const="quick",
        help="few epochs on at most 6,000 samples: about a minute (default)",
    )
    size.add_argument(
        "--full",
        dest="settings",
        action="store_const",
        const="full",
        help="the study's settings on all samples: hours on a CPU",
    )
    parser.add_argument(
        "--out",
        type=_output_folder,
        default="fuzzyprune-results",
        help="output folder, created if needed",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seeds the data, the sampling and every estimator; from 0 to "
        "2**32 - 1 (default 0)",
    )
    parser.add_argument(
        "--n-samples",
        type=_integer_at_least(MIN_SAMPLES, MAX_SAMPLES + 1),
        help=f"samples to use (synthetic: to generate), at least {MIN_SAMPLES} "
        "(default: the limit of --quick or --full)",
    )
    return parser


def _run_reproduce(args, parser):
    """Check the inputs as usage errors, then run the experiments."""
    from . import reproduce
    from .datasets import load_vehicle_x

    start = time.perf_counter()
    try:
        reproduce._import_networks()
    except ImportError as error:  # not a usage error: no usage line
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    data = None
    if args.data is not None:
        try:
            data = load_vehicle_x(args.data)
        except (OSError, ValueError) as error:
            parser.error(f"argument --data: {error}")
    settings = reproduce.FULL if args.settings == "full" else reproduce.QUICK
    try:
        prepared = reproduce._prepare(
            args.out, data, settings, args.seed, args.n_samples
        )
    except (OSError, ValueError) as error:
        parser.error(str(error))
    # Errors from here on are not the user's: they keep their traceback.
    reproduce._run(*prepared, args.seed, progress=True, start=start)
    print(f"Tables, figures and report.md written to {args.out}")
    return 0
