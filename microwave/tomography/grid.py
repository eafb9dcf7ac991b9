"""The imaging domain of 2-D microwave tomography: square cells, antenna rings.

:class:`TomographyGrid` is the uniform square-cell grid on which the volume integral equation
(:mod:`brim.microwave.tomography.vie`) is discretised (Richmond 1965, *IEEE Trans. Antennas
Propag.* 13, 334); :func:`refined_grid` splits each cell for Richardson extrapolation and the
moment-corrected quadrature; :func:`ring_positions` places antennas on a circle. Lengths in m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from brim.deprecation import positional_options
from brim.errors import ConfigError, check_positive

__all__ = ["TomographyGrid", "refined_grid", "ring_positions"]


@dataclass(frozen=True)
class TomographyGrid:
    """A uniform square-cell grid of the imaging domain.

    Attributes
    ----------
    nx, ny : int
        Number of cells along x and y.
    d : float
        Cell side in metres.
    x0, y0 : float
        Centre of the first cell (index 0, 0) in metres.
    """

    nx: int
    ny: int
    d: float
    x0: float
    y0: float

    def __post_init__(self):
        if self.nx < 1 or self.ny < 1:
            raise ConfigError(f"grid needs at least one cell per axis, got {self.ny}x{self.nx}")
        if not (self.d > 0 and math.isfinite(self.d)):
            raise ConfigError(f"grid cell size must be a positive length in m, got {self.d!r}")

    @classmethod
    def centered(
        cls, n: int | tuple[int, int], width: float, *, center=(0.0, 0.0)
    ) -> TomographyGrid:
        """Square-cell grid of ``n`` (or ``(ny, nx)``) cells spanning ``width`` metres along x.

        Parameters
        ----------
        n : int or (int, int)
            Cells per axis, or ``(ny, nx)``.
        width : float
            Width along x in m (the cell side is ``width / nx``).
        center : (float, float)
            Centre of the grid in m.

        Returns
        -------
        TomographyGrid
            The grid, centred on ``center``.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid
        >>> g = TomographyGrid.centered(4, 0.04)
        >>> g.shape, g.d, [round(float(v), 3) for v in g.x]
        ((4, 4), 0.01, [-0.015, -0.005, 0.005, 0.015])
        """
        cells: Any = n
        ny, nx = (cells, cells) if np.isscalar(cells) else (cells[0], cells[1])
        ny = check_positive("grid cells along y", ny, integer=True)
        nx = check_positive("grid cells along x", nx, integer=True)
        d = check_positive("grid width (m)", width) / nx
        return cls(
            nx=nx,
            ny=ny,
            d=d,
            x0=center[0] - (nx - 1) * d / 2,
            y0=center[1] - (ny - 1) * d / 2,
        )

    @classmethod
    def from_coords(cls, x, y) -> TomographyGrid:
        """The grid of cell-centre coordinate vectors (m); spacing must be uniform and equal.

        Parameters
        ----------
        x, y : array_like
            Cell-centre coordinates in m (at least two per axis).

        Returns
        -------
        TomographyGrid
            The grid whose cell centres are ``x`` and ``y``.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid
        >>> TomographyGrid.from_coords([0.0, 0.01, 0.02], [0.0, 0.01])
        TomographyGrid(nx=3, ny=2, d=0.01, x0=0.0, y0=0.0)
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        if x.size < 2 or y.size < 2:
            raise ConfigError("a grid needs at least two cells per axis to define a spacing")
        dx = np.diff(x)
        dy = np.diff(y)
        d = float(dx.mean())
        if not (np.allclose(dx, d, rtol=1e-6) and np.allclose(dy, d, rtol=1e-6)):
            raise ConfigError("grid coordinates must be uniform with the same spacing in x and y")
        return cls(nx=x.size, ny=y.size, d=d, x0=float(x[0]), y0=float(y[0]))

    @classmethod
    def from_spec(cls, spec: str) -> TomographyGrid:
        """Parse ``"NxM:WIDTH"`` or ``"N:WIDTH"`` (cells, width in m), e.g. ``"32x32:0.12"``.

        Parameters
        ----------
        spec : str
            ``CELLS:WIDTH_M``, cells ``N`` or ``NxM`` (ny x nx).

        Returns
        -------
        TomographyGrid
            The centred grid.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid
        >>> TomographyGrid.from_spec("16x32:0.12").shape
        (16, 32)
        """
        try:
            cells, width = spec.split(":")
            parts = [int(p) for p in cells.lower().split("x")]
            n = parts[0] if len(parts) == 1 else (parts[0], parts[1])
            return cls.centered(n, float(width))
        except (ValueError, IndexError) as exc:  # ConfigError is a ValueError too
            raise ConfigError(
                f"grid spec {spec!r} not understood ({exc}); write CELLS:WIDTH_M, e.g. '32x32:0.12'"
            ) from None

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates (m).

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid
        >>> [round(float(v), 3) for v in TomographyGrid.centered(4, 0.04).x]
        [-0.015, -0.005, 0.005, 0.015]
        """
        return self.x0 + self.d * np.arange(self.nx)

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates (m).

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid
        >>> [round(float(v), 3) for v in TomographyGrid.centered((2, 4), 0.04).y]
        [-0.005, 0.005]
        """
        return self.y0 + self.d * np.arange(self.ny)

    @property
    def shape(self) -> tuple[int, int]:
        """Cells as ``(ny, nx)``, the shape of maps on this grid.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid
        >>> TomographyGrid.centered((2, 4), 0.04).shape
        (2, 4)
        """
        return (self.ny, self.nx)

    @property
    def radius(self) -> float:
        """Radius of the equal-area circle of one cell (m).

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid
        >>> round(TomographyGrid.centered(4, 0.04).radius, 5)
        0.00564
        """
        return self.d / math.sqrt(math.pi)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Flattened (row-major, y then x) cell-centre coordinates (m).

        Returns
        -------
        (ndarray, ndarray)
            x and y of every cell centre in m, ``ny * nx`` each.

        Examples
        --------
        >>> from brim.microwave.tomography import TomographyGrid
        >>> px, py = TomographyGrid.from_coords([0.0, 0.01, 0.02], [0.0, 0.01]).points()
        >>> px.tolist(), py.tolist()
        ([0.0, 0.01, 0.02, 0.0, 0.01, 0.02], [0.0, 0.0, 0.0, 0.01, 0.01, 0.01])
        """
        yy, xx = np.meshgrid(self.y, self.x, indexing="ij")
        return xx.ravel(), yy.ravel()


@positional_options
def _expect_grid(grid: Any, name: str = "grid") -> TomographyGrid:
    """``grid`` itself when it is a :class:`TomographyGrid`, else ConfigError saying how to
    make one (a spec string such as ``"32x32:0.12"`` is what the commands take, not the API)."""
    if isinstance(grid, TomographyGrid):
        return grid
    how = (
        f"TomographyGrid.from_spec({grid!r})"
        if isinstance(grid, str)
        else "TomographyGrid.centered(n_cells, width_m)"
    )
    raise ConfigError(
        f"{name} must be a TomographyGrid, got {type(grid).__name__}; make one: {how}"
    )


def refined_grid(grid: TomographyGrid, *, factor: int = 2) -> TomographyGrid:
    """The same domain split into ``factor`` x ``factor`` sub-cells per cell (cell ``d/factor``).

    Parameters
    ----------
    grid : TomographyGrid
        The coarse grid.
    factor : int
        Sub-cells per cell and axis (>= 1).

    Returns
    -------
    TomographyGrid
        The refined grid over the same domain.

    Examples
    --------
    >>> from brim.microwave.tomography import TomographyGrid, refined_grid
    >>> refined_grid(TomographyGrid.centered(4, 0.04), factor=2).shape
    (8, 8)
    """
    if factor < 1:
        raise ConfigError(f"refinement factor must be >= 1, got {factor}")
    h = grid.d / factor
    off = (grid.d - h) / 2
    return TomographyGrid(
        nx=grid.nx * factor,
        ny=grid.ny * factor,
        d=h,
        x0=grid.x0 - off,
        y0=grid.y0 - off,
    )


def ring_positions(n: int, radius: float, *, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` antenna positions equally spaced on a circle of ``radius`` m (angle offset in rad).

    Parameters
    ----------
    n : int
        Number of antennas (>= 1).
    radius : float
        Ring radius in m, centred on the origin.
    offset : float
        Angle of the first antenna in rad (counter-clockwise from +x).

    Returns
    -------
    (x, y) : tuple of ndarray (n,)
        Positions in m, as :func:`~brim.microwave.tomography.forward.simulate` takes them for
        ``tx`` and ``rx``.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.microwave.tomography import ring_positions
    >>> x, y = ring_positions(4, 0.05)
    >>> np.round(x, 3).tolist(), np.round(y, 3).tolist()
    ([0.05, 0.0, -0.05, -0.0], [0.0, 0.05, 0.0, -0.05])
    """
    n = check_positive("number of antennas on the ring", n, integer=True)
    radius = check_positive("ring radius (m)", radius)
    phi = offset + 2 * np.pi * np.arange(n) / n
    return radius * np.cos(phi), radius * np.sin(phi)
