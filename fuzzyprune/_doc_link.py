"""Links from an estimator's HTML representation to its page of the API reference."""

# Where the documentation is published. Read the Docs serves each version of
# it at /<language>/<version>/.
DOCUMENTATION_URL = "https://fuzzyprune.readthedocs.io"
# The folder of the API reference's class pages: the ``:toctree:`` of the
# estimators in docs/api.rst.
API_PAGES = "gen_modules"


def documentation_version(version):
    """Return the version of the documentation that describes a release.

    Read the Docs builds each release tag, named as the version, under that
    name, and the development branch as ``latest``. A development version
    (``.dev`` in PEP 440) has no tag yet and is ahead of every release, so
    ``latest`` is its documentation.

    Parameters
    ----------
    version : str
        A version of the package, as ``fuzzyprune.__version__``.

    Returns
    -------
    version : str
        ``"latest"`` for a development version, else ``version``.

    Examples
    --------
    >>> documentation_version("0.2.0.dev0"), documentation_version("0.2.0")
    ('latest', '0.2.0')
    """
    return "latest" if ".dev" in version else version


class DocumentationLinkMixin:
    """Link an estimator's HTML representation to its page of the API reference.

    scikit-learn's HTML representation of an estimator, as a notebook shows
    it, has a "?" linking to ``_get_doc_link()``: for a class of the package
    named by ``_doc_link_module``, the ``_doc_link_template`` filled with the
    class's public module (the path up to its first private part,
    ``fuzzyprune``) and its name. Placed before scikit-learn's base classes,
    whose attributes point to scikit-learn's site.
    """

    _doc_link_module = "fuzzyprune"

    @property
    def _doc_link_template(self):
        # Imported here: the package defines its version after importing the
        # modules that define the estimators.
        from . import __version__

        return (
            f"{DOCUMENTATION_URL}/en/{documentation_version(__version__)}/"
            f"{API_PAGES}/{{estimator_module}}.{{estimator_name}}.html"
        )
