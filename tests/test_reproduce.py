import csv

import numpy as np
import pytest

from fuzzyprune.cli import main
from fuzzyprune.datasets import make_vehicle_x, write_vehicle_x

TABLES = {
    "table3_baseline": ("(epochs)", ["10", "4"]),
    "table4_pruned": (
        "(epochs , amount)",
        ["(4, 0.2)", "(4, 0.3)", "(4, 0.4)", "(4, 0.5)", "(4, 0.5)"]
        + ["(4, 0.0)", "(4, 0.2)"],
    ),
    "table5_fcm_iterations": ("Iterations", ["5", "10", "15"] * 3 + ["15"]),
    "table6_fcm_fuzzifier": (
        "m",
        ["1.7", "2.5", "3.5", "4.5", "5.5", "auto", "polynomial", "1.7"],
    ),
    "table_ga_fcm": (
        "(population, generations)",
        ["(10, 2)", "(20, 5)", "(10, 2)", "(10, 2)"],
    ),
}
FIGURES = ["fig1_histograms.png", "fig3_cluster_histograms.png", "ga_fitness.png"]


def tiny_settings():
    """The quick settings cut to one run of each kind, for tests of plumbing."""
    import dataclasses

    from fuzzyprune.reproduce import QUICK

    return dataclasses.replace(
        QUICK,
        baseline_epochs=(1,),
        pruned_epochs=1,
        amounts=(0.2,),
        fcm_iterations=(2,),
        fuzzifiers=(1.7,),
        ga_settings=((4, 1),),
    )


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("results")
    assert main(["reproduce", "--quick", "--out", str(out), "--n-samples", "1200"]) == 0
    return out


@pytest.mark.parametrize("name", TABLES)
def test_tables_have_the_study_rows_and_columns(quick_run, name):
    key, rows = TABLES[name]
    table = read_csv(quick_run / f"{name}.csv")
    assert [row[key] for row in table] == rows
    columns = list(table[0])
    assert columns[0] == key
    if name in ("table3_baseline", "table4_pruned"):
        assert columns[1:4] == ["Training", "Validation", "Test"]
    else:
        assert columns[1] == "Accuracy"
    for row in table:
        for column in ("Training", "Validation", "Test", "Accuracy"):
            if column in row:
                assert 0 <= float(row[column].rstrip("%")) <= 100
        assert float(row["seconds"]) >= 0
    markdown = (quick_run / f"{name}.md").read_text()
    assert markdown.count("\n| ") == len(rows) + 1  # header and one line per row


def test_pruned_table_reports_the_schedules_sparsity(quick_run):
    table = read_csv(quick_run / "table4_pruned.csv")
    per_epoch = [row for row in table if row["schedule"] in ("per_epoch", "none")]
    amounts = (0.2, 0.3, 0.4, 0.5, 0.0, 0.2)
    for row, amount in zip(per_epoch, amounts, strict=True):
        assert float(row["sparsity"]) == pytest.approx(1 - (1 - amount) ** 4, abs=1e-4)
    gradual = [row for row in table if row["schedule"] == "gradual"]
    assert float(gradual[0]["sparsity"]) == pytest.approx(0.5, abs=1e-4)
    # The study's rate, then one at which the unpruned network trains well.
    assert [row["lr"] for row in table] == ["0.01"] * 5 + ["0.001"] * 2
    assert [row["schedule"] for row in table][-2:] == ["none", "per_epoch"]


def test_clustering_tables_name_the_fuzzifier_and_collapse(quick_run):
    table = read_csv(quick_run / "table6_fcm_fuzzifier.csv")
    fuzzifiers = [row["fuzzifier"] for row in table]
    assert fuzzifiers[:5] == ["m=1.7", "m=2.5", "m=3.5", "m=4.5", "m=5.5"]
    assert fuzzifiers[5].startswith("m=auto (1.0")
    assert fuzzifiers[6] == "polynomial beta=0.5"
    for row in table:
        coefficient = float(row["partition coefficient"])
        assert 1 / 11 - 1e-9 <= coefficient <= 1 + 1e-9
        assert row["collapsed"] in ("yes", "no")
        if int(row["clusters found"]) < 11:
            assert row["collapsed"] == "yes"
    ga = read_csv(quick_run / "table_ga_fcm.csv")
    assert [row["fuzzifier"].split(" (")[0] for row in ga] == [
        "m=1.7",
        "m=1.7",
        "m=auto",
        "polynomial beta=0.5",
    ]


def test_clustering_tables_add_honest_metrics(quick_run):
    for name in ("table5_fcm_iterations", "table6_fcm_fuzzifier", "table_ga_fcm"):
        for row in read_csv(quick_run / f"{name}.csv"):
            assert -1 <= float(row["ARI"]) <= 1
            assert 0 <= float(row["NMI"]) <= 1
            assert 1 <= int(row["clusters found"]) <= 11
    ga = read_csv(quick_run / "table_ga_fcm.csv")
    assert all(1 <= int(row["features selected"]) <= 2048 for row in ga)


def test_figures_and_report(quick_run):
    for name in FIGURES:
        assert (quick_run / name).read_bytes()[:4] == b"\x89PNG"
    report = (quick_run / "report.md").read_text()
    for name in FIGURES:
        assert f"]({name})" in report
    for name in TABLES:
        assert f"`{name}.csv`" in report
    assert "Hungarian" in report and "synthetic" in report
    findings = report.split("## Findings")[1].split("**Table 3")[0]
    # One sentence per experiment, each with its numbers.
    assert findings.count("\n- ") >= 9
    assert "silhouette of the 11 vehicle types" in findings
    assert "At lr 0.001 the unpruned network reaches" in findings


def test_reproduce_reads_vehicle_x_folders(tmp_path):
    from fuzzyprune.reproduce import reproduce

    data = tmp_path / "vehicle-x"
    vx = make_vehicle_x(400, n_vehicles=30, n_features=16, random_state=0)
    write_vehicle_x(data, vx)
    out = tmp_path / "out"
    tables = reproduce(out, data=data, settings=tiny_settings(), progress=False)
    assert len(tables["table3_baseline"]) == 1
    report = (out / "report.md").read_text()
    sizes = ", ".join(
        f"{split} {np.sum(vx.split == split)}" for split in ("train", "val", "test")
    )
    assert f"Vehicle-X features ({sizes} samples, 16 features)" in report


def test_wrong_data_folder_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--data" in capsys.readouterr().err
    (tmp_path / "train").mkdir()
    np.save(tmp_path / "train" / "not_a_vehicle.npy", np.zeros(3))
    with pytest.raises(SystemExit):
        main(["reproduce", "--data", str(tmp_path), "--out", str(tmp_path / "o")])
    assert "not_a_vehicle.npy" in capsys.readouterr().err


def test_quick_and_full_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--quick", "--full"])
    assert exit_info.value.code == 2


def test_figures_leave_pyplot_alone(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    from fuzzyprune.reproduce import reproduce

    previous = plt.get_backend()
    plt.switch_backend("svg")  # a user's backend, other than the Agg used here
    try:
        open_figure = plt.figure()
        reproduce(tmp_path, settings=tiny_settings(), n_samples=200, progress=False)
        assert plt.get_backend() == "svg"
        assert plt.get_fignums() == [open_figure.number]
    finally:
        plt.close("all")
        plt.switch_backend(previous)
    assert (tmp_path / "ga_fitness.png").read_bytes()[:4] == b"\x89PNG"


def test_too_few_samples_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--n-samples", "10"])
    assert exit_info.value.code == 2
    assert "--n-samples must be at least 30" in capsys.readouterr().err


def test_findings_judge_differences_against_the_test_set_noise():
    from fuzzyprune.reproduce import _compare, _fit_verdict

    # 4.5 % on 1,000 images: twice the standard error of a difference is
    # 200 * sqrt(2 * 0.045 * 0.955 / 1000) = 1.85 points.
    assert _compare(5.0, 4.0, 1000) == "within noise (1.85 points on 1000 test images)"
    assert _compare(10.0, 2.0, 1000) == "higher"
    assert _compare(2.0, 10.0, 1000) == "lower"
    assert _fit_verdict({"Training": "28.11%", "Test": "0.00%"}) == (
        "does not fit its training images"
    )
    assert _fit_verdict({"Training": "98.00%", "Test": "3.00%"}) == (
        "memorises its training images"
    )
    assert _fit_verdict({"Training": "90.00%", "Test": "80.00%"}) == "generalises"
