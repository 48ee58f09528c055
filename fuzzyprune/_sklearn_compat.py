"""scikit-learn's private APIs, and changed public ones, for each supported version.

fuzzyprune builds on parts of scikit-learn that are not public: parameter
validation, the ``fit`` context, metadata-routing internals, the scorer base
class and the array API helpers. Every other module imports them from here,
and the public functions whose signature changed, so that a change between
the oldest supported scikit-learn (1.7) and the newest is met once, by a
definition gated on ``sklearn_version`` that names the versions it bridges.
Names keep scikit-learn's spelling, and each behaves as in the newest
version.
"""

import inspect

import sklearn
from sklearn.base import _fit_context
from sklearn.externals.array_api_compat import array_namespace, is_array_api_obj
from sklearn.externals.array_api_compat import device as array_device
from sklearn.metrics import _scorer
from sklearn.utils import validation
from sklearn.utils._array_api import device, get_namespace
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils._set_output import _wrap_data_with_container
from sklearn.utils.fixes import parse_version
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _num_samples,
)

# The release, without a pre-release or development suffix: a development
# build has the API of the release it leads to.
sklearn_version = parse_version(parse_version(sklearn.__version__).base_version)

if sklearn_version >= parse_version("1.8"):
    from sklearn.utils.validation import column_or_1d
else:

    def column_or_1d(y, *, dtype=None, input_name="y", warn=False, device=None):
        """Ravel a column or 1-D array, naming it ``input_name`` in errors.

        scikit-learn 1.8 added ``input_name``; before it, a check of the
        array by that name comes first.
        """
        y = validation.check_array(
            y,
            ensure_2d=False,
            dtype=dtype,
            input_name=input_name,
            ensure_all_finite=False,
            ensure_min_samples=0,
        )
        return validation.column_or_1d(y, dtype=dtype, warn=warn, device=device)


if sklearn_version >= parse_version("1.9"):
    from sklearn.metrics._scorer import _BaseScorer
    from sklearn.utils import get_tags
    from sklearn.utils.validation import _check_sample_weight
else:

    def _check_sample_weight(
        sample_weight,
        X,
        *,
        dtype=None,
        ensure_non_negative=False,
        copy=False,
        allow_all_zero_weights=False,
    ):
        """Validate sample weights, refusing all-zero ones unless allowed.

        scikit-learn 1.9 refuses weights that are all zero by default; 1.7
        and 1.8 take them.
        """
        sample_weight = validation._check_sample_weight(
            sample_weight,
            X,
            dtype=dtype,
            ensure_non_negative=ensure_non_negative,
            copy=copy,
        )
        xp, _ = get_namespace(sample_weight)
        if not allow_all_zero_weights and bool(xp.all(sample_weight == 0)):
            raise ValueError(
                "Sample weights must contain at least one non-zero number."
            )
        return sample_weight

    # Parameters of a score function that are not metadata, besides its first.
    _NOT_METADATA = {
        "X",
        "y",
        "Y",
        "Xt",
        "yt",
        "y_true",
        "y_pred",
        "y_prob",
        "y_proba",
        "y_score",
        "y2",
        "pred_decision",
        "labels_true",
        "labels_pred",
    }

    class _BaseScorer(_scorer._BaseScorer):
        """scikit-learn's scorer base, routing the metadata its function takes.

        From scikit-learn 1.9, a scorer's routing lists the metadata its
        score function takes as not yet requested (``None``), so that
        metadata passed without a request is refused; 1.7 and 1.8 list
        none, and drop such metadata.
        """

        def _get_metadata_request(self):
            requests = super()._get_metadata_request()
            if hasattr(self, "_metadata_request"):
                return requests
            parameters = list(inspect.signature(self._score_func).parameters.values())
            for parameter in parameters[1:]:
                if parameter.name not in _NOT_METADATA and parameter.kind not in (
                    parameter.VAR_POSITIONAL,
                    parameter.VAR_KEYWORD,
                ):
                    requests.score.add_request(param=parameter.name, alias=None)
            return requests

    def get_tags(estimator):
        """Return the tags of an estimator instance; refuse a class.

        scikit-learn 1.9 refuses a class by name; 1.7 and 1.8 fail calling
        its unbound ``__sklearn_tags__``.
        """
        if isinstance(estimator, type):
            raise TypeError(
                f"Expected an estimator instance ({estimator.__name__}()), got "
                f"estimator class instead ({estimator.__name__})."
            )
        return sklearn.utils.get_tags(estimator)


__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "RealNotInt",
    "StrOptions",
    "_BaseScorer",
    "_check_feature_names",
    "_check_n_features",
    "_check_sample_weight",
    "_fit_context",
    "_num_samples",
    "_raise_for_params",
    "_routing_enabled",
    "_wrap_data_with_container",
    "array_device",
    "array_namespace",
    "column_or_1d",
    "device",
    "get_namespace",
    "get_tags",
    "is_array_api_obj",
    "sklearn_version",
    "validate_parameter_constraints",
    "validate_params",
]
