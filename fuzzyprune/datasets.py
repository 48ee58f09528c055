"""Synthetic data shaped like the Vehicle-X re-identification features."""

from numbers import Integral

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["VEHICLE_TYPE_NAMES", "make_vehicle_x"]

VEHICLE_TYPE_NAMES = (
    "Sedan",
    "SUV",
    "Van",
    "Hatchback",
    "MPV",
    "Pickup",
    "Bus",
    "Truck",
    "Estate",
    "Sportscar",
    "RV",
)

# Spread of the feature components, on the [0, 1] scale of the features: types
# differ more than vehicles of a type, which differ more than two images of
# one vehicle (camera, light and orientation all end up in the image noise).
_TYPE_SPREAD = 0.12
_VEHICLE_SPREAD = 0.06
_CAMERA_SPREAD = 0.02
_IMAGE_SPREAD = 0.08
_N_CAMERAS = 36
_ROWS_PER_CHUNK = 4096


def _skewed_probabilities(n, exponent):
    """Zipf-like probabilities, largest for the first of ``n`` items."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _vehicle_types(n_vehicles, n_types, rng):
    """Give every vehicle a type, type 0 the most common, no type left empty."""
    types = rng.choice(n_types, size=n_vehicles, p=_skewed_probabilities(n_types, 1.0))
    types[: min(n_types, n_vehicles)] = np.arange(min(n_types, n_vehicles))
    return types


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_vehicles": [Interval(Integral, 1, None, closed="left")],
        "n_types": [Interval(Integral, 1, len(VEHICLE_TYPE_NAMES), closed="both")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_vehicle_x(
    n_samples=77516, *, n_vehicles=1362, n_types=11, n_features=2048, random_state=None
):
    """Generate features with the structure of the Vehicle-X data set.

    Each sample is the feature vector of one image of a vehicle seen by a
    camera. Features are non-negative and in [0, 1] like pooled ResNet
    features; a sample is its type's prototype plus its vehicle's, its
    camera's and its own variation, so vehicle identities nest in types.
    Vehicle 1 and type 0 (Sedan) are the most frequent, as in Vehicle-X.

    Parameters
    ----------
    n_samples : int, default=77516
        Number of images (Vehicle-X has 77,516).

    n_vehicles : int, default=1362
        Number of vehicle identities, numbered from 1.

    n_types : int, default=11
        Number of vehicle types, numbered from 0, at most 11.

    n_features : int, default=2048
        Number of features per image.

    random_state : int, RandomState instance or None, default=None
        Seeds the generator.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields:

        - ``data``: float32 ndarray of shape (n_samples, n_features);
        - ``vehicle_id``: int ndarray of shape (n_samples,), in 1..n_vehicles;
        - ``camera_id``: int ndarray of shape (n_samples,), in 1..36;
        - ``type``: int ndarray of shape (n_samples,), in 0..n_types - 1;
        - ``type_names``: list of the ``n_types`` type names;
        - ``feature_names``: list of ``n_features`` names.

    Examples
    --------
    >>> from fuzzyprune.datasets import make_vehicle_x
    >>> vx = make_vehicle_x(500, n_vehicles=40, n_features=64, random_state=0)
    >>> vx.data.shape, vx.data.dtype
    ((500, 64), dtype('float32'))
    >>> bool(vx.data.min() >= 0 and vx.data.max() <= 1)
    True
    >>> vx.type_names[0]
    'Sedan'
    """
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31))
    vehicle_type = _vehicle_types(n_vehicles, n_types, rng)
    vehicle_index = rng.choice(
        n_vehicles, size=n_samples, p=_skewed_probabilities(n_vehicles, 0.3)
    )
    camera_index = rng.integers(_N_CAMERAS, size=n_samples)

    # Pooled ResNet features: a feature-wise base level, mostly small.
    base = rng.gamma(2.0, 0.08, size=n_features)
    type_prototypes = base + rng.normal(0, _TYPE_SPREAD, (n_types, n_features))
    vehicle_prototypes = type_prototypes[vehicle_type] + rng.normal(
        0, _VEHICLE_SPREAD, (n_vehicles, n_features)
    )
    camera_offsets = rng.normal(0, _CAMERA_SPREAD, (_N_CAMERAS, n_features))
    vehicle_prototypes = vehicle_prototypes.astype(np.float32)
    camera_offsets = camera_offsets.astype(np.float32)

    data = np.empty((n_samples, n_features), dtype=np.float32)
    for start in range(0, n_samples, _ROWS_PER_CHUNK):
        rows = slice(start, start + _ROWS_PER_CHUNK)
        chunk = rng.standard_normal((data[rows].shape[0], n_features), np.float32)
        chunk *= _IMAGE_SPREAD
        chunk += vehicle_prototypes[vehicle_index[rows]]
        chunk += camera_offsets[camera_index[rows]]
        np.clip(chunk, 0.0, 1.0, out=data[rows])

    return Bunch(
        data=data,
        vehicle_id=vehicle_index + 1,
        camera_id=camera_index + 1,
        type=vehicle_type[vehicle_index],
        type_names=list(VEHICLE_TYPE_NAMES[:n_types]),
        feature_names=[f"feature_{i}" for i in range(n_features)],
    )
