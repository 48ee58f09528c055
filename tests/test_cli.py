import io
import subprocess
import sys

import pytest

from fuzzyprune.cli import demo, main


def test_demo_prints_indices_for_each_fuzzifier(capsys):
    assert main(["demo", "--dataset", "iris", "--m", "1.5", "2.5"]) == 0
    output = capsys.readouterr().out
    assert "fuzzy c-means on iris (150 samples, 4 features, 3 clusters)" in output
    assert "Memberships of the first 5 samples (m=1.5)" in output
    table = output[output.index("Validity indices") :].splitlines()
    assert table[1].split()[:3] == ["m", "PC", "MPC"]
    assert [line.split()[0] for line in table[2:]] == ["1.5", "2.5"]


def test_demo_returns_the_printed_indices():
    rows = demo("wine", (1.5, 2.0), seed=0, out=io.StringIO())
    assert [row["m"] for row in rows] == [1.5, 2.0]
    assert all(row["cluster accuracy"] > 0.9 for row in rows)
    assert (
        rows[0]["PC"] > rows[1]["PC"]
    )  # a smaller fuzzifier gives a crisper partition


def test_demo_rejects_fuzzifier_of_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--m", "1"])
    assert exit_info.value.code == 2
    assert "every fuzzifier must be greater than 1" in capsys.readouterr().err


def test_import_does_not_load_torch():
    code = "import sys, fuzzyprune, fuzzyprune.metrics; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert result.stdout.strip() == "False", result.stderr
