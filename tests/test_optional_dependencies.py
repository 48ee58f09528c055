"""Without torch and skorch (the "nn" extra): what works, and what says how to get them.

The checks run in one fresh process in which torch and skorch cannot be
imported, which reports what it saw as JSON.
"""

import contextlib
import io
import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fuzzyprune

INSTALL = 'pip install "fuzzyprune[nn]"'
MISSING = "No module named 'torch'"
NETWORK_NAMES = ["PrunedMLPClassifier", "PruningCallback", "compact_module"]
NETWORK_STATEMENTS = [
    "import fuzzyprune; fuzzyprune.PrunedMLPClassifier",
    "import fuzzyprune; fuzzyprune.compact_module",
    "from fuzzyprune import PruningCallback",
    # Raises too: an AttributeError would lose the command under `from`.
    "import fuzzyprune; hasattr(fuzzyprune, 'PrunedMLPClassifier')",
    "from fuzzyprune.reproduce import reproduce; reproduce(OUT, progress=False)",
]

# First on the meta path, this finder makes torch, skorch and their submodules
# fail to import as if they were not installed, and records every attempt to
# import them (looking whether they are installed, by find_spec, is none).
WITHOUT_NN = """
import importlib.util
import sys
from importlib.abc import MetaPathFinder


class NotInstalled(MetaPathFinder):
    attempts = []

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in ("torch", "skorch"):
            return None
        frame = sys._getframe()
        while frame and frame.f_code is not importlib.util.find_spec.__code__:
            frame = frame.f_back
        if frame is None:
            self.attempts.append(name)
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NotInstalled())
"""


def clustering_workload():
    """Fit and score what needs no torch; return the results as JSON types."""
    from fuzzyprune import FuzzyCMeans, GAFeatureSelector
    from fuzzyprune.datasets import make_vehicle_x
    from fuzzyprune.metrics import partition_coefficient

    # Two groups three units apart on the first two features; a third is noise.
    X = np.array(
        [[0, 0, 5], [0, 1, 1], [1, 0, 3], [3, 3, 2], [3, 4, 4], [4, 3, 0]], float
    )
    fcm = FuzzyCMeans(2, random_state=0).fit(X)
    selector = GAFeatureSelector(
        FuzzyCMeans(2, random_state=0),
        population_size=4,
        n_generations=2,
        min_features=2,
        random_state=0,
    ).fit(X)
    data = make_vehicle_x(20, n_vehicles=4, n_types=2, n_features=3, random_state=0)
    return {
        "labels": fcm.labels_.tolist(),
        "memberships": fcm.memberships_.tolist(),
        "partition_coefficient": partition_coefficient(fcm.memberships_),
        "support": selector.get_support().tolist(),
        "vehicle_x": data.data.tolist(),
    }


def failure_of(statement, namespace):
    """Run ``statement`` in ``namespace``; return what it raised, or None."""
    try:
        exec(statement, namespace)
    except Exception as error:
        return {
            "is_import_error": isinstance(error, ImportError),
            "message": str(error),
            "cause": repr(error.__cause__),
        }
    return None


def run_command(*args):
    """Run ``python -m fuzzyprune`` here; return its status, stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    argv, sys.argv = sys.argv, ["fuzzyprune", *args]
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            runpy.run_module("fuzzyprune", run_name="__main__")
    except SystemExit as stop:
        status = stop.code
    except Exception as error:  # which would end the command with a traceback
        status = repr(error)
    finally:
        sys.argv = argv
    return [status, stdout.getvalue(), stderr.getvalue()]


def report(folder):
    """What a process without torch and skorch sees, as JSON types."""
    results = {"workload": clustering_workload()}
    import fuzzyprune.cli  # noqa: F401
    import fuzzyprune.reproduce  # noqa: F401

    results["attempts"] = list(sys.meta_path[0].attempts)
    function_out, command_out = Path(folder, "function"), Path(folder, "command")
    results["failures"] = {
        statement: failure_of(statement, {"OUT": str(function_out)})
        for statement in NETWORK_STATEMENTS
    }
    namespace = {}
    results["star_import"] = failure_of("from fuzzyprune import *", namespace) or (
        sorted(set(namespace) - {"__builtins__"})
    )
    results["dir"] = dir(fuzzyprune)
    results["trusted_types"] = fuzzyprune.SKOPS_TRUSTED_TYPES
    results["help"] = run_command("--help")
    results["reproduce"] = run_command(
        "reproduce", "--quick", "--out", str(command_out)
    )
    results["written"] = {
        "function": function_out.exists(),
        "command": command_out.exists(),
    }
    return results


@pytest.fixture(scope="module")
def without_nn(tmp_path_factory):
    code = WITHOUT_NN + (
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import json, test_optional_dependencies\n"
        "print(json.dumps(test_optional_dependencies.report(sys.argv[1])))\n"
    )
    folder = tmp_path_factory.mktemp("out")
    result = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_clustering_works_without_torch_as_with_it(without_nn):
    workload = without_nn["workload"]
    # The groups the data were made of.
    assert workload["labels"] in ([0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0])
    with_torch = clustering_workload()
    for name in ["labels", "support"]:
        assert workload[name] == with_torch[name]
    for name in ["memberships", "partition_coefficient", "vehicle_x"]:
        np.testing.assert_allclose(workload[name], with_torch[name], rtol=1e-12)
    # Nothing tried to import torch or skorch on the way, from the package's
    # import on.
    assert without_nn["attempts"] == []


@pytest.mark.parametrize("statement", NETWORK_STATEMENTS)
def test_networks_say_how_to_install_torch(without_nn, statement):
    failure = without_nn["failures"][statement]
    assert failure is not None, f"{statement} raised nothing"
    assert failure["is_import_error"]
    assert INSTALL in failure["message"] and MISSING in failure["message"]
    assert failure["cause"] == f'ModuleNotFoundError("{MISSING}")'


def test_reproduce_function_stops_before_writing(without_nn):
    assert not without_nn["written"]["function"]


def test_listed_names_are_those_that_work(without_nn):
    listed = ["FuzzyCMeans", "GAFeatureSelector", "SKOPS_TRUSTED_TYPES", "__version__"]
    assert without_nn["star_import"] == sorted(listed)
    assert without_nn["dir"] == sorted(listed)
    assert without_nn["trusted_types"] == list(fuzzyprune.SKOPS_TRUSTED_TYPES)
    # With torch and skorch, as here, the networks are listed too.
    assert dir(fuzzyprune) == sorted(listed + NETWORK_NAMES)


def test_command_help_needs_no_torch(without_nn):
    status, stdout, _ = without_nn["help"]
    assert status == 0
    assert "reproduce" in stdout


def test_command_reproduce_says_how_to_install_torch(without_nn):
    status, stdout, stderr = without_nn["reproduce"]
    assert status == 1
    assert stdout == ""
    (line,) = stderr.splitlines()
    assert line.startswith("fuzzyprune reproduce: error: ")
    assert INSTALL in line and MISSING in line
    assert not without_nn["written"]["command"]


def test_other_missing_modules_keep_their_error():
    with pytest.raises(ModuleNotFoundError) as info:
        fuzzyprune._import_nn("._no_such_module", "This")
    assert info.value.name == "fuzzyprune._no_such_module"
    assert info.value.__cause__ is None
