"""Test configuration shared by the docstring examples and the test suite."""

import os

import pytest

# scikit-learn's array API dispatch needs SciPy's array API support, which is
# read when SciPy is first imported: before any test module imports it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


def _array_api_dispatch_refusal():
    """Return scikit-learn's refusal of array API dispatch here, or None.

    scikit-learn refuses it with an ImportError where SciPy is too old for
    it (before 1.14), as in the job that tests the oldest dependencies.
    """
    import sklearn

    try:
        with sklearn.config_context(array_api_dispatch=True):
            return None
    except ImportError as error:
        return str(error)


def _skip_where_array_api_dispatch_is_refused():
    try:
        return (yield)
    except ImportError as error:
        if str(error) == _array_api_dispatch_refusal():
            pytest.skip(f"no array API dispatch: {error}")
        raise


# Tests that turn array API dispatch on, in a fixture or in the test, are
# skipped where scikit-learn refuses it; any other failure stands.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """Skip a test whose fixtures scikit-learn refuses array API dispatch."""
    return (yield from _skip_where_array_api_dispatch_is_refused())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Skip a test that scikit-learn refuses array API dispatch."""
    return (yield from _skip_where_array_api_dispatch_is_refused())
