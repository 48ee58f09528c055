"""The API reference lists the public API, and estimators link to their pages."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import fuzzyprune

API_RST = Path(__file__).parents[1] / "docs" / "api.rst"
PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"
# The host the estimators' links point to, as [project.urls] gives it.
DOCUMENTATION_URL = "https://fuzzyprune.readthedocs.io"


def documented(text):
    """Read what an API reference in reStructuredText documents.

    Returns
    -------
    names : set of str
        Full names of the autosummary entries and ``data`` directives.
    pages : dict
        The page each autosummary entry generates, ``folder/full.name.html``
        for an entry under ``:toctree: folder``, by full name.
    """
    names, pages = set(), {}
    module = folder = None
    in_autosummary = False
    for line in text.splitlines():
        if match := re.fullmatch(r"\.\. currentmodule:: (\S+)", line):
            module = match[1]
        elif match := re.fullmatch(r"\.\. data:: (\S+)", line):
            names.add(f"{module}.{match[1]}")
        elif line == ".. autosummary::":
            in_autosummary, folder = True, None
        elif in_autosummary and line and not line.startswith(" "):
            in_autosummary = False
        elif in_autosummary and (match := re.fullmatch(r"\s+:toctree: (\S+)", line)):
            folder = match[1]
        elif in_autosummary and (match := re.fullmatch(r"\s+(\w+)", line)):
            name = f"{module}.{match[1]}"
            names.add(name)
            if folder is not None:
                pages[name] = f"{folder}/{name}.html"
    return names, pages


def public_names(module):
    """The module's ``__all__``, or its own public functions and classes."""
    if hasattr(module, "__all__"):
        return [name for name in module.__all__ if not name.startswith("_")]
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    ]


PUBLIC_MODULES = ["fuzzyprune"] + [
    f"fuzzyprune.{info.name}"
    for info in pkgutil.iter_modules(fuzzyprune.__path__)
    if not info.name.startswith("_")
]


def test_documented_reads_entries_data_and_pages():
    text = """\
.. currentmodule:: pkg

.. autosummary::
   :toctree: generated
   :template: class.rst

   Estimator

.. data:: CONSTANT

.. currentmodule:: pkg.sub

.. autosummary::

   function
"""
    names, pages = documented(text)
    assert names == {"pkg.Estimator", "pkg.CONSTANT", "pkg.sub.function"}
    assert pages == {"pkg.Estimator": "generated/pkg.Estimator.html"}


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_api_reference_lists_every_public_name(module_name):
    names, _ = documented(API_RST.read_text(encoding="utf-8"))
    module = importlib.import_module(module_name)
    expected = {f"{module_name}.{name}" for name in public_names(module)}
    assert expected, f"{module_name} exposes nothing"
    assert sorted(expected - names) == []


@pytest.fixture
def estimators():
    pytest.importorskip("skorch")
    from fuzzyprune import FuzzyCMeans, GAFeatureSelector, PrunedMLPClassifier

    return [FuzzyCMeans(2), GAFeatureSelector(FuzzyCMeans(2)), PrunedMLPClassifier()]


@pytest.mark.parametrize(
    "version, path", [("0.1.0.dev0", "latest"), ("1.2.0", "1.2.0")]
)
def test_estimators_link_to_their_api_pages(estimators, monkeypatch, version, path):
    _, pages = documented(API_RST.read_text(encoding="utf-8"))
    monkeypatch.setattr(fuzzyprune, "__version__", version)
    for estimator in estimators:
        page = pages[f"fuzzyprune.{type(estimator).__name__}"]
        link = estimator._get_doc_link()
        assert link == f"{DOCUMENTATION_URL}/en/{path}/{page}"
        assert f'href="{link}"' in estimator._repr_html_()


def test_documentation_url_is_the_projects():
    tomllib = pytest.importorskip("tomllib")
    with PYPROJECT.open("rb") as file:
        urls = tomllib.load(file)["project"]["urls"]
    assert urls["Documentation"] == DOCUMENTATION_URL
