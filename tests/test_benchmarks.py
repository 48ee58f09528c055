import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def run_benchmark(script, *options, timeout=120):
    """Run a benchmark script; return its output and its table rows."""
    command = [sys.executable, str(BENCHMARKS / script), *options]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    return result.stdout, rows


def _goal(output, name):
    """The number a benchmark's goal line reports for ``name``."""
    (line,) = [line for line in output.splitlines() if line.startswith(f"- {name}")]
    return float(re.match(r"[\s=:]*([-\d.]+)", line[len(name) + 2 :]).group(1))


def test_bench_fcm_prints_side_by_side_table_and_goals():
    output, rows = run_benchmark(
        "bench_fcm.py",
        "--n-samples=400",
        "--n-features=16",
        "--n-clusters=3",
        "--iterations",
        "1",
        "3",
        "--repeats=1",
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
    # Against the peer (absent here): ours at one and two jobs, side by side.
    assert names[3:6] == [
        "fuzzyprune.GAFeatureSelector (silhouette on 1000 rows)",
        "fuzzyprune.GAFeatureSelector (exact silhouette, all rows)",
        "fuzzyprune.GAFeatureSelector (silhouette on 1000 rows)",
    ]
    assert [row.split("|")[2].strip() for row in rows[3:6]] == ["1", "1", "2"]
    assert names[7:] == ["silhouette", "simplified_silhouette", "fuzzy_silhouette"]
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
    assert "unpruned" in labels and labels[-1].endswith("compact(sparse=True)")
    assert "(goal <= 1.10)" in output
    assert "unstructured 90 % as CSR predict speed-up" in output
