import csv
import dataclasses
import os
import types

import numpy as np
import pytest
from sklearn.metrics import silhouette_score
from sklearn.utils import Bunch

from fuzzyprune.cli import main
from fuzzyprune.datasets import make_vehicle_x, write_vehicle_x
from fuzzyprune.reproduce import QUICK, _silhouette, reproduce

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
    return dataclasses.replace(
        QUICK,
        baseline_epochs=(1,),
        pruned_epochs=1,
        amounts=(0.2,),
        fcm_iterations=(2,),
        fuzzifiers=(1.7,),
        ga_settings=((4, 1),),
    )


def small_vehicle_x(n_samples=60):
    """Vehicle-X-shaped data small enough for networks that train at once."""
    return make_vehicle_x(n_samples, n_vehicles=8, n_features=16, random_state=0)


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


# The quick settings on 1,200 samples of 2048 features: about 25 s.
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("results")
    assert main(["reproduce", "--quick", "--out", str(out), "--n-samples", "1200"]) == 0
    return out


@pytest.mark.slow
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
    markdown = (quick_run / f"{name}.md").read_text()
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert lines[0] == "| " + " | ".join(columns) + " |"
    # The Markdown shows the CSV's rows, in its order.
    assert [line.split(" | ")[0][2:] for line in lines[1:]] == rows


@pytest.mark.slow
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


@pytest.mark.slow
def test_clustering_tables_name_the_fuzzifier_and_collapse(quick_run):
    table = read_csv(quick_run / "table6_fcm_fuzzifier.csv")
    fuzzifiers = [row["fuzzifier"] for row in table]
    assert fuzzifiers[:5] == ["m=1.7", "m=2.5", "m=3.5", "m=4.5", "m=5.5"]
    assert fuzzifiers[5].startswith("m=auto (1.0")
    assert fuzzifiers[6] == "polynomial beta=0.5"
    for row in table:
        if int(row["clusters found"]) < 11:
            assert row["collapsed"] == "yes"
    ga = read_csv(quick_run / "table_ga_fcm.csv")
    assert [row["fuzzifier"].split(" (")[0] for row in ga] == [
        "m=1.7",
        "m=1.7",
        "m=auto",
        "polynomial beta=0.5",
    ]


@pytest.mark.slow
def test_clustering_tables_add_honest_metrics(quick_run):
    vx = make_vehicle_x(1200, random_state=0)  # what quick_run clustered
    train_types = vx.type[vx.split == "train"]
    majority = 100 * np.bincount(train_types).max() / train_types.size
    one_cluster = 0
    for name in ("table5_fcm_iterations", "table6_fcm_fuzzifier"):
        for row in read_csv(quick_run / f"{name}.csv"):
            if int(row["clusters found"]) == 1:
                one_cluster += 1
                # One cluster matches the most frequent type and tells nothing.
                assert float(row["Accuracy"][:-1]) == pytest.approx(majority, abs=0.005)
                assert float(row["ARI"]) == 0 and float(row["NMI"]) == 0
                assert np.isnan(float(row["silhouette"]))
            else:
                assert np.isfinite(float(row["silhouette"]))
    assert one_cluster > 0  # the study's m merges every cluster on these data


@pytest.mark.slow
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


def with_splits(vx, train, val, test):
    """``vx`` with its first rows given to each split in these numbers."""
    split = np.repeat(["train", "val", "test"], [train, val, test])
    return Bunch(**{**vx, "split": split[: len(vx.data)]})


@pytest.fixture(scope="module")
def least_run(tmp_path_factory):
    """Run on the least data and settings accepted, under a user's pyplot.

    Returns the output folder, the tables, and pyplot's backend and open
    figures after the run, with the figure the user had open.
    """
    plt = pytest.importorskip("matplotlib.pyplot")
    root = tmp_path_factory.mktemp("least")
    # One training sample per cluster, one to validate and one to test.
    write_vehicle_x(root / "vehicle-x", with_splits(small_vehicle_x(13), 11, 1, 1))
    # The GA's default tournaments of 3 need a population of 3; with no
    # generation it scores its first population only.
    settings = dataclasses.replace(
        tiny_settings(), max_samples=13, ga_settings=((3, 0),), silhouette_sample_size=2
    )
    previous = plt.get_backend()
    plt.switch_backend("svg")  # a user's backend, other than the Agg used here
    try:
        open_figure = plt.figure()
        tables = reproduce(
            # Missing parent folders are created too.
            root / "new" / "out",
            data=root / "vehicle-x",
            settings=settings,
            progress=False,
        )
        after = plt.get_backend(), plt.get_fignums(), open_figure.number
    finally:
        plt.close("all")
        plt.switch_backend(previous)
    return root / "new" / "out", tables, after


def test_reproduce_runs_at_the_least_data_and_settings_it_accepts(least_run):
    out, tables, _ = least_run
    assert [row["(epochs)"] for row in tables["table3_baseline"]] == [1]
    report = (out / "report.md").read_text()
    assert "Vehicle-X features (train 11, val 1, test 1 samples, 16 features)" in report
    assert "the silhouette is computed on 2 sampled training rows" in report


@pytest.mark.parametrize(
    "sample_size, said", [(5, "5 sampled training rows"), (11, "all 11 training rows")]
)
def test_report_says_how_many_rows_the_silhouette_uses(sample_size, said):
    from fuzzyprune.reproduce import _silhouette_rows

    data = types.SimpleNamespace(rows={"train": np.arange(11), "test": np.arange(2)})
    settings = dataclasses.replace(tiny_settings(), silhouette_sample_size=sample_size)
    assert _silhouette_rows(data, settings) == said


def test_figures_leave_pyplot_alone(least_run):
    out, _, (backend, figures, open_figure) = least_run
    assert backend == "svg"
    assert figures == [open_figure]
    for name in FIGURES:
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def _a_file(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    return tmp_path / "file"


def _dangling_link(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    return tmp_path / "link"


def _link_loop(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "link")
    return tmp_path / "link"


def _without(key):
    return Bunch(**{k: v for k, v in small_vehicle_x().items() if k != key})


def _changed(**fields):
    return Bunch(**{**small_vehicle_x(), **fields})


def _nan_feature():
    vx = small_vehicle_x()
    vx.data[3, 2] = np.nan
    return vx


# Each case: the parameters (from tmp_path), the error and its message.
BAD_PARAMETERS = [
    (lambda tmp: {"out": _a_file(tmp)}, ValueError, "is a file, not a folder"),
    (lambda tmp: {"out": _a_file(tmp) / "sub"}, ValueError, "is a file, not a"),
    (lambda tmp: {"out": 3}, TypeError, "'out' parameter of reproduce"),
    (lambda tmp: {"out": ""}, ValueError, "out='': the path is empty"),
    (lambda tmp: {"out": _dangling_link(tmp)}, ValueError, "link' is a symbolic link"),
    (
        lambda tmp: {"out": _dangling_link(tmp) / "sub"},
        ValueError,
        "out=.*link' is a symbolic link to '.*nowhere', which does not exist",
    ),
    (
        lambda tmp: {"out": _link_loop(tmp) / "sub"},
        ValueError,
        "out=.*Too many levels of symbolic links",
    ),
    (lambda tmp: {"out": "res\0ults"}, ValueError, "out=.*null"),
    (lambda tmp: {"data": ""}, ValueError, "'data' parameter of reproduce must be"),
    (lambda tmp: {"data": 3}, TypeError, "'data' parameter of reproduce"),
    (lambda tmp: {"data": tmp / "missing"}, FileNotFoundError, "missing"),
    (lambda tmp: {"data": _without("type")}, ValueError, "data has no type"),
    (
        lambda tmp: {"data": _changed(data=np.zeros(60))},
        ValueError,
        "data.data must be a 2-D array",
    ),
    (
        lambda tmp: {"data": _changed(type=np.zeros(59, int))},
        ValueError,
        "inconsistent numbers of samples",
    ),
    (
        lambda tmp: {"data": _changed(split=np.full(60, "holdout"))},
        ValueError,
        r"data.split holds \['holdout'\]",
    ),
    (
        lambda tmp: {"data": _changed(type=np.full(60, 11))},
        ValueError,
        "data.type must hold integers from 0 to 10",
    ),
    (lambda tmp: {"data": _nan_feature()}, ValueError, "contains NaN"),
    (
        lambda tmp: {"data": with_splits(small_vehicle_x(13), 10, 2, 1)},
        ValueError,
        "10 'train', 2 'val', 1 'test' samples; the experiments need at least 11",
    ),
    (
        lambda tmp: {"data": with_splits(small_vehicle_x(13), 12, 1, 0)},
        ValueError,
        "one to validate and one to test",
    ),
    # 15 synthetic samples leave 10 for training with seed 0.
    (lambda tmp: {"n_samples": 15}, ValueError, "10 'train'"),
    (lambda tmp: {"n_samples": 12}, ValueError, r"'n_samples' .* range \[13, \d+\]"),
    # Beyond NumPy's array sizes: named, not an OverflowError from NumPy.
    (lambda tmp: {"n_samples": 10**23}, ValueError, "'n_samples' parameter of rep"),
    (lambda tmp: {"n_samples": 20.0}, TypeError, "'n_samples' parameter"),
    (lambda tmp: {"seed": -1}, ValueError, r"'seed' .* \[0, 4294967295\]"),
    (lambda tmp: {"seed": 2**32}, ValueError, "'seed' parameter of reproduce"),
    (lambda tmp: {"seed": True}, TypeError, "'seed' parameter .* Got True instead"),
    (lambda tmp: {"seed": False}, TypeError, "'seed' parameter .* Got False"),
    (lambda tmp: {"n_samples": True}, TypeError, "'n_samples' parameter"),
    (lambda tmp: {"settings": "quick"}, TypeError, "'settings' parameter"),
    (lambda tmp: {"progress": "yes"}, TypeError, "'progress' parameter"),
]


@pytest.mark.parametrize(
    "make_params, error, match",
    BAD_PARAMETERS,
    ids=[case[2] for case in BAD_PARAMETERS],
)
def test_reproduce_refuses_bad_parameters_before_writing(
    tmp_path, monkeypatch, make_params, error, match
):
    monkeypatch.chdir(tmp_path)  # where an empty path would write
    params = {"settings": tiny_settings(), "progress": False, **make_params(tmp_path)}
    out = params.pop("out", tmp_path / "out")
    with pytest.raises(error, match=match):
        reproduce(out, **params)
    assert not (tmp_path / "out").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) in ([], ["file"], ["link"])


def test_reproduce_refuses_an_unwritable_folder(tmp_path, monkeypatch):
    access = os.access
    # Checked this way rather than with permissions, which root ignores.
    monkeypatch.setattr(
        os, "access", lambda path, mode: path != tmp_path and access(path, mode)
    )
    with pytest.raises(ValueError, match="is not writable"):
        reproduce(tmp_path / "out", settings=tiny_settings(), progress=False)
    assert not (tmp_path / "out").exists()


def test_reproduce_refuses_a_folder_in_one_it_may_not_search(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    stat = os.stat

    # Checked this way rather than with permissions, which root ignores.
    def no_search(path, *args, **kwargs):
        if os.path.dirname(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", no_search)
    with pytest.raises(ValueError, match=r"out=.*Permission denied: '.*locked/out'"):
        reproduce(locked / "out" / "sub", settings=tiny_settings(), progress=False)
    monkeypatch.undo()
    assert list(locked.iterdir()) == []


def test_reproduce_refuses_an_output_folder_it_cannot_create(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr(type(tmp_path), "mkdir", refuse)
    # Created once everything is checked, and before any experiment runs.
    monkeypatch.setattr(
        "fuzzyprune.reproduce._run", lambda *args: pytest.fail("experiments ran")
    )
    with pytest.raises(ValueError, match="out=.*Read-only file system"):
        reproduce(tmp_path / "out", data=small_vehicle_x(), settings=tiny_settings())


@pytest.mark.parametrize(
    "field, value",
    [
        ("pruned_epochs", True),
        ("baseline_epochs", (10, True)),
        ("fcm_iterations", (True,)),
        ("amounts", (False,)),
        ("ga_settings", ((10, True),)),
    ],
)
def test_settings_refuse_bools_for_numbers(field, value):
    with pytest.raises(TypeError, match=f"'{field}.*' parameter of Settings .* Got"):
        dataclasses.replace(QUICK, **{field: value})


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("name", 1, "'name' parameter of Settings"),
        ("max_samples", 12, r"'max_samples' .* \[13, \d+\] or None"),
        ("max_samples", 10**23, r"'max_samples' .* \[13, \d+\] or None"),
        ("baseline_epochs", (), "'baseline_epochs' field of Settings must not be"),
        ("baseline_epochs", [10], "'baseline_epochs' .* instance of 'tuple'"),
        ("baseline_epochs", (10, 0), r"'baseline_epochs\[1\]'"),
        ("pruned_epochs", 0, "'pruned_epochs' parameter"),
        ("amounts", (0.2, 1.0), r"'amounts\[1\]' .* \[0.0, 1.0\)"),
        ("amounts", (-0.1,), r"'amounts\[0\]'"),
        ("fcm_iterations", (0,), r"'fcm_iterations\[0\]'"),
        ("fuzzifiers", (1.0,), r"'fuzzifiers\[0\]' .* \(1.0, inf\)"),
        ("fuzzifiers", (float("nan"),), r"'fuzzifiers\[0\]'"),
        ("fuzzifiers", (float("inf"),), r"'fuzzifiers\[0\]'"),
        ("ga_settings", ((10, 2), (2, 5)), r"'ga_settings\[1\]\[0\]' .* \[3, inf\)"),
        ("ga_settings", ((10, -1),), r"'ga_settings\[0\]\[1\]' .* \[0, inf\)"),
        ("ga_settings", ((10,),), r"'ga_settings\[0\]' field .* a pair"),
        ("ga_settings", (10, 2), r"'ga_settings\[0\]' .* instance of 'tuple'"),
        ("silhouette_sample_size", 1, "'silhouette_sample_size' parameter"),
        ("well_trained_lr", 0.0, "'well_trained_lr' parameter"),
        ("well_trained_lr", float("inf"), "'well_trained_lr' parameter"),
    ],
)
def test_settings_refuse_fields_out_of_range(field, value, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(QUICK, **{field: value})


def test_silhouette_draws_rows_as_scikit_learn_and_is_nan_where_undefined():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    labels = rng.integers(3, size=50)
    expected = silhouette_score(X, labels, sample_size=20, random_state=4)
    assert _silhouette(X, labels, 20, 4) == expected
    assert _silhouette(X, labels, 500, 4) == pytest.approx(silhouette_score(X, labels))
    assert np.isnan(_silhouette(X, np.zeros(50, int), 20, 4))  # one label
    assert np.isnan(_silhouette(X[:3], np.arange(3), 20, 4))  # a label per row


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


def test_ga_table_searches_with_the_studys_fitness():
    # The study's fitness is the silhouette on the selected features, not
    # the library's default silhouette on all features.
    from fuzzyprune.reproduce import _ga_table

    vx = make_vehicle_x(200, n_features=12, random_state=0)
    data = types.SimpleNamespace(X=lambda split: vx.data, types=lambda split: vx.type)
    progress = types.SimpleNamespace(
        set_description=lambda text: None, update=lambda: None
    )
    settings = dataclasses.replace(tiny_settings(), ga_settings=((4, 1),))
    table, selectors = _ga_table(data, settings, 0, progress)
    selector = selectors[(4, 1)]
    X_selected = vx.data[:, selector.support_]
    expected = silhouette_score(X_selected, selector.estimator_.labels_)
    assert selector.best_score_ == pytest.approx(expected, rel=1e-6)
    assert selector.init_proba == 0.5
