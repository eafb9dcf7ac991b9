"""Grad-CAM against the exact CAM of a global-average-pooling network (Zhou et al. 2016)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

torch = pytest.importorskip("torch")

from brim.evaluate import grad_cam, plot_grad_cam  # noqa: E402


class GapNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 6, 3, padding=1)
        self.relu = torch.nn.ReLU()
        self.fc = torch.nn.Linear(6, 2)

    def forward(self, x):
        return self.fc(self.relu(self.conv(x)).mean(dim=(2, 3)))


def test_grad_cam_equals_class_activation_map_for_gap_network():
    torch.manual_seed(0)
    net = GapNet().double()
    rng = np.random.default_rng(0)
    img = rng.normal(size=(12, 14))
    da = xr.DataArray(
        img,
        dims=("y", "x"),
        coords={
            "y": ("y", 1e-3 * np.arange(12), {"units": "m"}),
            "x": ("x", 2e-3 * np.arange(14), {"units": "m"}),
        },
        attrs={"units": "degC"},
    )
    cam = grad_cam(net, da.astype(np.float32), target_layer=net.relu, target=1, normalize=False)
    # oracle: d logit / d A_k(i, j) = w_k / (H W), so Grad-CAM = relu(sum_k w_k / (H W) A_k)
    with torch.no_grad():
        a = net.relu(net.conv(torch.from_numpy(img.astype(np.float32)).double()[None, None]))[0]
        w = net.fc.weight[1]
        oracle = torch.relu((w[:, None, None] * a).sum(0) / (12 * 14)).numpy()
    np.testing.assert_allclose(cam.values, oracle, rtol=1e-5, atol=1e-9)
    assert cam.dims == ("y", "x")
    np.testing.assert_array_equal(cam["x"].values, da["x"].values)
    assert cam["y"].attrs["units"] == "m"


def test_grad_cam_on_brim_resnet_upsamples_and_plots():
    import matplotlib

    matplotlib.use("Agg")
    from brim.learn import ResNetClassifier

    torch.manual_seed(1)
    model = ResNetClassifier(1, widths=(4, 8), attention=True)
    img = np.random.default_rng(1).normal(size=(1, 16, 16)).astype(np.float32)
    cam = grad_cam(model, img)
    assert cam.shape == (16, 16) and float(cam.min()) >= 0
    assert float(cam.max()) in (0.0, 1.0)
    ax = plot_grad_cam(cam, image=img)
    assert ax.get_title().startswith("Grad-CAM")
    with pytest.raises(Exception, match="target"):
        grad_cam(model, img, target=3)
