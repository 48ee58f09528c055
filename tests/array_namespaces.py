"""The array libraries the array API tests run on, and NumPy data put there.

Each name is a library on a device: torch on the CPU or a CUDA GPU, CuPy,
and array-api-strict on its default device or on "device1", which can be
neither read as a NumPy array nor combined with arrays of another device,
so that a function moving an input to the host, or leaving one there,
fails on it. Names whose library or device is missing are skipped.
"""

import pytest

# On this machine's CPU first, then on a GPU where there is one.
NAMESPACES = ["torch", "strict", "strict-device1", "torch-cuda", "cupy"]


def converter(name):
    """Return a function putting NumPy arrays in the library ``name``."""
    if name.startswith("torch"):
        torch = pytest.importorskip("torch")
        if name == "torch-cuda" and not torch.cuda.is_available():
            pytest.skip("no CUDA device")
        where = "cuda" if name == "torch-cuda" else "cpu"
        return lambda array: torch.asarray(array, device=where)
    if name == "cupy":
        cupy = pytest.importorskip("cupy")
        try:
            cupy.cuda.runtime.getDeviceCount()
        except cupy.cuda.runtime.CUDARuntimeError:
            pytest.skip("no CUDA device")
        return cupy.asarray
    xps = pytest.importorskip("array_api_strict")
    where = xps.Device("device1" if name == "strict-device1" else "CPU_DEVICE")
    return lambda array: xps.asarray(array, device=where)


def to_namespace(name, array):
    """Return the NumPy ``array`` in the library ``name``."""
    return converter(name)(array)
