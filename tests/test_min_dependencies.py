"""The oldest supported dependencies: the floors and the job that tests them.

``.ci/oldest_dependencies`` installs every runtime and ``nn`` dependency at
exactly its floor in pyproject.toml and runs the fast tests there; these
tests hold the floors and that job together.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "oldest_dependencies"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
RUNTIME = [Requirement(text) for text in PROJECT["dependencies"] + EXTRAS["nn"]]


def _floor(requirement):
    floors = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return floors[0] if floors else None


def _pins(pyproject):
    """Return the script's pins for ``pyproject`` as {name: version}."""
    result = subprocess.run(
        ["bash", str(SCRIPT), "--constraints", str(pyproject)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHON": sys.executable},
    )
    pins = dict(line.split("==") for line in result.stdout.split())
    return {canonicalize_name(name): version for name, version in pins.items()}


def _readme_torch_version():
    """Return the torch version the README's Quick start installs first."""
    readme = (ROOT / "README.md").read_text()
    return re.search(r"^pip install torch==(\S+) ", readme, re.MULTILINE).group(1)


def _names(requirements, extras):
    """Return the names that ``requirements`` install, self-references expanded."""
    names = set()
    for text in requirements:
        requirement = Requirement(text)
        if requirement.name == PROJECT["name"]:
            for extra in requirement.extras:
                names |= _names(extras[extra], extras)
        else:
            names.add(canonicalize_name(requirement.name))
    return names


def test_every_runtime_dependency_has_a_floor():
    assert RUNTIME, "no runtime dependencies read"
    assert [str(r) for r in RUNTIME if _floor(r) is None] == []


def test_the_job_pins_the_floors_and_the_readmes_torch():
    expected = {canonicalize_name(r.name): _floor(r) for r in RUNTIME}
    # Other torch versions may resolve to multi-GB builds: the job keeps the
    # CPU build the README installs, which must meet the floor.
    expected["torch"] = _readme_torch_version()
    assert _pins(ROOT / "pyproject.toml") == expected
    torch = next(r for r in RUNTIME if r.name == "torch")
    assert expected["torch"] in torch.specifier


def test_the_job_refuses_a_runtime_dependency_without_a_floor(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = ["numpy>=1.24", "scipy"]\n'
        '[project.optional-dependencies]\nnn = ["skorch<2"]\n'
    )
    with pytest.raises(subprocess.CalledProcessError) as failure:
        _pins(pyproject)
    assert "without a floor: scipy, skorch<2" in failure.value.stderr


def test_the_test_extra_installs_the_runtime_and_nn_dependencies():
    installed = _names(PROJECT["dependencies"] + EXTRAS["test"], EXTRAS)
    needed = {canonicalize_name(r.name) for r in RUNTIME}
    assert needed <= installed
