"""Command-line entry point: ``fuzzyprune`` or ``python -m fuzzyprune``."""

import argparse
import sys
import time

import numpy as np
from sklearn import datasets
from sklearn.preprocessing import StandardScaler

from . import __version__
from ._fcm import FuzzyCMeans
from .metrics import (
    cluster_accuracy,
    fuzzy_silhouette_score,
    modified_partition_coefficient,
    partition_coefficient,
    partition_entropy,
    simplified_silhouette_score,
    xie_beni_index,
)

_DATASETS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}


def _validity_row(X, y, fcm):
    memberships = fcm.memberships_
    return {
        "m": fcm.m,
        "PC": partition_coefficient(memberships),
        "MPC": modified_partition_coefficient(memberships),
        "PE": partition_entropy(memberships),
        "XB": xie_beni_index(X, memberships, fcm.cluster_centers_, m=fcm.m),
        "fuzzy silhouette": fuzzy_silhouette_score(X, memberships),
        "simplified silhouette": simplified_silhouette_score(
            X, fcm.labels_, fcm.cluster_centers_
        ),
        "cluster accuracy": cluster_accuracy(y, fcm.labels_),
        "iterations": fcm.n_iter_,
    }


def _print_table(rows, out):
    columns = list(rows[0])
    widths = [max(len(name), 8) for name in columns]
    out.write(
        "  ".join(name.rjust(w) for name, w in zip(columns, widths, strict=True)) + "\n"
    )
    for row in rows:
        cells = [
            f"{row[name]:.4g}" if isinstance(row[name], float) else str(row[name])
            for name in columns
        ]
        out.write(
            "  ".join(cell.rjust(w) for cell, w in zip(cells, widths, strict=True))
            + "\n"
        )


def demo(dataset="iris", fuzzifiers=(1.5, 2.0, 3.0), seed=0, out=None):
    """Cluster a bundled data set and print memberships and validity indices.

    Parameters
    ----------
    dataset : {"iris", "wine", "breast_cancer", "digits"}, default="iris"
        scikit-learn's bundled data set to cluster, standardised.

    fuzzifiers : sequence of float, default=(1.5, 2.0, 3.0)
        Values of ``m`` to compare.

    seed : int, default=0
        Random state of the clusterings.

    out : file-like, default=None
        Where to print; ``None`` means standard output.

    Returns
    -------
    rows : list of dict
        The validity indices for each fuzzifier, as printed.
    """
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
        rows.append(row)
        if m == fuzzifiers[0]:
            out.write(f"Memberships of the first 5 samples (m={m}):\n")
            out.write(np.array2string(fcm.memberships_[:5], precision=3) + "\n\n")
    out.write(
        "Validity indices (PC, MPC, silhouettes, accuracy: larger is better; "
        "PE, XB: smaller is better):\n"
    )
    _print_table(rows, out)
    return rows


def main(argv=None):
    """Run the ``fuzzyprune`` command."""
    parser = argparse.ArgumentParser(prog="fuzzyprune", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="cluster a bundled data set and print validity indices"
    )
    demo_parser.add_argument("--dataset", choices=sorted(_DATASETS), default="iris")
    demo_parser.add_argument(
        "--m",
        type=float,
        nargs="+",
        default=[1.5, 2.0, 3.0],
        help="fuzzifiers to compare",
    )
    demo_parser.add_argument("--seed", type=int, default=0)
    _add_reproduce_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "reproduce":
        return _run_reproduce(args, parser)
    if any(m <= 1 for m in args.m):
        parser.error("--m: every fuzzifier must be greater than 1")
    demo(args.dataset, tuple(args.m), args.seed)
    return 0


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
    parser.add_argument("--out", default="fuzzyprune-results", help="output folder")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds the data, the sampling and every estimator (default 0)",
    )
    parser.add_argument(
        "--n-samples", type=int, help="samples to use (synthetic: to generate)"
    )


def _run_reproduce(args, parser):
    from . import reproduce
    from .datasets import load_vehicle_x

    if args.n_samples is not None and args.n_samples < 30:
        parser.error("--n-samples must be at least 30")
    data = None
    if args.data is not None:
        try:
            data = load_vehicle_x(args.data)
        except (FileNotFoundError, ValueError) as error:
            parser.error(f"--data: {error}")
    settings = reproduce.FULL if args.settings == "full" else reproduce.QUICK
    reproduce.reproduce(
        args.out,
        data=data,
        settings=settings,
        seed=args.seed,
        n_samples=args.n_samples,
    )
    print(f"Tables, figures and report.md written to {args.out}")
    return 0
