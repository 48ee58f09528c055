"""Test configuration shared by the docstring examples and the test suite."""

import os

# scikit-learn's array API dispatch needs SciPy's array API support, which is
# read when SciPy is first imported: before any test module imports it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
