"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU, torch for learning.

Kernels are plain functions on arrays whose backend follows the input
(:func:`array_api_compat.array_namespace`). CuPy is used only when
``cupy.is_available()`` says a usable GPU is present, never merely because it imports.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np

from brim.errors import BackendError, ConfigError

BackendName = Literal["numpy", "cupy", "torch"]
_ALIASES = {
    "numpy": "numpy",
    "cpu": "numpy",
    "numba": "numpy",
    "cupy": "cupy",
    "gpu": "cupy",
    "cuda": "cupy",
    "torch": "torch",
}


@functools.cache
def cupy_available() -> bool:
    """Return True when CuPy imports *and* sees a usable CUDA device.

    Returns
    -------
    bool
        Cached for the process.
    """
    try:
        import cupy
    except Exception:
        return False
    try:
        return bool(cupy.is_available())
    except Exception:
        return False


def _type_from(x: Any, package: str) -> bool:
    """Whether the type of ``x`` is defined in ``package``, read off the type's module name so
    that the package need not be imported (nor installed)."""
    return type(x).__module__.split(".")[0] == package


def is_cupy_array(x: Any) -> bool:
    """True for a ``cupy.ndarray`` (checked without importing CuPy).

    Parameters
    ----------
    x : object
        Any value; NumPy arrays and torch tensors (on the GPU too) give False.

    Returns
    -------
    bool
        Whether the type of ``x`` comes from the ``cupy`` package.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.backend import is_cupy_array
    >>> is_cupy_array(np.zeros(3)), is_cupy_array([1.0, 2.0])
    (False, False)
    """
    return _type_from(x, "cupy")


def is_torch_tensor(x: Any) -> bool:
    """True for a ``torch.Tensor`` (checked without importing torch).

    Parameters
    ----------
    x : object
        Any value; a NumPy array, even one sharing memory with a tensor, gives False.

    Returns
    -------
    bool
        Whether the type of ``x`` comes from the ``torch`` package: a tensor, or a subclass
        such as ``torch.nn.Parameter``.

    Examples
    --------
    Usable where torch is an optional extra that may not be installed:

    >>> import numpy as np
    >>> from brim.backend import is_torch_tensor
    >>> is_torch_tensor(np.zeros(3))
    False
    """
    return _type_from(x, "torch")


def namespace(*arrays: Any):
    """Array-API namespace of the inputs (NumPy, CuPy or torch), via ``array_api_compat``.

    Parameters
    ----------
    *arrays : array
        The inputs; None and Python scalars are ignored.

    Returns
    -------
    module
        The array-API namespace (NumPy's when no array is given).

    Raises
    ------
    BackendError
        The inputs mix array libraries or are not arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.backend import namespace
    >>> xp = namespace(np.zeros(3), None, 2.0)
    >>> float(xp.sum(xp.ones(4)))
    4.0
    """
    import array_api_compat

    present = [a for a in arrays if a is not None and not np.isscalar(a)]
    if not present:
        return array_api_compat.array_namespace(np.empty(0))
    try:
        return array_api_compat.array_namespace(*present)
    except TypeError as exc:
        raise BackendError(f"inputs mix array libraries or are not arrays: {exc}") from exc


def backend_of(x: Any) -> BackendName:
    """Name of the backend an array lives on: ``"numpy"``, ``"cupy"`` or ``"torch"``.

    Parameters
    ----------
    x : array
        Any array (anything that is neither CuPy nor torch counts as NumPy).

    Returns
    -------
    {"numpy", "cupy", "torch"}

    Examples
    --------
    >>> from brim.backend import backend_of
    >>> backend_of([1.0, 2.0])
    'numpy'
    """
    if is_cupy_array(x):
        return "cupy"
    if is_torch_tensor(x):
        return "torch"
    return "numpy"


def resolve_backend(backend: str | None, *arrays: Any) -> BackendName:
    """Choose the backend for a kernel call.

    Parameters
    ----------
    backend : {None, "numpy", "cpu", "numba", "cupy", "gpu", "cuda", "torch"}
        ``None`` follows the array inputs (all must live on one backend); a name forces that
        backend.
    *arrays
        The kernel's array inputs.

    Returns
    -------
    {"numpy", "cupy", "torch"}
        The canonical backend name.

    Raises
    ------
    BackendError
        CuPy asked for but no GPU is usable, torch asked for but not installed, or (with
        ``backend=None``) the inputs live on different backends.
    ConfigError
        Unknown backend name.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.backend import resolve_backend
    >>> resolve_backend(None, np.zeros(2)), resolve_backend("cpu")
    ('numpy', 'numpy')
    """
    if backend is None:
        found = {backend_of(a) for a in arrays if a is not None and not np.isscalar(a)}
        if len(found) > 1:
            raise BackendError(
                f"inputs live on different backends ({', '.join(sorted(found))}); move them to "
                "one first (brim.backend.to_device or ds.brim.to_device)"
            )
        return found.pop() if found else "numpy"
    try:
        name = _ALIASES[str(backend).lower()]
    except KeyError:
        raise ConfigError(
            f"unknown backend {backend!r}; use one of 'numpy', 'cupy' or 'torch'"
        ) from None
    if name == "cupy" and not cupy_available():
        raise BackendError(
            "backend 'cupy' was requested but no CUDA GPU is usable here; install "
            "'brim[gpu]' on a machine with an NVIDIA GPU, or use backend='numpy'"
        )
    if name == "torch":
        from brim.errors import require

        require("torch", "dl")
    return name  # type: ignore[return-value]


def tensor_to_numpy(t: Any) -> np.ndarray:
    """A NumPy array from a ``torch.Tensor`` (detached, on the host, conjugation resolved).

    A view of the tensor's memory when it is already a plain CPU tensor; a copy otherwise.
    Uses only tensor methods, so torch is not imported here.

    Parameters
    ----------
    t : torch.Tensor
        Any tensor, on any device, with or without gradient.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype.
    """
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    t = t.resolve_conj().resolve_neg()
    return t.numpy()


def to_numpy(x: Any) -> np.ndarray:
    """Copy or view any supported array as a NumPy array on the host.

    Parameters
    ----------
    x : array
        A NumPy, CuPy or torch array (or anything :func:`numpy.asarray` takes).

    Returns
    -------
    numpy.ndarray
        A view where possible, a copy from a GPU.

    Examples
    --------
    >>> from brim.backend import to_numpy
    >>> to_numpy([1, 2]).tolist()
    [1, 2]
    """
    if is_cupy_array(x):
        return x.get()
    if is_torch_tensor(x):
        return tensor_to_numpy(x)
    return np.asarray(x)


def to_device(x: Any, device: str) -> Any:
    """Move an array to ``"cpu"`` (NumPy) or ``"cuda"``/``"gpu"`` (CuPy).

    torch tensors stay torch tensors and move with ``.to(device)``.

    Parameters
    ----------
    x : array
        A NumPy, CuPy or torch array.
    device : {"cpu", "cuda", "gpu"}
        Where the array should live.

    Returns
    -------
    array
        NumPy on ``"cpu"``, CuPy on ``"cuda"`` (a torch tensor stays torch).

    Raises
    ------
    ConfigError
        Unknown device name.
    BackendError
        ``"cuda"`` asked for but no GPU is usable.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.backend import to_device
    >>> type(to_device(np.zeros(2), "cpu")).__name__
    'ndarray'
    """
    name = _ALIASES.get(str(device).lower())
    if name not in ("numpy", "cupy"):
        raise ConfigError(f"unknown device {device!r}; use 'cpu' or 'cuda'")
    if is_torch_tensor(x):
        return x.to("cuda" if name == "cupy" else "cpu")
    if name == "numpy":
        return to_numpy(x)
    if not cupy_available():
        raise BackendError(
            "device 'cuda' was requested but no CUDA GPU is usable here (cupy.is_available() "
            "is False); keep the data on 'cpu'"
        )
    import cupy

    return cupy.asarray(x)


def asarray_like(x: Any, like: Any, dtype=None) -> Any:
    """Convert ``x`` to the backend (and device) of ``like``.

    Parameters
    ----------
    x : array
        The values.
    like : array
        An array on the target backend (NumPy, CuPy or torch) and device.
    dtype : dtype, optional
        The result's dtype (default: kept).

    Returns
    -------
    array
        ``x`` as an array of ``like``'s library, on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.backend import asarray_like
    >>> asarray_like([1, 2], np.zeros(1), dtype=np.float32).dtype
    dtype('float32')
    """
    kind = backend_of(like)
    if kind == "numpy":
        return np.asarray(to_numpy(x), dtype=dtype)
    if kind == "cupy":
        import cupy

        return cupy.asarray(x, dtype=dtype)
    import torch

    t = torch.as_tensor(to_numpy(x) if not is_torch_tensor(x) else x, device=like.device)
    return t if dtype is None else t.to(dtype)
