"""Fuzzy c-means against its peers, side by side, on Vehicle-X-shaped data.

Every estimator fits the same float32 data from the same start for two fixed
iteration counts. Two per-iteration times are reported:

- *marginal*: the difference of the two fit times over the difference of
  iterations, the cost of one more iteration with set-up excluded;
- *whole fit*: the fit time at the larger count over its iterations, set-up
  (validation, copies, preparation) included, as a user sees it.

Memory is measured two ways during one ``fit``, each relative to the size of
``X`` and beyond the data itself: the peak of allocations seen by
``tracemalloc`` (NumPy's and Python's), and on Linux the growth of the
process's peak resident memory over its resident memory before the fit (which
also sees BLAS buffers and thread stacks).

The polynomial fuzzifier function (``fuzzifier="polynomial"``, beta = 0.5)
is timed beside the default power function, on the same start.

Run ``python benchmarks/bench_fcm.py`` for the full size (77,516 x 2048, 11
clusters, m = 1.7) and every peer; peers need ``pip install -e
".[benchmarks]"`` in an environment of their own (fuzzy-c-means requires
numpy < 2). ``--help`` lists the options.
"""

import argparse
import os
import platform
import time
import tracemalloc
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

import fuzzyprune
from fuzzyprune import FuzzyCMeans
from fuzzyprune.datasets import make_vehicle_x


def fit_fuzzyprune(X, centers, memberships, m, n_iter):
    fcm = FuzzyCMeans(len(centers), m=m, init=centers, max_iter=n_iter, tol=0).fit(X)
    return fcm.n_iter_


def fit_fuzzyprune_polynomial(X, centers, memberships, m, n_iter):
    fcm = FuzzyCMeans(
        len(centers),
        fuzzifier="polynomial",
        beta=0.5,
        init=centers,
        max_iter=n_iter,
        tol=0,
    )
    return fcm.fit(X).n_iter_


def fit_kmeans(X, centers, memberships, m, n_iter):
    kmeans = KMeans(len(centers), init=centers, n_init=1, max_iter=n_iter, tol=0)
    return kmeans.fit(X).n_iter_


def fit_skfuzzy(X, centers, memberships, m, n_iter):
    from skfuzzy.cluster import cmeans

    *_, n_done, _ = cmeans(
        X.T, len(centers), m, error=0, maxiter=n_iter, init=memberships.T
    )
    return n_done


def fit_fcmeans(X, centers, memberships, m, n_iter):
    from fcmeans import FCM

    # fuzzy-c-means starts from random memberships and accepts no start; its
    # smallest allowed error makes it run every iteration asked for.
    FCM(n_clusters=len(centers), m=m, max_iter=n_iter, error=1e-9, random_state=0).fit(
        X
    )
    return n_iter


PEERS = {
    "fuzzyprune.FuzzyCMeans": fit_fuzzyprune,
    "fuzzyprune.FuzzyCMeans (polynomial)": fit_fuzzyprune_polynomial,
    "sklearn.KMeans (lloyd)": fit_kmeans,
    "skfuzzy.cmeans": fit_skfuzzy,
    "fcmeans.FCM": fit_fcmeans,
}


def time_fit(fit, args, n_iter):
    """Wall time of one fit, and the iterations it ran."""
    start = time.perf_counter()
    done = fit(*args, n_iter)
    return time.perf_counter() - start, done


def peakmem_fit(fit, args, n_iter):
    """Peak bytes allocated during one fit, beyond what existed before."""
    tracemalloc.start()
    try:
        fit(*args, n_iter)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _status_bytes(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def peak_rss_growth_fit(fit, args, n_iter):
    """Growth of peak resident memory during one fit, or NaN off Linux."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # resets the peak to the current resident size
    except OSError:
        return np.nan
    before = _status_bytes("VmRSS")
    fit(*args, n_iter)
    return _status_bytes("VmHWM") - before


def bench(names, args, iterations, repeats, nbytes):
    """Time every estimator, best of its ``repeats[name]`` rounds.

    Rounds alternate the estimators, so that changes in the machine's speed
    during the run (other tenants, frequency) affect all of them alike.
    """
    low, high = iterations
    best = {name: {low: (np.inf, 0), high: (np.inf, 0)} for name in names}
    for name in names:
        PEERS[name](*args, 1)  # warm-up: first-call costs are not timed
    for round_ in range(max(repeats.values())):
        for name in names:
            if round_ < repeats[name]:
                for n_iter in iterations:
                    best[name][n_iter] = min(
                        best[name][n_iter], time_fit(PEERS[name], args, n_iter)
                    )
    rows = []
    for name in names:
        (t_low, done_low), (t_high, done_high) = best[name][low], best[name][high]
        rows.append(
            {
                "estimator": name,
                "iterations": done_high,
                "marginal": (t_high - t_low) / max(done_high - done_low, 1),
                "whole": t_high / done_high,
                "memory": peakmem_fit(PEERS[name], args, low) / nbytes,
                "rss": peak_rss_growth_fit(PEERS[name], args, low) / nbytes,
            }
        )
    return rows


def print_table(rows):
    ours = rows[0]
    print(
        "| estimator | iterations | s/iter marginal | s/iter whole fit "
        "| marginal vs fuzzyprune | whole vs fuzzyprune "
        "| extra memory / X (tracemalloc) | extra memory / X (peak RSS) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['estimator']} | {row['iterations']} | {row['marginal']:.3f} "
            f"| {row['whole']:.3f} | {row['marginal'] / ours['marginal']:.2f}x "
            f"| {row['whole'] / ours['whole']:.2f}x | {row['memory']:.2f} "
            f"| {row['rss']:.2f} |"
        )


def print_goals(rows):
    by_name = {row["estimator"]: row for row in rows}
    ours = by_name["fuzzyprune.FuzzyCMeans"]
    print("\nGoals:")
    for kind, label in (("memory", "tracemalloc"), ("rss", "peak RSS")):
        total = 1 + ours[kind]
        print(
            f"- fit peak memory (X + extra) / X = {total:.2f} by {label} (goal <= 1.3)"
        )
    if "fuzzyprune.FuzzyCMeans (polynomial)" in by_name:
        polynomial = by_name["fuzzyprune.FuzzyCMeans (polynomial)"]
        for kind in ("marginal", "whole"):
            ratio = polynomial[kind] / ours[kind]
            print(
                f"- polynomial / power fuzzifier s/iter ({kind}) = {ratio:.2f} "
                "(goal <= 1.3)"
            )
    if "sklearn.KMeans (lloyd)" in by_name:
        kmeans = by_name["sklearn.KMeans (lloyd)"]
        for kind in ("marginal", "whole"):
            ratio = ours[kind] / kmeans[kind]
            print(f"- fuzzyprune / KMeans s/iter ({kind}) = {ratio:.2f} (goal <= 1)")
    for peer in ("skfuzzy.cmeans", "fcmeans.FCM"):
        if peer in by_name:
            for kind in ("marginal", "whole"):
                speedup = by_name[peer][kind] / ours[kind]
                print(f"- speed-up over {peer} ({kind}) = {speedup:.1f}x (goal >= 6)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=77516)
    parser.add_argument("--n-features", type=int, default=2048)
    parser.add_argument("--n-clusters", type=int, default=11)
    parser.add_argument("--m", type=float, default=1.7)
    parser.add_argument("--iterations", type=int, nargs=2, default=[2, 10])
    parser.add_argument(
        "--repeats", type=int, default=5, help="best of, for fuzzyprune and KMeans"
    )
    parser.add_argument(
        "--slow-repeats", type=int, default=1, help="best of, for the slow peers"
    )
    parser.add_argument(
        "--peers", nargs="*", default=list(PEERS)[1:], choices=list(PEERS)[1:]
    )
    args = parser.parse_args()
    # Merged clusters are expected on this data; speed is what is measured here.
    warnings.simplefilter("ignore", ConvergenceWarning)

    # The well-separated data of the recorded figures; speed per iteration
    # does not depend on how separated the clusters are.
    data = make_vehicle_x(
        args.n_samples,
        n_features=args.n_features,
        random_state=0,
        structure="separated",
    ).data
    rng = np.random.default_rng(0)
    centers = data[rng.choice(len(data), args.n_clusters, replace=False)]
    memberships = FuzzyCMeans(args.n_clusters, m=args.m, init=centers, max_iter=1)
    memberships = memberships.fit(data).predict_proba(data).astype(np.float64)
    fit_args = (data, centers, memberships, args.m)

    print(
        f"{data.shape[0]} x {data.shape[1]} float32 ({data.nbytes / 2**20:.0f} MiB), "
        f"c={args.n_clusters}, m={args.m}, iterations {args.iterations}; "
        f"fuzzyprune {fuzzyprune.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs\n"
    )
    fast = {
        "fuzzyprune.FuzzyCMeans",
        "fuzzyprune.FuzzyCMeans (polynomial)",
        "sklearn.KMeans (lloyd)",
    }
    names = ["fuzzyprune.FuzzyCMeans", *args.peers]
    repeats = {
        name: args.repeats if name in fast else args.slow_repeats for name in names
    }
    rows = bench(names, fit_args, args.iterations, repeats, data.nbytes)
    print_table(rows)
    print_goals(rows)


if __name__ == "__main__":
    main()
