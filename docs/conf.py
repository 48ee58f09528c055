"""Sphinx configuration of the fuzzyprune documentation."""

import os

import fuzzyprune

project = "fuzzyprune"
author = "The fuzzyprune developers"
copyright = "The fuzzyprune developers"
version = release = fuzzyprune.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "sg_execution_times.rst"]
templates_path = ["_templates"]

autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
myst_heading_anchors = 3
suppress_warnings = ["config.cache"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "download_all_examples": False,
    "show_memory": False,
    "write_computation_times": False,
    # The examples run with the library's own threads; keep them quiet.
    "capture_repr": ("_repr_html_", "__repr__"),
}

html_theme = "pydata_sphinx_theme"
html_title = f"fuzzyprune {release}"
html_theme_options = {"navigation_with_keys": False}

os.environ.setdefault("MPLBACKEND", "Agg")
default_role = "literal"
