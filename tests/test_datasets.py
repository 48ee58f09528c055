import numpy as np
import pytest
from numpy.testing import assert_array_equal

from fuzzyprune.datasets import VEHICLE_TYPE_NAMES, make_vehicle_x


@pytest.fixture(scope="module")
def vehicle_x():
    return make_vehicle_x(4000, n_vehicles=120, n_features=32, random_state=0)


def test_shapes_and_ranges(vehicle_x):
    assert vehicle_x.data.shape == (4000, 32) and vehicle_x.data.dtype == np.float32
    assert vehicle_x.data.min() >= 0 and vehicle_x.data.max() <= 1
    assert vehicle_x.vehicle_id.min() >= 1 and vehicle_x.vehicle_id.max() <= 120
    assert set(np.unique(vehicle_x.type)) == set(range(11))
    assert vehicle_x.type_names == list(VEHICLE_TYPE_NAMES)
    assert len(vehicle_x.feature_names) == 32


def test_vehicles_nest_in_types(vehicle_x):
    for vehicle in np.unique(vehicle_x.vehicle_id):
        assert np.unique(vehicle_x.type[vehicle_x.vehicle_id == vehicle]).size == 1


def test_vehicle_one_and_sedans_are_most_frequent(vehicle_x):
    vehicle_counts = np.bincount(vehicle_x.vehicle_id)
    assert vehicle_counts.argmax() == 1
    assert vehicle_counts[1] > 2 * np.median(vehicle_counts[1:])
    type_counts = np.bincount(vehicle_x.type)
    assert type_counts.argmax() == 0 and type_counts[0] > 2 * np.median(type_counts)


def test_types_are_closer_within_than_between(vehicle_x):
    X, types = vehicle_x.data.astype(np.float64), vehicle_x.type
    means = np.array([X[types == t].mean(axis=0) for t in range(11)])
    within = np.mean(
        [((X[types == t] - means[t]) ** 2).sum(axis=1).mean() for t in range(11)]
    )
    between = (
        ((means[:, None] - means[None]) ** 2).sum(axis=2)[np.triu_indices(11, 1)].mean()
    )
    assert between > 0.5 * within


def test_reproducible():
    first = make_vehicle_x(50, n_vehicles=5, n_types=3, n_features=4, random_state=3)
    again = make_vehicle_x(50, n_vehicles=5, n_types=3, n_features=4, random_state=3)
    assert_array_equal(first.data, again.data)
    assert_array_equal(first.vehicle_id, again.vehicle_id)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_samples": 0}, "'n_samples' parameter"),
        ({"n_types": 12}, "'n_types' parameter"),
        ({"n_vehicles": 0}, "'n_vehicles' parameter"),
        ({"n_features": 0}, "'n_features' parameter"),
    ],
)
def test_bad_parameters_raise(params, match):
    with pytest.raises(ValueError, match=match):
        make_vehicle_x(**{"n_samples": 10, **params})
