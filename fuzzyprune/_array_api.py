"""Array namespaces: which library an input belongs to, and moving between them.

With ``sklearn.config_context(array_api_dispatch=True)``, inputs from any
library implementing the array API standard (torch on CPU or GPU, CuPy,
array-api-strict) are computed on in their own namespace and device. NumPy
inputs, and every input without dispatch, keep the NumPy code paths.
"""

import numpy as np
import scipy.sparse as sp
from sklearn import get_config

from ._sklearn_compat import array_device as _array_device
from ._sklearn_compat import array_namespace, get_namespace, is_array_api_obj
from ._sklearn_compat import device as _device

# Names of the NumPy namespaces scikit-learn hands out: NumPy itself and the
# array API wrappers of it.
_NUMPY_NAMESPACES = {
    "numpy",
    "array_api_compat.numpy",
    "sklearn.externals.array_api_compat.numpy",
}


def is_numpy_namespace(xp):
    """Whether ``xp`` is NumPy or a wrapper of it (not array-api-strict)."""
    return xp.__name__ in _NUMPY_NAMESPACES


def namespace(*arrays):
    """Return the namespace of ``arrays`` and whether it is one of NumPy's.

    Without array API dispatch, or for lists, sparse matrices and NumPy
    arrays, this is a NumPy namespace.

    Raises
    ------
    TypeError
        If dispatch is on and the arrays come from different namespaces.
    """
    xp, _ = get_namespace(*[a for a in arrays if not sp.issparse(a)])
    return xp, is_numpy_namespace(xp)


def numpy_namespace():
    """Return the array API namespace of NumPy arrays."""
    return get_namespace(np.empty(0))[0]


def device(array):
    """Return the device of an array, ``None`` for NumPy data."""
    return _device(array)


def float_dtype(xp, device):
    """Return float64 where the namespace supports it on ``device``, else float32.

    Quantities that NumPy computes in float64 (squared distances, log weights,
    weighted sums) are computed in this type.
    """
    if is_numpy_namespace(xp):
        return xp.float64
    info = getattr(xp, "__array_namespace_info__", None)
    if info is None:
        return xp.float64
    return xp.float64 if "float64" in info().dtypes(device=device) else xp.float32


def scalar_like(value, array, xp):
    """Return ``value`` as a 0-d array of ``array``'s type, on its device."""
    return xp.asarray(value, dtype=array.dtype, device=_array_device(array))


def nonnegative(values, xp):
    """Return ``max(values, 0)`` elementwise, in ``values``' namespace.

    The zero is a 0-d array: torch's ``maximum`` takes no Python scalar, and
    the wrappers' ``where`` and ``clip`` are several times slower on NumPy.
    """
    return xp.maximum(values, scalar_like(0.0, values, xp))


def _to_numpy(array, xp):
    """Return a NumPy copy of an array of namespace ``xp`` on any device."""
    name = xp.__name__
    if "torch" in name:
        array = array.detach().cpu()
        # NumPy has no bfloat16: such values are exact in float32.
        return (
            array.float() if str(array.dtype) == "torch.bfloat16" else array
        ).numpy()
    if "cupy" in name:
        return array.get()
    if "array_api_strict" in name:
        return np.asarray(xp.asarray(array, device=xp.Device("CPU_DEVICE")))
    return np.asarray(array)


def to_numpy(array):
    """Return ``array`` (of any namespace, on any device) as a NumPy array.

    Anything that is not an array of another namespace (lists, sparse
    matrices, scalars, ``None``) is returned unchanged.
    """
    if isinstance(array, np.ndarray) or not is_array_api_obj(array):
        return array
    return _to_numpy(array, array_namespace(array))


def move_to(array, xp, device):
    """Return ``array`` in namespace ``xp`` on ``device``; unchanged if it is.

    Small arrays only (sample weights, initial centers, labels): arrays of
    another namespace or device go through the host. A device without
    float64 takes float64 values as float32.
    """
    if array is None:
        return None
    source, is_numpy = namespace(array)
    if source is xp and _device(array) == device:
        return array
    host = np.asarray(array) if is_numpy else _to_numpy(array, source)
    if host.dtype == np.float64 and float_dtype(xp, device) == xp.float32:
        host = host.astype(np.float32)
    elif not host.flags.writeable:
        # Libraries that share NumPy's memory (torch) warn about read-only
        # arrays; a copy of a small array costs nothing.
        host = host.copy()
    return xp.asarray(host, device=device)


def prepared(array, name):
    """Return an input array ready for computing, or refuse it.

    A torch tensor that requires grad is detached: estimators compute no
    gradients, and a graph of every iteration would hold all their
    temporaries. Arrays without values (torch's "meta" device) and sparse
    torch tensors are refused. Anything else is returned as it is.

    Raises
    ------
    ValueError
        If the array is on the "meta" device.
    TypeError
        If it is a sparse torch tensor.
    """
    if isinstance(array, np.ndarray) or not is_array_api_obj(array):
        return array
    if getattr(array, "requires_grad", False):
        array = array.detach()
    if getattr(array, "is_meta", False):
        raise ValueError(
            f"{name} is on the 'meta' device, which holds no values; pass data "
            "on a CPU or GPU device."
        )
    layout = str(getattr(array, "layout", "torch.strided"))
    if layout != "torch.strided":
        raise TypeError(
            f"{name} is a sparse torch tensor ({layout}); pass a dense tensor, "
            "or a SciPy CSR matrix (which takes the NumPy path)."
        )
    return array


def _library(array):
    """Return the name of an array's library and its device, for messages."""
    if isinstance(array, np.ndarray) or not is_array_api_obj(array):
        return "numpy"
    name = array_namespace(array).__name__.rsplit(".", 1)[-1]
    return f"{name} on device {_array_device(array)}"


def check_same_namespace(X, estimator, attribute, method):
    """Refuse ``X`` from another namespace or device than a fitted attribute.

    Raises
    ------
    ValueError
        If ``X`` and ``estimator.<attribute>`` are in different namespaces or
        on different devices (NumPy data and lists pass for NumPy fits), or
        if the estimator was fitted on arrays of another library and array
        API dispatch is off.
    """
    fitted = getattr(estimator, attribute)
    fitted_is_numpy = isinstance(fitted, np.ndarray) or not is_array_api_obj(fitted)
    called = f"{type(estimator).__name__}.{method}()"
    if not (fitted_is_numpy or get_config()["array_api_dispatch"]):
        raise ValueError(
            f"{called}: the estimator was fitted on {_library(fitted)} under "
            "array API dispatch; call it within "
            "sklearn.config_context(array_api_dispatch=True), or fit again on "
            "NumPy data."
        )
    fitted_xp, _ = namespace(fitted)
    X_xp, X_is_numpy = namespace(X)
    if fitted_is_numpy and X_is_numpy:
        return
    if fitted_xp is X_xp and _device(fitted) == _device(X):
        return
    raise ValueError(
        f"Inputs passed to {called} must use the same namespace and the same "
        f"device as those passed to fit(): fitted on {_library(fitted)}, given "
        f"{_library(X)}. Fit again on data of the library and device to "
        "predict on."
    )
