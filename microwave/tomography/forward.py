"""2-D TM forward scattering: volume integral equation, FFT-accelerated, batched over sources.

Physics
-------
Engineering time convention ``exp(+j*omega*t)`` (brim-wide). A transverse-magnetic field
:math:`E_z` in a background of complex relative permittivity :math:`\\varepsilon_b` (wavenumber
:math:`k_b = \\omega\\sqrt{\\mu_0\\varepsilon_0\\varepsilon_b}`, imaginary part <= 0 for a lossy
medium) scattered by an object of relative permittivity :math:`\\varepsilon_r(\\mathbf r)` obeys the
Lippmann–Schwinger equation

.. math::

    E(\\mathbf r) = E^{inc}(\\mathbf r)
        + k_b^2 \\int_D G(\\mathbf r, \\mathbf r')\\,\\chi(\\mathbf r')\\,E(\\mathbf r')
        \\,d\\mathbf r',
    \\qquad G = -\\tfrac{j}{4} H_0^{(2)}(k_b |\\mathbf r - \\mathbf r'|),
    \\qquad \\chi = \\varepsilon_r/\\varepsilon_b - 1 .

Discretisation (Richmond 1965, *IEEE Trans. Antennas Propag.* 13, 334): square cells of side
:math:`d` carrying a constant field and contrast, each replaced by the circle of equal area
(radius :math:`a = d/\\sqrt{\\pi}`) so that the cell integrals have closed forms,

.. math::

    g_{mn} = -\\tfrac{j\\pi k_b a}{2} J_1(k_b a) H_0^{(2)}(k_b\\rho_{mn}) \\quad (m \\ne n), \\qquad
    g_{mm} = -\\tfrac{j\\pi k_b a}{2} H_1^{(2)}(k_b a) - 1 .

The system :math:`E - g(\\chi E) = E^{inc}` is solved matrix-free: :math:`g` is a 2-D Toeplitz
(translation-invariant) operator applied as a circular convolution on a zero-padded grid of
FFT-friendly size (:func:`scipy.fft.next_fast_len`, >= 2n - 1), for all transmitters and
frequencies in one batched FFT (pruned: the zero rows of the padding are not transformed along
x), with a Krylov solver on the original (not normal-equation) system: batched BiCGSTAB
(van der Vorst 1992, *SIAM J. Sci. Stat. Comput.* 13, 631; default) or batched restarted
GMRES(m) (Saad & Schultz 1986, *SIAM J. Sci. Stat. Comput.* 7, 856; ``solver="gmres"``: one
operator application per step, minimal residual, robust on high-contrast, ill-conditioned
cases, ``restart + 1`` field-sized blocks of memory). This is the CG-FFT family of solvers
(Catedra et al. 1989; Zwamborn & van den Berg 1992), without their normal-equation squaring of
the condition number. Host inner products and vector updates are single-threaded Numba loops.

This module holds the simulation (incident fields, :func:`simulate`, :func:`simulate_fields`,
:func:`add_noise`, :func:`simulate_extrapolated`); the grid is
:mod:`brim.microwave.tomography.grid`, the operator :mod:`brim.microwave.tomography.vie`, the
Krylov solvers :mod:`brim.microwave.tomography.krylov` and the analytic oracle
:mod:`brim.microwave.tomography.analytic`.

Accuracy. With area-averaged contrast in boundary cells
(:func:`brim.microwave.tomography.phantoms.disk_fraction`, exact circle–square areas) the scheme
converges as O(d^2): against the analytic series of a dielectric cylinder the scattered field
is within 4.4e-3 - 8.2e-3 at 20 cells per wavelength in the object, 1.1e-3 - 2.1e-3 at 40
and 4.7e-4 - 9.1e-4 at 60 (six cylinders, benchmarks/RESULTS.md), so a
single Richmond grid meets 1e-3 only from about 60 cells per wavelength. Two ways reach it at
20: ``simulate(..., quadrature="moments")`` (the second-order moment-corrected quadrature of
:mod:`brim.microwave.tomography.moment_quadrature`, one grid: 0.6e-4 - 2.4e-4) and
:func:`simulate_extrapolated` (Richardson extrapolation from cells ``d`` and ``d/2``:
1.1e-4 - 4.0e-4).

The line source used for :func:`line_source_field` is a filament of current ``I = 1 A``:
:math:`E^{inc} = -\\tfrac{\\omega\\mu_0 I}{4} H_0^{(2)}(k_b\\rho)` (V/m).
Plane waves have unit amplitude.

Backends: NumPy (``scipy.fft`` with all workers) or CuPy (batched cuFFT through
``cupyx.scipy.fft``). The same code path runs on both; the Hankel-function kernels are evaluated
on the host once per grid and frequency and then moved to the device.

Precision: ``precision="double"`` (complex128, the default) or ``"single"`` (complex64 fields,
kernel spectrum and Krylov vectors; inner products still accumulate in double precision and
the Krylov scalars stay complex128). Single precision halves the memory and roughly halves the
FFT time; it is for solver tolerances of 1e-5 and looser, where it changes the scattered field
by well under the tolerance (tests/microwave/test_tomo_forward.py).
"""

from __future__ import annotations

import contextvars
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.constants
import xarray as xr
from numpy.typing import ArrayLike

from brim import provenance
from brim.errors import ConfigError, SchemaError, check_positive, check_vector
from brim.microwave.tomography.grid import TomographyGrid, _expect_grid, refined_grid
from brim.microwave.tomography.krylov import SolveInfo, solve_total_field
from brim.microwave.tomography.moment_quadrature import MomentCorrectedOperator, contrast_moments
from brim.microwave.tomography.te import (
    TEVIEOperator,
    check_polarisation,
    te_line_source_field,
    te_plane_wave_field,
    te_receiver_matrix,
)
from brim.microwave.tomography.vie import (
    VIEOperator,
    complex_dtype,
    hankel0,
    permittivity_maps,
    receiver_matrix,
)

C0 = scipy.constants.c  # speed of light in vacuum, m/s
MU0 = scipy.constants.mu_0  # vacuum permeability, H/m (CODATA, through SciPy)
EPS0 = scipy.constants.epsilon_0  # vacuum permittivity, F/m (CODATA, through SciPy)
__all__ = [
    "add_noise",
    "background_wavenumber",
    "field_set_dataset",
    "line_source_field",
    "plane_wave_field",
    "Simulation",
    "simulate",
    "simulate_extrapolated",
    "simulate_fields",
]

# set by simulate_fields() around its call of simulate(): where simulate leaves the grid field
_GRID_FIELD: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "brim_microwave_grid_field", default=None
)


# ----------------------------------------------------------------------------------------------
# background medium and incident fields
# ----------------------------------------------------------------------------------------------
def background_wavenumber(freq, eps_b) -> np.ndarray:
    """Complex background wavenumber (rad/m) per frequency; ``eps_b`` scalar or per frequency.

    Parameters
    ----------
    freq : float or array_like (n_freq,)
        Frequencies in Hz.
    eps_b : complex or array_like (n_freq,)
        Background relative permittivity ``eps' - j eps''`` (``eps'' >= 0``).

    Returns
    -------
    ndarray (n_freq,), complex
        Wavenumbers in rad/m, imaginary part <= 0 (the decaying branch for exp(+jωt)).

    Examples
    --------
    >>> from brim.microwave.tomography import background_wavenumber
    >>> k = background_wavenumber(1e9, 4.0)
    >>> round(float(k.real[0]), 3)  # 2 pi f sqrt(4) / c0
    41.917
    """
    freq = np.atleast_1d(np.asarray(freq, float))
    try:
        eps_b = np.broadcast_to(np.asarray(eps_b, complex), freq.shape)
    except (TypeError, ValueError):
        raise ConfigError(
            f"background permittivity eps_b must be a number or one per frequency, got {eps_b!r}"
        ) from None
    if not np.all(np.isfinite(eps_b)) or np.any(eps_b.real < 1):
        raise ConfigError(
            f"background permittivity eps_b must be finite with real part >= 1 (vacuum 1, "
            f"coupling liquids up to ~80), got {eps_b.tolist()}"
        )
    if np.any(eps_b.imag > 0):
        raise ConfigError(
            "background permittivity has a positive imaginary part: brim uses exp(+j*omega*t), "
            "so a lossy medium is eps' - j*eps'' with eps'' >= 0"
        )
    k = 2 * np.pi * freq / C0 * np.sqrt(eps_b)
    # principal sqrt of eps' - j eps'' has Im <= 0: the decaying branch for exp(-j k r)
    return k


def line_source_field(
    px: ArrayLike, py: ArrayLike, sx: ArrayLike, sy: ArrayLike, freq: ArrayLike, k_b: ArrayLike
) -> np.ndarray:
    """Field (V/m) of 1 A line sources at (sx, sy) evaluated at points (px, py).

    The 2-D TM Green's function ``-(omega mu0 / 4) H0^(2)(k rho)`` (time dependence exp(+jωt);
    Richmond 1965, *IEEE Trans. Antennas Propag.* 13, 334).

    Parameters
    ----------
    px, py : array (n_pts,)
        Observation points in m.
    sx, sy : array (n_src,)
        Line-source positions in m.
    freq : float or array (n_freq,)
        Frequencies in Hz.
    k_b : complex or array (n_freq,)
        Background wavenumber per frequency in rad/m (:func:`background_wavenumber`).

    Returns
    -------
    ndarray (n_freq, n_src, n_pts), complex
        Points on a source are singular: they return NaN.

    Examples
    --------
    In the far field ``|E|`` falls as ``1 / sqrt(rho)``: twice the distance, ``sqrt(2)`` less.

    >>> import numpy as np
    >>> from brim.microwave import line_source_field
    >>> from brim.microwave.tomography import background_wavenumber
    >>> k = background_wavenumber(1e9, 1.0)
    >>> e = line_source_field([0.0, 0.1, 0.2], [0.0, 0.0, 0.0], [0.0], [0.0], 1e9, k)
    >>> e.shape, bool(np.isnan(e[0, 0, 0])), round(float(abs(e[0, 0, 1] / e[0, 0, 2])), 2)
    ((1, 1, 3), True, 1.4)
    """
    freq = np.atleast_1d(freq)
    k_b = np.atleast_1d(k_b)
    rho = np.hypot(
        np.asarray(px)[None, :] - np.asarray(sx)[:, None],
        np.asarray(py)[None, :] - np.asarray(sy)[:, None],
    )
    out = np.empty((freq.size, rho.shape[0], rho.shape[1]), complex)
    with np.errstate(invalid="ignore"):
        for i, (f, k) in enumerate(zip(freq, k_b, strict=True)):
            h = hankel0(k, np.where(rho > 0, rho, np.nan))
            out[i] = -(2 * np.pi * f * MU0 / 4) * h
    return out


def plane_wave_field(px, py, angles, k_b) -> np.ndarray:
    """Unit-amplitude plane waves ``exp(-j k (x cos(a) + y sin(a)))``; (n_freq, n_angle, n_pts).

    ``angles`` (rad) is the direction of propagation.

    Parameters
    ----------
    px, py : array_like (n_pts,)
        Observation points in m.
    angles : array_like (n_angle,)
        Propagation directions in rad.
    k_b : complex or array_like (n_freq,)
        Background wavenumber per frequency in rad/m.

    Returns
    -------
    ndarray (n_freq, n_angle, n_pts), complex
        The fields (unit amplitude).
    """
    k_b = np.atleast_1d(k_b)
    a = np.asarray(angles, float)
    proj = np.cos(a)[:, None] * np.asarray(px)[None, :] + np.sin(a)[:, None] * np.asarray(py)[None]
    return np.exp(-1j * k_b[:, None, None] * proj[None])


# ----------------------------------------------------------------------------------------------
# high level: simulate a field set
# ----------------------------------------------------------------------------------------------
def field_set_dataset(
    total: ArrayLike,
    incident: ArrayLike,
    freq: ArrayLike,
    tx_x: ArrayLike,
    tx_y: ArrayLike,
    rx_x: ArrayLike,
    rx_y: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    attrs: dict | None = None,
    polarisation: str | None = None,
) -> xr.Dataset:
    """Build a ``field_set`` Dataset (complex fields (freq, tx, rx), coords in Hz and m).

    Parameters
    ----------
    total, incident : array (n_freq, n_tx, n_rx), complex
        Total and incident field at the receivers in V/m (the scattered field is their
        difference).
    freq : float or array (n_freq,)
        Frequencies in Hz.
    tx_x, tx_y, rx_x, rx_y : array
        Transmitter and receiver positions in m.
    mask : bool array (n_tx, n_rx) or (n_freq, n_tx, n_rx), optional
        True where a pair was measured.
    attrs : dict, optional
        Global attributes of the Dataset.
    polarisation : {"TM", "TE"}, optional
        Stored as ``attrs["polarisation"]`` (read by :func:`~brim.microwave.tomography.invert`;
        a set without it is TM). TE fields are ``eta_b H_z`` in V/m
        (:mod:`~brim.microwave.tomography.te`).

    Returns
    -------
    xarray.Dataset
        Kind ``field_set``.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave import field_set_dataset
    >>> ds = field_set_dataset(np.ones((1, 2, 3)), np.zeros((1, 2, 3)), 1e9, [0.0, 0.1],
    ...                        [0.0, 0.0], [0.1, 0.2, 0.3], [0.0, 0.0, 0.0])
    >>> ds.brim.kind, dict(ds.sizes), complex(ds["scattered_field"][0, 0, 0])
    ('field_set', {'freq': 1, 'tx': 2, 'rx': 3}, (1+0j))
    """
    from brim.schema import stamp

    total = np.asarray(total, complex)
    incident = np.asarray(incident, complex)
    sizes = {
        "freq": np.atleast_1d(np.asarray(freq)).size,
        "tx": np.size(tx_x),
        "rx": np.size(rx_x),
    }
    want = tuple(sizes.values())
    for name, a in (("total", total), ("incident", incident)):
        if a.shape != want:
            raise SchemaError(
                f"{name} has shape {a.shape}; expected (freq, tx, rx) = {want} from freq, tx_x "
                f"and rx_x"
            )
    for name, ys, n in (("tx_y", tx_y, sizes["tx"]), ("rx_y", rx_y, sizes["rx"])):
        if np.size(ys) != n:
            raise SchemaError(f"{name} has {np.size(ys)} values, {name[:2]}_x {n}")
    data: dict[str, Any] = {
        "total_field": (("freq", "tx", "rx"), total, {"units": "V/m"}),
        "incident_field": (("freq", "tx", "rx"), incident, {"units": "V/m"}),
        "scattered_field": (("freq", "tx", "rx"), total - incident, {"units": "V/m"}),
    }
    if mask is not None:
        m = np.asarray(mask, bool)
        data["mask"] = ((("freq", "tx", "rx") if m.ndim == 3 else ("tx", "rx")), m)
    ds = xr.Dataset(
        data,
        coords={
            "freq": ("freq", np.atleast_1d(np.asarray(freq, float)), {"units": "Hz"}),
            "tx_x": ("tx", np.asarray(tx_x, float), {"units": "m"}),
            "tx_y": ("tx", np.asarray(tx_y, float), {"units": "m"}),
            "rx_x": ("rx", np.asarray(rx_x, float), {"units": "m"}),
            "rx_y": ("rx", np.asarray(rx_y, float), {"units": "m"}),
        },
        attrs=dict(attrs or {}),
    )
    if polarisation is not None:
        from brim.microwave.tomography.te import check_polarisation

        ds.attrs["polarisation"] = check_polarisation(polarisation)
    return stamp(ds, "field_set")


#: Lowest frequency accepted (Hz), the lower end of the field_set schema's range: less is a
#: sweep typed in GHz (freq=[1.0]), which would simulate a static field without complaint.
_FREQ_MIN_HZ = 1e6


def _xy_positions(what: str, name: str, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """``value`` = ``(x, y)``, two 1-D position arrays (m) of one length, or ConfigError.

    An ``(N, 2)`` array (one row per antenna) would otherwise be read as two antennas.
    """
    try:
        parts = [np.atleast_1d(np.asarray(v, float)) for v in value]
    except (TypeError, ValueError):
        parts = []
    if len(parts) != 2 or any(p.ndim != 1 for p in parts) or parts[0].size != parts[1].size:
        got = [p.shape for p in parts] if parts else type(value).__name__
        raise ConfigError(
            f"{name} must be (x, y): two 1-D arrays of {what} positions in m of one length "
            f"(e.g. ring_positions(n, radius); an (N, 2) array arr as tuple(arr.T)), got {got}"
        )
    return (
        check_vector(f"{what} x positions (m)", parts[0]),
        check_vector(f"{what} y positions (m)", parts[1]),
    )


@provenance.step
def simulate(
    permittivity: Any,
    grid: TomographyGrid,
    freq: Any,
    tx: Any,
    rx: Any,
    *,
    eps_b: Any = 1.0,
    source: str = "line",
    mask: ArrayLike | None = None,
    incident: tuple[Any, Any] | None = None,
    tol: float = 1e-8,
    maxiter: int = 1000,
    backend: str | None = None,
    return_fields: bool = False,
    solver: str = "bicgstab",
    restart: int = 30,
    precision: str = "double",
    quadrature: str = "richmond",
    supersample: int = 8,
    polarisation: str = "TM",
) -> xr.Dataset:
    """Simulate a multistatic tomography measurement: the ``field_set`` of an object.

    Parameters
    ----------
    permittivity : array (ny, nx) or (n_freq, ny, nx), complex, or callable ``f_hz -> map``
        Relative permittivity on ``grid`` (1), ``eps' - j eps''``. A callable gives a dispersive
        object; a 3-D array one map per frequency.
    grid : TomographyGrid
        Imaging domain (cell size in m).
    freq : float or array
        Frequencies in Hz.
    tx, rx : (x, y) arrays in m
        Transmitter and receiver positions (any number, any placement, near or far). For
        ``source="plane"`` ``tx`` is a 1-D array of propagation angles in rad.
    eps_b : complex or array (n_freq,) or callable ``f_hz -> eps``
        Background relative permittivity (lossy and dispersive backgrounds allowed).
    source : {"line", "plane"}
        Incident field model (unless ``incident`` is given).
    mask : bool array (tx, rx) or (freq, tx, rx), optional
        True where a pair was measured. Unmeasured pairs are stored as 0 and flagged. Pairs
        whose receiver coincides with a line-source transmitter are always unmeasured.
    incident : (E_inc_grid, E_inc_rx), optional
        Measured/modelled incident field on the grid (n_freq, n_tx, ny, nx; TE
        (n_freq, n_tx, 2 ny, nx), ``E_x`` rows first) and at the receivers (n_freq, n_tx,
        n_rx) in V/m, replacing the source model.
    backend : {None, "numpy", "cupy"}
        Where to run the FFTs and the Krylov solver.
    return_fields : bool
        Deprecated (one release): ``True`` returns the tuple ``(dataset, E_grid, SolveInfo)``
        with a :class:`DeprecationWarning`; use :func:`simulate_fields` for the field on the
        grid and the solver record.
    solver : {"bicgstab", "gmres"}
        Krylov solver on the original system (see
        :func:`~brim.microwave.tomography.krylov.solve_total_field`).
    restart : int
        GMRES restart length.
    precision : {"double", "single"}
        Arithmetic of the FFTs and Krylov vectors (complex128 or complex64; see the module
        notes). Single precision needs ``tol >= 1e-5``; the outputs are complex128 either way.
    quadrature : {"richmond", "moments"}
        ``"richmond"``: constant field per cell (O(d²), 4.4e-3 - 8.2e-3 at 20 cells per
        wavelength). ``"moments"``: the second-order moment-corrected quadrature of
        :mod:`~brim.microwave.tomography.moment_quadrature` (0.8e-4 - 2.3e-4 there, about
        twice the cost of an operator application); ``permittivity`` is then given on
        ``refined_grid(grid, factor=supersample)`` so that each cell's contrast moments can be
        integrated.
    supersample : int
        Sub-cells per cell and axis of the fine permittivity map (``quadrature="moments"``).
    polarisation : {"TM", "TE"}
        ``"TM"``: ``E_z`` (this module). ``"TE"``: the transverse field ``(E_x, E_y)`` in the
        cells with the grad-div term (Richmond 1966; :mod:`~brim.microwave.tomography.te`),
        and ``u = eta_b H_z`` (V/m) at the receivers; Richmond quadrature only. Stored as
        ``attrs["polarisation"]``. The TE scheme converges as O(d): against the series of a
        dielectric cylinder 1.7e-2 at 57 cells per wavelength in the object (eps 2),
        0.9e-2 at 113 (tests/microwave/test_tomo_te.py).

    Returns
    -------
    xarray.Dataset
        Kind ``field_set``: ``total_field``, ``incident_field`` and ``scattered_field`` (V/m)
        over (freq, tx, rx), ``eps_background`` over freq, antenna coordinates in m.

    Notes
    -----
    The Richmond discretisation converges as O(d^2) in the cell size ``d`` when boundary cells
    carry area-averaged permittivity (e.g.
    :func:`~brim.microwave.tomography.phantoms.disk_fraction`);
    at 20 cells per wavelength in the object the scattered field of a dielectric cylinder is
    within 4.4e-3 - 8.2e-3 of the analytic series. ``quadrature="moments"`` (0.6e-4 - 2.4e-4
    there, one grid) and :func:`simulate_extrapolated` (Richardson from ``d`` and ``d/2``,
    1.1e-4 - 4.0e-4) remove the O(d^2) term.

    Examples
    --------
    A dielectric cylinder (radius 2 cm, 4 - 0.4j) in air, 8 antennas on a ring that both
    transmit and receive: by reciprocity the scattered-field matrix is symmetric.

    >>> import numpy as np
    >>> from brim.microwave import simulate
    >>> from brim.microwave.tomography import TomographyGrid, ring_positions
    >>> grid = TomographyGrid.centered(24, 0.12)  # 24 x 24 cells over 12 cm
    >>> xx, yy = np.meshgrid(grid.x, grid.y)
    >>> eps = np.where(np.hypot(xx, yy) < 0.02, 4.0 - 0.4j, 1.0)
    >>> ring = ring_positions(8, 0.09)
    >>> fields = simulate(eps, grid, [1e9], ring, ring, tol=1e-8)
    >>> fields.brim.kind, fields.total_field.dims
    ('field_set', ('freq', 'tx', 'rx'))
    >>> es = fields.scattered_field.values[0]
    >>> bool(np.abs(es - es.T).max() < 1e-6 * np.abs(es).max())
    True
    """
    from brim.backend import resolve_backend, to_numpy

    backend = resolve_backend(backend, None if callable(permittivity) else permittivity)
    if backend == "torch":  # torch inputs are computed with NumPy/SciPy on the host
        backend = "numpy"
    _expect_grid(grid)
    polarisation = check_polarisation(polarisation)
    te = polarisation == "TE"
    if te and quadrature != "richmond":
        raise ConfigError("TE polarisation uses the Richmond quadrature (quadrature='richmond')")
    freq = check_vector("frequencies (Hz)", np.atleast_1d(freq))
    if np.any(freq <= 0):
        raise ConfigError("frequencies must be positive, in Hz")
    if np.any(freq < _FREQ_MIN_HZ):
        raise ConfigError(
            f"frequency {float(freq.min()):g} Hz is below {_FREQ_MIN_HZ:g} Hz: frequencies are "
            f"in Hz, not GHz (1 GHz is 1e9)"
        )
    complex_dtype(precision, tol=check_positive("tol", tol))
    epsb = np.array([complex(eps_b(f)) for f in freq]) if callable(eps_b) else eps_b
    epsb = np.broadcast_to(np.asarray(epsb, complex), freq.shape)
    k_b = background_wavenumber(freq, epsb)
    maps = permittivity_maps(permittivity, freq)
    moments = None
    if quadrature == "moments":
        if supersample < 2:
            raise ConfigError(f"supersample must be >= 2, got {supersample}")
        moments = contrast_moments(maps, grid, epsb, supersample)
        chi = moments.mean_contrast(grid)
    elif quadrature == "richmond":
        if maps.shape[-2:] != grid.shape:
            raise ConfigError(
                f"permittivity map {maps.shape[-2:]} does not match grid {grid.shape}"
            )
        chi = maps / epsb[:, None, None] - 1.0
    else:
        raise ConfigError(f"unknown quadrature {quadrature!r}; use 'richmond' or 'moments'")
    rx_x, rx_y = _xy_positions("receiver", "rx", rx)
    px, py = grid.points()
    if incident is not None:
        n_cells = (2 if te else 1) * grid.ny * grid.nx  # TE: E_x then E_y per cell
        e_inc = np.asarray(incident[0], complex).reshape(freq.size, -1, n_cells)
        e_inc_rx = np.asarray(incident[1], complex)
        n_tx = e_inc.shape[1]
        tx_x = tx_y = np.full(n_tx, np.nan)
        if tx is not None:
            tx_x, tx_y = (np.atleast_1d(np.asarray(v, float)) for v in tx)
    elif source == "line":
        tx_x, tx_y = _xy_positions("source", "tx", tx)
        e_inc = (te_line_source_field if te else line_source_field)(px, py, tx_x, tx_y, freq, k_b)
        e_inc_rx = line_source_field(rx_x, rx_y, tx_x, tx_y, freq, k_b)
        if np.any(~np.isfinite(e_inc)):
            raise ConfigError("a line source lies on a grid cell centre; move it off the grid")
    elif source == "plane":
        ang = np.atleast_1d(np.asarray(tx, float))
        e_inc = (te_plane_wave_field if te else plane_wave_field)(px, py, ang, k_b)
        e_inc_rx = plane_wave_field(rx_x, rx_y, ang, k_b)
        # store the direction as a far point: tx coords are unit vectors' angles
        tx_x, tx_y = np.cos(ang), np.sin(ang)
    else:
        raise ConfigError(f"unknown source model {source!r}; use 'line' or 'plane'")
    n_tx = e_inc.shape[1]
    m = np.ones((n_tx, rx_x.size), bool) if mask is None else np.asarray(mask, bool)
    if m.shape[-2:] != (n_tx, rx_x.size):
        raise SchemaError(f"mask shape {m.shape} does not match (tx, rx) = {(n_tx, rx_x.size)}")
    singular = ~np.isfinite(e_inc_rx)
    if singular.any():
        m = np.broadcast_to(m, e_inc_rx.shape) & ~singular
        e_inc_rx = np.where(singular, 0, e_inc_rx)
    op: VIEOperator
    if te:
        op = TEVIEOperator(grid, k_b, backend=backend, precision=precision)
    elif moments is None:
        op = VIEOperator(grid, k_b, backend=backend, precision=precision)
    else:
        op = MomentCorrectedOperator(grid, k_b, moments, backend=backend, precision=precision)
    xp = op.xp
    ncomp = 2 if te else 1
    e, info = solve_total_field(
        op,
        xp.asarray(chi),
        xp.asarray(e_inc.reshape(freq.size, n_tx, ncomp * grid.ny, grid.nx)),
        tol=tol,
        maxiter=maxiter,
        solver=solver,
        restart=restart,
    )
    e = e.astype(complex, copy=False)
    if moments is None:
        rmat = xp.asarray((te_receiver_matrix if te else receiver_matrix)(grid, rx_x, rx_y, k_b))
        chi_c = xp.asarray(np.concatenate([chi] * ncomp, axis=-2))
        w = (chi_c[:, None] * e).reshape(freq.size, n_tx, -1)
        e_s = to_numpy(xp.einsum("frn,ftn->ftr", rmat, w))
    else:
        assert isinstance(op, MomentCorrectedOperator)
        e_s = op.scattered(e, rx_x, rx_y)
    mb = np.broadcast_to(m, e_s.shape)
    total = np.where(mb, e_inc_rx + e_s, 0)
    inc = np.where(mb, e_inc_rx, 0)
    ds = field_set_dataset(
        total,
        inc,
        freq,
        tx_x,
        tx_y,
        rx_x,
        rx_y,
        mask=m if mask is not None or singular.any() else None,
        attrs={
            "source_model": source if incident is None else "measured",
            "grid": f"{grid.ny}x{grid.nx}:{grid.nx * grid.d}",
            "quadrature": quadrature if moments is None else f"moments ({supersample}x)",
        },
        polarisation=polarisation,
    )
    ds["eps_background"] = xr.DataArray(
        epsb.copy(), dims=("freq",), attrs={"units": "1", "long_name": "background permittivity"}
    )
    sink = _GRID_FIELD.get()
    if sink is not None:
        sink["grid_field"], sink["info"] = to_numpy(e), info
    if return_fields:
        warnings.warn(
            "simulate(..., return_fields=True) is deprecated and will be removed in the next "
            "release; use brim.microwave.tomography.simulate_fields(...), which returns a "
            "Simulation (fields, grid_field, info)",
            DeprecationWarning,
            stacklevel=3,
        )
        return ds, to_numpy(e), info  # type: ignore[return-value]
    return ds


@dataclass(frozen=True)
class Simulation:
    """The result of :func:`simulate_fields`: the measurement and the field inside the domain.

    Attributes
    ----------
    fields : xarray.Dataset
        The ``field_set`` that :func:`simulate` returns (with its provenance).
    grid_field : ndarray (n_freq, n_tx, ny, nx), complex
        Total field on the grid cells in V/m (TE: ``(n_freq, n_tx, 2 ny, nx)``, ``E_x`` rows
        first, then ``E_y``).
    info : SolveInfo
        The Krylov solver's record (iterations, final relative residual per system).
    """

    fields: xr.Dataset
    grid_field: np.ndarray
    info: SolveInfo


def simulate_fields(
    permittivity: Any, grid: TomographyGrid, freq: ArrayLike, tx: Any, rx: Any, **options: Any
) -> Simulation:
    """:func:`simulate`, also returning the total field on the grid and the solver record.

    Parameters
    ----------
    permittivity, grid, freq, tx, rx
        As for :func:`simulate`.
    **options
        The keyword options of :func:`simulate` (``eps_b=``, ``tol=``, ``solver=``, ...; not
        ``return_fields``).

    Returns
    -------
    Simulation
        ``fields`` (the ``field_set`` Dataset, recorded in its provenance as
        ``brim.microwave.simulate``), ``grid_field`` and ``info``.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave.tomography import TomographyGrid, ring_positions, simulate_fields
    >>> grid = TomographyGrid.centered(8, 0.06)
    >>> ring = ring_positions(4, 0.05)
    >>> sim = simulate_fields(np.full(grid.shape, 2.0), grid, 1e9, ring, ring)
    >>> sim.grid_field.shape, bool(sim.info.residual.max() < 1e-8)
    ((1, 4, 8, 8), True)
    """
    if "return_fields" in options:
        raise ConfigError("simulate_fields takes no return_fields= option")
    sink: dict[str, Any] = {}
    token = _GRID_FIELD.set(sink)
    try:
        ds = simulate(permittivity, grid, freq, tx, rx, **options)
    finally:
        _GRID_FIELD.reset(token)
    return Simulation(fields=ds, grid_field=sink["grid_field"], info=sink["info"])


@provenance.step
def add_noise(fields: xr.Dataset, level: float, *_rng, seed: Any = None) -> xr.Dataset:
    """A copy of a simulated field set with complex Gaussian noise on the total field.

    The noise's standard deviation per complex sample is ``level`` times the mean
    ``|scattered field|`` (real and imaginary parts each ``level * mean|E_s| / sqrt(2)``);
    ``scattered_field`` is recomputed as total minus incident and ``attrs["noise_level"]``
    records ``level``.

    Parameters
    ----------
    fields : Dataset (field_set)
        With ``total_field``, ``incident_field`` and ``scattered_field``.
    level : float
        Relative noise level (e.g. 0.01 for 1 %), >= 0.
    seed : int, sequence of int, numpy.random.Generator or None
        Passed to :func:`numpy.random.default_rng` (a Generator is used as it is), as ``seed=``
        everywhere in brim. The generator given as a third positional argument
        (``add_noise(fields, level, rng)``) still works for one release, with a
        ``DeprecationWarning``.

    Returns
    -------
    xarray.Dataset
        The noisy ``field_set`` (provenance: this step appended to the input's chain).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave.tomography import TomographyGrid, add_noise, ring_positions, simulate
    >>> grid = TomographyGrid.centered(8, 0.06)
    >>> ring = ring_positions(4, 0.05)
    >>> noisy = add_noise(simulate(np.full(grid.shape, 2.0), grid, 1e9, ring, ring), 0.01, seed=0)
    >>> noisy.attrs["noise_level"], [s["step"] for s in noisy.brim.provenance]
    (0.01, ['brim.microwave.simulate', 'brim.microwave.add_noise'])
    """
    if _rng:
        if len(_rng) > 1 or seed is not None:
            raise ConfigError("add_noise takes one generator: pass it as seed= only")
        import warnings

        warnings.warn(
            "add_noise(fields, level, rng) is deprecated; use add_noise(fields, level, seed=rng)",
            DeprecationWarning,
            stacklevel=3,
        )
        seed = _rng[0]
    from brim.schema import expect_dataset, validate

    expect_dataset(fields, "field_set")
    validate(fields, "field_set")
    try:
        value = float(level)
    except (TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and value >= 0):
        raise ConfigError(f"noise level must be a finite number >= 0, not {level!r}")
    level = value
    rng = np.random.default_rng(seed)
    es = fields["scattered_field"].values
    scale = level * np.abs(es).mean() / np.sqrt(2)
    out = fields.copy()
    out["total_field"] = fields["total_field"] + scale * (
        rng.standard_normal(es.shape) + 1j * rng.standard_normal(es.shape)
    )
    out["scattered_field"] = out["total_field"] - out["incident_field"]
    out.attrs["noise_level"] = float(level)
    return out


@provenance.step
def simulate_extrapolated(
    rasterise: Callable[[TomographyGrid], Any],
    grid: TomographyGrid,
    freq: ArrayLike,
    tx: Any,
    rx: Any,
    **kwargs,
) -> xr.Dataset:
    """Richardson-extrapolated :func:`simulate`: two grids, cell ``d`` and ``d/2``.

    The Richmond pulse-basis/point-matching scheme with area-averaged boundary cells has a
    leading error term proportional to ``d^2`` (the midpoint-rule error of the cell integrals).
    Solving on ``grid`` and on :func:`~brim.microwave.tomography.grid.refined_grid` (each cell
    split in 2 x 2) and combining
    ``E = (4 E_{d/2} - E_d) / 3`` cancels it (Richardson 1911, *Phil. Trans. R. Soc. A* 210, 307;
    the standard "deferred approach to the limit"). Cost: about five single-grid solves.

    Measured against the analytic cylinder series (tests/microwave/test_tomo_forward.py and
    benchmarks/RESULTS.md): 1.1e-4 - 4.0e-4 relative error at 20 cells per
    wavelength in the object, against 4.4e-3 - 8.2e-3 for a single grid.

    With ``polarisation="TE"`` the leading error is proportional to ``d`` (the normal field at
    the staircase boundary, :mod:`~brim.microwave.tomography.te`), so the combination is
    ``E = 2 E_{d/2} - E_d``: against the TE series 1.4e-3 (eps 2), 3.2e-3 (4 - 1j) and 5.0e-4
    (1.2) from grids of 32 and 64 cells, against 0.9e-2, 4.0e-2 and 1.2e-3 on the finer grid
    alone (tests/microwave/test_tomo_te.py).

    Parameters
    ----------
    rasterise : callable ``TomographyGrid -> permittivity``
        Returns the relative permittivity on a given grid (anything :func:`simulate` accepts:
        a (ny, nx) or (n_freq, ny, nx) array, or a callable ``f_hz -> map``). It must describe
        the same object on both grids, e.g. area-averaged analytic shapes
        (:func:`brim.microwave.tomography.phantoms.disk_fraction`,
        :meth:`brim.microwave.tomography.phantoms.BreastPhantom.on_grid`).
    grid, freq, tx, rx, **kwargs
        As for :func:`simulate` (``incident`` and ``return_fields`` are not supported: the two
        grids need their own incident fields).

    Returns
    -------
    xarray.Dataset (kind ``field_set``) with attribute ``richmond_extrapolation``.

    Examples
    --------
    A dielectric disk (eps 2) on an 8 x 8 grid, extrapolated from it and its 16 x 16 refinement:

    >>> from brim.microwave import simulate_extrapolated
    >>> from brim.microwave.tomography import TomographyGrid, disk_fraction, ring_positions
    >>> ring = ring_positions(4, 0.09)
    >>> def disk(g):
    ...     return 1.0 + disk_fraction(g, 0.0, 0.0, 0.02, exact=True)
    >>> ds = simulate_extrapolated(disk, TomographyGrid.centered(8, 0.08), 1e9, ring, ring)
    >>> ds.brim.kind, dict(ds.sizes)
    ('field_set', {'freq': 1, 'tx': 4, 'rx': 4})
    >>> ds.attrs["richmond_extrapolation"]
    'Richardson (4 E(d/2) - E(d)) / 3 from grids 8x8 and 16x16'
    """
    for bad in ("incident", "return_fields"):
        if kwargs.get(bad):
            raise ConfigError(f"simulate_extrapolated does not support {bad!r}")
    if not callable(rasterise):
        raise ConfigError("rasterise must be a callable TomographyGrid -> permittivity map")
    fine = refined_grid(grid, factor=2)
    coarse_ds = simulate(rasterise(grid), grid, freq, tx, rx, **kwargs)
    fine_ds = simulate(rasterise(fine), fine, freq, tx, rx, **kwargs)
    ds = fine_ds.copy()
    first_order = check_polarisation(kwargs.get("polarisation", "TM")) == "TE"
    if first_order:  # TE: error ~ d
        es = 2 * fine_ds["scattered_field"].values - coarse_ds["scattered_field"].values
    else:  # TM: error ~ d^2
        es = (4 * fine_ds["scattered_field"].values - coarse_ds["scattered_field"].values) / 3
    ds["scattered_field"] = (("freq", "tx", "rx"), es, {"units": "V/m"})
    ds["total_field"] = (
        ("freq", "tx", "rx"),
        ds["incident_field"].values + es,
        {"units": "V/m"},
    )
    ds.attrs["grid"] = coarse_ds.attrs["grid"]
    rule = "2 E(d/2) - E(d)" if first_order else "(4 E(d/2) - E(d)) / 3"
    ds.attrs["richmond_extrapolation"] = (
        f"Richardson {rule} from grids {grid.ny}x{grid.nx} and {fine.ny}x{fine.nx}"
    )
    return ds
