"""brim.microwave.radar: radar-based microwave imaging of a calibrated multistatic scan.

Modules
-------
beamforming
    Imaging grids (:class:`ImagingGrid`), homogeneous and two-layer delays, DAS, DMAS and
    coherence-factor DAS in 2-D/3-D, time or frequency domain.
kernels
    The beamforming kernels (Numba on the CPU, CuPy on the GPU, a NumPy reference).
calibration
    Reference, rotation and average subtraction, skin-artefact removal (Bond et al. 2003), time
    gating, frequency -> time, antenna delay calibration.
timedomain
    Windowed inverse FFT and inverse chirp-Z transform of frequency sweeps.
metrics
    MERIT's image quality metrics: SCR, SMR, FWHM, localisation error.
propagation
    The effective permittivity (and antenna delay) of a scan estimated by image focus.
adaptive
    The diagonally loaded (robust) Capon beamformer.

Every name below is importable from this package (``from brim.microwave.radar import
beamform``); ``brim.microwave.radar.Grid`` is a deprecated alias of :class:`ImagingGrid`.
"""

from brim._lazy import lazy_exports

_EXPORTS = {
    "ImagingGrid": "beamforming",
    "beamform": "beamforming",
    "box_grid": "beamforming",
    "channel_table": "beamforming",
    "hemisphere_grid": "beamforming",
    "homogeneous_delays": "beamforming",
    "plane_grid": "beamforming",
    "two_layer_delays": "beamforming",
    "antenna_delay_calibration": "calibration",
    "average_subtraction": "calibration",
    "estimate_antenna_delay": "calibration",
    "reference_subtraction": "calibration",
    "rotation_subtraction": "calibration",
    "skin_artefact_removal": "calibration",
    "time_gate": "calibration",
    "to_time_domain": "calibration",
    "czt_time_signals": "timedomain",
    "frequency_step": "timedomain",
    "ifft_time_signals": "timedomain",
    "PropagationEstimate": "propagation",
    "estimate_propagation": "propagation",
    "focus_criterion": "propagation",
    "capon_power": "adaptive",
    "ImageMetrics": "metrics",
    "fwhm": "metrics",
    "image_metrics": "metrics",
    "localisation_error": "metrics",
    "peak": "metrics",
    "scr": "metrics",
    "smr": "metrics",
}
# names of the former module brim.microwave.radar that are not in __all__
_MORE = {"METHODS": "beamforming"}
_RENAMED = {"Grid": "ImagingGrid"}

__all__, _lazy_getattr, __dir__ = lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str):
    if name in _RENAMED:
        import warnings

        warnings.warn(
            f"brim.microwave.radar.{name} is deprecated; use brim.microwave.radar.{_RENAMED[name]}",
            DeprecationWarning,
            stacklevel=2,
        )
        name = _RENAMED[name]
    if name in _MORE:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_MORE[name]}"), name)
    return _lazy_getattr(name)
