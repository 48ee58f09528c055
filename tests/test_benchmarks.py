import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "bench_fcm.py"


def test_bench_fcm_prints_side_by_side_table_and_goals():
    command = [
        sys.executable,
        str(SCRIPT),
        "--n-samples=400",
        "--n-features=16",
        "--n-clusters=3",
        "--iterations",
        "1",
        "3",
        "--repeats=1",
        "--peers",
        "sklearn.KMeans (lloyd)",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in rows[1:]] == [
        "fuzzyprune.FuzzyCMeans",
        "sklearn.KMeans (lloyd)",
    ]
    ours = rows[1].split("|")
    assert ours[2].strip() == "3" and ours[5].strip() == "1.00x"
    assert "fuzzyprune / KMeans s/iter (marginal)" in result.stdout
    assert "by peak RSS (goal <= 1.3)" in result.stdout
