import io
import os
import shlex
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from fuzzyprune._fcm import FuzzyCMeans
from fuzzyprune.cli import _fuzzifier, demo, main
from fuzzyprune.datasets import make_vehicle_x, write_vehicle_x


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


def test_demo_shows_the_fuzzifier_auto_chose(capsys):
    assert main(["demo", "--dataset", "wine", "--m", "auto", "2"]) == 0
    output = capsys.readouterr().out
    X = StandardScaler().fit_transform(load_wine().data)
    chosen = f"{FuzzyCMeans(3, m='auto').fit(X).m_:.4g}"
    assert chosen != "2"
    assert f"Memberships of the first 5 samples (m=auto ({chosen}))" in output
    table = output[output.index("Validity indices") :].splitlines()
    assert [line.split()[0] for line in table[2:]] == ["auto", "2"]
    assert table[2].split()[1] == f"({chosen})"
    # Columns stay aligned however wide a cell is.
    assert len({len(line) for line in table[1:]}) == 1


def test_demo_prints_the_memberships_of_the_first_fit_once(capsys):
    main(["demo", "--m", "2", "2"])
    assert capsys.readouterr().out.count("Memberships of the first 5") == 1


@pytest.mark.parametrize(
    "params, match",
    [
        ({"dataset": "moons"}, "'dataset' parameter of demo"),
        ({"fuzzifiers": ()}, "'fuzzifiers' parameter of demo must not be empty"),
        ({"fuzzifiers": 2.0}, "'fuzzifiers' parameter of demo"),
        ({"fuzzifiers": (2.0, 1.0)}, r"'fuzzifiers\[1\]' parameter of demo"),
        ({"fuzzifiers": (float("nan"),)}, r"'fuzzifiers\[0\]' parameter"),
        ({"fuzzifiers": ("fast",)}, r"'fuzzifiers\[0\]' parameter"),
        ({"seed": -1}, "'seed' parameter of demo"),
        ({"out": "results.txt"}, "'out' parameter of demo"),
    ],
)
def test_demo_refuses_bad_parameters_before_printing(params, match):
    out = params.pop("out", None) or io.StringIO()
    with pytest.raises(ValueError, match=match):
        demo(**{"out": out, **params})
    if isinstance(out, io.StringIO):
        assert out.getvalue() == ""


@pytest.mark.parametrize("seed", [True, False])
def test_demo_refuses_a_bool_seed(seed):
    out = io.StringIO()
    with pytest.raises(TypeError, match="'seed' parameter of demo .* Got (True|False)"):
        demo(seed=seed, out=out)
    assert out.getvalue() == ""


def test_warnings_print_as_one_line_naming_the_command(capsys):
    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # shown, where the suite makes errors
        assert main(["demo", "--dataset", "wine", "--m", "8"]) == 0
        assert warnings.showwarning is before
    err = capsys.readouterr().err.splitlines()
    # m=8 merges wine's clusters: one warning, without a source line.
    assert len(err) == 1, err
    assert err[0].startswith(
        "fuzzyprune demo: warning: FuzzyCMeans with m=8 found a degenerate partition"
    )


@given(
    m=st.floats(min_value=1, exclude_min=True, allow_infinity=False),
    spelling=st.sampled_from([repr, "{:.17e}".format, "{:+.17E}".format]),
)
def test_fuzzifier_reads_every_ascii_spelling_of_a_number(m, spelling):
    # Refusing other scripts' digits must not refuse an ASCII number.
    assert _fuzzifier(spelling(m)) == float(spelling(m))


def test_fuzzifier_reads_ascii_numbers_as_float_does():
    spellings = ["2", "2.", ".5e1", "+2", "2E0", "1e1", "auto"]
    assert [_fuzzifier(text) for text in spellings] == [2, 2, 5, 2, 2, 10, "auto"]


def _vehicle_x_folder(root, n_samples=40):
    vx = make_vehicle_x(n_samples, n_vehicles=5, n_features=4, random_state=0)
    write_vehicle_x(root, vx)
    return root


def _only_train(root):
    _vehicle_x_folder(root)
    for split in ("val", "test"):
        for file in (root / split).iterdir():
            file.unlink()
        (root / split).rmdir()
    return root


def _malformed_name(root):
    _vehicle_x_folder(root)
    np.save(root / "train" / "not_a_vehicle.npy", np.zeros(4))
    return root


def _no_label_file(root):
    _vehicle_x_folder(root)
    for file in root.glob("*.xml"):
        file.unlink()
    return root


def _few_training(root):
    vx = make_vehicle_x(40, n_vehicles=5, n_features=4, random_state=0)
    vx.split = np.repeat(["train", "val", "test"], [10, 25, 5])
    write_vehicle_x(root, vx)
    return root


def _a_file(path):
    path.write_text("not a folder")
    return path


def _dangling_link(path):
    path.symlink_to(path.parent / "nowhere")
    return path


def _link_loop(path):
    path.symlink_to(path)
    return path


# Each case: arguments ({x} is a path made by PATHS["x"]), then a fragment of
# the error line.
BAD_ARGUMENTS = [
    ("demo --m nan", "argument --m: must be a finite number greater than 1"),
    ("demo --m inf", "argument --m: must be a finite number"),
    ("demo --m -inf", "argument --m"),
    ("demo --m 1", "argument --m: must be a finite number greater than 1"),
    ("demo --m 0.5", "argument --m"),
    ("demo --m 2 fast", "got 'fast'"),
    ("demo --m", "argument --m: expected at least one argument"),
    # float() reads these as 2.0, 2.0 and 20.0; the command takes ASCII only.
    ("demo --m \u0662", "argument --m: must be a finite number greater than 1"),
    ("demo --m \uff12", "argument --m: must be a finite number greater than 1"),
    ("demo --m 2_0", "argument --m: must be a finite number greater than 1"),
    ("demo --m ' 2'", "argument --m: must be a finite number greater than 1"),
    ("demo --seed -1", "argument --seed: must be an integer from 0 to 4294967295"),
    ("demo --seed 4294967296", "argument --seed: must be an integer from 0"),
    ("demo --seed 1.5", "argument --seed"),
    # int() reads these; the command takes ASCII digits only.
    ("demo --seed ' 7'", "argument --seed: must be an integer from 0"),
    ("demo --seed +7", "argument --seed: must be an integer from 0"),
    ("demo --seed 1_0", "argument --seed: must be an integer from 0"),
    ("demo --seed \u0661", "argument --seed: must be an integer from 0"),
    ("reproduce --n-samples \uff12\uff10 --out {out}", "argument --n-samples"),
    ("demo --dataset moons", "argument --dataset: invalid choice: 'moons'"),
    ("reproduce --seed -1 --out {out}", "argument --seed"),
    ("reproduce --seed 4294967296 --out {out}", "argument --seed"),
    (
        "reproduce --n-samples 12 --out {out}",
        "--n-samples: must be an integer from 13 to",
    ),
    ("reproduce --n-samples ten --out {out}", "argument --n-samples"),
    (
        "reproduce --n-samples 99999999999999999999999 --out {out}",
        f"--n-samples: must be an integer from 13 to {np.iinfo(np.intp).max}",
    ),
    ("reproduce --quick --full --out {out}", "not allowed with argument --quick"),
    ("reproduce --out {file}", "argument --out: cannot write results to"),
    ("reproduce --out {file}/results", "is a file, not a folder"),
    ("reproduce --out ''", "argument --out: cannot write results to '': the path"),
    ("reproduce --out {dangling}", "dangling' is a symbolic link to '"),
    ("reproduce --out {dangling}/results", "dangling' is a symbolic link to '"),
    ("reproduce --out {loop}/results", "Too many levels of symbolic links"),
    ("reproduce --data '' --out {out}", "argument --data: must be a Vehicle-X folder"),
    ("reproduce --data {missing} --out {out}", "argument --data: Vehicle-X folder"),
    ("reproduce --data {file} --out {out}", "argument --data: Vehicle-X folder"),
    ("reproduce --data {only_train} --out {out}", "0 'val', 0 'test' samples"),
    ("reproduce --data {malformed} --out {out}", "not_a_vehicle.npy"),
    ("reproduce --data {no_labels} --out {out}", "argument --data: No label file"),
    ("reproduce --data {few_training} --out {out}", "10 'train', 25 'val', 5 'test'"),
]
PATHS = {
    "file": _a_file,
    "dangling": _dangling_link,
    "loop": _link_loop,
    "missing": lambda path: path,
    "only_train": _only_train,
    "malformed": _malformed_name,
    "no_labels": _no_label_file,
    "few_training": _few_training,
}


@pytest.mark.parametrize("arguments, message", BAD_ARGUMENTS)
def test_usage_errors_exit_2_with_one_line_and_write_nothing(
    tmp_path, capsys, arguments, message
):
    paths = {
        name: make(tmp_path / name)
        for name, make in PATHS.items()
        if f"{{{name}}}" in arguments
    }
    out = tmp_path / "out"
    argv = shlex.split(arguments.format(out=out, **paths))
    hook = warnings.showwarning
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert warnings.showwarning is hook
    err = capsys.readouterr().err
    prefix = f"fuzzyprune {argv[0]}: error: "
    error_lines = [line for line in err.splitlines() if line.startswith(prefix)]
    assert len(error_lines) == 1, err
    assert err.splitlines()[-1] == error_lines[0]  # after argparse's usage
    assert message in error_lines[0]
    assert "Traceback" not in err
    assert not out.exists()
    assert not (tmp_path / "nowhere").exists()  # nor made through a link


def test_unwritable_output_folder_is_a_usage_error(tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    access = os.access
    # Checked this way rather than with permissions, which root ignores.
    monkeypatch.setattr(
        os, "access", lambda path, mode: path != locked and access(path, mode)
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--out", str(locked / "results")])
    assert exit_info.value.code == 2
    assert f"'{locked}' is not writable" in capsys.readouterr().err.splitlines()[-1]
    assert not (locked / "results").exists()


def test_import_does_not_load_torch():
    code = "import sys, fuzzyprune, fuzzyprune.metrics; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert result.stdout.strip() == "False", result.stderr
