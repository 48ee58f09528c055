"""Sphinx configuration of the fuzzyprune documentation."""

import os
import re

from docutils import nodes
from docutils.utils import get_source_line

import fuzzyprune

project = "fuzzyprune"
author = "The fuzzyprune developers"
copyright = "The fuzzyprune developers"
version = release = fuzzyprune.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax from the build's own _static folder instead of a CDN, so that
    # formulas render without a network.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "sg_execution_times.rst"]
templates_path = ["_templates"]

autosummary_generate = True
# The members of each class come from the class template
# (_templates/class.rst): a boolean here would override its options, since
# autodoc lets a non-string default replace the option a directive sets.
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
# Docstrings quote values as code ("auto"); typographic quotes would turn
# them the wrong way round in parameter types.
smartquotes = False

# A label sphinx-gallery gives an example of scikit-learn's gallery.
_SKLEARN_EXAMPLE = re.compile(r"sphx_glr_auto_examples_(\w+?)_(plot_\w+)\.py")


def _sklearn_references(app, env, node, contnode):
    """Resolve the references of scikit-learn's docstrings to its own pages.

    The methods the estimators inherit from scikit-learn (``set_output``,
    ``score``, ``get_metadata_routing``) keep its docstrings, whose ``:ref:``
    labels and ``:term:`` glossary entries name pages of scikit-learn's
    documentation, not of this one: a glossary term becomes a link to its
    entry in scikit-learn's glossary, an example of its gallery a link to
    that example on its site, any other label the text of the reference.
    """
    source, _ = get_source_line(node)
    if node["reftype"] not in ("ref", "term") or "docstring of sklearn." not in (
        source or ""
    ):
        return None
    if node["reftype"] == "term":
        anchor = re.sub(r"\W+", "-", node["reftarget"].lower())
        return nodes.reference(
            "",
            "",
            contnode,
            refuri=f"https://scikit-learn.org/stable/glossary.html#term-{anchor}",
            internal=False,
        )
    example = _SKLEARN_EXAMPLE.fullmatch(node["reftarget"])
    if example is None:
        return contnode
    folder, name = example.groups()
    return nodes.reference(
        "",
        f"{name}.py",
        refuri=f"https://scikit-learn.org/stable/auto_examples/{folder}/{name}.html",
        internal=False,
    )


def setup(app):
    """Connect the handlers above."""
    app.connect("missing-reference", _sklearn_references)
