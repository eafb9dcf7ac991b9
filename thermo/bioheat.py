"""Deprecated: the Pennes bioheat solver collection, split into one module per concept.

For one release the old names still import from here, with a :class:`DeprecationWarning` that
names their new home:

- :mod:`brim.thermo.pennes`: the finite-volume discretisation (:func:`~brim.thermo.pennes.assemble`,
  :class:`~brim.thermo.pennes.BioheatProblem`, :func:`~brim.thermo.pennes.radiative_h`, the blood
  constants);
- :mod:`brim.thermo.steady`: :func:`~brim.thermo.steady.solve_steady`,
  :func:`~brim.thermo.steady.solve_pennes`, :class:`~brim.thermo.steady.BioheatSolution`;
- :mod:`brim.thermo.transient`: :func:`~brim.thermo.transient.solve_transient`,
  :class:`~brim.thermo.transient.TransientSolution`;
- :mod:`brim.thermo.skin`: :func:`~brim.thermo.skin.skin_temperature`,
  :func:`~brim.thermo.skin.staircase_correction`, :class:`~brim.thermo.skin.SkinTemperature`.
"""

from __future__ import annotations

import warnings

from brim.thermo._moved import moved_names

_MOVED = {
    "STEFAN_BOLTZMANN": "pennes",
    "RHO_BLOOD": "pennes",
    "C_BLOOD": "pennes",
    "T_ARTERIAL": "pennes",
    "BioheatProblem": "pennes",
    "radiative_h": "pennes",
    "assemble": "pennes",
    "BioheatSolution": "steady",
    "solve_steady": "steady",
    "solve_pennes": "steady",
    "TransientSolution": "transient",
    "solve_transient": "transient",
    "SkinTemperature": "skin",
    "skin_temperature": "skin",
    "staircase_correction": "skin",
}


__getattr__ = moved_names("brim.thermo.bioheat", _MOVED)


def aggregation_hierarchy(A, coords=None, *, min_size: int = 3000):
    """Deprecated: the multigrid hierarchy of the ``"mg"`` solver, now built by pyamg.

    The hand-written geometric aggregation hierarchy was replaced by pyamg's smoothed
    aggregation (issue 18); this returns that hierarchy and warns.

    Parameters
    ----------
    A : scipy.sparse matrix
        Symmetric positive definite matrix.
    coords : numpy.ndarray, optional
        Ignored (the algebraic hierarchy needs no voxel coordinates).
    min_size : int
        Largest coarsest level, unknowns (pyamg's ``max_coarse``).

    Returns
    -------
    pyamg.multilevel.MultilevelSolver
        Its ``levels`` list the grids, finest first.
    """
    import pyamg

    warnings.warn(
        "brim.thermo.bioheat.aggregation_hierarchy is deprecated: method='mg' uses "
        "pyamg.smoothed_aggregation_solver; call that directly. It stops working in the next "
        "release",
        DeprecationWarning,
        stacklevel=2,
    )
    return pyamg.smoothed_aggregation_solver(A, max_coarse=int(min_size))


def __dir__() -> list[str]:
    return sorted([*_MOVED, "aggregation_hierarchy"])
