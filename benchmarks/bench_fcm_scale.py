"""FuzzyCMeans on data larger than memory: partial_fit streams, Dask clusters.

Rows of ``n_clusters`` Gaussian groups (float32, unit-variance means, noise
of standard deviation 2 in every feature) are written to a memory-mapped
file on disk, block by block. Then:

- **partial_fit**: the file is streamed through ``FuzzyCMeans.partial_fit``
  in batches of a given size. Reported: throughput in rows per second; peak
  anonymous memory, the largest ``RssAnon`` of the process (Linux, sampled
  every 10 ms) above its value before, i.e. memory that is not pages of the
  file the operating system can drop; and the objective of a sample of the
  rows at the streamed centers against a full in-memory fit of that sample.
- **Dask**: a ``distributed.LocalCluster`` of ``--workers`` worker processes
  of one thread, each limited to ``--worker-memory``, fits the file as a
  lazy Dask array whose blocks are mapped by the tasks that use them (never
  the whole array in one process). Reported: seconds per iteration (the
  difference of fits of ``--iterations`` iterations from the same centers,
  over the difference of iterations), the same for ``FuzzyCMeans`` in memory
  on the first rows of the file (``--slice-mb``), their ratio per row, the
  cost of k-means|| seeding, and the largest resident memory of a worker.

Run ``python benchmarks/bench_fcm_scale.py`` for 8 GB (1,048,576 x 2048
float32; needs 8 GB of free disk in ``--dir``), 256 MB batches, 2 workers of
2 GB and a 1 GB in-memory slice; ``--help`` lists the options.
"""

import argparse
import functools
import os
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
from sklearn.cluster import kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning

import fuzzyprune
from fuzzyprune import FuzzyCMeans

# Rows generated at a time while the file is written.
_WRITE_ROWS = 65536


def anonymous_memory():
    """Return the process's resident anonymous memory in bytes (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise OSError("no RssAnon in /proc/self/status")


def largest_resident_memory(pids):
    """Return the largest resident memory, in bytes, of the processes ``pids``."""
    import psutil

    return max(psutil.Process(pid).memory_info().rss for pid in pids)


class PeakSampler:
    """Sample ``measure()`` in a thread; ``peak`` is the largest value seen."""

    def __init__(self, measure, interval=0.01):
        self.measure = measure
        self.interval = interval
        self.peak = measure()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.measure())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.measure())


def write_memmap(path, n_samples, n_features, n_clusters, seed):
    """Write float32 rows of ``n_clusters`` groups to ``path``; return a map.

    The group means are drawn once; each block of rows draws its samples
    around them with a generator of its own, so the file is one data set
    of any size, written in memory of a block.
    """
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=1.0, size=(n_clusters, n_features))
    data = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n_samples, n_features)
    )
    for start in range(0, n_samples, _WRITE_ROWS):
        stop = min(start + _WRITE_ROWS, n_samples)
        block = np.random.default_rng([seed, start])
        groups = block.integers(n_clusters, size=stop - start)
        noise = block.normal(scale=2.0, size=(stop - start, n_features))
        data[start:stop] = means[groups] + noise
    data.flush()
    del data
    return np.load(path, mmap_mode="r")


def _mapped_rows(path, offset, n_rows, n_features):
    """Return ``n_rows`` float32 rows of the file at ``path`` from byte ``offset``.

    The rows are mapped, not copied: the task that uses them reads the
    file's pages in place, and they leave the worker's memory with the
    block. (Copying them with ``np.fromfile`` costs about 0.35 s per GiB
    more on the machine of ``docs/benchmarks.md``, 1.4 times an in-memory
    iteration.)
    """
    shape = (n_rows, n_features)
    return np.memmap(path, dtype=np.float32, mode="r", offset=offset, shape=shape)


def lazy_rows(path, block_rows):
    """Return the ``.npy`` file at ``path`` as a Dask array read block by block."""
    import dask
    import dask.array as da

    mapped = np.load(path, mmap_mode="r")
    (n_samples, n_features), header = mapped.shape, mapped.offset
    del mapped
    read = dask.delayed(_mapped_rows, pure=True)
    blocks = []
    for start in range(0, n_samples, block_rows):
        n_rows = min(block_rows, n_samples - start)
        offset = header + 4 * n_features * start
        blocks.append(
            da.from_delayed(
                read(path, offset, n_rows, n_features),
                shape=(n_rows, n_features),
                dtype=np.float32,
            )
        )
    return da.concatenate(blocks)


def timed_fit(X, n_clusters, m, init, max_iter, repeats=1):
    """Return the best seconds of fits of at most ``max_iter`` iterations.

    Also returns the iterations run (fewer if the objective stops falling).
    """
    fcm = FuzzyCMeans(n_clusters, m=m, init=init, max_iter=max_iter, tol=0)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fcm.fit(X)
        seconds.append(time.perf_counter() - start)
    return min(seconds), fcm.n_iter_


def seconds_per_iteration(X, n_clusters, m, init, iterations, repeats=1):
    """Seconds per iteration: fits of two lengths, their difference.

    Also returns the seconds of the shorter fit.
    """
    (short, short_iter), (long, long_iter) = (
        timed_fit(X, n_clusters, m, init, n, repeats) for n in iterations
    )
    if long_iter == short_iter:
        raise RuntimeError(
            f"both fits converged in {long_iter} iterations: lower --iterations"
        )
    return (long - short) / (long_iter - short_iter), short


def dask_rows(path, args, init):
    """Fit the file on a LocalCluster; return the table's rows and goals."""
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    n_samples, n_features = np.load(path, mmap_mode="r").shape
    block_rows = max(1, int(args.block_mb * 2**20 // (4 * n_features)))
    slice_rows = min(n_samples, int(args.slice_mb * 2**20 // (4 * n_features)))
    in_memory = np.array(np.load(path, mmap_mode="r")[:slice_rows])
    memory_iteration, _ = seconds_per_iteration(
        in_memory, args.n_clusters, args.m, init, args.iterations, repeats=3
    )
    # The same slice as a Dask array on the threads of this process: the
    # executor's own cost, without reading the file.
    with dask.config.set(scheduler="threads"):
        threaded_iteration, _ = seconds_per_iteration(
            da.from_array(in_memory, chunks=(block_rows, -1)),
            args.n_clusters,
            args.m,
            init,
            args.iterations,
        )
    del in_memory
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            memory_limit=args.worker_memory,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())
        X = lazy_rows(path, block_rows)
        workers = functools.partial(largest_resident_memory, pids)
        with PeakSampler(workers, interval=0.05) as memory:
            dask_iteration, short = seconds_per_iteration(
                X, args.n_clusters, args.m, init, args.iterations
            )
            start = time.perf_counter()
            X.sum().compute()
            reading = time.perf_counter() - start
            seeded, _ = timed_fit(
                X, args.n_clusters, args.m, "k-means++", args.iterations[0]
            )
        restarted = sorted(client.run(os.getpid).values()) != sorted(pids)
        limit = cluster.workers[next(iter(cluster.workers))].memory_manager.memory_limit
    per_row = (dask_iteration / n_samples) / (memory_iteration / slice_rows)
    rows = [
        f"| FuzzyCMeans, in memory ({slice_rows} rows) | {memory_iteration:.3f} | "
        f"{slice_rows / memory_iteration:,.0f} | |",
        f"| FuzzyCMeans, Dask ({args.workers} workers, blocks of {block_rows} rows) "
        f"| {dask_iteration:.3f} | {n_samples / dask_iteration:,.0f} | "
        f"{memory.peak / 2**30:.2f} GiB |",
        f"| FuzzyCMeans, Dask threads, the in-memory rows as blocks of {block_rows} "
        f"| {threaded_iteration:.3f} | {slice_rows / threaded_iteration:,.0f} | |",
        f"| reading the blocks alone, Dask (X.sum()) | {reading:.3f} | "
        f"{n_samples / reading:,.0f} | |",
    ]
    goals = [
        f"- Dask / in-memory seconds per row and iteration = {per_row:.2f} "
        "(goal <= 1.5)",
        "- Dask threads on the in-memory rows / in memory = "
        f"{threaded_iteration / memory_iteration:.2f}",
        f"- largest worker memory / its limit = {memory.peak / limit:.2f} "
        f"(goal < 1; workers restarted: {restarted})",
        f"- k-means|| seeding on Dask = {seeded - short:.1f} s",
    ]
    return rows, goals


def stream(data, batch_rows, n_clusters, m):
    """Fit by partial_fit over the batches; return the estimator and seconds."""
    fcm = FuzzyCMeans(n_clusters, m=m, random_state=0)
    start = time.perf_counter()
    for first in range(0, data.shape[0], batch_rows):
        fcm.partial_fit(data[first : first + batch_rows])
    return fcm, time.perf_counter() - start


def stream_rows(data, batch_rows, args, sample):
    """Stream the file through partial_fit; return the table's rows and goals."""
    before = anonymous_memory()
    with PeakSampler(anonymous_memory) as sampler:
        fcm, seconds = stream(data, batch_rows, args.n_clusters, args.m)
    full = FuzzyCMeans(args.n_clusters, m=args.m, random_state=0).fit(sample)
    ratio = -fcm.score(sample) / full.objective_
    extra = (sampler.peak - before) / 2**30
    rows = [
        f"| FuzzyCMeans.partial_fit | {fcm.n_steps_} | {seconds:.1f} | "
        f"{args.n_samples / seconds:,.0f} | {extra:.2f} GiB |"
    ]
    goals = [
        f"- peak anonymous memory = {extra:.2f} GiB (goal <= 1)",
        f"- objective of {args.sample} rows at the streamed centers / full fit of "
        f"them = {ratio:.4f}",
    ]
    return rows, goals


def parse_args():
    """Return the command line's options, checked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1_048_576)
    parser.add_argument("--n-features", type=int, default=2048)
    parser.add_argument("--n-clusters", type=int, default=11)
    parser.add_argument("--m", type=float, default=1.05)
    parser.add_argument("--batch-mb", type=float, default=256.0)
    parser.add_argument(
        "--sample", type=int, default=20000, help="rows of the objective check"
    )
    parser.add_argument("--dir", default=None, help="folder of the memmap file")
    parser.add_argument(
        "--parts", nargs="+", choices=["stream", "dask"], default=["stream", "dask"]
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="2GB")
    parser.add_argument("--block-mb", type=float, default=64.0, help="Dask blocks")
    parser.add_argument("--slice-mb", type=float, default=1024.0)
    parser.add_argument(
        "--iterations", type=int, nargs=2, default=[2, 5], metavar=("SHORT", "LONG")
    )
    args = parser.parse_args()
    if not 1 <= args.n_clusters <= min(args.n_samples, args.sample):
        parser.error("need 1 <= --n-clusters <= --n-samples and --sample")
    if args.n_features < 1 or args.batch_mb <= 0 or not args.m > 1:
        parser.error("--n-features >= 1, --batch-mb > 0 and --m > 1 are needed")
    if not 1 <= args.iterations[0] < args.iterations[1]:
        parser.error("--iterations needs 1 <= SHORT < LONG")
    if args.workers < 1 or args.block_mb <= 0 or args.slice_mb <= 0:
        parser.error("--workers >= 1, --block-mb > 0 and --slice-mb > 0 are needed")
    return args


def main():
    args = parse_args()
    batch_rows = max(
        args.n_clusters, int(args.batch_mb * 2**20 // (4 * args.n_features))
    )
    warnings.simplefilter("ignore", ConvergenceWarning)

    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        path = os.path.join(folder, "rows.npy")
        data = write_memmap(
            path, args.n_samples, args.n_features, args.n_clusters, seed=0
        )
        print(
            f"{args.n_samples} x {args.n_features} float32 on disk "
            f"({data.nbytes / 2**30:.2f} GiB), c={args.n_clusters}, m={args.m}; "
            f"fuzzyprune {fuzzyprune.__version__}, {os.cpu_count()} CPUs\n"
        )
        sample = np.asarray(
            data[np.linspace(0, args.n_samples - 1, args.sample).astype(int)]
        )
        goals = []
        if "stream" in args.parts:
            rows, stream_goals = stream_rows(data, batch_rows, args, sample)
            goals += stream_goals
            print(
                f"partial_fit, batches of {batch_rows} rows "
                f"({batch_rows * 4 * args.n_features / 2**20:.0f} MiB):\n"
            )
            print("| method | batches | seconds | rows/s | peak anonymous memory |")
            print("|---|---:|---:|---:|---:|")
            print("\n".join(rows) + "\n")
        del data
        if "dask" in args.parts:
            init, _ = kmeans_plusplus(sample, args.n_clusters, random_state=0)
            rows, dask_goals = dask_rows(path, args, init)
            goals += dask_goals
            print(
                f"fit, seconds per iteration ({args.iterations[0]} and "
                f"{args.iterations[1]} iterations from the same centers):\n"
            )
            print("| method | s/iteration | rows/s | largest worker memory |")
            print("|---|---:|---:|---:|")
            print("\n".join(rows) + "\n")
    print("Goals:")
    print("\n".join(goals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
