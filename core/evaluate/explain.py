"""Grad-CAM explanations for the CNN classifiers, on the input's coordinates.

References
----------
Selvaraju RR et al. (2017). Grad-CAM: visual explanations from deep networks via gradient-based
localization. ICCV 618-626.
Zhou B et al. (2016). Learning deep features for discriminative localization. CVPR (CAM).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from brim.deprecation import positional_options
from brim.errors import ConfigError, require

__all__ = ["grad_cam", "plot_grad_cam"]


def _last_conv(model):
    torch = require("torch", "dl")
    layer = getattr(model, "cam_layer", None)
    if layer is not None:
        return layer
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    if not convs:
        raise ConfigError("the model has no Conv2d layer; pass target_layer=...")
    return convs[-1]


def grad_cam(
    model: Any,
    x: Any,
    *,
    target_layer: Any = None,
    target: int = 0,
    extra_inputs: tuple = (),
    normalize: bool = True,
) -> xr.DataArray:
    """Grad-CAM map of one input image, on the image's own grid and coordinates.

    The activations ``A_k`` of ``target_layer`` are weighted by the spatial mean of the gradient
    of output ``target`` (the logit) with respect to them: ``cam = relu(sum_k w_k A_k)``, then
    upsampled bilinearly to the input grid.

    Parameters
    ----------
    model : torch.nn.Module
        A CNN classifier (``model(x)`` -> logits ``(1, n_outputs)``).
    x : xarray.DataArray, numpy array or torch.Tensor
        One image: ``(y, x)`` or ``(channel, y, x)``. A DataArray's last two dims and their
        coordinates are carried to the result.
    target_layer : torch.nn.Module, optional
        Layer to explain; default ``model.cam_layer`` or the last ``Conv2d``.
    target : int
        Output index (logit) to explain.
    extra_inputs : tuple
        Further inputs of a multi-input model (e.g. the feature vector of a fusion model),
        passed after ``x`` (each with a batch axis of 1).
    normalize : bool
        Scale the map to a maximum of 1 (when not all zero).

    Returns
    -------
    xarray.DataArray
        ``grad_cam`` on the image's (y, x) dims; attrs ``units`` ("1" when normalised),
        ``target``, ``layer``.

    References
    ----------
    Selvaraju RR et al. (2017). Grad-CAM: visual explanations from deep networks via
    gradient-based localization. ICCV, 618-626.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import grad_cam
    >>> from brim.learn import build_model
    >>> model = build_model("ResNetClassifier", kwargs={"widths": (4,)}, seed=0)
    >>> image = np.random.default_rng(0).normal(size=(1, 16, 16)).astype(np.float32)
    >>> cam = grad_cam(model, image)
    >>> cam.dims, cam.shape, float(cam.max())
    (('y', 'x'), (16, 16), 1.0)
    """
    torch = require("torch", "dl")
    F = torch.nn.functional
    da = x if isinstance(x, xr.DataArray) else None
    if da is not None:
        arr = np.asarray(da.values, dtype=np.float32)
    elif isinstance(x, torch.Tensor):
        arr = x.detach().cpu().float().numpy()
    else:
        arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ConfigError(f"grad_cam takes one image (y, x) or (channel, y, x), got {arr.shape}")
    layer = target_layer if target_layer is not None else _last_conv(model)
    if layer is None:
        raise ConfigError("no default Grad-CAM layer for this model; pass target_layer=...")
    param = next(model.parameters())
    t = torch.from_numpy(np.ascontiguousarray(arr))[None].to(param.device, param.dtype)
    store: dict[str, Any] = {}

    def hook(_module, _inp, out):
        store["act"] = out
        out.register_hook(lambda g: store.__setitem__("grad", g))

    handle = layer.register_forward_hook(hook)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            out = model(t, *extra_inputs)
            if out.ndim != 2 or not 0 <= target < out.shape[1]:
                raise ConfigError(
                    f"target {target} is not an output of this model (output shape "
                    f"{tuple(out.shape)}); Grad-CAM here is for classifiers"
                )
            model.zero_grad(set_to_none=True)
            out[0, target].backward()
    finally:
        handle.remove()
        model.train(was_training)
    if "act" not in store or "grad" not in store:
        raise ConfigError("the target layer was not used in the forward pass")
    act, grad = store["act"].detach(), store["grad"].detach()
    if act.ndim != 4:
        raise ConfigError(f"target layer output must be (batch, C, y, x), got {tuple(act.shape)}")
    w = grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((w * act).sum(dim=1, keepdim=True))
    if cam.shape[-2:] != t.shape[-2:]:
        cam = F.interpolate(cam, size=t.shape[-2:], mode="bilinear", align_corners=False)
    cam = cam[0, 0].cpu().numpy().astype(np.float64)
    if normalize and cam.max() > 0:
        cam = cam / cam.max()
    attrs = {
        "units": "1" if normalize else "logit per activation unit",
        "long_name": "Grad-CAM",
        "target": int(target),
        "layer": type(layer).__name__,
        "reference": "Selvaraju et al. 2017, ICCV",
    }
    if da is not None:
        ydim, xdim = da.dims[-2:]
        coords = {k: c for k, c in da.coords.items() if set(c.dims) <= {ydim, xdim}}
        return xr.DataArray(cam, dims=(ydim, xdim), coords=coords, attrs=attrs, name="grad_cam")
    return xr.DataArray(cam, dims=("y", "x"), attrs=attrs, name="grad_cam")


@positional_options
def plot_grad_cam(
    cam: xr.DataArray,
    *,
    image: Any = None,
    ax: Any = None,
    alpha: float = 0.45,
    cmap: str = "inferno",
    image_cmap: str = "gray",
) -> Any:
    """Overlay a Grad-CAM map on its image.

    Parameters
    ----------
    cam : xarray.DataArray
        Output of :func:`grad_cam`.
    image : xarray.DataArray or array, optional
        The image (2-D, or channel first: the first channel is shown), drawn in grey with its
        physical values (a colour bar names its units).
    ax : matplotlib Axes, optional
    alpha : float
        Opacity of the map.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    A hand-made map (as :func:`grad_cam` returns) over a 4 x 4 image:

    >>> import numpy as np
    >>> import xarray as xr
    >>> from matplotlib.figure import Figure
    >>> from brim.evaluate import plot_grad_cam
    >>> cam = xr.DataArray(np.eye(4), dims=("y", "x"), attrs={"target": 1})
    >>> ax = plot_grad_cam(cam, image=np.ones((4, 4)), ax=Figure().subplots())
    >>> ax.get_title(), len(ax.images)
    ('Grad-CAM (output 1)', 2)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ydim, xdim = cam.dims[-2:]
    extent = None
    if xdim in cam.coords and ydim in cam.coords and cam.sizes[xdim] > 1 and cam.sizes[ydim] > 1:
        xs, ys = cam[xdim].values, cam[ydim].values
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        extent = (xs[0] - dx / 2, xs[-1] + dx / 2, ys[-1] + dy / 2, ys[0] - dy / 2)
    if image is not None:
        img = np.asarray(image.values if hasattr(image, "values") else image, dtype=float)
        while img.ndim > 2:
            img = img[0]
        im = ax.imshow(img, cmap=image_cmap, extent=extent)
        units = getattr(image, "attrs", {}).get("units", "")
        ax.figure.colorbar(im, ax=ax, fraction=0.046, label=units)
    ax.imshow(cam.values, cmap=cmap, alpha=alpha, extent=extent, vmin=0)
    ax.set_title(f"Grad-CAM (output {cam.attrs.get('target', 0)})")
    if extent is not None:
        ax.set_xlabel(f"{xdim} [{cam[xdim].attrs.get('units', '')}]")
        ax.set_ylabel(f"{ydim} [{cam[ydim].attrs.get('units', '')}]")
    return ax
