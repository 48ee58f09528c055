"""FuzzyCMeans on data larger than memory: partial_fit streaming a disk memmap.

Rows of ``n_clusters`` Gaussian groups (float32, unit-variance means, noise
of standard deviation 2 in every feature) are written to a memory-mapped
file on disk, block by block, and streamed through
``FuzzyCMeans.partial_fit`` in batches of a given size. Reported:

- throughput, rows per second over the whole stream;
- peak anonymous memory: the largest ``RssAnon`` of the process (Linux,
  sampled every 10 ms) during the stream, above its value before, i.e.
  memory that is not pages of the file the operating system can drop;
- the objective of a sample of the rows at the streamed centers, against a
  full in-memory fit of that sample (same m, same start).

Run ``python benchmarks/bench_fcm_scale.py`` for an 8 GB stream in 256 MB
batches (1,048,576 x 2048 float32; needs 8 GB of free disk in ``--dir``);
``--help`` lists the options.
"""

import argparse
import os
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
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


class PeakSampler:
    """Sample anonymous memory in a thread; ``peak`` is the largest seen."""

    def __init__(self, interval=0.01):
        self.interval = interval
        self.peak = anonymous_memory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, anonymous_memory())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, anonymous_memory())


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


def stream(data, batch_rows, n_clusters, m):
    """Fit by partial_fit over the batches; return the estimator and seconds."""
    fcm = FuzzyCMeans(n_clusters, m=m, random_state=0)
    start = time.perf_counter()
    for first in range(0, data.shape[0], batch_rows):
        fcm.partial_fit(data[first : first + batch_rows])
    return fcm, time.perf_counter() - start


def main():
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
    args = parser.parse_args()
    if not 1 <= args.n_clusters <= min(args.n_samples, args.sample):
        parser.error("need 1 <= --n-clusters <= --n-samples and --sample")
    if args.n_features < 1 or args.batch_mb <= 0 or not args.m > 1:
        parser.error("--n-features >= 1, --batch-mb > 0 and --m > 1 are needed")
    batch_rows = max(
        args.n_clusters, int(args.batch_mb * 2**20 // (4 * args.n_features))
    )
    warnings.simplefilter("ignore", ConvergenceWarning)

    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        path = os.path.join(folder, "rows.npy")
        data = write_memmap(
            path, args.n_samples, args.n_features, args.n_clusters, seed=0
        )
        size = data.nbytes
        print(
            f"{args.n_samples} x {args.n_features} float32 on disk "
            f"({size / 2**30:.2f} GiB), batches of {batch_rows} rows "
            f"({batch_rows * 4 * args.n_features / 2**20:.0f} MiB), "
            f"c={args.n_clusters}, m={args.m}; fuzzyprune {fuzzyprune.__version__}, "
            f"{os.cpu_count()} CPUs\n"
        )
        before = anonymous_memory()
        with PeakSampler() as sampler:
            fcm, seconds = stream(data, batch_rows, args.n_clusters, args.m)
        rows = np.linspace(0, args.n_samples - 1, args.sample).astype(int)
        sample = np.asarray(data[rows])
        del data
    full = FuzzyCMeans(args.n_clusters, m=args.m, random_state=0).fit(sample)
    ratio = -fcm.score(sample) / full.objective_
    extra = (sampler.peak - before) / 2**30
    print("| method | batches | seconds | rows/s | peak anonymous memory |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| FuzzyCMeans.partial_fit | {fcm.n_steps_} | {seconds:.1f} | "
        f"{args.n_samples / seconds:,.0f} | {extra:.2f} GiB |"
    )
    print("\nGoals:")
    print(f"- peak anonymous memory = {extra:.2f} GiB (goal <= 1)")
    print(
        f"- objective of {args.sample} rows at the streamed centers / full fit of "
        f"them = {ratio:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
