"""Tumour present/absent from tomography: features, simulated training sets, grouped evaluation.

Two inputs are supported: the reconstructed permittivity map (real and imaginary parts,
normalised by the background) and the raw scattered-field "sinogram" (scattered field per
transmitter and receiver normalised by the incident field, real and imaginary parts, unmeasured
pairs zero). Training sets are simulated from random breast phantoms: each phantom (one anatomy)
gives a tumour-bearing and a tumour-free sample, so splits MUST be grouped by phantom — a
random split would put the twin of a test sample in the training set. Evaluation uses
:func:`brim.evaluate.cross_validate` (grouped folds, leakage checks) and models from
:mod:`brim.learn` (MLP, safetensors checkpoints).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from brim.errors import ConfigError, FormatError
from brim.io import write_text
from brim.microwave.tomography.forward import add_noise, simulate
from brim.microwave.tomography.grid import TomographyGrid, ring_positions
from brim.microwave.tomography.phantoms import random_breast_phantom

__all__ = [
    "TrainingSet",
    "evaluate",
    "load_classifier",
    "make_training_set",
    "map_features",
    "predict_files",
    "sinogram_features",
    "train_classifier",
]

META_FILE = "brim_tomo_classifier.json"


def sinogram_features(fields: xr.Dataset) -> np.ndarray:
    """Scattered field / incident field per (freq, tx, rx), real and imag stacked (1).

    Parameters
    ----------
    fields : xarray.Dataset
        A ``field_set`` (``scattered_field`` and ``incident_field`` over freq, tx, rx).

    Returns
    -------
    ndarray (2 * n_freq * n_tx * n_rx,)
        The feature vector.
    """
    from brim.schema import expect_dataset, validate

    expect_dataset(fields, "field_set")
    validate(fields, "field_set")
    tot = fields["total_field"].values
    inc = fields["incident_field"].values
    m = np.ones(tot.shape, bool)
    if "mask" in fields:
        m = np.broadcast_to(fields["mask"].values.astype(bool), tot.shape)
    ratio = np.where(m & (np.abs(inc) > 0), (tot - inc) / np.where(inc == 0, 1, inc), 0)
    return np.concatenate([ratio.real.ravel(), ratio.imag.ravel()]).astype(np.float32)


def map_features(eps: np.ndarray, eps_b: complex) -> np.ndarray:
    """Contrast map ``eps/eps_b - 1``, real and imaginary parts stacked (1).

    Parameters
    ----------
    eps : ndarray (ny, nx), complex
        A reconstructed relative permittivity map.
    eps_b : complex
        Background relative permittivity.

    Returns
    -------
    ndarray (2 * ny * nx,)
        The feature vector.
    """
    c = np.asarray(eps) / eps_b - 1
    return np.concatenate([c.real.ravel(), c.imag.ravel()]).astype(np.float32)


@dataclass
class TrainingSet:
    """Simulated samples: inputs per kind, labels and phantom ids (the groups).

    Attributes
    ----------
    sinogram : ndarray (n, n_features)
        :func:`sinogram_features` of each measurement.
    maps : ndarray (n, n_features) or None
        :func:`map_features` of each reconstruction (with ``reconstruct=``).
    labels : ndarray (n,) of int
        1 with a tumour, 0 without.
    groups : ndarray (n,) of int
        Phantom id (the two measurements of one anatomy share it).
    """

    sinogram: np.ndarray
    maps: np.ndarray | None
    labels: np.ndarray
    groups: np.ndarray


def make_training_set(
    n_phantoms: int,
    *,
    grid: TomographyGrid | None = None,
    freq=(1e9,),
    n_tx: int = 8,
    n_rx: int = 8,
    ring_radius: float = 0.07,
    eps_b: complex = 10 - 1j,
    noise: float = 0.01,
    reconstruct: str | None = None,
    inversion_grid: TomographyGrid | None = None,
    seed: int = 0,
    phantom_kwargs: dict | None = None,
    progress: bool = False,
) -> TrainingSet:
    """Simulate ``2 * n_phantoms`` measurements (each anatomy with and without a tumour).

    ``noise`` is complex Gaussian noise relative to the mean scattered-field magnitude.
    ``reconstruct`` (a method of :func:`brim.microwave.tomography.inverse.invert`) also returns
    maps.
    ``phantom_kwargs`` go to :func:`~brim.microwave.tomography.phantoms.random_breast_phantom`.

    Parameters
    ----------
    n_phantoms : int
        Number of anatomies.
    grid : TomographyGrid, optional
        Simulation grid; default 48 cells over 0.11 m.
    freq : sequence of float
        Frequencies in Hz.
    n_tx, n_rx : int
        Antennas on the ring.
    ring_radius : float
        Ring radius in m.
    eps_b : complex
        Background relative permittivity.
    noise : float
        Relative noise level.
    reconstruct : str, optional
        Inversion method for the maps.
    inversion_grid : TomographyGrid, optional
        Grid of the reconstructions.
    seed : int
        Seed of the phantoms and noise.
    phantom_kwargs : dict, optional
        Options of the random phantoms.
    progress : bool
        Show a progress bar.

    Returns
    -------
    TrainingSet
        The features, labels and groups.
    """
    from brim.microwave.tomography.inverse import invert

    grid = grid or TomographyGrid.centered(32, 0.11)
    tx = ring_positions(n_tx, ring_radius)
    rx = ring_positions(n_rx, ring_radius, offset=np.pi / n_rx)
    rng = np.random.default_rng(seed)
    sino, maps, labels, groups = [], [], [], []
    it = range(n_phantoms)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="phantoms")
    for i in it:
        s = int(rng.integers(2**31))
        for tumour in (False, True):
            ph = random_breast_phantom(
                grid, s, tumour=tumour, background=eps_b, **(phantom_kwargs or {})
            )
            ds = simulate(ph.permittivity, grid, freq, tx, rx, eps_b=eps_b, tol=1e-6)
            ds = add_noise(ds, noise, seed=[s, int(tumour)])
            sino.append(sinogram_features(ds))
            if reconstruct:
                rec = invert(ds, inversion_grid or grid, method=reconstruct, iterations=3)
                maps.append(map_features(rec.permittivity, eps_b))
            labels.append(int(tumour))
            groups.append(i)
    return TrainingSet(
        sinogram=np.stack(sino),
        maps=np.stack(maps) if maps else None,
        labels=np.asarray(labels),
        groups=np.asarray(groups),
    )


def _standardise(x, mean=None, std=None):
    mean = x.mean(axis=0) if mean is None else mean
    std = x.std(axis=0) + 1e-6 if std is None else std
    return ((x - mean) / std).astype(np.float32), mean, std


def _mlp_fit_predict(epochs: int = 60, seed: int = 0):
    from brim.learn import MLP, TrainConfig, make_fit_predict

    cfg = TrainConfig(epochs=epochs, lr=3e-3, batch_size=16, seed=seed, patience=15)

    def fp(x_tr, y_tr, x_va, y_va, x_te):
        x_tr, m, s = _standardise(np.asarray(x_tr))
        x_va = _standardise(np.asarray(x_va), m, s)[0]
        x_te = _standardise(np.asarray(x_te), m, s)[0]
        torch = __import__("torch")
        torch.manual_seed(seed)
        inner = make_fit_predict(lambda: MLP(x_tr.shape[1], hidden=(32,), dropout=0.1), cfg)
        return inner(x_tr, y_tr, x_va, y_va, x_te)

    return fp


def evaluate(x, labels, groups, *, model: str = "logistic", n_splits: int = 4, seed: int = 0):
    """Grouped cross-validation (by phantom) with :func:`brim.evaluate.cross_validate`.

    ``model`` "logistic" (brim.evaluate's L2 logistic regression on standardised features) or
    "mlp" (a brim.learn MLP). Returns the :class:`brim.evaluate` CV result.

    Parameters
    ----------
    x : ndarray (n, n_features)
        Features (``TrainingSet.sinogram`` or ``.maps``), standardised inside each fold.
    labels : ndarray (n,)
        Binary labels.
    groups : ndarray (n,)
        Phantom ids (folds never split a group).
    model : {"logistic", "mlp"}
        The classifier.
    n_splits : int
        Number of folds.
    seed : int
        Seed of the folds and of the MLP.

    Returns
    -------
    object
        The result of :func:`brim.evaluate.cross_validate`.
    """
    from brim.evaluate import cross_validate, logistic_fit_predict

    if model == "logistic":

        def fp(x_tr, y_tr, x_va, y_va, x_te):
            x_tr, m, s = _standardise(np.asarray(x_tr))
            return logistic_fit_predict(
                x_tr,
                y_tr,
                _standardise(np.asarray(x_va), m, s)[0],
                y_va,
                _standardise(np.asarray(x_te), m, s)[0],
            )

    elif model == "mlp":
        fp = _mlp_fit_predict(seed=seed)
    else:
        raise ConfigError(f"unknown model {model!r}; use 'logistic' or 'mlp'")
    return cross_validate(
        fp,
        np.asarray(x, np.float32),
        np.asarray(labels),
        np.asarray(groups),
        n_splits=n_splits,
        aggregate=None,
        seed=seed,
        check_inputs=False,
        n_bootstrap=200,
        name=f"tomo-{model}",
    )


def train_classifier(x, labels, groups, directory, *, epochs: int = 60, seed: int = 0) -> Path:
    """Train a brim.learn MLP on all samples (grouped validation split) and save it.

    Writes the safetensors checkpoint and ``brim_tomo_classifier.json`` (feature mean/std).

    Parameters
    ----------
    x : ndarray (n, n_features)
        Features; their mean and std are saved with the model for :func:`predict_files`.
    labels : ndarray (n,)
        Binary labels.
    groups : ndarray (n,)
        Phantom ids (the validation split never splits a group).
    directory : path-like
        Where to save the model.
    epochs : int
        Training epochs.
    seed : int
        Seed of the split and of the training.

    Returns
    -------
    pathlib.Path
        The model folder.
    """
    from brim.evaluate import grouped_split
    from brim.learn import MLP, ArrayDataset, TrainConfig, fit, save_checkpoint

    x = np.asarray(x, np.float32)
    tr, va = grouped_split(np.asarray(groups), np.asarray(labels), val_fraction=0.25, seed=seed)
    xs, m, s = _standardise(x[tr])
    xv = _standardise(x[va], m, s)[0]
    import torch

    torch.manual_seed(seed)
    model = MLP(x.shape[1], hidden=(32,), dropout=0.1)
    cfg = TrainConfig(epochs=epochs, lr=3e-3, batch_size=16, seed=seed, patience=15)
    y = np.asarray(labels)
    g = np.asarray(groups)
    res = fit(
        model,
        ArrayDataset(xs, y[tr], g[tr]),
        val_data=ArrayDataset(xv, y[va], g[va]),
        config=cfg,
    )
    d = save_checkpoint(res.model, directory, config=cfg.to_dict())
    meta = {"mean": m.tolist(), "std": s.tolist(), "n_features": int(x.shape[1])}
    write_text(Path(directory) / META_FILE, json.dumps(meta))
    return d


def load_classifier(directory):
    """Load a classifier saved by :func:`train_classifier`: ``(model, mean, std)``.

    Parameters
    ----------
    directory : path-like
        The folder written by :func:`train_classifier`.

    Returns
    -------
    (torch.nn.Module, ndarray, ndarray)
        The model in eval mode and the feature mean and standard deviation.
    """
    from brim.learn import load_checkpoint

    p = Path(directory) / META_FILE
    if not p.is_file():
        raise FormatError(f"{directory} has no {META_FILE}: not a tomography classifier")
    meta = json.loads(p.read_text())
    return load_checkpoint(directory), np.asarray(meta["mean"]), np.asarray(meta["std"])


def predict_files(directory, x) -> np.ndarray:
    """Tumour probability per sample of feature matrix ``x`` with a saved classifier.

    Parameters
    ----------
    directory : path-like
        The folder written by :func:`train_classifier`.
    x : ndarray (n, n_features)
        Features.

    Returns
    -------
    ndarray (n,)
        Tumour probabilities in [0, 1].
    """
    import torch

    model, m, s = load_classifier(directory)
    x = np.asarray(x, np.float32)
    if x.shape[1] != m.size:
        raise ConfigError(
            f"inputs have {x.shape[1]} features but the classifier expects {m.size}: "
            "use the same set-up (frequencies, antennas) as for training"
        )
    with torch.no_grad():
        logits = model(torch.from_numpy(_standardise(x, m, s)[0]))
    return torch.sigmoid(logits).numpy().ravel()
