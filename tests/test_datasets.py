import hashlib

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from fuzzyprune.datasets import (
    VEHICLE_TYPE_NAMES,
    load_vehicle_x,
    make_vehicle_x,
    write_vehicle_x,
)


@pytest.fixture(scope="module")
def vehicle_x():
    return make_vehicle_x(4000, n_vehicles=120, n_features=32, random_state=0)


@pytest.fixture(scope="module")
def separated_vehicle_x():
    return make_vehicle_x(
        4000, n_vehicles=120, n_features=32, random_state=0, structure="separated"
    )


@pytest.fixture(scope="module")
def study_sized_vehicle_x():
    # The study's numbers of vehicles and types; fewer features keep it fast.
    return make_vehicle_x(3000, n_features=512, random_state=0)


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


def test_separated_types_are_closer_within_than_between(separated_vehicle_x):
    X, types = separated_vehicle_x.data.astype(np.float64), separated_vehicle_x.type
    means = np.array([X[types == t].mean(axis=0) for t in range(11)])
    within = np.mean(
        [((X[types == t] - means[t]) ** 2).sum(axis=1).mean() for t in range(11)]
    )
    between = (
        ((means[:, None] - means[None]) ** 2).sum(axis=2)[np.triu_indices(11, 1)].mean()
    )
    assert between > 0.5 * within


def test_separated_types_are_found_by_kmeans():
    vx = make_vehicle_x(2000, n_features=256, random_state=0, structure="separated")
    X, types = vx.data, vx.type
    labels = KMeans(11, n_init=10, random_state=0).fit_predict(X)
    assert adjusted_rand_score(types, labels) > 0.9
    assert silhouette_score(X, types) > 0.2


def test_separated_output_is_unchanged():
    # The benchmarks were measured on this generator: its output must not move.
    vx = make_vehicle_x(5000, n_features=64, random_state=7, structure="separated")
    digest = hashlib.sha256(vx.data.tobytes())
    for key in ("vehicle_id", "camera_id", "type"):
        digest.update(vx[key].astype(np.int64).tobytes())
    digest.update(",".join(vx.split).encode())
    assert (
        digest.hexdigest()
        == "3017f0f816b68a0ff086bc3466a24bfd23f4b3e7d19d9ec2f9b304f91dee1400"
    )


def test_default_types_form_no_clusters(study_sized_vehicle_x):
    # As in the study: silhouettes about 0, and k-means blind to the types.
    X, types = study_sized_vehicle_x.data, study_sized_vehicle_x.type
    assert -0.05 <= silhouette_score(X, types) <= 0.05
    labels = KMeans(11, n_init=1, random_state=0).fit_predict(X)
    assert adjusted_rand_score(types, labels) <= 0.1


def test_default_frequencies_follow_the_study(study_sized_vehicle_x):
    # The study's Fig. 1: one tall bar for vehicle 1, Sedans the most common.
    vehicle_counts = np.bincount(study_sized_vehicle_x.vehicle_id)
    assert vehicle_counts[1] > 3 * vehicle_counts[2:].max()
    type_counts = np.bincount(study_sized_vehicle_x.type)
    assert type_counts[0] > 1.5 * type_counts[1:].max()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The number of unique classes is greater")
@pytest.mark.parametrize("epochs", [10, 4])
def test_default_baseline_lands_in_the_study_regime(epochs):
    # The baseline of `fuzzyprune reproduce --quick` (Table 3); the study's
    # network reached 79-95 % training and 4.1-5.3 % test accuracy.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fuzzyprune import PrunedMLPClassifier

    vx = make_vehicle_x(6000, random_state=0)
    train, test = vx.split == "train", vx.split == "test"
    model = make_pipeline(
        StandardScaler(),
        PrunedMLPClassifier(max_epochs=epochs, random_state=0, amount=0.0),
    ).fit(vx.data[train], vx.vehicle_id[train])
    assert model.score(vx.data[train], vx.vehicle_id[train]) >= 0.6
    assert 0.02 <= model.score(vx.data[test], vx.vehicle_id[test]) <= 0.1


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
        ({"structure": "clustered"}, "'structure' parameter"),
    ],
)
def test_bad_parameters_raise(params, match):
    with pytest.raises(ValueError, match=match):
        make_vehicle_x(**{"n_samples": 10, **params})


# --- the folder layout: write_vehicle_x and load_vehicle_x -------------------


@pytest.fixture
def small_vehicle_x():
    return make_vehicle_x(60, n_vehicles=6, n_features=16, random_state=1)


def sort_by_file(bunch):
    return np.argsort(bunch.file_names)


@pytest.mark.parametrize("labels", ["xml", "csv"])
def test_write_then_load_round_trip(tmp_path, small_vehicle_x, labels):
    files = write_vehicle_x(tmp_path, small_vehicle_x, labels=labels)
    loaded = load_vehicle_x(tmp_path)
    # Loading sorts by split then file name; map back to the written order.
    written = [str(file.relative_to(tmp_path)) for file in files]
    order = [list(loaded.file_names).index(name) for name in written]
    assert_array_equal(loaded.data[order], small_vehicle_x.data)
    assert_array_equal(loaded.vehicle_id[order], small_vehicle_x.vehicle_id)
    assert_array_equal(loaded.camera_id[order], small_vehicle_x.camera_id)
    assert_array_equal(loaded.type[order], small_vehicle_x.type)
    assert_array_equal(loaded.split[order], small_vehicle_x.split)
    assert loaded.data.dtype == np.float32
    assert loaded.type_names == list(VEHICLE_TYPE_NAMES)


def test_file_names_number_images_per_vehicle_and_camera(tmp_path):
    vx = make_vehicle_x(300, n_vehicles=2, n_features=4, random_state=0)
    names = [file.name for file in write_vehicle_x(tmp_path, vx)]
    assert len(set(names)) == len(names)
    pair = (vx.vehicle_id == vx.vehicle_id[0]) & (vx.camera_id == vx.camera_id[0])
    indices = sorted(
        int(name[-6:-4]) for name, on in zip(names, pair, strict=True) if on
    )
    assert indices == list(range(pair.sum()))
    loaded = load_vehicle_x(tmp_path, cache=False)
    assert_array_equal(
        loaded.image_index, [int(name[-6:-4]) for name in loaded.file_names]
    )


def test_split_selection_and_folder_aliases(tmp_path, small_vehicle_x):
    write_vehicle_x(tmp_path, small_vehicle_x)
    (tmp_path / "val").rename(tmp_path / "validation")
    val = load_vehicle_x(tmp_path, split="val", cache=False)
    assert set(val.split) == {"val"}
    assert len(val.data) == (small_vehicle_x.split == "val").sum()
    assert all(name.startswith("validation") for name in val.file_names)


def test_cache_matches_fresh_load_and_is_rebuilt(tmp_path, small_vehicle_x):
    write_vehicle_x(tmp_path, small_vehicle_x)
    before = set(tmp_path.rglob("*"))
    fresh = load_vehicle_x(tmp_path, cache=False)
    assert set(tmp_path.rglob("*")) == before  # nothing written without cache
    cached = load_vehicle_x(tmp_path)
    again = load_vehicle_x(tmp_path)
    assert isinstance(again.data, np.memmap)
    assert_array_equal(cached.data, fresh.data)
    assert_array_equal(again.data, fresh.data)
    added = set(tmp_path.rglob("*")) - before
    assert {path.name for path in added} == {
        "vehicle_x_cache.npy",
        "vehicle_x_cache.json",
    }
    # A changed feature file invalidates the cache.
    first = tmp_path / fresh.file_names[0]
    np.save(first, np.ones(16, dtype=np.float32))
    assert_array_equal(load_vehicle_x(tmp_path).data[0], np.ones(16))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda folder: np.save(folder / "car_7.npy", np.zeros(16)), "car_7.npy"),
        (
            lambda folder: np.save(folder / "00001_c001_99.npy", np.zeros(5)),
            "00001_c001_99.npy",
        ),
        (
            lambda folder: (folder / "00001_c001_98.npy").write_bytes(b"garbage"),
            "00001_c001_98.npy",
        ),
    ],
    ids=["malformed name", "wrong shape", "unreadable"],
)
def test_bad_files_raise_naming_the_file(tmp_path, small_vehicle_x, damage, message):
    write_vehicle_x(tmp_path, small_vehicle_x, labels="csv")
    damage(tmp_path / "train")
    with pytest.raises(ValueError, match=message):
        load_vehicle_x(tmp_path, cache=False)


def test_missing_folders_or_labels_raise(tmp_path, small_vehicle_x):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_vehicle_x(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train/"):
        load_vehicle_x(tmp_path)
    write_vehicle_x(tmp_path, small_vehicle_x)
    (tmp_path / "labels.xml").unlink()
    with pytest.raises(FileNotFoundError, match="label file"):
        load_vehicle_x(tmp_path)


def test_csv_labels_must_cover_every_vehicle(tmp_path, small_vehicle_x):
    write_vehicle_x(tmp_path, small_vehicle_x, labels="csv")
    (tmp_path / "labels.csv").write_text("vehicle_id,type_id\n1,0\n")
    with pytest.raises(ValueError, match="has no type"):
        load_vehicle_x(tmp_path, cache=False)


def test_xml_colours_are_read(tmp_path):
    np.save(tmp_path / "00001_c002_00.npy", np.arange(3, dtype=np.float32))
    (tmp_path / "train").mkdir()
    (tmp_path / "00001_c002_00.npy").rename(tmp_path / "train" / "00001_c002_00.npy")
    (tmp_path / "labels.xml").write_text(
        '<Items><Item imageName="00001_c002_00.jpg" vehicleID="0001" '
        'cameraID="c002" colorID="4" typeID="7"/></Items>'
    )
    vx = load_vehicle_x(tmp_path, cache=False)
    assert (vx.vehicle_id[0], vx.camera_id[0], vx.type[0], vx.color[0]) == (1, 2, 7, 4)


def test_generated_split_follows_vehicle_x_proportions(vehicle_x):
    fractions = {
        name: np.mean(vehicle_x.split == name) for name in ("train", "val", "test")
    }
    assert fractions["train"] == pytest.approx(0.586, abs=0.03)
    assert fractions["val"] == pytest.approx(0.193, abs=0.03)
    assert fractions["test"] == pytest.approx(0.221, abs=0.03)


def test_xml_item_without_type_raises(tmp_path):
    (tmp_path / "train").mkdir()
    np.save(tmp_path / "train" / "00001_c002_00.npy", np.zeros(3, dtype=np.float32))
    (tmp_path / "labels.xml").write_text(
        '<Items><Item imageName="00001_c002_00.jpg" vehicleID="0001"/></Items>'
    )
    with pytest.raises(ValueError, match="labels.xml.*typeID"):
        load_vehicle_x(tmp_path, cache=False)
