"""Small valid Datasets of every brim kind, for round-trip and validation tests."""

from __future__ import annotations

import numpy as np
import xarray as xr

from brim import schema


def _c(name, values, units):
    return (name, np.asarray(values), {"units": units})


def thermogram(rng):
    t = 30 + rng.standard_normal((6, 8)).astype("f4")
    t[0, 0] = np.nan  # masked pixel: allowed
    ds = xr.Dataset(
        {"temperature": (("y", "x"), t, {"units": "degC"})},
        coords={"y": _c("y", np.arange(6) * 1e-3, "m"), "x": _c("x", np.arange(8) * 1e-3, "m")},
    )
    return schema.stamp(ds, "thermogram")


def thermal_intensity(rng):
    ds = xr.Dataset(
        {
            "intensity": (("y", "x"), rng.integers(0, 255, (6, 8)).astype("u1"), {"units": "1"}),
            "mask": (("y", "x"), rng.integers(0, 2, (6, 8)).astype(bool)),
        },
        coords={"y": _c("y", np.arange(6.0), "px"), "x": _c("x", np.arange(8.0), "px")},
    )
    return schema.stamp(ds, "thermal_intensity")


def sparameter_scan(rng):
    s = rng.standard_normal((5, 3, 3)) + 1j * rng.standard_normal((5, 3, 3))
    ds = xr.Dataset(
        {"s": (("freq", "tx", "rx"), s, {"units": "1"})},
        coords={
            "freq": _c("freq", np.linspace(1e9, 3e9, 5), "Hz"),
            "tx_x": ("tx", np.array([0.0, 0.01, 0.02]), {"units": "m"}),
        },
    )
    return schema.stamp(ds, "sparameter_scan")


def field_set(rng):
    shape = (2, 4, 6)
    z = lambda: rng.standard_normal(shape) + 1j * rng.standard_normal(shape)  # noqa: E731
    ang_t, ang_r = np.linspace(0, 2 * np.pi, 4, endpoint=False), np.linspace(0, 2 * np.pi, 6)
    mask = np.ones((4, 6), bool)
    mask[0, 0] = False
    ds = xr.Dataset(
        {
            "total_field": (("freq", "tx", "rx"), z(), {"units": "V/m"}),
            "incident_field": (("freq", "tx", "rx"), z(), {"units": "V/m"}),
            "mask": (("tx", "rx"), mask),
        },
        coords={
            "freq": _c("freq", [1e9, 2e9], "Hz"),
            "tx_x": ("tx", 0.1 * np.cos(ang_t), {"units": "m"}),
            "tx_y": ("tx", 0.1 * np.sin(ang_t), {"units": "m"}),
            "rx_x": ("rx", 0.1 * np.cos(ang_r), {"units": "m"}),
            "rx_y": ("rx", 0.1 * np.sin(ang_r), {"units": "m"}),
        },
    )
    return schema.stamp(ds, "field_set")


def _us_scalars():
    return {
        "sampling_frequency": ((), 40e6, {"units": "Hz"}),
        "center_frequency": ((), 5e6, {"units": "Hz"}),
        "sound_speed": ((), 1540.0, {"units": "m/s"}),
    }


def rf_frames(rng):
    ds = xr.Dataset(
        {
            "rf": (("frame", "depth", "line"), rng.standard_normal((2, 16, 4))),
            **_us_scalars(),
            "pitch": ((), 3e-4, {"units": "m"}),
        },
        coords={
            "depth": _c("depth", np.arange(16) * 1540 / 80e6, "m"),
            "line": _c("line", (np.arange(4) - 1.5) * 3e-4, "m"),
        },
    )
    return schema.stamp(ds, "rf_frames")


def channel_data(rng):
    ds = xr.Dataset(
        {
            "channel": (
                ("frame", "tx", "element", "sample"),
                rng.standard_normal((1, 3, 8, 20)).astype("f4"),
            ),
            **_us_scalars(),
        },
        coords={
            "element_x": ("element", (np.arange(8) - 3.5) * 3e-4, {"units": "m"}),
            "angle": ("tx", np.deg2rad([-5.0, 0.0, 5.0]), {"units": "rad"}),
        },
    )
    return schema.stamp(ds, "channel_data")


def optical_measurement(rng):
    shape = (2, 3, 4)
    ds = xr.Dataset(
        {
            "amplitude": (
                ("wavelength", "source", "detector"),
                rng.uniform(0.1, 1, shape),
                {"units": "1"},
            ),
            "phase": (
                ("wavelength", "source", "detector"),
                rng.uniform(0, 1, shape),
                {"units": "rad"},
            ),
            "modulation_frequency": ((), 140e6, {"units": "Hz"}),
        },
        coords={
            "wavelength": _c("wavelength", [740.0, 830.0], "nm"),
            "source_x": ("source", np.array([-1, 0, 1]), {"units": "m"}),  # integer positions
            "source_y": ("source", np.zeros(3), {"units": "m"}),
            "detector_x": ("detector", np.linspace(0.030, 0.060, 4), {"units": "m"}),
            "detector_y": ("detector", np.zeros(4), {"units": "m"}),
        },
    )
    return schema.stamp(ds, "optical_measurement")


def reconstruction(rng):
    eps = 10 + rng.standard_normal((5, 4, 6)) - 1j * rng.uniform(0, 1, (5, 4, 6))
    ds = xr.Dataset(
        {"permittivity": (("z", "y", "x"), eps, {"units": "1"})},
        coords={
            "z": _c("z", np.arange(5) * 1e-3, "m"),
            "y": _c("y", np.arange(4) * 1e-3, "m"),
            "x": _c("x", np.arange(6) * 1e-3, "m"),
        },
    )
    return schema.stamp(ds, "reconstruction")


def mask(rng):
    ds = xr.Dataset(
        {"mask": (("y", "x"), rng.integers(0, 3, (6, 8)).astype("u1"))},
        attrs={"labels": '{"1": "left breast", "2": "right breast"}'},
    )
    return schema.stamp(ds, "mask")


def strain_image(rng):
    strain = -0.01 + 1e-3 * rng.standard_normal((7, 5))
    strain[0] = np.nan  # rows where the estimation window leaves the image
    ds = xr.Dataset(
        {
            "strain": (("depth", "line"), strain, {"units": "1"}),
            "correlation": (("depth", "line"), rng.uniform(0.5, 1, (7, 5)), {"units": "1"}),
        },
        coords={
            "depth": _c("depth", 1e-3 + np.arange(7) * 4e-4, "m"),
            "line": _c("line", np.arange(5) * 3e-4, "m"),
        },
    )
    return schema.stamp(ds, "strain_image")


ALL = {
    "thermogram": thermogram,
    "thermal_intensity": thermal_intensity,
    "sparameter_scan": sparameter_scan,
    "field_set": field_set,
    "rf_frames": rf_frames,
    "channel_data": channel_data,
    "optical_measurement": optical_measurement,
    "reconstruction": reconstruction,
    "mask": mask,
    "strain_image": strain_image,
}
