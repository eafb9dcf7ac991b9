"""Dielectric models of breast tissue: Debye and Cole–Cole dispersion, Lazebnik et al. 2007 sets.

Convention (all of brim): engineering time dependence ``exp(+j*omega*t)``, so a lossy medium has a
negative imaginary part,

.. math::

    \\varepsilon_r(\\omega) = \\varepsilon' - j\\varepsilon''
        = \\varepsilon_\\infty + \\frac{\\Delta\\varepsilon}{1 + (j\\omega\\tau)^{1-\\alpha}}
          + \\frac{\\sigma_s}{j\\omega\\varepsilon_0},

and the effective conductivity is :math:`\\sigma = \\omega\\varepsilon_0\\varepsilon''` (S/m).

Parameter sets
--------------
Single-pole Cole–Cole fits over 0.5–20 GHz of the large-scale ex-vivo study of the University of
Wisconsin–Madison / University of Calgary group:

* adipose (group 3, 85–100 % adipose tissue) and fibroglandular (group 1, 0–30 % adipose tissue):
  median, 25th and 75th percentile curves, Lazebnik et al. 2007a, *Phys. Med. Biol.* 52, 2637,
  table 3 (the same numbers are the ones distributed with the UWCEM numerical breast phantom
  repository, Zastrow et al. 2008, IEEE TBME 55, 2792);
* malignant (samples with at least 30 % malignant tissue): median curve, Lazebnik et al. 2007b,
  *Phys. Med. Biol.* 52, 6093 (cancer-surgery study), table of Cole–Cole parameters.

Only the median malignant curve could be verified against an independent copy; the malignant
percentile curves are not shipped (asking for them raises :class:`~brim.errors.ConfigError`)
rather than risk wrong numbers.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import scipy.constants
from numpy.typing import ArrayLike

from brim.deprecation import positional_options
from brim.errors import ConfigError

EPS0 = scipy.constants.epsilon_0
"""Vacuum permittivity in F/m (CODATA, through :mod:`scipy.constants`)."""
C0 = scipy.constants.c
"""Speed of light in vacuum in m/s (exact)."""

__all__ = [
    "C0",
    "EPS0",
    "LAZEBNIK_2007",
    "ColeColeParameters",
    "cole_cole",
    "conductivity",
    "debye",
    "effective_wave_speed",
    "lazebnik_parameters",
    "lazebnik_permittivity",
    "tissues",
]


@dataclass(frozen=True)
class ColeColeParameters:
    """One single-pole Cole–Cole parameter set.

    Attributes
    ----------
    eps_inf : float
        High-frequency relative permittivity (1).
    delta_eps : float
        Dispersion magnitude (1).
    tau_s : float
        Relaxation time in seconds.
    alpha : float
        Cole–Cole broadening exponent (1); 0 is a Debye pole.
    sigma_s : float
        Static ionic conductivity in S/m.
    source : str
        Citation of the table the values come from.
    """

    eps_inf: float
    delta_eps: float
    tau_s: float
    alpha: float
    sigma_s: float
    source: str = ""

    def as_dict(self) -> dict:
        """Parameters as a plain dict (JSON-friendly).

        Returns
        -------
        dict
            The five parameters (SI units) and ``source``; ``ColeColeParameters(**d)`` rebuilds
            the set.
        """
        return asdict(self)


_T2637 = "Lazebnik et al. 2007a, Phys. Med. Biol. 52, 2637, table 3"
_T6093 = "Lazebnik et al. 2007b, Phys. Med. Biol. 52, 6093, Cole-Cole table (malignant median)"

LAZEBNIK_2007: dict[tuple[str, int], ColeColeParameters] = {
    # group 3: 85-100 % adipose tissue
    ("adipose", 25): ColeColeParameters(2.908, 1.200, 16.88e-12, 0.069, 0.020, _T2637),
    ("adipose", 50): ColeColeParameters(3.140, 1.708, 14.65e-12, 0.061, 0.036, _T2637),
    ("adipose", 75): ColeColeParameters(4.031, 3.654, 14.12e-12, 0.055, 0.083, _T2637),
    # group 1: 0-30 % adipose tissue (glandular and fibroconnective)
    ("fibroglandular", 25): ColeColeParameters(9.941, 26.60, 10.90e-12, 0.003, 0.462, _T2637),
    ("fibroglandular", 50): ColeColeParameters(7.821, 41.48, 10.66e-12, 0.047, 0.713, _T2637),
    ("fibroglandular", 75): ColeColeParameters(6.151, 48.26, 10.26e-12, 0.049, 0.809, _T2637),
    # at least 30 % malignant tissue (invasive/non-invasive ductal and lobular carcinomas)
    ("malignant", 50): ColeColeParameters(6.749, 50.09, 10.50e-12, 0.051, 0.794, _T6093),
}
"""Lazebnik et al. 2007 single-pole Cole–Cole sets keyed by ``(tissue, percentile)``."""

_ALIASES = {
    "adipose": "adipose",
    "fat": "adipose",
    "fatty": "adipose",
    "fibroglandular": "fibroglandular",
    "glandular": "fibroglandular",
    "fibroconnective": "fibroglandular",
    "malignant": "malignant",
    "tumor": "malignant",
    "tumour": "malignant",
}


def tissues() -> list[str]:
    """Names of the tissues with Lazebnik 2007 parameter sets (aliases not included).

    Returns
    -------
    list of str
        Sorted tissue names.

    Examples
    --------
    >>> from brim.microwave.tissue import tissues
    >>> tissues()
    ['adipose', 'fibroglandular', 'malignant']
    """
    return sorted({t for t, _ in LAZEBNIK_2007})


def renamed_freq(fn):
    """Keep the keyword ``freq_hz=`` of earlier releases working, renamed ``freq`` (the spelling
    of brim's schemas and of most of brim.microwave), with a ``DeprecationWarning``.

    Parameters
    ----------
    fn : callable
        A function with a ``freq`` parameter.

    Returns
    -------
    callable
        The wrapped function.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "freq_hz" in kwargs:
            if "freq" in kwargs:
                raise ConfigError("give freq= only (freq_hz= is its deprecated spelling)")
            warnings.warn(
                f"{fn.__name__}(freq_hz=...) is renamed freq=; the old keyword will be removed in "
                "the next release",
                DeprecationWarning,
                stacklevel=2,
            )
            kwargs["freq"] = kwargs.pop("freq_hz")
        return fn(*args, **kwargs)

    return wrapper


def _freq(freq) -> np.ndarray:
    f = np.asarray(freq, dtype=float)
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise ConfigError("frequencies must be finite and > 0 Hz (pass them in Hz, not GHz)")
    return f


@renamed_freq
def cole_cole(
    freq: ArrayLike, eps_inf: float, delta_eps: float, tau_s: float, alpha: float, sigma_s: float
) -> np.ndarray:
    """Single-pole Cole–Cole complex relative permittivity.

    Parameters
    ----------
    freq : array_like
        Frequencies in Hz (> 0).
    eps_inf : float
        High-frequency relative permittivity.
    delta_eps : float
        Dispersion magnitude.
    tau_s : float
        Relaxation time in s.
    alpha : float
        Broadening exponent, ``0 <= alpha < 1`` (0 gives a Debye pole).
    sigma_s : float
        Static conductivity in S/m.

    Returns
    -------
    ndarray of complex128
        :math:`\\varepsilon_r = \\varepsilon' - j\\varepsilon''` with the ``exp(+jwt)`` convention
        (imaginary part <= 0 for a passive medium), same shape as ``freq``.

    References
    ----------
    K. S. Cole and R. H. Cole, J. Chem. Phys. 9, 341 (1941).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import cole_cole
    >>> np.round(cole_cole([1e9, 5e9], 4.0, 6.0, 1e-11, 0.1, 0.5), 2)
    array([9.88-9.46j, 9.13-3.49j])
    """
    if not 0.0 <= alpha < 1.0:
        raise ConfigError(f"Cole-Cole alpha must satisfy 0 <= alpha < 1, got {alpha}")
    if tau_s <= 0:
        raise ConfigError(f"relaxation time tau_s must be > 0 s, got {tau_s}")
    w = 2.0 * np.pi * _freq(freq)
    eps = eps_inf + delta_eps / (1.0 + (1j * w * tau_s) ** (1.0 - alpha))
    return eps + sigma_s / (1j * w * EPS0)


@renamed_freq
def debye(
    freq: ArrayLike, eps_inf: float, delta_eps: float, tau_s: float, sigma_s: float
) -> np.ndarray:
    """Single-pole Debye complex relative permittivity (Cole–Cole with ``alpha = 0``).

    Parameters
    ----------
    freq : array_like
        Frequencies in Hz.
    eps_inf : float
        Permittivity at infinite frequency (1).
    delta_eps : float
        Magnitude of the dispersion (1).
    tau_s : float
        Relaxation time in s.
    sigma_s : float
        Static ionic conductivity in S/m.

    Returns
    -------
    ndarray of complex
        ``eps' - j*eps''`` per frequency (``exp(+jwt)``).

    Examples
    --------
    >>> from brim.microwave import debye
    >>> complex(debye(0.0 + 1e-30, 4.0, 6.0, 1e-11, 0.0)).real  # static limit eps_inf + delta
    10.0

    References
    ----------
    P. Debye, *Polar Molecules* (1929).
    """
    return cole_cole(freq, eps_inf, delta_eps, tau_s, 0.0, sigma_s)


def lazebnik_parameters(tissue: str, *, percentile: int = 50) -> ColeColeParameters:
    """The Lazebnik et al. 2007 Cole–Cole parameter set of one tissue and percentile curve.

    Parameters
    ----------
    tissue : str
        ``"adipose"`` (alias ``fat``), ``"fibroglandular"`` (aliases ``glandular``,
        ``fibroconnective``) or ``"malignant"`` (aliases ``tumor``, ``tumour``).
    percentile : {25, 50, 75}
        Which curve; 50 is the median. Malignant tissue has only the median here.

    Returns
    -------
    ColeColeParameters
        The published parameters (``eps_inf``, ``delta_eps``, ``tau_s``, ``alpha``,
        ``sigma_s``).
    """
    key = _ALIASES.get(str(tissue).lower())
    if key is None:
        raise ConfigError(f"unknown tissue {tissue!r}; use one of {sorted(_ALIASES)}")
    try:
        return LAZEBNIK_2007[(key, int(percentile))]
    except KeyError:
        have = sorted(p for t, p in LAZEBNIK_2007 if t == key)
        raise ConfigError(
            f"no Lazebnik 2007 {percentile}th-percentile curve for {key!r} in brim; "
            f"available percentiles: {have}"
        ) from None


@renamed_freq
def lazebnik_permittivity(tissue: str, freq: ArrayLike, *, percentile: int = 50) -> np.ndarray:
    """Complex relative permittivity of breast tissue from Lazebnik et al. 2007.

    Parameters
    ----------
    tissue : str
        See :func:`lazebnik_parameters`.
    freq : array_like
        Frequencies in Hz. The fits are valid from 0.5 to 20 GHz.
    percentile : {25, 50, 75}
        Percentile curve (50: median).

    Returns
    -------
    ndarray of complex128
        ``eps' - j*sigma/(omega*eps0)``, shape of ``freq``.

    References
    ----------
    M. Lazebnik et al., Phys. Med. Biol. 52, 2637 (2007), table 3;
    M. Lazebnik et al., Phys. Med. Biol. 52, 6093 (2007).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import lazebnik_permittivity
    >>> np.round(lazebnik_permittivity("adipose", [1e9, 6e9]), 2)
    array([4.81-0.82j, 4.39-0.79j])
    """
    p = lazebnik_parameters(tissue, percentile=percentile)
    return cole_cole(freq, p.eps_inf, p.delta_eps, p.tau_s, p.alpha, p.sigma_s)


def _eps_of(eps_or_tissue, freq, percentile) -> tuple[np.ndarray, np.ndarray]:
    f = _freq(freq)
    if isinstance(eps_or_tissue, str):
        return lazebnik_permittivity(eps_or_tissue, f, percentile=percentile), f
    eps = np.asarray(eps_or_tissue)
    return eps.astype(complex), f


@renamed_freq
def conductivity(
    eps_or_tissue: ArrayLike | str, freq: ArrayLike, *, percentile: int = 50
) -> np.ndarray:
    """Effective conductivity ``sigma = omega * eps0 * eps''`` in S/m.

    Parameters
    ----------
    eps_or_tissue : array_like of complex or str
        Complex relative permittivity (``exp(+jwt)`` convention) or a tissue name for
        :func:`lazebnik_permittivity`.
    freq : array_like
        Frequencies in Hz, broadcastable against the permittivity.
    percentile : int
        Percentile curve when a tissue name is given.

    Returns
    -------
    ndarray
        Conductivity in S/m.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import conductivity
    >>> np.round(conductivity("malignant", [1e9, 6e9]), 3)
    array([1.001, 6.378])
    >>> round(float(conductivity(10 - 2j, 1e9)), 4)  # omega * eps0 * eps''
    0.1113
    """
    eps, f = _eps_of(eps_or_tissue, freq, percentile)
    return -2.0 * np.pi * f * EPS0 * eps.imag


@positional_options
@renamed_freq
def effective_wave_speed(
    eps_or_tissue: ArrayLike | str, *, freq: ArrayLike | None = None, percentile: int = 50
) -> np.ndarray:
    """Phase velocity of a plane wave in m/s: ``c0 / Re(sqrt(eps_r))``.

    For a lossless medium this is ``c0 / sqrt(eps')``; with loss the real part of the complex
    refractive index is used (``exp(+jwt)``: ``k = (omega/c0) sqrt(eps_r) = beta - j*alpha``).

    Parameters
    ----------
    eps_or_tissue : float, array_like or str
        Relative permittivity (real or complex) or a tissue name.
    freq : array_like, optional
        Frequencies in Hz; needed for a tissue name, ignored for a given permittivity.
    percentile : int
        Percentile curve for a tissue name.

    Returns
    -------
    ndarray
        Phase velocity in m/s (per frequency for a tissue name).

    Examples
    --------
    >>> from brim.microwave import effective_wave_speed
    >>> round(float(effective_wave_speed(4.0)) / 1e8, 4)
    1.499
    """
    if isinstance(eps_or_tissue, str):
        if freq is None:
            raise ConfigError("effective_wave_speed of a tissue name needs freq")
        eps, _ = _eps_of(eps_or_tissue, freq, percentile)
    else:
        eps = np.asarray(eps_or_tissue).astype(complex)
    if not np.all(np.isfinite(eps)):
        raise ConfigError("relative permittivity must be finite")
    if np.any(eps.real <= 0) and np.all(eps.imag == 0):
        raise ConfigError("relative permittivity must be > 0")
    n = np.sqrt(eps)
    return C0 / np.abs(n.real)
