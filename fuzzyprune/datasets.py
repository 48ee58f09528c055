"""Vehicle-X re-identification features: a loader, a writer and a generator."""

import csv
import json
import os
import re
import xml.etree.ElementTree as ElementTree
from numbers import Integral
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["VEHICLE_TYPE_NAMES", "load_vehicle_x", "make_vehicle_x", "write_vehicle_x"]

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


class _Recipe(NamedTuple):
    """How samples are made: spreads on the [0, 1] scale of the features."""

    type_spread: float
    vehicle_spread: float
    camera_spread: float
    image_spread: float
    # Share of the images showing vehicle 1; None leaves it its Zipf share.
    first_vehicle_share: float | None


_RECIPES = {
    # Vehicle-X's features as the study found them. What an image shows
    # besides its vehicle (viewpoint, light, distance, background) moves a
    # pooled ResNet feature more than the vehicle does, and the vehicle more
    # than its type: types form no clusters and a vehicle is recognised in
    # few of its unseen images, while the wide per-image variation makes
    # every training image easy to memorise. Rectified at 0 like ReLU
    # activations, a quarter of the features are zero. Vehicle 1 takes 4 %
    # of the images (about 3,100 of 77,516), the one tall bar of the
    # identity histogram of the study's Fig. 1.
    "study": _Recipe(0.01, 0.03, 0.02, 0.2, 0.04),
    # Clear clusters: types differ more than vehicles of a type, which differ
    # more than two images of one vehicle (camera, light and orientation all
    # end up in the image noise).
    "separated": _Recipe(0.12, 0.06, 0.02, 0.08, None),
}
_N_CAMERAS = 36
_ROWS_PER_CHUNK = 4096
# Vehicle-X's re-identification split: 45,438 / 14,936 / 17,142 images.
_SPLIT_FRACTIONS = {"train": 0.586, "val": 0.193, "test": 0.221}


def _skewed_probabilities(n, exponent):
    """Zipf-like probabilities, largest for the first of ``n`` items."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _vehicle_probabilities(n_vehicles, first_vehicle_share):
    """Zipf-like frequencies of the vehicles, vehicle 1 raised to its share."""
    probabilities = _skewed_probabilities(n_vehicles, 0.3)
    if first_vehicle_share is None or probabilities[0] >= first_vehicle_share:
        return probabilities
    others = probabilities[1:] / probabilities[1:].sum()
    return np.r_[first_vehicle_share, (1 - first_vehicle_share) * others]


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
        "structure": [StrOptions(set(_RECIPES))],
    },
    prefer_skip_nested_validation=True,
)
def make_vehicle_x(
    n_samples=77516,
    *,
    n_vehicles=1362,
    n_types=11,
    n_features=2048,
    random_state=None,
    structure="study",
):
    """Generate features with the structure of the Vehicle-X data set.

    Each sample is the feature vector of one image of a vehicle seen by a
    camera. Features are non-negative and in [0, 1] like pooled ResNet
    features; a sample is its type's prototype plus its vehicle's, its
    camera's and its own variation, clipped to [0, 1], so vehicle identities
    nest in types. With the default numbers of vehicles and types, vehicle
    1 and type 0 (Sedan) are the most frequent, as in Vehicle-X.

    By default the features behave as the Vehicle-X features did in the
    original study: what an image shows besides its vehicle (viewpoint,
    light, distance, background) outweighs what the images of a vehicle, or
    of a type, share. The types form no clusters, and a network memorises
    its training images but recognises the vehicle in few unseen ones.
    ``structure="separated"`` gives clear clusters instead.

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

    structure : {"study", "separated"}, default="study"
        How strongly the samples cluster. The figures below are measured on
        ``make_vehicle_x(6000, random_state=0)``: the silhouette of the types
        on the features, the adjusted Rand index of ``KMeans(11, n_init=1,
        random_state=0)`` against the types, and the training and test
        accuracy on vehicle identities of the study's unpruned network
        (:class:`~fuzzyprune.PrunedMLPClassifier` after a
        ``StandardScaler``) trained 4 epochs on the training split; more in
        the documentation's "Reproducing the study".

        - ``"study"``: the regime of the study, whose clusterings had
          silhouettes of -0.026 to -0.012 and whose network reached 79-95 %
          training and 4.1-5.3 % test accuracy. Images vary by 0.2 (standard
          deviation on the feature scale), vehicles of a type by 0.03,
          types by 0.01; vehicle 1 takes 4 % of the images. Silhouette
          0.00, adjusted Rand index 0.01, training accuracy 97 %, test
          accuracy about 4 %, nearly all of it images of vehicle 1.
        - ``"separated"``: clear clusters, for examples and benchmarks.
          Types vary by 0.12, vehicles of a type by 0.06, images by 0.08;
          vehicle 1 is about as frequent as the next vehicles. Silhouette
          0.33, adjusted Rand index 0.80, training accuracy 86 %, test
          accuracy 38 %. The output is that of earlier versions of this
          function, bit for bit.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields:

        - ``data``: float32 ndarray of shape (n_samples, n_features);
        - ``vehicle_id``: int ndarray of shape (n_samples,), in 1..n_vehicles;
        - ``camera_id``: int ndarray of shape (n_samples,), in 1..36;
        - ``type``: int ndarray of shape (n_samples,), in 0..n_types - 1;
        - ``split``: str ndarray of shape (n_samples,), ``"train"``,
          ``"val"`` or ``"test"`` at random in Vehicle-X's proportions
          (59 %, 19 %, 22 %);
        - ``type_names``: list of the ``n_types`` type names;
        - ``feature_names``: list of ``n_features`` names.

    See Also
    --------
    write_vehicle_x : Write such data in the Vehicle-X folder layout.
    load_vehicle_x : Load Vehicle-X features from that layout.

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

    K-means finds the types only in the separated data:

    >>> from sklearn.cluster import KMeans
    >>> from sklearn.metrics import adjusted_rand_score
    >>> def kmeans_ari(vx):
    ...     labels = KMeans(11, n_init=10, random_state=0).fit_predict(vx.data)
    ...     return round(adjusted_rand_score(vx.type, labels), 1)
    >>> kmeans_ari(make_vehicle_x(2000, n_features=256, random_state=0))
    0.0
    >>> kmeans_ari(make_vehicle_x(2000, n_features=256, random_state=0,
    ...                           structure="separated"))
    1.0
    """
    recipe = _RECIPES[structure]
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31))
    vehicle_type = _vehicle_types(n_vehicles, n_types, rng)
    vehicle_index = rng.choice(
        n_vehicles,
        size=n_samples,
        p=_vehicle_probabilities(n_vehicles, recipe.first_vehicle_share),
    )
    camera_index = rng.integers(_N_CAMERAS, size=n_samples)

    # Pooled ResNet features: a feature-wise base level, mostly small.
    base = rng.gamma(2.0, 0.08, size=n_features)
    type_prototypes = base + rng.normal(0, recipe.type_spread, (n_types, n_features))
    vehicle_prototypes = type_prototypes[vehicle_type] + rng.normal(
        0, recipe.vehicle_spread, (n_vehicles, n_features)
    )
    camera_offsets = rng.normal(0, recipe.camera_spread, (_N_CAMERAS, n_features))
    vehicle_prototypes = vehicle_prototypes.astype(np.float32)
    camera_offsets = camera_offsets.astype(np.float32)

    data = np.empty((n_samples, n_features), dtype=np.float32)
    for start in range(0, n_samples, _ROWS_PER_CHUNK):
        rows = slice(start, start + _ROWS_PER_CHUNK)
        chunk = rng.standard_normal((data[rows].shape[0], n_features), np.float32)
        chunk *= recipe.image_spread
        chunk += vehicle_prototypes[vehicle_index[rows]]
        chunk += camera_offsets[camera_index[rows]]
        np.clip(chunk, 0.0, 1.0, out=data[rows])

    split = rng.choice(
        list(_SPLIT_FRACTIONS), size=n_samples, p=list(_SPLIT_FRACTIONS.values())
    )
    return Bunch(
        data=data,
        vehicle_id=vehicle_index + 1,
        camera_id=camera_index + 1,
        type=vehicle_type[vehicle_index],
        split=split,
        type_names=list(VEHICLE_TYPE_NAMES[:n_types]),
        feature_names=_feature_names(n_features),
    )


def _feature_names(n_features):
    return [f"feature_{i}" for i in range(n_features)]


# Folder names accepted for each split, the first being the one written.
_SPLIT_FOLDERS = {
    "train": ("train",),
    "val": ("val", "validation", "valid"),
    "test": ("test",),
}
_FILE_NAME = re.compile(r"^(\d+)_c(\d+)_(\d+)\.npy$")
_CACHE_NAME = "vehicle_x_cache"


@validate_params(
    {
        "root": [str, os.PathLike],
        "data": [Bunch],
        "labels": [StrOptions({"xml", "csv"})],
    },
    prefer_skip_nested_validation=True,
)
def write_vehicle_x(root, data, *, labels="xml"):
    """Write features in the Vehicle-X folder layout.

    Each sample becomes ``<root>/<split>/VVVVV_cCCC_NN.npy`` (vehicle id,
    camera id, index of the image among that vehicle's images from that
    camera), and the vehicle types go to a label file beside the folders:
    ``labels.xml`` in the VeRi style (one ``<Item imageName=... vehicleID=...
    cameraID=... typeID=.../>`` per image) or ``labels.csv`` with columns
    ``vehicle_id,type_id``.

    Parameters
    ----------
    root : str or path-like
        Folder to write into; created if needed.

    data : Bunch
        With ``data``, ``vehicle_id``, ``camera_id``, ``type`` and ``split``,
        as :func:`make_vehicle_x` returns.

    labels : {"xml", "csv"}, default="xml"
        Format of the label file.

    Returns
    -------
    files : list of pathlib.Path
        The feature files written, in the order of the samples.

    See Also
    --------
    load_vehicle_x : Read the layout back.

    Examples
    --------
    >>> import tempfile
    >>> from fuzzyprune.datasets import make_vehicle_x, write_vehicle_x
    >>> vx = make_vehicle_x(20, n_vehicles=3, n_features=8, random_state=0)
    >>> files = write_vehicle_x(tempfile.mkdtemp(), vx)
    >>> files[0].parent.name, files[0].name
    ('train', '00002_c027_00.npy')
    """
    root = Path(root)
    image_index = _image_indices(data.vehicle_id, data.camera_id)
    files = []
    for row, split in enumerate(data.split):
        folder = root / _SPLIT_FOLDERS[str(split)][0]
        folder.mkdir(parents=True, exist_ok=True)
        name = (
            f"{data.vehicle_id[row]:05d}_c{data.camera_id[row]:03d}_"
            f"{image_index[row]:02d}.npy"
        )
        np.save(folder / name, data.data[row])
        files.append(folder / name)
    if labels == "xml":
        _write_xml_labels(root / "labels.xml", files, data)
    else:
        _write_csv_labels(root / "labels.csv", data)
    return files


def _image_indices(vehicle_ids, camera_ids):
    """Count the images of each (vehicle, camera) pair from 0, in order."""
    pairs = vehicle_ids.astype(np.int64) * 100_000 + camera_ids
    order = np.argsort(pairs, kind="stable")
    sorted_pairs = pairs[order]
    starts = np.flatnonzero(np.r_[True, sorted_pairs[1:] != sorted_pairs[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(pairs)]))
    indices = np.empty(len(pairs), dtype=np.int64)
    indices[order] = np.arange(len(pairs)) - run_start
    return indices


def _write_xml_labels(path, files, data):
    items = ElementTree.Element("Items")
    for row, file in enumerate(files):
        ElementTree.SubElement(
            items,
            "Item",
            imageName=file.with_suffix(".jpg").name,
            vehicleID=f"{data.vehicle_id[row]:04d}",
            cameraID=f"c{data.camera_id[row]:03d}",
            typeID=str(data.type[row]),
        )
    ElementTree.ElementTree(items).write(path, encoding="utf-8", xml_declaration=True)


def _write_csv_labels(path, data):
    vehicles, first = np.unique(data.vehicle_id, return_index=True)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["vehicle_id", "type_id"])
        writer.writerows(zip(vehicles.tolist(), data.type[first].tolist(), strict=True))


@validate_params(
    {
        "root": [str, os.PathLike],
        "split": [StrOptions(set(_SPLIT_FOLDERS)), None],
        "cache": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_vehicle_x(root, *, split=None, cache=True):
    """Load Vehicle-X features from their folder layout.

    ``root`` holds the folders ``train/``, ``val/`` (or ``validation/``,
    ``valid/``) and ``test/``, each with one file ``VVVVV_cCCC_NN.npy`` of
    2048 (or any fixed number of) floats per image, whose name gives the
    vehicle id, the camera id and the image's index. Vehicle types (and
    colours, when given) come from a label file in ``root``: a VeRi-style
    ``*.xml`` (``<Item imageName="00001_c001_33.jpg" vehicleID="0001"
    cameraID="c001" colorID="..." typeID="..."/>``) or a ``*.csv`` with
    columns ``vehicle_id,type_id``.

    The first load writes every feature, in one float32 array, to
    ``vehicle_x_cache.npy`` in ``root`` (with its index in
    ``vehicle_x_cache.json``); later loads map that file into memory, which
    takes seconds instead of reading tens of thousands of files. The cache is
    rebuilt when the feature files change. Nothing else in ``root`` is
    written.

    Parameters
    ----------
    root : str or path-like
        The data folder.

    split : {"train", "val", "test"}, default=None
        Load only this split; ``None`` loads all.

    cache : bool, default=True
        Whether to use (and build) the cache file.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields ``data`` (float32, n_samples x n_features; memory-mapped
        when read from the cache), ``vehicle_id``, ``camera_id``,
        ``image_index`` (the ``NN`` of the file name), ``type``,
        ``color`` (``-1`` where unknown; only with an XML label file),
        ``split``, ``file_names``, ``type_names`` and ``feature_names``.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no split folder or no label file.
    ValueError
        Naming the file, for a malformed file name, an unreadable file, a
        feature array of another shape than the others, or an image whose
        vehicle has no type in the label file.

    See Also
    --------
    write_vehicle_x : Write data in this layout.
    make_vehicle_x : Synthetic data of the same structure.

    Examples
    --------
    >>> import tempfile
    >>> from fuzzyprune.datasets import load_vehicle_x, make_vehicle_x, write_vehicle_x
    >>> root = tempfile.mkdtemp()
    >>> _ = write_vehicle_x(root, make_vehicle_x(30, n_vehicles=4, n_features=8,
    ...                                          random_state=0))
    >>> vx = load_vehicle_x(root)
    >>> vx.data.shape, sorted(set(vx.split.tolist()))
    ((30, 8), ['test', 'train', 'val'])
    """
    root = Path(root)
    files, splits = _feature_files(root)
    identities = np.array([_parse_file_name(file) for file in files], dtype=np.int64)
    if cache:
        features = _cached_features(root, files)
    else:
        features = _read_features(files)
    types, colors = _read_labels(root, files, identities[:, 0])
    bunch = Bunch(
        data=features,
        vehicle_id=identities[:, 0],
        camera_id=identities[:, 1],
        image_index=identities[:, 2],
        type=types,
        color=colors,
        split=splits,
        file_names=np.array([str(file.relative_to(root)) for file in files]),
        type_names=list(VEHICLE_TYPE_NAMES),
        feature_names=_feature_names(features.shape[1]),
    )
    if split is not None:
        rows = splits == split
        keys = ("data", "vehicle_id", "camera_id", "image_index", "type", "color")
        for key in (*keys, "split"):
            bunch[key] = bunch[key][rows]
        bunch.file_names = bunch.file_names[rows]
    return bunch


def _feature_files(root):
    if not root.is_dir():
        raise FileNotFoundError(f"Vehicle-X folder {str(root)!r} does not exist.")
    files, splits = [], []
    for split, names in _SPLIT_FOLDERS.items():
        for name in names:
            folder = root / name
            if folder.is_dir():
                found = sorted(folder.glob("*.npy"))
                files += found
                splits += [split] * len(found)
    if not files:
        raise FileNotFoundError(
            f"No .npy feature files in the split folders of {str(root)!r}: expected "
            "train/, val/ (or validation/, valid/) and test/ holding "
            "VVVVV_cCCC_NN.npy files."
        )
    return files, np.array(splits)


def _parse_file_name(file):
    match = _FILE_NAME.match(file.name)
    if match is None:
        raise ValueError(
            f"Malformed Vehicle-X file name {str(file)!r}: expected "
            "VVVVV_cCCC_NN.npy (vehicle id, camera id, image index)."
        )
    return tuple(int(group) for group in match.groups())


def _read_features(files):
    first = _read_feature_file(files[0])
    features = np.empty((len(files), first.size), dtype=np.float32)
    for row, file in enumerate(files):
        array = _read_feature_file(file)
        if array.size != first.size:
            raise ValueError(
                f"Vehicle-X feature file {str(file)!r} holds {array.size} values "
                f"but {str(files[0])!r} holds {first.size}; every file must hold "
                "the same number."
            )
        features[row] = array
    return features


def _read_feature_file(file):
    try:
        array = np.load(file, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"Cannot read Vehicle-X feature file {str(file)!r}: {error}"
        ) from error
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1:
        raise ValueError(
            f"Vehicle-X feature file {str(file)!r} holds an array of shape "
            f"{array.shape}; expected one row of features."
        )
    return array


def _cache_key(root, files):
    """Describe what the cache is built from: file names, sizes and times."""
    stats = [file.stat() for file in files]
    return {
        "files": [str(file.relative_to(root)) for file in files],
        "size": sum(stat.st_size for stat in stats),
        "mtime": max(stat.st_mtime_ns for stat in stats),
    }


def _cached_features(root, files):
    array_path = root / f"{_CACHE_NAME}.npy"
    index_path = root / f"{_CACHE_NAME}.json"
    key = _cache_key(root, files)
    if array_path.exists() and index_path.exists():
        if json.loads(index_path.read_text()) == key:
            return np.load(array_path, mmap_mode="r")
    features = _read_features(files)
    np.save(array_path, features)
    index_path.write_text(json.dumps(key))
    return np.load(array_path, mmap_mode="r")


def _read_labels(root, files, vehicle_ids):
    xml_files = sorted(root.glob("*.xml"))
    csv_files = sorted(root.glob("*.csv"))
    if xml_files:
        return _read_xml_labels(xml_files[0], files)
    if csv_files:
        return _read_csv_labels(csv_files[0], files, vehicle_ids), np.full(
            len(files), -1
        )
    raise FileNotFoundError(
        f"No label file in {str(root)!r}: expected a VeRi-style .xml or a .csv "
        "with columns vehicle_id,type_id."
    )


def _read_xml_labels(path, files):
    try:
        items = ElementTree.parse(path).getroot().iter("Item")
    except ElementTree.ParseError as error:
        raise ValueError(f"Cannot parse label file {str(path)!r}: {error}") from error
    by_image = {}
    for item in items:
        stem = Path(item.get("imageName", "")).stem
        try:
            by_image[stem] = (int(item.get("typeID")), int(item.get("colorID", -1)))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Item {item.attrib} of label file {str(path)!r} needs an integer "
                "typeID (and colorID, if given)."
            ) from error
    labels = []
    for file in files:
        if file.stem not in by_image:
            raise ValueError(
                f"Image {file.stem!r} of {str(file)!r} has no item in {str(path)!r}."
            )
        labels.append(by_image[file.stem])
    labels = np.array(labels, dtype=np.int64).reshape(-1, 2)
    return labels[:, 0], labels[:, 1]


def _read_csv_labels(path, files, vehicle_ids):
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows or not {"vehicle_id", "type_id"} <= set(rows[0]):
        raise ValueError(
            f"Label file {str(path)!r} must have columns vehicle_id,type_id."
        )
    type_of = {int(row["vehicle_id"]): int(row["type_id"]) for row in rows}
    missing = [
        str(file)
        for file, vehicle in zip(files, vehicle_ids, strict=True)
        if int(vehicle) not in type_of
    ]
    if missing:
        raise ValueError(f"The vehicle of {missing[0]!r} has no type in {str(path)!r}.")
    return np.array([type_of[int(vehicle)] for vehicle in vehicle_ids], dtype=np.int64)
