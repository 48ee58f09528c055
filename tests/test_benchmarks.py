import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
# Vehicle-X-shaped data small enough for the test suite.
TINY_FCM = (
    "--n-samples=400",
    "--n-features=16",
    "--n-clusters=3",
    "--iterations",
    "1",
    "3",
    "--repeats=1",
)


def _run(script, *options, timeout=120, env=None):
    command = [sys.executable, str(BENCHMARKS / script), *options]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env
    )


def run_benchmark(script, *options, timeout=120, env=None):
    """Run a benchmark script; return its output and its table rows."""
    result = _run(script, *options, timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    return result.stdout, rows


def _goal(output, name):
    """The number a benchmark's goal line reports for ``name``."""
    (line,) = [line for line in output.splitlines() if line.startswith(f"- {name}")]
    return float(re.match(r"[\s=:]*([-\d.]+)", line[len(name) + 2 :]).group(1))


@pytest.mark.slow
def test_bench_fcm_prints_side_by_side_table_and_goals():
    output, rows = run_benchmark(
        "bench_fcm.py",
        *TINY_FCM,
        "--peers",
        "fuzzyprune.FuzzyCMeans (polynomial)",
        "sklearn.KMeans (lloyd)",
    )
    assert [row.split("|")[1].strip() for row in rows[1:]] == [
        "fuzzyprune.FuzzyCMeans",
        "fuzzyprune.FuzzyCMeans (polynomial)",
        "sklearn.KMeans (lloyd)",
    ]
    assert [row.split("|")[2].strip() for row in rows[1:]] == ["3"] * 3
    # The goals quote the table's ratios of the polynomial run to the default
    # run, so both are measured against the same reference row.
    polynomial = rows[2].split("|")
    for column, kind in ((5, "marginal"), (6, "whole")):
        goal = _goal(output, f"polynomial / power fuzzifier s/iter ({kind})")
        assert f"{goal:.2f}x" == polynomial[column].strip()
    assert "fuzzyprune / KMeans s/iter (marginal)" in output
    assert "by peak RSS (goal <= 1.3)" in output


@pytest.mark.slow
def test_bench_fcm_times_torch_tensors_beside_numpy():
    # The script switches SciPy's array API support on itself.
    env = {
        name: value for name, value in os.environ.items() if name != "SCIPY_ARRAY_API"
    }
    output, rows = run_benchmark(
        "bench_fcm.py",
        *TINY_FCM,
        "--peers",
        "--namespace=torch",
        "--device=cpu",
        env=env,
    )
    assert rows[0].endswith("| device memory at peak / X |")
    cells = [[cell.strip() for cell in row.split("|")[1:-1]] for row in rows[1:]]
    assert [row[:2] for row in cells] == [
        ["fuzzyprune.FuzzyCMeans", "3"],
        ["fuzzyprune.FuzzyCMeans (torch, cpu)", "3"],
    ]
    numpy, torch = cells
    # tracemalloc does not see torch's allocations; a CPU has no device memory.
    assert numpy[6] != "n/a" and torch[6] == "n/a"
    assert numpy[8] == torch[8] == "n/a"
    for column, kind in ((2, "marginal"), (3, "whole")):
        goal = _goal(output, f"fuzzyprune.FuzzyCMeans (torch, cpu) s/iter ({kind})")
        assert f"{goal:.5f}" == torch[column]
    assert (
        "(goal <= 0.002 on one H200-class GPU at 77516 x 2048, c=11; "
        "this run: 400 x 16, c=3)" in output
    )
    assert (
        "- fuzzyprune.FuzzyCMeans (torch, cpu) fit peak device memory / X: "
        "not measured on cpu (goal <= 1.5 on a GPU)" in output
    )
    assert "by peak RSS (goal <= 1.3)" in output


def load_bench_fcm(monkeypatch, options):
    """Import bench_fcm.py as a module, with ``options`` as its command line."""
    spec = importlib.util.spec_from_file_location(
        "bench_fcm", BENCHMARKS / "bench_fcm.py"
    )
    bench_fcm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_fcm)
    monkeypatch.setattr(sys, "argv", ["bench_fcm.py", *options])
    return bench_fcm


def assert_refused_in_one_line(monkeypatch, options, message):
    """Check that bench_fcm.py exits at once with one line matching ``message``."""
    bench_fcm = load_bench_fcm(monkeypatch, options)
    # Python prints the message of such an exit, alone, and exits with 1.
    with pytest.raises(SystemExit) as exit:
        bench_fcm.main()
    assert isinstance(exit.value.code, str) and "\n" not in exit.value.code
    assert re.fullmatch(f"bench_fcm.py: error: {message}", exit.value.code)


def test_bench_fcm_refuses_cupy_when_not_installed(monkeypatch):
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed")
    assert_refused_in_one_line(
        monkeypatch,
        ["--namespace=cupy", "--device=cuda"],
        r"--namespace cupy needs CuPy, which cannot be imported \(.+\)",
    )


def test_bench_fcm_refuses_cuda_without_a_device(monkeypatch):
    if pytest.importorskip("torch").cuda.is_available():
        pytest.skip("CUDA is available")
    assert_refused_in_one_line(
        monkeypatch,
        ["--namespace=torch", "--device=cuda"],
        r"--device cuda: torch \S+ sees no CUDA device",
    )


def test_bench_fcm_refuses_numpy_on_a_device(monkeypatch):
    assert_refused_in_one_line(
        monkeypatch,
        ["--device=cuda:1"],
        "--device cuda:1: NumPy arrays live on the host; add --namespace torch or "
        "--namespace cupy",
    )


@pytest.mark.parametrize(
    "options, message",
    [
        (["--n-samples=5"], "need 1 <= --n-clusters <= --n-samples"),
        (["--n-clusters=0"], "need 1 <= --n-clusters <= --n-samples"),
        (["--n-features=0"], "--n-features must be at least 1"),
        (["--m=1"], "--m must be greater than 1"),
        (
            ["--iterations", "10", "2"],
            "--iterations needs two counts, 1 <= first < second",
        ),
        (["--repeats=0"], "--repeats and --slow-repeats must be at least 1"),
    ],
)
def test_bench_fcm_refuses_settings_it_cannot_run(
    monkeypatch, capsys, options, message
):
    bench_fcm = load_bench_fcm(monkeypatch, [*options, "--peers"])
    with pytest.raises(SystemExit) as exit:
        bench_fcm.main()
    assert exit.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"bench_fcm.py: error: {message}"


@pytest.mark.slow
def test_bench_ga_prints_tables_and_goals():
    output, rows = run_benchmark(
        "bench_ga.py",
        "--n-samples=300",
        "--small-samples=200",
        "--n-features=24",
        "--n-clusters=3",
        "--n-subsets=6",
        "--peer-repeats=2",
        "--sections",
        "paper",
        "ranking",
        "peer",
        timeout=180,
    )
    names = [row.split("|")[1].strip() for row in rows]
    assert names[1] == "fuzzyprune.GAFeatureSelector"
    # The paper's setting evaluates at most 10 + 2 * 9 distinct subsets.
    assert 1 <= int(rows[1].split("|")[3]) <= 28
    # Against the peer (if installed): ours at one and two jobs, side by side.
    peer = "sklearn_genetic.GAFeatureSelectionCV (cv=3)"
    n_peer = names.count(peer)
    assert n_peer in (0, 2)
    against = [row for row in rows[3 : 6 + n_peer] if peer not in row]
    assert [row.split("|")[1].strip() for row in against] == [
        "fuzzyprune.GAFeatureSelector (silhouette on 1000 rows)",
        "fuzzyprune.GAFeatureSelector (exact silhouette, all rows)",
        "fuzzyprune.GAFeatureSelector (silhouette on 1000 rows)",
    ]
    assert [row.split("|")[2].strip() for row in against] == ["1", "1", "2"]
    assert names[7 + n_peer :] == [
        "silhouette",
        "simplified_silhouette",
        "fuzzy_silhouette",
    ]
    assert "Spearman of the default fitness" in output
    assert "(goal <= 60)" in output


@pytest.mark.slow
def test_bench_mlp_prints_tables_and_goals():
    output, rows = run_benchmark(
        "bench_mlp.py",
        "--n-samples=600",
        "--n-features=32",
        "--hidden-size=16",
        "--n-vehicles=20",
        "--epoch-samples=300",
        "--epochs=1",
        "--predict-samples=200",
        "--predict-train-samples=300",
        "--repeats=1",
        "--sections",
        "epoch",
        "predict",
    )
    labels = [row.split("|")[1].strip() for row in rows]
    assert labels[1:3] == [
        "hand-written torch loop, torch.optim.Adam",
        "hand-written torch loop, Adam(fused=True)",
    ]
    # Speed-ups are against the hand-written loop and the unpruned network.
    seconds = {row.split("|")[1].strip(): float(row.split("|")[2]) for row in rows[1:6]}
    reference = seconds["hand-written torch loop, torch.optim.Adam"]
    pruned = seconds["PrunedMLPClassifier(amount=0.2, schedule='per_epoch')"]
    goal = _goal(output, "pruned (paper) / hand-written loop s/epoch")
    assert goal == pytest.approx(pruned / reference, abs=0.01 + 0.001 / reference)
    start = labels.index("network") + 1
    predict = [[cell.strip() for cell in row.split("|")[1:-1]] for row in rows[start:]]
    auto = "l1_unstructured 90 % of weights, compact(sparse='auto'): "
    assert [cells[0] for cells in predict[:8]] == [
        "unpruned",
        "l1_structured 50 % of units, compact()",
        "l1_unstructured 90 % of weights, compact(sparse=True)",
        predict[3][0],
        "BatchNorm MLP, 50 % of units pruned, dense",
        "BatchNorm MLP, compact_module: hidden 16 -> 8 units",
        "two-head MLP, 50 % of units pruned, dense",
        "two-head MLP, compact_module: hidden 16 -> 8 units",
    ]
    # Speed-ups are against the first row of each network.
    assert [predict[row][2] for row in (0, 4, 6)] == ["1.00x"] * 3
    # Each classifier also runs exported to onnxruntime (the test extra has
    # it); the other modules do not.
    assert all(float(cells[6]) >= 0 for cells in predict[:4])
    assert [cells[6] for cells in predict[4:8]] == ["-"] * 4
    # The choice of compact(sparse="auto") follows its timings, layer by layer.
    assert predict[8][0] == "layer"
    timings = predict[9:11]
    assert [cells[0] for cells in timings] == ["hidden", "output"]
    for _, density, dense_ms, csr_ms, stored in timings:
        assert 0.05 <= float(density) < 0.5 and float(dense_ms) > 0 < float(csr_ms)
        assert stored in ("CSR", "dense")
    assert predict[3][0] == auto + ", ".join(
        f"{layer} {stored}" for layer, *_, stored in timings
    )
    assert "(goal <= 1.10)" in output
    assert "unstructured 90 % as CSR predict speed-up" in output
    assert _goal(output, "unstructured 90 % with sparse='auto' predict speed-up") > 0


@pytest.mark.slow
def test_bench_fcm_scale_streams_a_memmap_and_reports_memory():
    output, rows = run_benchmark(
        "bench_fcm_scale.py",
        "--n-samples=3000",
        "--n-features=16",
        "--n-clusters=3",
        "--batch-mb=0.05",
        "--sample=1000",
        "--parts",
        "stream",
    )
    assert rows[1].split("|")[1].strip() == "FuzzyCMeans.partial_fit"
    # 3000 rows in batches of 819 rows of 16 float32.
    assert rows[1].split("|")[2].strip() == "4"
    assert _goal(output, "peak anonymous memory") >= 0
    ratio = _goal(
        output, "objective of 1000 rows at the streamed centers / full fit of them"
    )
    assert 0.9 < ratio < 1.05


@pytest.mark.slow
def test_bench_fcm_scale_fits_on_a_local_cluster_within_worker_memory():
    output, rows = run_benchmark(
        "bench_fcm_scale.py",
        "--n-samples=6000",
        "--n-features=16",
        "--n-clusters=3",
        "--sample=1000",
        "--parts",
        "dask",
        "--block-mb=0.05",
        "--slice-mb=0.1",
        "--iterations",
        "1",
        "3",
        timeout=300,
    )
    labels = [row.split("|")[1].strip() for row in rows]
    assert labels[1:] == [
        "FuzzyCMeans, in memory (1638 rows)",
        "FuzzyCMeans, Dask (2 workers, blocks of 819 rows)",
        "FuzzyCMeans, Dask threads, the in-memory rows as blocks of 819",
        "reading the blocks alone, Dask (X.sum())",
    ]
    assert 0 < _goal(output, "largest worker memory / its limit") < 1
    assert "workers restarted: False" in output
    # Tiny fits time noise only: the ratio is printed, whatever its value.
    _goal(output, "Dask / in-memory seconds per row and iteration")


@pytest.mark.slow
def test_bench_ga_default_section_compares_the_two_searches():
    output, rows = run_benchmark(
        "bench_ga.py",
        "--n-samples=300",
        "--n-features=12",
        "--n-clusters=3",
        "--sections",
        "default",
        timeout=180,
    )
    names = [row.split("|")[1].strip() for row in rows]
    assert names[-1] == "GAFeatureSelector(objectives=('fitness', 'n_features'))"
    ratio = _goal(
        output,
        "multi-objective / single-objective seconds, same population and generations",
    )
    assert ratio > 0


@pytest.mark.slow
def test_bench_ga_drift_section_compares_the_two_fitnesses():
    output, rows = run_benchmark(
        "bench_ga.py",
        "--n-samples=300",
        "--n-features=24",
        "--drift-samples=300",
        "--drift-seeds=1",
        "--drift-single-features=3",
        "--sections",
        "drift",
        timeout=180,
    )
    data = ["wine", "breast cancer", "digits / 16", "Vehicle-X 300"]
    # One row per data set, then one per data set and fitness.
    assert [row.split("|")[1].strip() for row in rows[1:5]] == data
    searches = rows[6:]
    assert [row.split("|")[1].strip() for row in searches] == [
        name for name in data for _ in range(2)
    ]
    for row in rows[1:5]:
        cells = row.split("|")
        silhouettes = [float(value) for value in cells[3].split("->")]
        accuracies = [float(value) for value in cells[4].split("->")]
        assert all(-1 <= value <= 1 for value in silhouettes)
        assert all(0 <= value <= 1 for value in accuracies)
    met = [int(row.split("|")[6].split("/")[0]) for row in searches]
    name = "accuracy target met by the default (silhouette on all features)"
    assert _goal(output, name) == sum(met[1::2])
