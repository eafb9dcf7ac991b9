"""brim.microwave's layout (issue 18): radar and tomography subpackages, deprecated old paths."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

# old module -> (new module, a public name that moved with it)
MOVED = {
    "brim.microwave.forward": ("brim.microwave.tomography.forward", "simulate"),
    "brim.microwave.vie": ("brim.microwave.tomography.vie", "VIEOperator"),
    "brim.microwave.moment_quadrature": (
        "brim.microwave.tomography.moment_quadrature",
        "contrast_moments",
    ),
    "brim.microwave.inverse": ("brim.microwave.tomography.inverse", "invert"),
    "brim.microwave.tomo_phantoms": ("brim.microwave.tomography.phantoms", "breast_phantom"),
    "brim.microwave.tomo_metrics": ("brim.microwave.tomography.metrics", "score"),
    "brim.microwave.tomo_classify": ("brim.microwave.tomography.classify", "make_training_set"),
    "brim.microwave.tomography_cli": ("brim.microwave.tomography.cli", "parse_freqs"),
    "brim.microwave.calibration": ("brim.microwave.radar.calibration", "rotation_subtraction"),
    "brim.microwave.timedomain": ("brim.microwave.radar.timedomain", "czt_time_signals"),
    "brim.microwave.metrics": ("brim.microwave.radar.metrics", "image_metrics"),
    "brim.microwave.radar_kernels": ("brim.microwave.radar.kernels", "fd_beamform_numba"),
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_warn_and_forward(old):
    new, name = MOVED[old]
    sys.modules.pop(old, None)  # the warning is given when the module is first imported
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_forward_forwards_the_pieces_it_was_split_into():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from brim.microwave import forward
    from brim.microwave.tomography import analytic, grid, krylov

    assert forward.ring_positions is grid.ring_positions
    assert forward.gmres_batched is krylov.gmres_batched
    assert forward.cylinder_scattered_field_analytic is analytic.cylinder_scattered_field_analytic


def test_the_two_grids_have_their_own_names_and_the_old_ones_warn():
    import brim.microwave as mw
    from brim.microwave import radar, tomography

    assert "Grid" not in mw.__all__ and "TomographyGrid" in mw.__all__
    assert mw.TomographyGrid is tomography.TomographyGrid
    assert radar.ImagingGrid is not tomography.TomographyGrid
    with pytest.warns(DeprecationWarning, match="TomographyGrid"):
        assert mw.Grid is tomography.TomographyGrid
    with pytest.warns(DeprecationWarning, match="ImagingGrid"):
        assert radar.Grid is radar.ImagingGrid


def test_radar_keeps_the_names_of_the_former_radar_module():
    from brim.microwave import radar
    from brim.microwave.radar import beamforming

    for name in ("beamform", "box_grid", "channel_table", "hemisphere_grid",
                 "homogeneous_delays", "plane_grid", "two_layer_delays", "METHODS"):  # fmt: skip
        assert getattr(radar, name) is getattr(beamforming, name)


@pytest.mark.parametrize(
    "package", ["brim.microwave", "brim.microwave.radar", "brim.microwave.tomography"]
)
def test_every_exported_name_resolves(package):
    module = importlib.import_module(package)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no export goes through a shim
        for name in module.__all__:
            assert getattr(module, name) is not None, name
