"""scikit-learn's private APIs come through fuzzyprune._sklearn_compat only.

Each definition there behaves as in the newest scikit-learn on every
supported version; these tests run against whichever is installed (the
oldest in the job of the oldest dependencies).
"""

import ast
from pathlib import Path

import numpy as np
import pytest
import sklearn
from packaging.version import Version
from sklearn.cluster import KMeans
from sklearn.exceptions import DataConversionWarning

import fuzzyprune
from fuzzyprune import _sklearn_compat
from fuzzyprune._sklearn_compat import (
    _BaseScorer,
    _check_sample_weight,
    column_or_1d,
    get_tags,
)

PACKAGE = Path(fuzzyprune.__file__).parent


def _is_private(dotted):
    """Whether a dotted scikit-learn name has a private part, or is vendored."""
    parts = dotted.split(".")
    return parts[0] == "sklearn" and (
        "externals" in parts or any(part.startswith("_") for part in parts)
    )


def _dotted(node):
    """Return ``a.b.c`` for an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else None


def private_uses(source):
    """Return the private scikit-learn names that ``source`` imports or reads."""
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    # Of a chain a.b.c, only the whole.
    inner = {id(node.value) for node in nodes if isinstance(node, ast.Attribute)}
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Attribute) and id(node) not in inner:
            names = [_dotted(node) or ""]
        else:
            continue
        found += [name for name in names if _is_private(name)]
    return found


@pytest.mark.parametrize(
    "source, expected",
    [
        (
            "from sklearn.utils._param_validation import StrOptions",
            ["sklearn.utils._param_validation.StrOptions"],
        ),
        ("from sklearn.base import clone, _fit_context", ["sklearn.base._fit_context"]),
        ("import sklearn.metrics._scorer as s", ["sklearn.metrics._scorer"]),
        (
            "from sklearn.externals import array_api_compat",
            ["sklearn.externals.array_api_compat"],
        ),
        (
            "def f():\n    from sklearn.utils.validation import _num_samples",
            ["sklearn.utils.validation._num_samples"],
        ),
        (
            "import sklearn\nsklearn.utils._array_api.device(x)",
            ["sklearn.utils._array_api.device"],
        ),
        ("from sklearn.base import clone\nimport sklearn.utils.validation", []),
        ("from ._sklearn_compat import _fit_context", []),
    ],
)
def test_private_uses_are_found(source, expected):
    assert private_uses(source) == expected


def test_only_the_compat_module_uses_private_sklearn_names():
    uses = {
        path.name: private_uses(path.read_text())
        for path in sorted(PACKAGE.glob("*.py"))
        if path.name != "_sklearn_compat.py"
    }
    assert {name: found for name, found in uses.items() if found} == {}


def test_the_compat_module_exports_what_it_lists():
    assert sorted(_sklearn_compat.__all__) == sorted(set(_sklearn_compat.__all__))
    for name in _sklearn_compat.__all__:
        assert getattr(_sklearn_compat, name) is not None
    version = _sklearn_compat.sklearn_version
    assert version.release == Version(sklearn.__version__).release
    assert not version.is_prerelease


def test_column_or_1d_takes_the_name_of_its_input():
    with pytest.warns(DataConversionWarning):
        labels = column_or_1d(np.array([[1.0], [2.0]]), input_name="labels", warn=True)
    np.testing.assert_array_equal(labels, [1.0, 2.0])


def test_all_zero_sample_weights_are_refused_unless_allowed():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="at least one non-zero"):
        _check_sample_weight(np.zeros(3), X)
    weights = _check_sample_weight(np.zeros(3), X, allow_all_zero_weights=True)
    np.testing.assert_array_equal(weights, np.zeros(3))
    weights = _check_sample_weight([0, 2, 1], X, dtype=np.float64)
    np.testing.assert_array_equal(weights, [0.0, 2.0, 1.0])


def test_get_tags_refuses_a_class_by_name():
    assert get_tags(KMeans()).input_tags.sparse
    with pytest.raises(TypeError, match=r"estimator instance \(KMeans\(\)\)"):
        get_tags(KMeans)


def test_scorers_route_the_metadata_their_function_takes():
    def weighted(estimator, X, y, sample_weight=None, *args, **kwargs):
        return 0.0

    scorer = _BaseScorer(weighted, 1, {})
    with sklearn.config_context(enable_metadata_routing=True):
        assert scorer.get_metadata_routing().score.requests == {"sample_weight": None}
        scorer.set_score_request(sample_weight=True)
        assert scorer.get_metadata_routing().score.requests == {"sample_weight": True}
