"""Vehicle-X re-identification features: a loader, a writer and a generator."""

import contextlib
import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import uuid
import warnings
import xml.etree.ElementTree as ElementTree
from numbers import Integral
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils.validation import check_array

from ._sklearn_compat import StrOptions, validate_params
from ._validation import Interval, check_random_state

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


# The largest count NumPy takes for an array's size; a larger one would
# raise OverflowError, not name the parameter.
_MAX_COUNT = np.iinfo(np.intp).max
_COUNT = Interval(Integral, 1, _MAX_COUNT, closed="both")


@validate_params(
    {
        "n_samples": [_COUNT],
        "n_vehicles": [_COUNT],
        "n_types": [Interval(Integral, 1, len(VEHICLE_TYPE_NAMES), closed="both")],
        "n_features": [_COUNT],
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
        Number of images (Vehicle-X has 77,516), at most the largest array
        size, ``np.iinfo(np.intp).max``.

    n_vehicles : int, default=1362
        Number of vehicle identities, numbered from 1; at most
        ``np.iinfo(np.intp).max``.

    n_types : int, default=11
        Number of vehicle types, numbered from 0, at most 11. Every vehicle
        has one type and every type has a vehicle, so with fewer vehicles
        than types only the first ``n_vehicles`` types occur.

    n_features : int, default=2048
        Number of features per image; at most ``np.iinfo(np.intp).max``.

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

    Raises
    ------
    ValueError
        Naming the parameter, if one is out of its range or not one of its
        allowed values.
    TypeError
        If a count is a bool.

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
    ...     labels = KMeans(11, n_init=3, random_state=0).fit_predict(vx.data)
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
# At most 18 digits: every number fits in int64. ASCII digits only: int()
# would also read "٠٠٠٠١" as vehicle 1.
_FILE_NAME = re.compile(r"([0-9]{1,18})_c([0-9]{1,18})_([0-9]{1,18})\.npy")
# An integer in a label file. int() also reads non-ASCII digits ("٣") and
# underscores ("1_0"), which would turn a typing slip into another type.
_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_CACHE_NAME = "vehicle_x_cache"
# Bumped whenever the index changes meaning; an index of another format is
# rebuilt, never trusted.
_CACHE_FORMAT = 2
# A file system stamps times from a clock that ticks coarsely (up to 2 s on
# some), so a file changed in the same tick as it was read for the cache,
# just after, can keep every time it had. The files changed this close to a
# build are also compared by content whenever the cache is used.
_SAME_TICK_NS = 2_000_000_000
_BUNCH_FIELDS = ("data", "vehicle_id", "camera_id", "type", "split")
_MAX_INT64 = np.iinfo(np.int64).max


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
    camera) holding its features as float32, and the vehicle types go to a
    label file beside the folders: ``labels.xml`` in the VeRi style (one
    ``<Item imageName=... vehicleID=... cameraID=... typeID=.../>`` per
    image) or ``labels.csv`` with columns ``vehicle_id,type_id``.

    Everything is checked before anything is written, and the files are
    written into a temporary folder inside ``root`` and moved into place at
    the end, so a failure leaves no half-written layout behind.

    Parameters
    ----------
    root : str or path-like
        Folder to write into; created if needed. It must not already hold
        split folders (``train/``, ``val/``, ``validation/``, ``valid/``,
        ``test/``), ``.xml`` or ``.csv`` files or a feature cache: the loader
        would mix them with the new files.

    data : Bunch
        With ``data``, ``vehicle_id``, ``camera_id``, ``type`` and ``split``,
        as :func:`make_vehicle_x` returns: ``data`` a 2-D array of real
        numbers within the float32 range, one row per sample; the ids 1-D
        arrays of non-negative integers, one per sample; ``type`` a 1-D
        array of indices into ``type_names``, one per sample; ``split`` one
        of ``"train"``, ``"val"`` and ``"test"`` per sample. ``type_names``
        is optional: the layout stores type numbers only, which
        :func:`load_vehicle_x` names by ``VEHICLE_TYPE_NAMES``, so it
        must be the first names of that list (all 11 when absent).

    labels : {"xml", "csv"}, default="xml"
        Format of the label file. A CSV file holds one type per vehicle, so
        every image of a vehicle must have the same type.

    Returns
    -------
    files : list of pathlib.Path
        The feature files written, in the order of the samples.

    Raises
    ------
    ValueError
        If ``root`` is an empty path; naming the field of ``data``, if a
        field is missing or cannot be made an array, ``data.data`` is not a
        2-D array of finite real numbers within the float32 range (complex
        numbers and strings included), a field has another length than
        ``data.data`` has rows, an id is negative or beyond 64 bits, a type
        is not in 0 to ``len(type_names) - 1``, ``type_names`` is not the
        start of ``VEHICLE_TYPE_NAMES``, a split is not one of the three,
        or, with ``labels="csv"``, a vehicle has several types.
    TypeError
        If an id or type field does not hold integers.
    FileExistsError
        Naming ``root``, if it is a file or already holds one of the files
        or folders named above.
    NotADirectoryError
        Naming ``root``, if it does not exist and cannot be created because
        a file stands where one of its parent folders would be.
    OSError
        As the operating system raises it, if writing fails otherwise (no
        permission, no space); the files written so far are removed.

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
    root = _folder(root)
    features, ids, splits = _check_bunch(data, labels)
    _check_nothing_to_overwrite(root)
    image_index = _image_indices(ids["vehicle_id"], ids["camera_id"])
    names = [
        f"{vehicle:05d}_c{camera:03d}_{image:02d}.npy"
        for vehicle, camera, image in zip(
            ids["vehicle_id"].tolist(),
            ids["camera_id"].tolist(),
            image_index.tolist(),
            strict=True,
        )
    ]
    folders = [_SPLIT_FOLDERS[split][0] for split in splits.tolist()]
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vehicle_x-", dir=root))
    try:
        for folder in set(folders):
            (staging / folder).mkdir()
        for row, (folder, name) in enumerate(zip(folders, names, strict=True)):
            np.save(staging / folder / name, features[row])
        label_name = f"labels.{labels}"
        if labels == "xml":
            _write_xml_labels(staging / label_name, names, ids)
        else:
            _write_csv_labels(staging / label_name, ids)
        for name in (*set(folders), label_name):
            os.replace(staging / name, root / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [root / folder / name for folder, name in zip(folders, names, strict=True)]


def _folder(path, name="root", meaning="the data folder"):
    """Return ``path`` as a Path, refusing the empty path (not the current folder)."""
    if not os.fspath(path):
        raise ValueError(f"{name} is an empty path; give {meaning}.")
    return Path(path)


def _check_bunch(data, labels):
    """Check every field ``write_vehicle_x`` writes; return them as arrays."""
    missing = [field for field in _BUNCH_FIELDS if field not in data]
    if missing:
        raise ValueError(
            f"The 'data' parameter of write_vehicle_x lacks the fields {missing}; "
            f"it needs {list(_BUNCH_FIELDS)}, as make_vehicle_x returns."
        )
    features = _check_features(data["data"])
    n_samples = features.shape[0]
    n_types = _check_type_names(data.get("type_names", VEHICLE_TYPE_NAMES))
    ids = {
        field: _check_ids(data[field], field, n_samples)
        for field in ("vehicle_id", "camera_id")
    }
    ids["type"] = _check_ids(data["type"], "type", n_samples, stop=n_types)
    splits = _as_array(data["split"], "split")
    _check_field_shape(splits, "split", n_samples)
    unknown = set(splits.astype(str).tolist()) - set(_SPLIT_FOLDERS)
    if unknown:
        raise ValueError(
            f"data.split holds {sorted(unknown)}; every split must be one of "
            f"{sorted(_SPLIT_FOLDERS)}."
        )
    if labels == "csv":
        pairs = np.unique(np.c_[ids["vehicle_id"], ids["type"]], axis=0)
        if len(np.unique(pairs[:, 0])) < len(pairs):
            raise ValueError(
                "data.type gives some vehicle several types, which a CSV label "
                "file (one type per vehicle) cannot hold; use labels='xml'."
            )
    return features, ids, splits.astype(str)


def _as_array(values, field):
    try:
        return np.asarray(values)
    except (TypeError, ValueError) as error:  # ragged lists, say
        raise ValueError(f"data.{field} cannot be made an array: {error}") from error


# What data.data holds, by dtype kind, where it is not real numbers.
_DTYPE_KINDS = {
    "c": "complex numbers",
    "U": "strings",
    "S": "bytes",
    "M": "dates",
    "m": "time spans",
    "V": "records",
}


def _check_features(values):
    values = _as_array(values, "data")
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(
            "data.data must be a 2-D array of shape (n_samples, n_features) with "
            f"at least one row and one column; got shape {values.shape}."
        )
    # Checked here, not by check_array, whose messages for these types omit
    # the field or print the whole array.
    if values.dtype.kind == "O":
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"data.data must hold real numbers; some of its objects are not: "
                f"{error}"
            ) from error
    elif values.dtype.kind not in "biuf":
        raise ValueError(
            f"data.data must hold real numbers; got {values.dtype} values "
            f"({_DTYPE_KINDS.get(values.dtype.kind, 'not real numbers')})."
        )
    values = check_array(values, dtype="numeric", input_name="data.data")
    with np.errstate(over="ignore", invalid="ignore"):
        features = values.astype(np.float32)
    if not np.isfinite(features).all():
        raise ValueError(
            "data.data holds values beyond the float32 range, in which the "
            "features are written."
        )
    return features


def _check_field_shape(values, field, n_samples):
    if values.shape != (n_samples,):
        raise ValueError(
            f"data.{field} must hold one value per row of data.data, shape "
            f"({n_samples},); got shape {values.shape}."
        )


def _check_ids(values, field, n_samples, *, stop=_MAX_INT64 + 1):
    """Check integers in ``range(stop)``, one per sample; return them as int64."""
    values = _as_array(values, field)
    _check_field_shape(values, field, n_samples)
    if values.dtype.kind not in "iu":
        raise TypeError(f"data.{field} must hold integers; got dtype {values.dtype}.")
    low, high = values.min(), values.max()
    if low < 0 or high >= stop:
        indices = ", indices into data.type_names" if field == "type" else ""
        raise ValueError(
            f"data.{field} must hold integers from 0 to {stop - 1}{indices}; got "
            f"{low if low < 0 else high}."
        )
    return values.astype(np.int64)


def _check_type_names(type_names):
    """Return the number of types, if the loader gives them these names."""
    names = np.asarray(type_names, dtype=object)
    # The layout stores type numbers only, which the loader names so.
    if (
        names.ndim != 1
        or not 0 < names.size <= len(VEHICLE_TYPE_NAMES)
        or names.tolist() != list(VEHICLE_TYPE_NAMES[: names.size])
    ):
        raise ValueError(
            "data.type_names must be the first names of VEHICLE_TYPE_NAMES, by "
            "which load_vehicle_x names the types written; got "
            f"{_short_repr(type_names)}."
        )
    return names.size


def _short_repr(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _check_nothing_to_overwrite(root):
    if not root.exists():
        # The nearest folder that exists, where root will be created.
        ancestor = next((path for path in root.parents if path.exists()), None)
        if ancestor is not None and not ancestor.is_dir():
            raise NotADirectoryError(
                f"root {str(root)!r} cannot be created: {str(ancestor)!r} is a "
                "file, not a folder."
            )
        return
    if not root.is_dir():
        raise FileExistsError(f"root {str(root)!r} is a file, not a folder.")
    names = [name for folders in _SPLIT_FOLDERS.values() for name in folders]
    clashes = [root / name for name in names if (root / name).exists()]
    clashes += _label_files(root)
    clashes += [path for path in _cache_paths(root) if path.exists()]
    if clashes:
        raise FileExistsError(
            f"root {str(root)!r} already holds {str(clashes[0])!r}, which the "
            "loader would mix with the files written; write into a new or "
            "empty folder."
        )


def _image_indices(vehicle_ids, camera_ids):
    """Count the images of each (vehicle, camera) pair from 0, in order."""
    _, pairs = np.unique(np.c_[vehicle_ids, camera_ids], axis=0, return_inverse=True)
    pairs = pairs.ravel()
    order = np.argsort(pairs, kind="stable")
    sorted_pairs = pairs[order]
    starts = np.flatnonzero(np.r_[True, sorted_pairs[1:] != sorted_pairs[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(pairs)]))
    indices = np.empty(len(pairs), dtype=np.int64)
    indices[order] = np.arange(len(pairs)) - run_start
    return indices


def _write_xml_labels(path, names, ids):
    items = ElementTree.Element("Items")
    for name, vehicle, camera, vehicle_type in zip(
        names,
        ids["vehicle_id"].tolist(),
        ids["camera_id"].tolist(),
        ids["type"].tolist(),
        strict=True,
    ):
        ElementTree.SubElement(
            items,
            "Item",
            imageName=Path(name).with_suffix(".jpg").name,
            vehicleID=f"{vehicle:04d}",
            cameraID=f"c{camera:03d}",
            typeID=str(vehicle_type),
        )
    ElementTree.ElementTree(items).write(path, encoding="utf-8", xml_declaration=True)


def _write_csv_labels(path, ids):
    vehicles, first = np.unique(ids["vehicle_id"], return_index=True)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["vehicle_id", "type_id"])
        writer.writerows(
            zip(vehicles.tolist(), ids["type"][first].tolist(), strict=True)
        )


@validate_params(
    {
        "root": [str, os.PathLike],
        "split": [StrOptions(set(_SPLIT_FOLDERS)), None],
        "cache": ["boolean"],
        "cache_dir": [str, os.PathLike, None],
    },
    prefer_skip_nested_validation=True,
)
def load_vehicle_x(root, *, split=None, cache=True, cache_dir=None):
    """Load Vehicle-X features from their folder layout.

    ``root`` holds the folders ``train/``, ``val/`` (or one of
    ``validation/``, ``valid/``) and ``test/``, each with one file
    ``VVVVV_cCCC_NN.npy`` of 2048 (or any fixed number of) real numbers per
    image, whose name gives the vehicle id, the camera id and the image's
    index. Vehicle types (and colours, when given) come from the one label
    file in ``root``: a VeRi-style ``*.xml`` (``<Item
    imageName="00001_c001_33.jpg" vehicleID="0001" cameraID="c001"
    colorID="..." typeID="..."/>``) or a ``*.csv`` with columns
    ``vehicle_id,type_id``. A type is an index into
    ``VEHICLE_TYPE_NAMES``, 0 (Sedan) to 10 (RV), as in Vehicle-X's
    ``finegrained_label.xml``. A folder holding only some of the splits
    loads those. Two folders of one split, or several label files, are
    refused rather than merged or one of them picked.

    The first load writes every feature, in one float32 array, to
    ``vehicle_x_cache.npy`` (with its index in ``vehicle_x_cache.json``);
    later loads map that file into memory, which takes seconds instead of
    reading tens of thousands of files. The cache is used only while every
    feature file keeps the size, modification time, change time and inode
    number it had when the cache was built: any write, rename, move or copy
    of a file (``cp -p``, ``rsync -a`` and ``tar`` included) sets its change
    time, which no tool can set back, so the cache is then rebuilt. Files
    changed within 2 s of the build are also compared by content (a
    BLAKE2 digest) on every use, since a file system's clock may not tick
    between a change and the read before it. A cache is rewritten through a
    temporary file renamed over the old one, so an array returned earlier
    keeps its values. A cache that cannot be read is rebuilt, with a
    warning naming it. Nothing else is written.

    Parameters
    ----------
    root : str or path-like
        The data folder.

    split : {"train", "val", "test"}, default=None
        Load only this split; ``None`` loads all.

    cache : bool, default=True
        Whether to use (and build) the cache.

    cache_dir : str or path-like, default=None
        Folder of the cache files, created if needed. ``None`` keeps them
        in ``root``, beside the split folders, or, where ``root`` cannot be
        written, in ``fuzzyprune/<name>-<hash of root's absolute path>``
        under the user's cache folder (``$XDG_CACHE_HOME``, else
        ``~/.cache``; ``~/Library/Caches`` on macOS; ``%LOCALAPPDATA%`` on
        Windows). Where no cache can be written the features are returned
        in memory, with a warning. Unused when ``cache`` is False; not an
        empty path, which would name the current folder.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields ``data`` (float32, n_samples x n_features; memory-mapped,
        read-only, when read from the cache), ``vehicle_id``, ``camera_id``,
        ``image_index`` (the ``NN`` of the file name), ``type``,
        ``color`` (``-1`` where unknown; only with an XML label file),
        ``split``, ``file_names``, ``type_names`` (the 11 names of
        ``VEHICLE_TYPE_NAMES``, which ``type`` indexes) and
        ``feature_names``.

    Raises
    ------
    ValueError
        If ``root`` or ``cache_dir`` is an empty path, naming it.
    FileNotFoundError
        If ``root`` is not a folder, holds no ``.npy`` file in its split
        folders, holds none of the requested ``split``, or has no label file.
    ValueError
        Naming the file or folder, for a malformed file name (its numbers
        must be ASCII digits), two feature files naming one image (the same
        vehicle, camera and image index, such as ``00001_c003_0.npy`` and
        ``00001_c003_00.npy``, or one name in two splits), a file or folder
        that cannot be read, a feature file that does not hold one row of
        finite real numbers (or as many as the others), a split held by two
        folders (``val/`` and ``valid/``), several label files, a label file
        that cannot be parsed, holds a number not written in ASCII digits
        (an optional sign and spaces around allowed), or gives a type
        outside 0 to 10 (or a colour below -1), or an image whose vehicle
        has no type in the label file.

    Warns
    -----
    UserWarning
        When a damaged cache is rebuilt, or no cache can be written.

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
    root = _folder(root)
    if cache_dir is not None:
        cache_dir = _folder(cache_dir, "cache_dir", "a folder, or None for the default")
    names, splits = _feature_files(root)
    # Plain strings: pathlib would take seconds for Vehicle-X's 77,516 files.
    files = [os.path.join(root, name) for name in names]
    if split is not None and split not in splits:
        raise FileNotFoundError(
            f"No {split!r} split in {str(root)!r}: expected .npy feature files "
            f"in {' or '.join(f'{name}/' for name in _SPLIT_FOLDERS[split])}."
        )
    identities = np.array([_parse_file_name(file) for file in files], dtype=np.int64)
    _refuse_duplicate_images(identities, files)
    types, colors = _read_labels(root, files, identities[:, 0])
    if cache:
        features = _cached_features(root, names, files, cache_dir)
    else:
        features = _read_features(files)[0]
    bunch = Bunch(
        data=features,
        vehicle_id=identities[:, 0],
        camera_id=identities[:, 1],
        image_index=identities[:, 2],
        type=types,
        color=colors,
        split=splits,
        file_names=np.array(names),
        type_names=list(VEHICLE_TYPE_NAMES),
        feature_names=_feature_names(features.shape[1]),
    )
    if split is not None:
        rows = splits == split
        keys = ("data", "vehicle_id", "camera_id", "image_index", "type", "color")
        for key in (*keys, "split", "file_names"):
            bunch[key] = bunch[key][rows]
    return bunch


def _feature_files(root):
    if not root.is_dir():
        raise FileNotFoundError(
            f"Vehicle-X folder {str(root)!r} does not exist or is not a folder."
        )
    files, splits = [], []
    for split, folders in _SPLIT_FOLDERS.items():
        present = [folder for folder in folders if (root / folder).is_dir()]
        if len(present) > 1:
            # Loading both would count a copied folder's images twice.
            raise ValueError(
                f"Vehicle-X folder {str(root)!r} holds "
                f"{' and '.join(f'{folder}/' for folder in present)}, all folders "
                f"of the {split!r} split; keep only one of them."
            )
        for folder in present:
            found = _list_feature_files(root, folder)
            files += found
            splits += [split] * len(found)
    if not files:
        raise FileNotFoundError(
            f"No .npy feature files in the split folders of {str(root)!r}: expected "
            "train/, val/ (or validation/, valid/) and test/ holding "
            "VVVVV_cCCC_NN.npy files."
        )
    return files, np.array(splits)


def _list_feature_files(root, folder):
    """List the .npy files in ``root/folder`` by their paths from ``root``."""
    # Path.glob skips a folder it cannot read; a split must not vanish so.
    try:
        with os.scandir(root / folder) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError as error:
        raise ValueError(
            f"Cannot list Vehicle-X folder {str(root / folder)!r}: {error}"
        ) from error
    return [f"{folder}/{name}" for name in names if name.endswith(".npy")]


def _parse_file_name(file):
    match = _FILE_NAME.fullmatch(os.path.basename(file))
    if match is None:
        raise ValueError(
            f"Malformed Vehicle-X file name {str(file)!r}: expected "
            "VVVVV_cCCC_NN.npy (vehicle id, camera id, image index, each of at "
            "most 18 digits)."
        )
    return tuple(int(group) for group in match.groups())


def _refuse_duplicate_images(identities, files):
    """Refuse two files naming one image: its features would count twice."""
    # "00001_c003_0" and "00001_c003_00" are one image, as are one name in
    # train/ and in test/, which would leak training images into the test.
    order = np.lexsort(identities.T[::-1])
    ordered = identities[order]
    same = np.flatnonzero((ordered[1:] == ordered[:-1]).all(axis=1))
    if same.size:
        first, second = files[order[same[0]]], files[order[same[0] + 1]]
        vehicle, camera, image = ordered[same[0]].tolist()
        raise ValueError(
            f"Vehicle-X feature files {first!r} and {second!r} both name image "
            f"{image} of vehicle {vehicle} from camera {camera}; keep only one."
        )


def _read_features(files, digested=frozenset()):
    """Read every feature file into one float32 array.

    Returns the array and the digests of the contents of the files whose
    positions are in ``digested``, taken from the very bytes read.
    """
    features, digests, layout = None, {}, None
    for row, file in enumerate(files):
        content = _read_bytes(file)
        if row in digested:
            digests[row] = _digest(content)
        if layout is not None and layout.fits(content):
            values = layout.values(content)
        else:
            values = _parse_feature_file(file, content)
            layout = _Layout.of(content, values)
        if features is None:
            features = np.empty((len(files), values.size), dtype=np.float32)
        elif values.size != features.shape[1]:
            raise ValueError(
                f"Vehicle-X feature file {str(file)!r} holds {values.size} values "
                f"but {str(files[0])!r} holds {features.shape[1]}; every file must "
                "hold the same number."
            )
        # Out-of-range values become infinite here and are refused below.
        with np.errstate(over="ignore", invalid="ignore"):
            features[row] = values
        if not np.isfinite(features[row]).all():
            raise ValueError(
                f"Vehicle-X feature file {str(file)!r} holds values that are not "
                "finite or beyond the float32 range."
            )
    return features, digests


class _Layout(NamedTuple):
    """Where the values lie in a .npy file, to read files written alike.

    Parsing a header takes most of the time of reading a small file, and
    files written alike have identical headers: a file of the same length
    and header bytes as one parsed holds the same shape and type of values.
    """

    header: bytes
    size: int
    dtype: np.dtype
    count: int

    @classmethod
    def of(cls, content, values):
        """Read the layout of a file parsed; None for a format not handled."""
        stream = io.BytesIO(content)
        version = np.lib.format.read_magic(stream)
        if version not in _HEADER_READERS:
            return None
        _HEADER_READERS[version](stream)
        return cls(content[: stream.tell()], len(content), values.dtype, values.size)

    def fits(self, content):
        return len(content) == self.size and content.startswith(self.header)

    def values(self, content):
        return np.frombuffer(content, self.dtype, self.count, len(self.header))


_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _read_bytes(file):
    try:
        with open(file, "rb") as opened:
            return opened.read()
    except OSError as error:
        raise ValueError(
            f"Cannot read Vehicle-X feature file {str(file)!r}: {error}"
        ) from error


def _digest(content):
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def _parse_feature_file(file, content):
    try:
        array = np.lib.format.read_array(io.BytesIO(content), allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(
            f"Cannot read Vehicle-X feature file {str(file)!r}: {error}"
        ) from error
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"Vehicle-X feature file {str(file)!r} holds an array of shape "
            f"{array.shape}; expected one row of features."
        )
    if array.dtype.kind not in "iuf":
        raise ValueError(
            f"Vehicle-X feature file {str(file)!r} holds {array.dtype} values; "
            "expected real numbers (integer or floating point)."
        )
    return array


class _Sources(NamedTuple):
    """The feature files as the cache sees them."""

    root: Path
    # Digest of every file's name, size, modification and change times and
    # inode number.
    stat_digest: str
    # Positions of the files changed too recently for their times to show a
    # change made in the same tick of the file system's clock.
    recent: frozenset


def _stat_sources(root, names, files):
    now = time.time_ns()
    lines, recent = [], []
    for row, (name, file) in enumerate(zip(names, files, strict=True)):
        try:
            stat = os.stat(file)
        except OSError as error:
            raise ValueError(
                f"Cannot read Vehicle-X feature file {file!r}: {error}"
            ) from error
        lines.append(
            f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0"
            f"{stat.st_ctime_ns}\0{stat.st_ino}"
        )
        if max(stat.st_mtime_ns, stat.st_ctime_ns) >= now - _SAME_TICK_NS:
            recent.append(row)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return _Sources(root, digest, frozenset(recent))


class _DamagedCacheError(Exception):
    """A cache file that cannot be read; the message names it."""


def _cache_paths(folder):
    return folder / f"{_CACHE_NAME}.npy", folder / f"{_CACHE_NAME}.json"


def _default_cache_folders(root):
    """List ``root`` and the user's cache folder for it, where there is one."""
    try:
        if os.name == "nt":
            base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData/Local"
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        else:
            # The XDG specification says to ignore a relative $XDG_CACHE_HOME.
            xdg = os.environ.get("XDG_CACHE_HOME", "")
            base = xdg if os.path.isabs(xdg) else Path.home() / ".cache"
    except RuntimeError:  # no home folder
        return [root]
    absolute = Path(os.path.abspath(root))
    key = hashlib.sha256(str(absolute).encode()).hexdigest()[:16]
    return [root, Path(base) / "fuzzyprune" / f"{absolute.name or 'root'}-{key}"]


def _cached_features(root, names, files, cache_dir):
    sources = _stat_sources(root, names, files)
    if cache_dir is None:
        folders = _default_cache_folders(root)
    else:
        folders = [Path(cache_dir)]
    damaged = []
    for folder in folders:
        try:
            features = _open_cache(folder, sources)
        except _DamagedCacheError as error:
            damaged.append(str(error))
            continue
        if features is not None:
            return features
    # Warned only now: a damaged cache in root is no matter when another
    # folder holds a good one.
    for message in damaged:
        warnings.warn(f"{message}; rebuilding it from the feature files.", stacklevel=4)
    features, digests = _read_features(files, sources.recent)
    index = {
        "format": _CACHE_FORMAT,
        "shape": list(features.shape),
        "sources": sources.stat_digest,
        "recent": {names[row]: digest for row, digest in digests.items()},
    }
    failures = []
    for folder in folders:
        try:
            return _write_cache(folder, features, index)
        except OSError as error:
            failures.append(f"{str(folder)!r} ({error})")
    warnings.warn(
        f"Cannot write the Vehicle-X feature cache in {' or '.join(failures)}; "
        "the features are loaded without it.",
        stacklevel=4,
    )
    return features


# Type of each field of a cache index.
_INDEX_FIELDS = {
    "format": int,
    "shape": list,
    "sources": str,
    "recent": dict,
    "array": list,
}


def _open_cache(folder, sources):
    """Map the cache in ``folder`` if it was built from ``sources``.

    Returns None if there is no cache there or it was built from other files
    (or by another version); raises ``_DamagedCacheError`` if it cannot be
    read.
    """
    array_path, index_path = _cache_paths(folder)
    if not (array_path.exists() and index_path.exists()):
        return None
    index = _read_index(index_path)
    if index is None or index["sources"] != sources.stat_digest:
        return None
    try:
        features = np.load(array_path, mmap_mode="r")
        identity = _array_identity(os.stat(array_path))
    except (OSError, ValueError, EOFError) as error:
        raise _DamagedCacheError(
            f"The Vehicle-X feature cache {str(array_path)!r} cannot be read ({error})"
        ) from error
    if features.dtype != np.float32 or list(features.shape) != index["shape"]:
        raise _DamagedCacheError(
            f"The Vehicle-X feature cache {str(array_path)!r} holds {features.dtype} "
            f"values of shape {features.shape} where its index {str(index_path)!r} "
            f"says float32 of shape {tuple(index['shape'])}"
        )
    # Another identity: the index was written for another build's array (a
    # crash between the two renames, or two builds at once).
    if identity != index["array"] or not _same_contents(sources.root, index["recent"]):
        return None
    return features


def _read_index(path):
    """Read the index in ``path``; None if another version wrote it."""
    try:
        index = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise _DamagedCacheError(
            f"The Vehicle-X feature cache index {str(path)!r} cannot be read ({error})"
        ) from error
    if isinstance(index, dict) and index.get("format") != _CACHE_FORMAT:
        return None
    if not (
        isinstance(index, dict)
        and set(index) == set(_INDEX_FIELDS)
        and all(isinstance(index[key], kind) for key, kind in _INDEX_FIELDS.items())
    ):
        raise _DamagedCacheError(
            f"The Vehicle-X feature cache index {str(path)!r} is not a valid index"
        )
    return index


def _same_contents(root, digests):
    """Whether each file named in ``digests`` still has its digest."""
    for name, digest in digests.items():
        try:
            content = (root / name).read_bytes()
        except OSError:
            return False
        if _digest(content) != digest:
            return False
    return True


def _array_identity(stat):
    # Kept by the rename into place, and told apart from any other build's.
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _write_cache(folder, features, index):
    """Write the cache into ``folder``; return the features mapped from it.

    Each file is written to a temporary file renamed over the old one, so a
    caller still mapping the old array keeps it unchanged; the index goes
    last and names the array's identity, so an index is never paired with
    an array built from other files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    array_path, index_path = _cache_paths(folder)
    with _replacing(array_path) as file:
        np.save(file, features)
        file.flush()
        identity = _array_identity(os.fstat(file.fileno()))
    with _replacing(index_path) as file:
        file.write(json.dumps({**index, "array": identity}).encode())
    mapped = np.load(array_path, mmap_mode="r")
    if _array_identity(os.stat(array_path)) != identity:
        # Another build has replaced the array since; these features are ours.
        return features
    return mapped


@contextlib.contextmanager
def _replacing(path):
    """Yield a new file beside ``path`` that replaces it if the block succeeds.

    As writing to ``path`` would, but whole or not at all: a symbolic link's
    target is replaced (the link stays), an existing file keeps its
    permissions, and a file without write permission is refused. Errors
    name ``path``, not the temporary file.
    """
    path = Path(os.path.realpath(path))
    mode = None
    if path.exists():
        if not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        mode = stat.S_IMODE(path.stat().st_mode)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    # os.open, unlike tempfile, gives the file the usual permissions.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(temporary, flags, 0o666)
    except OSError as error:
        raise type(error)(error.errno, error.strerror, str(path)) from error
    file = os.fdopen(descriptor, "wb")
    try:
        with file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _label_files(root):
    return sorted(root.glob("*.xml")) + sorted(root.glob("*.csv"))


def _read_labels(root, files, vehicle_ids):
    label_files = _label_files(root)
    if not label_files:
        raise FileNotFoundError(
            f"No label file in {str(root)!r}: expected a VeRi-style .xml or a .csv "
            "with columns vehicle_id,type_id."
        )
    if len(label_files) > 1:
        # Which one holds the types is the user's call, not a sort order's.
        raise ValueError(
            f"Vehicle-X folder {str(root)!r} holds several label files, "
            f"{', '.join(repr(path.name) for path in label_files)}; keep only one."
        )
    path = label_files[0]
    if path.suffix == ".xml":
        return _read_xml_labels(path, files)
    return _read_csv_labels(path, files, vehicle_ids), np.full(len(files), -1)


def _type_range_error(path, where, type_id):
    return ValueError(
        f"Label file {str(path)!r} gives {where} type {type_id}; types must be "
        f"integers from 0 to {len(VEHICLE_TYPE_NAMES) - 1}, indices into "
        "VEHICLE_TYPE_NAMES."
    )


def _read_xml_labels(path, files):
    try:
        items = ElementTree.parse(path).getroot().iter("Item")
    except (OSError, ElementTree.ParseError) as error:
        raise ValueError(f"Cannot parse label file {str(path)!r}: {error}") from error
    by_image = {}
    for item in items:
        stem = Path(item.get("imageName", "")).stem
        try:
            type_id = _integer(item.get("typeID"))
            color = _integer(item.get("colorID", "-1"))
        except ValueError as error:
            raise ValueError(
                f"Item {item.attrib} of label file {str(path)!r} needs an integer "
                "typeID (and colorID, if given)."
            ) from error
        if not 0 <= type_id < len(VEHICLE_TYPE_NAMES):
            raise _type_range_error(path, f"image {stem!r}", type_id)
        if not -1 <= color <= _MAX_INT64:
            raise ValueError(
                f"Label file {str(path)!r} gives image {stem!r} colour {color}; a "
                "colorID must be a non-negative 64-bit integer, or -1 for unknown."
            )
        by_image[stem] = (type_id, color)
    labels = []
    for file in files:
        stem = os.path.basename(file)[: -len(".npy")]
        if stem not in by_image:
            raise ValueError(
                f"Image {stem!r} of {str(file)!r} has no item in {str(path)!r}."
            )
        labels.append(by_image[stem])
    labels = np.array(labels, dtype=np.int64).reshape(-1, 2)
    return labels[:, 0], labels[:, 1]


def _read_csv_labels(path, files, vehicle_ids):
    table = _read_csv_table(path)
    bad = np.flatnonzero((table[:, 1] < 0) | (table[:, 1] >= len(VEHICLE_TYPE_NAMES)))
    if bad.size:
        raise _type_range_error(path, f"vehicle {table[bad[0], 0]}", table[bad[0], 1])
    pairs = np.unique(table, axis=0)
    vehicles, counts = np.unique(pairs[:, 0], return_counts=True)
    if (counts > 1).any():
        raise ValueError(
            f"Label file {str(path)!r} gives vehicle {vehicles[counts > 1][0]} "
            "several types."
        )
    position = np.minimum(np.searchsorted(pairs[:, 0], vehicle_ids), len(pairs) - 1)
    missing = np.flatnonzero(pairs[position, 0] != vehicle_ids)
    if missing.size:
        raise ValueError(
            f"The vehicle of {str(files[missing[0]])!r} has no type in {str(path)!r}."
        )
    return pairs[position, 1]


def _integer(text):
    """Read an integer written in ASCII digits, with optional sign and spaces."""
    if text is None or not _INTEGER_TEXT.fullmatch(text):
        raise ValueError(f"{text!r} is not an integer in ASCII digits")
    return int(text)


def _read_csv_table(path):
    """Read the (vehicle_id, type_id) rows of a CSV label file as integers."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            rows = [
                (_integer(row["vehicle_id"]), _integer(row["type_id"]))
                for row in reader
            ]
        table = np.array(rows, dtype=np.int64).reshape(-1, 2)
    except (
        OSError,
        csv.Error,
        KeyError,
        ValueError,
        OverflowError,
    ) as error:
        raise ValueError(
            f"Cannot read label file {str(path)!r}: expected columns "
            f"vehicle_id,type_id of integers, one row per vehicle ({error!r})."
        ) from error
    if table.size == 0:
        raise ValueError(f"Label file {str(path)!r} has no rows.")
    return table
