"""MERIT metrics on analytic images: Gaussian blobs with known FWHM, peaks and ratios."""

import numpy as np
import pytest
import xarray as xr

from brim.errors import ConfigError
from brim.microwave.radar import metrics

AX = np.arange(-0.03, 0.03001, 0.001)


def _image(blobs, floor=0.0):
    zz, yy, xx = np.meshgrid(AX, AX, AX, indexing="ij")
    v = np.full(xx.shape, floor)
    for (x0, y0, z0), amp, fw in blobs:
        sig = fw / (2 * np.sqrt(2 * np.log(2)))
        v = v + amp * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2 + (zz - z0) ** 2) / (2 * sig**2))
    return xr.DataArray(v, dims=("z", "y", "x"), coords={"x": AX, "y": AX, "z": AX})


def test_fwhm_of_gaussian():
    img = _image([((0.005, 0.0, -0.004), 1.0, 0.008)])
    # analytic FWHM 8 mm; node counting on a 1 mm grid resolves it to within one node
    np.testing.assert_allclose(metrics.fwhm(img), 0.008, atol=0.001 + 1e-12)
    np.testing.assert_allclose(metrics.peak(img), (0.005, 0.0, -0.004), atol=1e-12)


def test_scr_smr_and_localisation():
    img = _image([((0.0, 0.0, 0.0), 1.0, 0.006), ((0.02, 0.0, 0.0), 0.25, 0.006)])
    # clutter peak 0.25 (its centre is far outside the tumour ellipsoid): SCR = 10 log10(4)
    assert metrics.scr(img) == pytest.approx(10 * np.log10(4.0), abs=0.05)
    smr = metrics.smr(img)
    assert smr == pytest.approx(10 * np.log10(1.0 / float(img.mean())), abs=1e-9)
    assert metrics.localisation_error(img, (0.003, 0.004, 0.0)) == pytest.approx(0.005)
    m = metrics.image_metrics(xr.Dataset({"das": img}), target=(0, 0, 0))
    assert m.localisation_error_m < 1e-12 and m.scr_db == pytest.approx(metrics.scr(img))


def test_planar_image_and_nan_mask():
    img = _image([((0.0, 0.0, 0.0), 1.0, 0.006)]).isel(z=30)
    img[0, 0] = np.nan
    assert metrics.localisation_error(img, (0, 0, 0)) < 1e-12
    assert np.isfinite(metrics.scr(img))


@pytest.mark.parametrize("target", [(0.0, 0.0), (np.nan, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)])
def test_bad_target_raises(target):
    img = _image([((0.0, 0.0, 0.0), 1.0, 0.006)])
    with pytest.raises(ConfigError, match="target"):
        metrics.localisation_error(img, target)
