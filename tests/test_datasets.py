import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_array_equal
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.utils import Bunch

from fuzzyprune import datasets
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
    labels = KMeans(11, n_init=3, random_state=0).fit_predict(X)
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
        # Beyond an array size: named, not an OverflowError from NumPy.
        ({"n_samples": 10**23}, "'n_samples' parameter"),
        ({"n_vehicles": 10**23}, "'n_vehicles' parameter"),
        ({"n_features": 10**23}, "'n_features' parameter"),
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


@st.composite
def vehicle_x_bunches(draw):
    n_samples = draw(st.integers(1, 30))
    n_features = draw(st.integers(1, 5))
    labels = draw(st.sampled_from(["xml", "csv"]))

    def column(low, high):
        return draw(arrays(np.int64, n_samples, elements=st.integers(low, high)))

    vehicle_id = column(0, 20)
    # A CSV label file holds one type per vehicle.
    types = vehicle_id % 11 if labels == "csv" else column(0, 10)
    return labels, Bunch(
        data=draw(
            arrays(
                np.float32,
                (n_samples, n_features),
                elements=st.floats(width=32, allow_nan=False, allow_infinity=False),
            )
        ),
        vehicle_id=vehicle_id,
        camera_id=column(0, 40),
        type=types,
        split=draw(
            arrays("<U5", n_samples, elements=st.sampled_from(["train", "val", "test"]))
        ),
    )


@settings(max_examples=20, deadline=None)
@given(vehicle_x_bunches())
def test_whatever_is_written_loads_back(labelled):
    labels, data = labelled
    with tempfile.TemporaryDirectory() as root:
        files = write_vehicle_x(root, data, labels=labels)
        for cache in (True, True, False):
            loaded = load_vehicle_x(root, cache=cache)
            names = [Path(file).relative_to(root).as_posix() for file in files]
            order = [list(loaded.file_names).index(name) for name in names]
            for field in ("data", "vehicle_id", "camera_id", "type", "split"):
                assert_array_equal(loaded[field][order], data[field])


# --- the cache: never stale, never pulled from under a caller ----------------


@pytest.fixture
def layout(tmp_path):
    """A small layout whose feature files all differ, and its root."""
    root = tmp_path / "vx"
    write_vehicle_x(
        root, make_vehicle_x(40, n_vehicles=5, n_features=8, random_state=2)
    )
    return root


@pytest.fixture(params=["recent files", "old files"])
def file_age(request, monkeypatch):
    # Files written just before a build are also checked by content; with
    # "old files" only their times and inode numbers can tell a change.
    if request.param == "old files":
        monkeypatch.setattr(datasets, "_SAME_TICK_NS", -(10**18))
    return request.param


def row_of(bunch, name):
    return bunch.data[list(bunch.file_names).index(name)]


def two_train_files(root):
    first, second = sorted((root / "train").iterdir())[:2]
    assert not np.array_equal(np.load(first), np.load(second))
    return first, second


def test_cache_follows_files_swapped_by_rename(layout, file_age):
    first, second = two_train_files(layout)
    # As unpacked from an archive: same size, same modification time.
    os.utime(second, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns))
    load_vehicle_x(layout)
    expected = np.load(second), np.load(first)
    first.rename(layout / "swap.npy")
    second.rename(first)
    (layout / "swap.npy").rename(second)
    loaded = load_vehicle_x(layout)
    assert_array_equal(row_of(loaded, f"train/{first.name}"), expected[0])
    assert_array_equal(row_of(loaded, f"train/{second.name}"), expected[1])


def test_cache_follows_a_copy_that_keeps_the_old_times(layout, file_age):
    load_vehicle_x(layout)
    first, second = two_train_files(layout)
    old = first.stat()
    # What cp -p, rsync -a and tar do: new bytes, the old file's times.
    shutil.copyfile(second, first)
    os.utime(first, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert first.stat().st_mtime_ns == old.st_mtime_ns
    assert first.stat().st_size == old.st_size
    assert_array_equal(
        row_of(load_vehicle_x(layout), f"train/{first.name}"), np.load(second)
    )


def test_cache_compares_recent_files_by_content(layout):
    # A change in the same tick of the file system's clock as the build can
    # leave every time as it was: forge that by writing the changed files'
    # times into the index. Only the content check can then see it.
    load_vehicle_x(layout)
    first, second = two_train_files(layout)
    first.write_bytes(second.read_bytes())
    names, _ = datasets._feature_files(layout)
    files = [os.path.join(layout, name) for name in names]
    index_path = layout / "vehicle_x_cache.json"
    index = json.loads(index_path.read_text())
    assert f"train/{first.name}" in index["recent"]
    index["sources"] = datasets._stat_sources(layout, names, files).stat_digest
    index_path.write_text(json.dumps(index))
    assert_array_equal(
        row_of(load_vehicle_x(layout), f"train/{first.name}"), np.load(second)
    )


def test_cache_is_used_while_the_files_are_unchanged(layout, file_age, monkeypatch):
    fresh = load_vehicle_x(layout, cache=False)
    load_vehicle_x(layout)

    def no_reading(*args):
        raise AssertionError("the feature files were read again")

    monkeypatch.setattr(datasets, "_read_features", no_reading)
    again = load_vehicle_x(layout)
    assert isinstance(again.data, np.memmap)
    assert_array_equal(again.data, fresh.data)


def test_rebuild_leaves_earlier_results_unchanged(layout):
    earlier = load_vehicle_x(layout).data
    values = np.array(earlier)
    first, second = two_train_files(layout)
    first.write_bytes(second.read_bytes())
    changed = load_vehicle_x(layout)
    for file in sorted((layout / "test").iterdir()):
        file.unlink()
    # Fewer rows: an array rewritten in place would be cut under `earlier`,
    # and reading it would kill the process (SIGBUS).
    shorter = load_vehicle_x(layout)
    assert len(shorter.data) < len(values)
    assert_array_equal(earlier, values)
    assert not np.array_equal(changed.data, values)
    assert sorted(path.name for path in layout.iterdir() if path.is_file()) == [
        "labels.xml",
        "vehicle_x_cache.json",
        "vehicle_x_cache.npy",
    ]


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def index_with_other_shape(path):
    index = json.loads(path.read_text())
    index["shape"][0] -= 1
    path.write_text(json.dumps(index))


@pytest.mark.parametrize(
    "name, damage",
    [
        ("vehicle_x_cache.npy", truncate),
        ("vehicle_x_cache.npy", lambda path: path.write_bytes(b"")),
        ("vehicle_x_cache.npy", lambda path: path.write_bytes(b"garbage")),
        ("vehicle_x_cache.json", truncate),
        ("vehicle_x_cache.json", lambda path: path.write_text("[]")),
        ("vehicle_x_cache.json", lambda path: path.write_bytes(b"\xff\xfe")),
        ("vehicle_x_cache.json", index_with_other_shape),
    ],
    ids=["cut array", "empty array", "garbage array", "cut index", "list index"]
    + ["binary index", "index of another shape"],
)
def test_damaged_cache_is_rebuilt_with_a_warning(layout, name, damage):
    fresh = load_vehicle_x(layout, cache=False)
    load_vehicle_x(layout)
    damage(layout / name)
    with pytest.warns(UserWarning, match=rf"{name}.*rebuilding"):
        rebuilt = load_vehicle_x(layout)
    assert_array_equal(rebuilt.data, fresh.data)
    # Repaired: the next load neither warns (warnings are errors) nor reads.
    assert_array_equal(load_vehicle_x(layout).data, fresh.data)


def test_index_of_another_format_or_array_is_not_trusted(layout, tmp_path):
    fresh = load_vehicle_x(layout, cache=False)
    # An index as earlier versions wrote it: rebuilt without a warning.
    (layout / "vehicle_x_cache.json").write_text('{"files": [], "size": 0}')
    (layout / "vehicle_x_cache.npy").write_bytes(b"old")
    assert_array_equal(load_vehicle_x(layout).data, fresh.data)
    # An array of the right shape from another build (two builds at once,
    # or a crash between writing the array and its index).
    other = tmp_path / "other"
    vx = make_vehicle_x(40, n_vehicles=5, n_features=8, random_state=3)
    write_vehicle_x(other, vx)
    load_vehicle_x(other)
    shutil.copyfile(other / "vehicle_x_cache.npy", layout / "vehicle_x_cache.npy")
    assert_array_equal(load_vehicle_x(layout).data, fresh.data)


def test_damaged_source_is_named_not_served_from_the_cache(layout):
    load_vehicle_x(layout)
    first, _ = two_train_files(layout)
    first.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=first.name):
        load_vehicle_x(layout)


# Root ignores file permissions; `unshare -U` runs these as another user.
needs_permissions = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="needs a user that file permissions apply to",
)


def only_the_user_cache_is_writable(monkeypatch, tmp_path, root):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    write_cache = datasets._write_cache

    def refuse_root(folder, *args):
        if folder == root:
            raise PermissionError(13, "Permission denied", str(folder))
        return write_cache(folder, *args)

    monkeypatch.setattr(datasets, "_write_cache", refuse_root)


def test_unwritable_root_caches_in_the_user_cache(layout, tmp_path, monkeypatch):
    only_the_user_cache_is_writable(monkeypatch, tmp_path, layout)
    before = sorted(layout.rglob("*"))
    fresh = load_vehicle_x(layout, cache=False)
    assert_array_equal(load_vehicle_x(layout).data, fresh.data)
    again = load_vehicle_x(layout)
    assert_array_equal(again.data, fresh.data)
    assert sorted(layout.rglob("*")) == before
    cached = sorted((tmp_path / "user-cache" / "fuzzyprune").rglob("*"))
    assert [path.name for path in cached] == [
        "vx-" + cached[0].name.split("-")[-1],
        "vehicle_x_cache.json",
        "vehicle_x_cache.npy",
    ]
    assert Path(again.data.filename) == cached[2]


@needs_permissions
def test_read_only_root_loads(layout, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    layout.chmod(0o555)
    try:
        loaded = load_vehicle_x(layout)
    finally:
        layout.chmod(0o755)
    assert_array_equal(loaded.data, load_vehicle_x(layout, cache=False).data)
    assert not (layout / "vehicle_x_cache.npy").exists()


def test_nowhere_to_cache_loads_with_a_warning(layout, tmp_path, monkeypatch):
    only_the_user_cache_is_writable(monkeypatch, tmp_path, layout)
    (tmp_path / "user-cache").write_text("a file where the folder would go")
    with pytest.warns(UserWarning, match="Cannot write the Vehicle-X feature cache"):
        loaded = load_vehicle_x(layout)
    assert not isinstance(loaded.data, np.memmap)
    assert_array_equal(loaded.data, load_vehicle_x(layout, cache=False).data)


def test_cache_dir_holds_the_cache(layout, tmp_path):
    before = sorted(layout.rglob("*"))
    first = load_vehicle_x(layout, cache_dir=tmp_path / "here")
    again = load_vehicle_x(layout, cache_dir=tmp_path / "here")
    assert sorted(layout.rglob("*")) == before
    # joblib reopens a memory-mapped array by its file name in its workers.
    for loaded in (first, again):
        assert Path(loaded.data.filename) == tmp_path / "here" / "vehicle_x_cache.npy"
    assert_array_equal(again.data, load_vehicle_x(layout, cache=False).data)


# --- bad input is refused, naming what is wrong ------------------------------


def save_as_pickle(path):
    np.save(path, np.array([{"a": 1}] * 8, dtype=object), allow_pickle=True)


@pytest.mark.parametrize(
    "write",
    [
        lambda path: np.save(path, np.array(["0.5"] * 8)),
        lambda path: np.save(path, np.ones(8) + 1j),
        save_as_pickle,
        lambda path: np.save(path, np.ones((2, 8))),
        lambda path: np.save(path, np.ones((2, 2, 2))),
        lambda path: np.save(path, np.ones(0)),
        lambda path: np.save(path, np.ones(9)),
        lambda path: np.save(path, np.r_[np.ones(7), np.nan]),
        lambda path: np.save(path, np.r_[np.ones(7), -np.inf]),
        lambda path: np.save(path, np.r_[np.ones(7), 1e300]),
        lambda path: np.save(path, np.ones(8, dtype=[("a", "f4")])),
        lambda path: np.savez(path.with_suffix(""), np.ones(8)),
    ],
    ids=["strings", "complex", "objects", "two rows", "3-D", "empty", "9 values"]
    + ["NaN", "-inf", "beyond float32", "structured", "npz"],
)
@pytest.mark.parametrize("cache", [True, False])
def test_bad_feature_file_is_named(layout, write, cache):
    # A file the label file knows, so that only its content is at fault.
    path = sorted((layout / "train").iterdir())[-1]
    write(path)
    if path.with_suffix(".npz").exists():
        path.with_suffix(".npz").rename(path)
    with pytest.raises(ValueError, match=rf"feature file .*{path.name}"):
        load_vehicle_x(layout, cache=cache)
    assert not (layout / "vehicle_x_cache.npy").exists()


@pytest.mark.parametrize(
    "convert",
    [
        lambda values: values.astype("<f8"),
        lambda values: values.astype(">f4"),
        lambda values: values.astype("<f2"),
        lambda values: np.round(values * 8).astype("<i4"),
        lambda values: values[None, :],
    ],
    ids=["float64", "big-endian", "float16", "int32", "one row"],
)
def test_files_of_other_types_and_shapes_are_read(layout, convert):
    # Files written alike are read past their shared header: one written
    # otherwise, among them, must still be read by its own header.
    path = sorted((layout / "train").iterdir())[1]
    stored = convert(np.load(path))
    np.save(path, stored)
    for cache in (False, True):
        loaded = load_vehicle_x(layout, cache=cache)
        assert_array_equal(row_of(loaded, f"train/{path.name}"), stored.ravel())


def test_file_cut_short_is_named(layout):
    path = sorted((layout / "train").iterdir())[1]
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(ValueError, match=path.name):
        load_vehicle_x(layout, cache=False)


@pytest.mark.parametrize(
    "content, message",
    [
        ("vehicle_id,type_id\n1,x\n", "labels.csv.*integers"),
        ("vehicle,type\n1,0\n", "labels.csv.*vehicle_id,type_id"),
        ("vehicle_id,type_id\n1\n", "labels.csv"),
        ("vehicle_id,type_id\n", "labels.csv.*no rows"),
        ("vehicle_id,type_id\n1,0\n1,2\n", "labels.csv.*vehicle 1 several types"),
    ],
)
def test_bad_csv_labels_are_named(tmp_path, small_vehicle_x, content, message):
    write_vehicle_x(tmp_path, small_vehicle_x, labels="csv")
    (tmp_path / "labels.csv").write_text(content)
    with pytest.raises(ValueError, match=message):
        load_vehicle_x(tmp_path, cache=False)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"root": 3}, ValueError, "'root' parameter"),
        ({"split": "training"}, ValueError, "'split' parameter"),
        ({"cache": "yes"}, ValueError, "'cache' parameter"),
        ({"cache_dir": 3}, ValueError, "'cache_dir' parameter"),
        # The empty path would put the cache in the current folder.
        ({"cache_dir": ""}, ValueError, "cache_dir is an empty path"),
        ({"cache_dir": "", "cache": False}, ValueError, "cache_dir is an empty"),
    ],
)
def test_load_refuses_bad_parameters(layout, params, error, match, monkeypatch):
    monkeypatch.chdir(layout.parent)
    before = sorted(layout.parent.rglob("*"))
    with pytest.raises(error, match=match):
        load_vehicle_x(**{"root": layout, **params})
    assert sorted(layout.parent.rglob("*")) == before


def test_partial_layouts(tmp_path, small_vehicle_x):
    write_vehicle_x(tmp_path, small_vehicle_x)
    shutil.rmtree(tmp_path / "test")
    # The splits present load; one asked for that is absent is named.
    assert set(load_vehicle_x(tmp_path, cache=False).split) == {"train", "val"}
    with pytest.raises(FileNotFoundError, match="No 'test' split.*test/"):
        load_vehicle_x(tmp_path, split="test")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_vehicle_x(tmp_path / "labels.xml")


@needs_permissions
@pytest.mark.parametrize(
    "mode, match",
    [(0, "Cannot list Vehicle-X folder .*val"), (0o444, "Cannot read .*val/0")],
)
@pytest.mark.parametrize("cache", [True, False])
def test_unreadable_split_folder_is_named(layout, mode, match, cache):
    (layout / "val").chmod(mode)
    try:
        with pytest.raises(ValueError, match=match):
            load_vehicle_x(layout, cache=cache)
    finally:
        (layout / "val").chmod(0o755)


def bunch_with(**fields):
    vx = make_vehicle_x(20, n_vehicles=3, n_features=4, random_state=0)
    vx.update(fields)
    return vx


@pytest.mark.parametrize(
    "data, error, match",
    [
        (Bunch(data=np.ones((2, 2))), ValueError, "lacks.*vehicle_id"),
        (bunch_with(data=np.ones((5, 4))), ValueError, r"data.vehicle_id.*\(5,\)"),
        (bunch_with(data=np.ones((20, 4, 2))), ValueError, "data.data must be a 2-D"),
        (bunch_with(data=np.ones(20)), ValueError, "data.data must be a 2-D"),
        (bunch_with(data=np.ones((20, 0))), ValueError, "data.data must be a 2-D"),
        (bunch_with(data=np.full((20, 4), np.nan)), ValueError, "data.data.*NaN"),
        (bunch_with(data=np.ones((20, 4)) + 1j), ValueError, "data.data.*complex"),
        (bunch_with(data=np.full((20, 4), "a")), ValueError, "data.data.*strings"),
        (
            bunch_with(data=np.full((20, 4), 1j, dtype=object)),
            ValueError,
            "data.data must hold real numbers",
        ),
        (bunch_with(data=[[1.0, 2.0], [3.0]]), ValueError, "data.data cannot be"),
        (bunch_with(data=np.full((20, 4), 1e300)), ValueError, "float32 range"),
        (bunch_with(vehicle_id=np.ones(20) * 1.5), TypeError, "data.vehicle_id.*int"),
        (bunch_with(camera_id=-np.ones(20, int)), ValueError, "data.camera_id.*-1"),
        (
            bunch_with(vehicle_id=np.full(20, 2**63, dtype=np.uint64)),
            ValueError,
            "data.vehicle_id.*from 0 to 9223372036854775807",
        ),
        (bunch_with(type=np.arange(20) * 1000), ValueError, "data.type.*0 to 10"),
        (bunch_with(type=np.arange(20) - 3), ValueError, "data.type.*0 to 10.*-3"),
        (
            Bunch(
                **{
                    **make_vehicle_x(20, n_types=3, random_state=0),
                    "type": 3 + 0 * np.arange(20),
                }
            ),
            ValueError,
            r"data.type.*0 to 2, indices into data.type_names; got 3",
        ),
        (
            bunch_with(type_names=["car", "bus"]),
            ValueError,
            "data.type_names.*VEHICLE_TYPE_NAMES",
        ),
        (
            bunch_with(type_names=[*VEHICLE_TYPE_NAMES, "Tractor"]),
            ValueError,
            "data.type_names",
        ),
        (bunch_with(type=np.ones((20, 1), int)), ValueError, r"data.type.*\(20, 1\)"),
        (bunch_with(split=np.array(["train"] * 19 + ["dev"])), ValueError, "dev"),
        (bunch_with(split=np.array(["train"] * 19)), ValueError, "data.split"),
    ],
)
def test_write_refuses_bad_data_and_writes_nothing(tmp_path, data, error, match):
    with pytest.raises(error, match=match) as info:
        write_vehicle_x(tmp_path / "out", data)
    # One line, not a dump of the array.
    assert "\n" not in str(info.value) and len(str(info.value)) < 400
    assert not (tmp_path / "out").exists()


def test_write_takes_numbers_held_as_objects(tmp_path):
    vx = bunch_with()
    numbers = Bunch(**{**vx, "data": vx.data.astype(object)})
    files = write_vehicle_x(tmp_path, numbers)
    assert_array_equal([np.load(file) for file in files], vx.data)


def test_write_refuses_types_a_csv_cannot_hold(tmp_path):
    vx = bunch_with()
    vx.type = np.arange(20) % 2
    vx.vehicle_id = np.ones(20, dtype=int)
    with pytest.raises(ValueError, match="several types.*labels='xml'"):
        write_vehicle_x(tmp_path / "out", vx, labels="csv")
    assert not (tmp_path / "out").exists()
    write_vehicle_x(tmp_path / "out", vx, labels="xml")
    assert_array_equal(np.sort(load_vehicle_x(tmp_path / "out").type), np.sort(vx.type))


@pytest.mark.parametrize("existing", ["train/", "valid/", "other.xml", "labels.csv"])
def test_write_refuses_to_mix_with_existing_files(tmp_path, existing):
    target = tmp_path / existing
    if existing.endswith("/"):
        target.mkdir()
    else:
        target.write_text("")
    with pytest.raises(FileExistsError, match=target.name):
        write_vehicle_x(tmp_path, bunch_with())
    assert [path.name for path in tmp_path.iterdir()] == [target.name]


def test_write_refuses_a_file_as_root(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError, match="root .*file'? is a file"):
        write_vehicle_x(tmp_path / "file", bunch_with())


@pytest.mark.parametrize("below", ["sub", "sub/deeper"])
def test_write_refuses_a_root_under_a_file(tmp_path, below):
    (tmp_path / "file").write_text("")
    root = tmp_path / "file" / below
    with pytest.raises(
        NotADirectoryError, match=f"{re.escape(repr(str(root)))} cannot be created"
    ):
        write_vehicle_x(root, bunch_with())
    assert [path.name for path in tmp_path.iterdir()] == ["file"]


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    calls = []
    save = np.save

    def fail_on_the_fifth(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 5:
            raise OSError(28, "No space left on device")
        save(*args, **kwargs)

    monkeypatch.setattr(np, "save", fail_on_the_fifth)
    with pytest.raises(OSError, match="No space"):
        write_vehicle_x(tmp_path, bunch_with())
    assert list(tmp_path.iterdir()) == []


def test_fewer_vehicles_than_types_use_the_first_types():
    vx = make_vehicle_x(50, n_vehicles=3, n_features=2, random_state=0)
    assert set(vx.type.tolist()) == {0, 1, 2}
    assert len(vx.type_names) == 11


def test_make_vehicle_x_refuses_bools():
    with pytest.raises(TypeError, match="'n_samples' parameter.*Got True instead"):
        make_vehicle_x(True, n_features=2)


# --- ambiguous layouts and types without names --------------------------------


@pytest.mark.parametrize("copy", ["valid", "validation"])
@pytest.mark.parametrize("cache", [True, False])
def test_a_split_in_two_folders_is_refused(tmp_path, small_vehicle_x, copy, cache):
    write_vehicle_x(tmp_path, small_vehicle_x)
    shutil.copytree(tmp_path / "val", tmp_path / copy)
    for split in (None, "train"):
        with pytest.raises(ValueError, match=f"val/ and {copy}/.*'val' split"):
            load_vehicle_x(tmp_path, split=split, cache=cache)


@pytest.mark.parametrize(
    "written, extra",
    [("xml", "labels.csv"), ("csv", "labels.xml"), ("csv", "more.csv")],
)
def test_several_label_files_are_refused(tmp_path, small_vehicle_x, written, extra):
    write_vehicle_x(tmp_path, small_vehicle_x, labels=written)
    # Another label file giving other types; neither may win silently.
    other = Bunch(**{**small_vehicle_x, "type": (small_vehicle_x.type + 1) % 11})
    write_vehicle_x(tmp_path / "other", other, labels=extra[-3:])
    (tmp_path / "other" / f"labels.{extra[-3:]}").rename(tmp_path / extra)
    for cache in (True, False):
        with pytest.raises(ValueError, match="several label files") as info:
            load_vehicle_x(tmp_path, cache=cache)
        assert f"'labels.{written}'" in str(info.value)
        assert f"'{extra}'" in str(info.value)


def one_image_layout(root, labels):
    (root / "train").mkdir()
    np.save(root / "train" / "00001_c002_00.npy", np.zeros(3, dtype=np.float32))
    name, content = labels
    (root / name).write_text(content)


@settings(max_examples=30, deadline=None)
@given(
    type_id=st.integers(-2, 12) | st.integers(-(2**63), 2**63 - 1),
    labels=st.sampled_from(["xml", "csv"]),
)
def test_label_types_must_index_the_type_names(type_id, labels):
    content = {
        "xml": (
            "labels.xml",
            f'<Items><Item imageName="00001_c002_00.jpg" typeID="{type_id}"/></Items>',
        ),
        "csv": ("labels.csv", f"vehicle_id,type_id\n1,{type_id}\n"),
    }[labels]
    with tempfile.TemporaryDirectory() as root:
        one_image_layout(Path(root), content)
        if 0 <= type_id < len(VEHICLE_TYPE_NAMES):
            vx = load_vehicle_x(root, cache=False)
            assert vx.type.tolist() == [type_id]
            assert vx.type_names[type_id] == VEHICLE_TYPE_NAMES[type_id]
        else:
            with pytest.raises(
                ValueError, match=rf"labels.{labels}.* type {type_id}; .*0 to 10"
            ):
                load_vehicle_x(root, cache=False)


@pytest.mark.parametrize("type_id", [-3, 11, 99])
def test_out_of_range_label_type_is_refused_for_unused_rows(tmp_path, type_id):
    # A vehicle with no images still makes a label file wrong.
    one_image_layout(
        tmp_path, ("labels.csv", f"vehicle_id,type_id\n1,0\n7,{type_id}\n")
    )
    with pytest.raises(ValueError, match=f"labels.csv.*vehicle 7 type {type_id}"):
        load_vehicle_x(tmp_path, cache=False)


@pytest.mark.parametrize(
    "item, match",
    [
        ('typeID="1" colorID="-2"', "colour -2"),
        (f'typeID="1" colorID="{2**64}"', f"colour {2**64}"),
        (f'typeID="{2**64}"', f"type {2**64}"),
    ],
)
def test_xml_numbers_out_of_range_are_refused(tmp_path, item, match):
    one_image_layout(
        tmp_path,
        ("labels.xml", f'<Items><Item imageName="00001_c002_00.jpg" {item}/></Items>'),
    )
    with pytest.raises(ValueError, match=f"labels.xml.*{match}"):
        load_vehicle_x(tmp_path, cache=False)


def test_csv_type_beyond_64_bits_is_named(tmp_path):
    one_image_layout(tmp_path, ("labels.csv", f"vehicle_id,type_id\n1,{2**64}\n"))
    with pytest.raises(ValueError, match="labels.csv.*integers"):
        load_vehicle_x(tmp_path, cache=False)


def test_file_name_numbers_beyond_64_bits_are_named(tmp_path):
    (tmp_path / "train").mkdir()
    name = f"{10**19}_c001_00.npy"
    np.save(tmp_path / "train" / name, np.zeros(3, dtype=np.float32))
    (tmp_path / "labels.csv").write_text("vehicle_id,type_id\n1,0\n")
    with pytest.raises(ValueError, match=f"Malformed .*{name}.*18 digits"):
        load_vehicle_x(tmp_path, cache=False)


@pytest.mark.parametrize(
    "name",
    ["٠٠٠٠١_c٠٠٣_٠٠.npy", "0000１_c003_00.npy"],
    ids=["Arabic-Indic digits", "fullwidth digit"],
)
def test_file_names_must_be_ascii_digits(tmp_path, name):
    # int() reads "٠٠٠٠١" as 1: such a file would load as vehicle 1.
    one_image_layout(tmp_path, ("labels.csv", "vehicle_id,type_id\n1,0\n3,0\n"))
    np.save(tmp_path / "train" / name, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match=f"Malformed .*{name}"):
        load_vehicle_x(tmp_path, cache=False)


# Numbers that int() reads but no label file means: digits of other scripts
# and underscores between digits.
_NOT_ASCII_INTEGERS = st.lists(
    st.sampled_from("0123456789") | st.characters(categories=["Nd"]),
    min_size=1,
    max_size=4,
).map("".join).filter(lambda text: not text.isascii()) | st.from_regex(
    r"\A[0-9]_[0-9]\Z"
)


@settings(max_examples=30, deadline=None)
@given(text=_NOT_ASCII_INTEGERS, field=st.sampled_from(["vehicle", "type", "xml"]))
def test_label_numbers_must_be_ascii_digits(text, field):
    content = {
        "vehicle": ("labels.csv", f"vehicle_id,type_id\n{text},0\n1,0\n"),
        "type": ("labels.csv", f"vehicle_id,type_id\n1,{text}\n"),
        "xml": (
            "labels.xml",
            f'<Items><Item imageName="00001_c002_00.jpg" typeID="{text}"/></Items>',
        ),
    }[field]
    with tempfile.TemporaryDirectory() as root:
        one_image_layout(Path(root), content)
        with pytest.raises(ValueError, match=rf"{content[0]}.*integer") as info:
            load_vehicle_x(root, cache=False)
        assert "ASCII digits" in str(info.value) + str(info.value.__cause__)


@pytest.mark.parametrize("labels", ["csv", "xml"])
@pytest.mark.parametrize("split", [None, "test"])
def test_two_files_naming_one_image_are_refused(
    tmp_path, small_vehicle_x, labels, split
):
    write_vehicle_x(tmp_path, small_vehicle_x, labels=labels)
    original = sorted((tmp_path / "train").iterdir())[0]
    if labels == "csv":
        # The image index 00 written as 0: the same image again.
        copy = original.with_name(f"{original.stem[:-2]}{int(original.stem[-2:])}.npy")
    else:
        # A training image in the test split as well.
        copy = tmp_path / "test" / original.name
    shutil.copyfile(original, copy)
    for cache in (True, False):
        with pytest.raises(ValueError, match="both name image") as info:
            load_vehicle_x(tmp_path, split=split, cache=cache)
        assert f"train/{original.name}" in str(info.value)
        assert str(copy.relative_to(tmp_path)) in str(info.value)
