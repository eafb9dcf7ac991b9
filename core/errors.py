"""The exceptions brim raises for bad input.

Every user-facing error derives from :class:`BrimError` and says what was wrong and what to do.
Each also derives from the built-in exception a Python user would expect (``ValueError``,
``OSError``, ``ImportError``), so generic ``except`` clauses keep working.
"""

from __future__ import annotations

import math


class BrimError(Exception):
    """Base class of every error brim raises on purpose."""


class SchemaError(BrimError, ValueError):
    """A Dataset does not follow its brim schema (missing variable, dims, dtype, units, NaN...)."""


class FormatError(BrimError, ValueError):
    """A file is not in the format expected, or is truncated or corrupt."""


class MissingFileError(BrimError, FileNotFoundError):
    """An input file or folder does not exist."""


class CalibrationError(BrimError, ValueError):
    """Calibration data are missing, inconsistent or physically impossible."""


class ConfigError(BrimError, ValueError):
    """A parameter, option or configuration file is invalid."""


class BackendError(BrimError, RuntimeError):
    """An array backend (CuPy, torch) was asked for but is not usable here."""


class DependencyError(BrimError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class LeakageError(BrimError, ValueError):
    """An evaluation split leaks information between training and test data."""


class SolverError(BrimError, RuntimeError):
    """A numerical solver failed to converge or met a singular system."""


class ResourceError(BrimError, MemoryError):
    """A file declares more data than brim may allocate (see :mod:`brim.limits`)."""


class BrimWarning(UserWarning):
    """A suspicious but valid input: brim goes on, but the result may not mean what you think.

    Examples: a thermogram in which segmentation finds no breast, a strain map with many
    unreliable estimates, a classifier trained on very few patients. Silence one kind with
    ``warnings.filterwarnings("ignore", category=brim.BrimWarning, message="...")``; turn all of
    them into errors with ``python -W error::brim.BrimWarning`` (or pytest's ``-W``).
    """


def warn(message: str, *, category: type[Warning] = BrimWarning) -> None:
    """Issue a warning attributed to the first caller outside brim.

    The warning's file and line are those of the user's code that called into brim, whatever
    the depth of brim's own calls (decorators such as :func:`brim.provenance.step`, helpers)
    in between: Python 3.12's ``warnings.warn(skip_file_prefixes=...)``, for Python 3.11.

    Parameters
    ----------
    message : str
        One sentence: what is suspicious, the number that shows it, and the bound it crossed.
    category : type of Warning
        :class:`BrimWarning` (default) for a suspicious input; e.g. ``DeprecationWarning``
        for an old spelling.

    Returns
    -------
    None

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("strain map: 40 % of the estimates are outliers (above 10 %)")
    >>> caught[0].category.__name__, caught[0].filename.endswith("errors.py")
    ('BrimWarning', False)
    """
    import os
    import sys
    import types
    import warnings

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    level = 2  # stacklevel 2 is the frame that called warn()
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)


def check_positive(name: str, value, *, integer: bool = False):
    """``value`` as a finite number > 0 (an int >= 1 with ``integer=True``), or ConfigError.

    Parameters
    ----------
    name : str
        The parameter's name, used in the message.
    value : float or int
        The value to check.
    integer : bool
        Require a whole number (e.g. a sample count).

    Returns
    -------
    float or int
        The value (an int with ``integer=True``).

    Raises
    ------
    ConfigError
        Not a finite number > 0 (or not a whole number).

    Examples
    --------
    >>> check_positive("n_workers", "4", integer=True)
    4
    >>> check_positive("timeout", -1)
    Traceback (most recent call last):
    ...
    brim.errors.ConfigError: timeout must be a finite number > 0, got -1
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v > 0) or (integer and not v.is_integer()):
        kind = "a positive integer" if integer else "a finite number > 0"
        raise ConfigError(f"{name} must be {kind}, got {value!r}")
    return int(v) if integer else v


def check_vector(name: str, values, *, increasing: bool = False):
    """``values`` as a non-empty 1-D float array of finite numbers, or ConfigError.

    Parameters
    ----------
    name : str
        The parameter's name, used in the message.
    values : array_like
        The values to check (an image axis, candidate delays...).
    increasing : bool
        Also require strictly increasing values.

    Returns
    -------
    numpy.ndarray
        The values as float64.

    Raises
    ------
    ConfigError
        Empty, not 1-D, non-finite, or (with ``increasing``) not strictly increasing.

    Examples
    --------
    >>> check_vector("depth", [0.01, 0.02], increasing=True).tolist()
    [0.01, 0.02]
    """
    import numpy as np

    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ConfigError(f"{name} must be a non-empty 1-D array")
    if not np.all(np.isfinite(v)):
        raise ConfigError(f"{name} contains NaN or infinite values")
    if increasing and not np.all(np.diff(v) > 0):
        raise ConfigError(f"{name} must be strictly increasing")
    return v


def require(module: str, extra: str):
    """Import an optional dependency or raise :class:`DependencyError` naming the extra.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"torch"``.
    extra : str
        The brim extra that provides it, e.g. ``"dl"``.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    DependencyError
        Not installed; the message names the ``pip install 'brim[extra]'`` that fixes it.

    Examples
    --------
    >>> require("json", "core").__name__
    'json'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyError(
            f"{module!r} is needed for this feature but is not installed; "
            f"install it with: pip install 'brim[{extra}]'"
        ) from exc


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when the message is empty.

    For one-line reports of errors raised by other libraries (a reader that refused a file, a
    header parser), whose messages may run over several lines or be empty.

    Parameters
    ----------
    exc : BaseException
        Any exception.

    Returns
    -------
    str
        One line of text.

    Examples
    --------
    >>> first_line(ValueError("bad header\\nat byte 12")), first_line(EOFError())
    ('bad header', 'EOFError')
    """
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
