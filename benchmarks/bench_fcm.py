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

``--namespace torch`` or ``--namespace cupy`` with ``--device`` (``cpu``,
``cuda``, ``cuda:1``) adds a row for ``FuzzyCMeans`` fitted, under
scikit-learn's array API dispatch, on arrays of that library on that device:
the data are generated on the host once and moved to the device once, before
any timing, and clocks are read only once the device has finished. For CUDA
it reports the peak of device memory allocated during a fit, X included,
relative to the size of X (torch's allocator statistics, or the bytes in use
in CuPy's memory pool); ``tracemalloc`` does not see those libraries'
allocations.
"""

import os

# SciPy reads this when it is first imported (scikit-learn imports it), and
# scikit-learn's array API dispatch of torch and CuPy arrays needs it. NumPy
# code does not read it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse
import importlib.util
import math
import platform
import re
import sys
import time
import tracemalloc
import warnings
from collections import namedtuple

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

import fuzzyprune
from fuzzyprune import FuzzyCMeans
from fuzzyprune.datasets import make_vehicle_x


def _fit_fuzzyprune(X, centers, m, n_iter):
    return FuzzyCMeans(len(centers), m=m, init=centers, max_iter=n_iter, tol=0).fit(X)


def fit_fuzzyprune(X, centers, memberships, m, n_iter):
    return _fit_fuzzyprune(X, centers, m, n_iter).n_iter_


def fit_fuzzyprune_dispatched(X, centers, memberships, m, n_iter):
    with sklearn.config_context(array_api_dispatch=True):
        fcm = _fit_fuzzyprune(X, centers, m, n_iter)
    centers = fcm.cluster_centers_
    # What is timed must have run on X's device, not on a copy on the host.
    if type(centers) is not type(X) or centers.device != X.device:
        raise TypeError(
            f"FuzzyCMeans fitted on {type(X).__name__} on {X.device} returned "
            f"centers as {type(centers).__name__}"
        )
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


# Goals on one H200-class GPU at Vehicle-X's full size: seconds per iteration
# by number of clusters (11 as in the study, 1362 for one per identity), and
# the peak of device memory during a fit, X included, relative to X.
GPU_SHAPE = (77516, 2048)
GPU_SECONDS_GOALS = {11: 0.002, 1362: 0.030}
GPU_MEMORY_GOAL = 1.5


class SetupError(Exception):
    """The arrays asked for cannot be made on this machine."""


class HostArrays:
    """NumPy arrays in host memory: nothing to move or to wait for."""

    traced = True  # tracemalloc sees NumPy's allocations

    def synchronize(self):
        """Nothing runs asynchronously on the host."""

    def peak_bytes(self, fit):
        """No device memory to measure."""
        return None


class TorchArrays:
    """Torch tensors on a CPU or CUDA device."""

    traced = False

    def __init__(self, device):
        try:
            import torch
        except ImportError as error:
            raise SetupError(_cannot_import("torch", "PyTorch", error)) from None
        self._torch = torch
        self.device = torch.device(device)
        self.label = f"torch, {device}"
        library = f"torch {torch.__version__}"
        self.description = f"{library} on {device}"
        if self.device.type == "cuda":
            n_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
            _check_cuda_index(device, self.device.index or 0, n_devices, library)
            self.description += f" ({torch.cuda.get_device_name(self.device)})"

    def asarray(self, array):
        """Copy a NumPy array to the device."""
        return self._torch.asarray(array, device=self.device)

    def synchronize(self):
        """Wait for the work queued on a CUDA device."""
        if self.device.type == "cuda":
            self._torch.cuda.synchronize(self.device)

    def peak_bytes(self, fit):
        """Peak CUDA memory allocated by torch during ``fit()``; None on the CPU."""
        if self.device.type != "cuda":
            return None
        self.synchronize()
        self._torch.cuda.reset_peak_memory_stats(self.device)
        fit()
        self.synchronize()
        return self._torch.cuda.max_memory_allocated(self.device)


class CuPyArrays:
    """CuPy arrays on a CUDA device, made the current one."""

    traced = False

    def __init__(self, device):
        try:
            import cupy
        except ImportError as error:
            raise SetupError(_cannot_import("cupy", "CuPy", error)) from None
        if device == "cpu":
            raise SetupError(
                "--namespace cupy: CuPy arrays live on a CUDA device; use "
                "--device cuda or cuda:N"
            )
        try:
            n_devices = cupy.cuda.runtime.getDeviceCount()
        except cupy.cuda.runtime.CUDARuntimeError:
            n_devices = 0
        index = int(device.partition(":")[2] or 0)
        library = f"cupy {cupy.__version__}"
        _check_cuda_index(device, index, n_devices, library)
        self._cupy = cupy
        cupy.cuda.Device(index).use()
        self._pool = cupy.get_default_memory_pool()
        self.label = f"cupy, {device}"
        name = cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()
        self.description = f"{library} on {device} ({name})"

    def asarray(self, array):
        """Copy a NumPy array to the device."""
        return self._cupy.asarray(array)

    def synchronize(self):
        """Wait for the work queued on the current stream."""
        self._cupy.cuda.get_current_stream().synchronize()

    def peak_bytes(self, fit):
        """Peak bytes in use in CuPy's memory pool during ``fit()``."""
        pool = self._pool
        peak = pool.used_bytes()

        def malloc(size):
            nonlocal peak
            memory = pool.malloc(size)
            peak = max(peak, pool.used_bytes())
            return memory

        self.synchronize()
        self._cupy.cuda.set_allocator(malloc)
        try:
            fit()
            self.synchronize()
        finally:
            self._cupy.cuda.set_allocator(pool.malloc)
        return peak


def _cannot_import(namespace, library, error):
    """Say why ``--namespace`` cannot be used, in one line."""
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return (
        f"--namespace {namespace} needs {library}, which cannot be imported ({reason})"
    )


def _check_cuda_index(device, index, n_devices, library):
    """Refuse a CUDA device that ``library`` (its name and version) cannot see."""
    if n_devices == 0:
        raise SetupError(f"--device {device}: {library} sees no CUDA device")
    if index >= n_devices:
        raise SetupError(
            f"--device {device}: {library} sees only {n_devices} CUDA device(s)"
        )


def array_library(namespace, device):
    """Return the arrays of ``namespace`` on ``device``.

    Raises
    ------
    SetupError
        If the library is not installed, the device is not there, or the
        library cannot put arrays on it.
    """
    if namespace == "torch":
        return TorchArrays(device)
    if namespace == "cupy":
        return CuPyArrays(device)
    if device != "cpu":
        raise SetupError(
            f"--device {device}: NumPy arrays live on the host; add --namespace "
            "torch or --namespace cupy"
        )
    return HOST


HOST = HostArrays()

# An estimator's fit function, its arguments but the number of iterations, and
# the arrays they are.
Run = namedtuple("Run", ["fit", "args", "arrays"])


def time_fit(run, n_iter):
    """Wall time of one fit, and the iterations it ran."""
    run.arrays.synchronize()
    start = time.perf_counter()
    done = run.fit(*run.args, n_iter)
    run.arrays.synchronize()
    return time.perf_counter() - start, done


def peakmem_fit(run, n_iter):
    """Peak bytes allocated during one fit, beyond what existed before.

    None for torch and CuPy arrays, whose allocations tracemalloc does not see.
    """
    if not run.arrays.traced:
        return None
    tracemalloc.start()
    try:
        run.fit(*run.args, n_iter)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _status_bytes(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def peak_rss_growth_fit(run, n_iter):
    """Growth of peak resident memory during one fit, or NaN off Linux."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # resets the peak to the current resident size
    except OSError:
        return np.nan
    before = _status_bytes("VmRSS")
    run.fit(*run.args, n_iter)
    return _status_bytes("VmHWM") - before


def peak_device_fit(run, n_iter):
    """Peak device memory during one fit, X included; None off CUDA devices."""
    return run.arrays.peak_bytes(lambda: run.fit(*run.args, n_iter))


def _relative(size, nbytes):
    return None if size is None else size / nbytes


def bench(runs, iterations, repeats, nbytes):
    """Time every estimator, best of its ``repeats[name]`` rounds.

    Rounds alternate the estimators, so that changes in the machine's speed
    during the run (other tenants, frequency) affect all of them alike.
    """
    low, high = iterations
    best = {name: {low: (np.inf, 0), high: (np.inf, 0)} for name in runs}
    for run in runs.values():
        time_fit(run, 1)  # warm-up: first-call costs are not timed
    for round_ in range(max(repeats.values())):
        for name, run in runs.items():
            if round_ < repeats[name]:
                for n_iter in iterations:
                    best[name][n_iter] = min(best[name][n_iter], time_fit(run, n_iter))
    rows = []
    for name, run in runs.items():
        (t_low, done_low), (t_high, done_high) = best[name][low], best[name][high]
        rows.append(
            {
                "estimator": name,
                "iterations": done_high,
                "marginal": (t_high - t_low) / max(done_high - done_low, 1),
                "whole": t_high / done_high,
                "memory": _relative(peakmem_fit(run, low), nbytes),
                "rss": peak_rss_growth_fit(run, low) / nbytes,
                "device memory": _relative(peak_device_fit(run, low), nbytes),
            }
        )
    return rows


def _ratio(value):
    return "n/a" if value is None else f"{value:.2f}"


def print_table(rows, on_device=False):
    """Print the rows; with a device row, seconds to 5 places and its memory."""
    ours = rows[0]
    digits = 5 if on_device else 3
    header = (
        "| estimator | iterations | s/iter marginal | s/iter whole fit "
        "| marginal vs fuzzyprune | whole vs fuzzyprune "
        "| extra memory / X (tracemalloc) | extra memory / X (peak RSS) |"
    )
    print(header + (" device memory at peak / X |" if on_device else ""))
    print("|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if on_device else ""))
    for row in rows:
        line = (
            f"| {row['estimator']} | {row['iterations']} "
            f"| {row['marginal']:.{digits}f} | {row['whole']:.{digits}f} "
            f"| {row['marginal'] / ours['marginal']:.2f}x "
            f"| {row['whole'] / ours['whole']:.2f}x | {_ratio(row['memory'])} "
            f"| {row['rss']:.2f} |"
        )
        print(line + (f" {_ratio(row['device memory'])} |" if on_device else ""))


def print_device_goals(row, shape, n_clusters, device):
    """Print the GPU goals for a row of device arrays.

    The seconds goal is that of the goal's number of clusters nearest to the
    run's; a run of another shape says so.
    """
    goal_clusters = min(
        GPU_SECONDS_GOALS, key=lambda goal: abs(math.log(goal / n_clusters))
    )
    goal = (
        f"goal <= {GPU_SECONDS_GOALS[goal_clusters]} on one H200-class GPU at "
        f"{GPU_SHAPE[0]} x {GPU_SHAPE[1]}, c={goal_clusters}"
    )
    if (shape, n_clusters) != (GPU_SHAPE, goal_clusters):
        goal += f"; this run: {shape[0]} x {shape[1]}, c={n_clusters}"
    name = row["estimator"]
    for kind in ("marginal", "whole"):
        print(f"- {name} s/iter ({kind}) = {row[kind]:.5f} ({goal})")
    memory = row["device memory"]
    if memory is None:
        print(
            f"- {name} fit peak device memory / X: not measured on {device} "
            f"(goal <= {GPU_MEMORY_GOAL} on a GPU)"
        )
    else:
        print(
            f"- {name} fit peak device memory / X = {memory:.2f} "
            f"(goal <= {GPU_MEMORY_GOAL})"
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


def device_name(text):
    """Parse ``--device``: ``cpu``, ``cuda`` or ``cuda:N``."""
    if not re.fullmatch(r"cpu|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a device: cpu, cuda or cuda:N"
        )
    return text


# Modules the peers need, from the benchmarks extra.
PEER_MODULES = {"skfuzzy.cmeans": "skfuzzy", "fcmeans.FCM": "fcmeans"}


def check_arguments(parser, args):
    """Refuse, in one line, settings the benchmark cannot run or report."""
    if not 1 <= args.n_clusters <= args.n_samples:
        parser.error("need 1 <= --n-clusters <= --n-samples")
    if args.n_features < 1:
        parser.error("--n-features must be at least 1")
    if not args.m > 1:
        parser.error("--m must be greater than 1")
    low, high = args.iterations
    if not 1 <= low < high:
        parser.error("--iterations needs two counts, 1 <= first < second")
    if args.repeats < 1 or args.slow_repeats < 1:
        parser.error("--repeats and --slow-repeats must be at least 1")


def check_peers(parser, args):
    """Refuse, in one line, peers whose package is not installed."""
    for peer in args.peers:
        module = PEER_MODULES.get(peer)
        if module and importlib.util.find_spec(module) is None:
            parser.error(
                f"peer {peer} needs {module}: pip install -e '.[benchmarks]' "
                "(or leave it out of --peers; --peers alone means no peers)"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=77516)
    parser.add_argument("--n-features", type=int, default=2048)
    parser.add_argument("--n-clusters", type=int, default=11)
    parser.add_argument("--m", type=float, default=1.7)
    parser.add_argument("--iterations", type=int, nargs=2, default=[2, 10])
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="best of, for fuzzyprune (on every device) and KMeans",
    )
    parser.add_argument(
        "--slow-repeats", type=int, default=1, help="best of, for the slow peers"
    )
    parser.add_argument(
        "--peers",
        nargs="*",
        default=list(PEERS)[1:],
        choices=list(PEERS)[1:],
        help="peers to time beside fuzzyprune (all by default; none if given alone)",
    )
    parser.add_argument(
        "--namespace",
        default="numpy",
        choices=["numpy", "torch", "cupy"],
        help="also time FuzzyCMeans on arrays of this library (array API dispatch)",
    )
    parser.add_argument(
        "--device",
        type=device_name,
        default="cpu",
        help="device of the --namespace arrays: cpu, cuda or cuda:N",
    )
    args = parser.parse_args()
    check_arguments(parser, args)
    try:
        arrays = array_library(args.namespace, args.device)
    except SetupError as error:
        sys.exit(f"{parser.prog}: error: {error}")
    check_peers(parser, args)
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
    # scikit-fuzzy starts from memberships, the others from the centers.
    memberships = None
    if "skfuzzy.cmeans" in args.peers:
        memberships = FuzzyCMeans(args.n_clusters, m=args.m, init=centers, max_iter=1)
        memberships = memberships.fit(data).predict_proba(data).astype(np.float64)
    fit_args = (data, centers, memberships, args.m)

    header = (
        f"{data.shape[0]} x {data.shape[1]} float32 ({data.nbytes / 2**20:.0f} MiB), "
        f"c={args.n_clusters}, m={args.m}, iterations {args.iterations}; "
        f"fuzzyprune {fuzzyprune.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    if arrays is not HOST:
        header += f"; {arrays.description}"
    print(header + "\n")
    fast = {
        "fuzzyprune.FuzzyCMeans",
        "fuzzyprune.FuzzyCMeans (polynomial)",
        "sklearn.KMeans (lloyd)",
    }
    runs = {"fuzzyprune.FuzzyCMeans": Run(fit_fuzzyprune, fit_args, HOST)}
    if arrays is not HOST:
        # Moved once, before any timing; only FuzzyCMeans reads them.
        device_args = (arrays.asarray(data), arrays.asarray(centers), None, args.m)
        device_run = f"fuzzyprune.FuzzyCMeans ({arrays.label})"
        runs[device_run] = Run(fit_fuzzyprune_dispatched, device_args, arrays)
        fast.add(device_run)
    runs.update({name: Run(PEERS[name], fit_args, HOST) for name in args.peers})
    repeats = {
        name: args.repeats if name in fast else args.slow_repeats for name in runs
    }
    rows = bench(runs, args.iterations, repeats, data.nbytes)
    print_table(rows, on_device=arrays is not HOST)
    print_goals(rows)
    if arrays is not HOST:
        row = next(row for row in rows if row["estimator"] == device_run)
        print_device_goals(row, data.shape, args.n_clusters, args.device)


if __name__ == "__main__":
    main()
