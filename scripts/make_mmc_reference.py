"""Independent forward model for brim.fusion: Monte Carlo photon transport (issue 23).

    python scripts/make_mmc_reference.py [--photons N] [--outdir data_samples/fusion_mmc] [--quick]

Writes ``reference.nc`` (the lesion-free medium) and ``d{D}_z{Z}.nc`` (spherical lesions of
diameter D mm centred at depth Z mm under the probe axis; HbT 70 uM, sO2 0.65 against a
20 uM, 0.70 background) into ``data_samples/fusion_mmc/`` (a sub-folder: reference data of the
tests, not bundled samples of ``brim.data.list_samples``), in brim's
``optical_measurement`` schema (positions in m, amplitude and phase over wavelength x source x
detector), for the probe of :func:`brim.fusion.probe_geometry` at the wavelengths, modulation
frequency and background of :func:`brim.fusion.simulate_measurement`. The reconstruction is then
tested on data that brim's diffusion model did not make (no inverse crime):
``tests/fusion/test_independent_forward.py``. About 13 minutes on the 2-core machine (load
~4) for the default 3e7 photons per run (two runs, 1.3e8 stored path vertices each: about 7 GB
of memory); the nine files take 360 kB. The photon statistics then give a median relative
amplitude error of 1.0 % per source-detector pair (1.9 % with the 6e6 photons of the first
version, which made the 10 mm lesions' perturbation, 1-4 %, hard to see).

The photon-transport code
-------------------------
The issue named the mesh-based Monte Carlo ``pmmc`` (PyPI ``pmmc==0.3.12``). Its wheel downloads
and imports here, but it is the OpenCL build of MMC: on a machine without an OpenCL device it
stops with ``RuntimeError('Unknown')`` (``compute="sse"`` too), and a CPU OpenCL driver (the
``pocl-binary-distribution`` wheel) cannot compile MMC's kernel without clang's resource headers.
So this script carries its own Monte Carlo, written for this purpose in numba (a script-time
tool, not a brim dependency: ``pip install numba``):

* photon transport as in MCML (Wang, Jacques & Zheng 1995): exponential free paths with the
  scattering coefficient ``mus``, Henyey-Greenstein phase function of anisotropy ``g``
  (``mus (1 - g)`` = brim's reduced scattering 0.7 mm-1; ``--g 0``, isotropic scattering, is
  the default because the run time grows as ``1 / (1 - g)``), a semi-infinite medium whose
  surface z = 0 has the refractive-index step tissue (n = 1.33) -> air with unpolarised Fresnel
  reflection (stochastic: a photon is reflected with probability R(theta), else it leaves), a
  pencil beam entering normally at the source;
* absorption by the partial path lengths ("white" or perturbation Monte Carlo, Hayakawa et al.
  2001; Alerstam et al. 2008): the scattering is the same inside and outside the lesion (brim's
  lesions change absorption only), so the photon paths do not depend on absorption and each
  detected photon carries ``exp(-mua_bg (L - L_les) - mua_les L_les)`` with ``L`` its path length
  and ``L_les`` the part inside the lesion sphere (exact segment-sphere intersection). One set of
  traced paths serves every wavelength and lesion contrast;
* frequency domain: each photon's time of flight ``t = n L / c`` gives the factor
  ``exp(-j omega t)`` (brim's ``exp(+j omega t)`` convention: phase falling with distance), the
  measured complex signal being the weighted sum over detected photons;
* detection by symmetry: in the lesion-free medium a path that leaves the surface at distance
  ``rho`` from its source can be rotated about the source (and mirrored) onto any
  source-detector pair of that separation. Each pair collects the photons leaving in the annulus
  ``rho_sd +- delta`` (``delta`` = 1 mm), each path rotated (and, as a second sample, mirrored)
  onto the pair's axis before its length inside the lesion is computed. The lesion, the only
  thing breaking the symmetry, is thus seen at its true position for every pair. Photons leaving
  near the source are kept with probability ``min(1, (rho / 60 mm)^2)`` and weighted by its
  inverse (an unbiased thinning that evens out the photon counts over distance);
* paths longer than ``L_max`` (a time gate, 2.5 m by default, where ``exp(-mua_bg L)`` is
  below 1e-4) are dropped.

Units: the transport runs in mm (brim's kernel unit, coefficients in mm-1); the files store
positions in m (SI), as every brim file.

Calibration: Monte Carlo gives the exitance per launched photon; a measuring system has an
unknown gain. As with real data, one constant per wavelength is taken from the **lesion-free
reference only** (the median over pairs of the ratio of brim's diffusion amplitude to the Monte
Carlo amplitude, and the median phase offset) and applied to all files of that wavelength; the
lesion measurements are never compared with the answer. The reconstruction uses the
target/reference ratio, so the constant cancels there; it only makes the amplitudes look like
brim's.

Noise: the Monte Carlo statistics are the noise. Photons are split into 10 batches by index;
the batch spread gives each pair's relative standard error, stored as ``amplitude_rel_se`` and
``phase_se`` (rad) beside the data, its median and maximum in the provenance. The reference is
traced with a different seed from the lesion measurements (independent noise, as two
measurements would have).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from numba import njit, prange

C_MM_PER_S = 299792458.0e3
#: (diameter, depth) in mm: the 10-25 mm lesions at 15-30 mm of issue 23's table
LESIONS_MM = (
    (10.0, 15.0),
    (10.0, 25.0),
    (15.0, 15.0),
    (15.0, 20.0),
    (20.0, 15.0),
    (20.0, 20.0),
    (25.0, 20.0),
    (25.0, 30.0),
)
LESION_HBT_UM, LESION_SO2 = 70.0, 0.65  # the test lesion of tests/fusion/test_lesion_accuracy.py


@njit(cache=True, inline="always")
def _next(state):
    """xorshift64* step: (new state, uniform in (0, 1))."""
    x = state
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    r = x * np.uint64(2685821657736338717)
    u = (float(r >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
    return x, u


@njit(cache=True, inline="always")
def _seed(seed, i):
    """splitmix64 of (seed, photon index): an independent, reproducible stream per photon."""
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(i + 1) * np.uint64(
        0xBF58476D1CE4E5B9
    )
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    if z == np.uint64(0):
        z = np.uint64(1)
    return z


@njit(cache=True, inline="always")
def _fresnel(n_rel, cos_i):
    """Unpolarised Fresnel reflectance leaving a medium of relative index ``n_rel`` > 1."""
    sin_t = n_rel * math.sqrt(max(0.0, 1.0 - cos_i * cos_i))
    if sin_t >= 1.0:
        return 1.0
    cos_t = math.sqrt(1.0 - sin_t * sin_t)
    rs = (n_rel * cos_i - cos_t) / (n_rel * cos_i + cos_t)
    rp = (n_rel * cos_t - cos_i) / (n_rel * cos_t + cos_i)
    return 0.5 * (rs * rs + rp * rp)


@njit(cache=True)
def _trace(i, seed, mus, g, n_rel, lmax, verts):
    """Trace photon ``i``; write its vertices into ``verts`` if it has room (len > 0).

    Returns (exit x, exit y, path length, number of vertices); a path length of -1 marks a
    photon dropped at ``lmax``.
    """
    st = _seed(seed, i)
    x = y = z = 0.0
    ux = uy = 0.0
    uz = 1.0
    length = 0.0
    nv = 0
    store = verts.shape[0] > 0
    if store:
        verts[0, 0] = 0.0
        verts[0, 1] = 0.0
        verts[0, 2] = 0.0
    nv = 1
    while True:
        st, u = _next(st)
        s = -math.log(u) / mus
        if uz < 0.0 and s >= -z / uz:  # reaches the surface
            t = -z / uz
            x += t * ux
            y += t * uy
            z = 0.0
            length += t
            if store:
                verts[nv, 0] = x
                verts[nv, 1] = y
                verts[nv, 2] = 0.0
            nv += 1
            st, u = _next(st)
            if u < _fresnel(n_rel, -uz):
                uz = -uz  # internal reflection; the free path is memoryless: draw a new one
            else:
                return x, y, length, nv
        else:
            x += s * ux
            y += s * uy
            z += s * uz
            length += s
            if store:
                verts[nv, 0] = x
                verts[nv, 1] = y
                verts[nv, 2] = z
            nv += 1
            # Henyey-Greenstein deflection and the MCML direction update
            st, u = _next(st)
            if g == 0.0:
                ct = 2.0 * u - 1.0
            else:
                tmp = (1.0 - g * g) / (1.0 - g + 2.0 * g * u)
                ct = (1.0 + g * g - tmp * tmp) / (2.0 * g)
            ct = min(1.0, max(-1.0, ct))
            sn = math.sqrt(1.0 - ct * ct)
            st, u = _next(st)
            phi = 2.0 * math.pi * u
            cp, sp = math.cos(phi), math.sin(phi)
            if abs(uz) > 0.99999:
                ux, uy, uz = sn * cp, sn * sp, ct * (1.0 if uz > 0 else -1.0)
            else:
                den = math.sqrt(1.0 - uz * uz)
                nx = sn * (ux * uz * cp - uy * sp) / den + ux * ct
                ny = sn * (uy * uz * cp + ux * sp) / den + uy * ct
                uz = -sn * cp * den + uz * ct
                ux, uy = nx, ny
        if length > lmax:
            return x, y, -1.0, nv
        if store and nv >= verts.shape[0]:
            return x, y, -1.0, nv


@njit(cache=True, parallel=True)
def _survey(n, seed, mus, g, n_rel, lmax):
    """Exit positions, path lengths and vertex counts of photons 0..n-1 (no storage)."""
    ex = np.empty(n)
    ey = np.empty(n)
    el = np.empty(n)
    nv = np.empty(n, np.int64)
    empty = np.empty((0, 3))
    for i in prange(n):
        ex[i], ey[i], el[i], nv[i] = _trace(i, seed, mus, g, n_rel, lmax, empty)
    return ex, ey, el, nv


@njit(cache=True, parallel=True)
def _record(ids, offsets, seed, mus, g, n_rel, lmax, verts):
    """Trace the photons ``ids`` again (same streams) and store their vertices."""
    for k in prange(ids.size):
        _trace(ids[k], seed, mus, g, n_rel, lmax, verts[offsets[k] : offsets[k + 1]])


@njit(cache=True, parallel=True)
def _lesion_lengths(verts, offsets, sel, cos_r, sin_r, mirror, src, centre, radius):
    """Length inside the sphere of each selected path, rotated/mirrored onto a pair.

    The path ``sel[k]`` (starting at the origin) is mirrored (y -> -y, when ``mirror``), rotated
    by (``cos_r[k]``, ``sin_r[k]``) about z and moved to the source ``src`` (x, y).
    """
    out = np.zeros(sel.size)
    r2 = radius * radius
    zlo = centre[2] - radius
    for k in prange(sel.size):
        p = sel[k]
        c, s = cos_r[k], sin_r[k]
        sign = -1.0 if mirror else 1.0
        acc = 0.0
        for v in range(offsets[p], offsets[p + 1] - 1):
            az = verts[v, 2]
            bz = verts[v + 1, 2]
            if az < zlo and bz < zlo:
                continue
            ax0, ay0 = verts[v, 0], sign * verts[v, 1]
            bx0, by0 = verts[v + 1, 0], sign * verts[v + 1, 1]
            ax = c * ax0 - s * ay0 + src[0] - centre[0]
            ay = s * ax0 + c * ay0 + src[1] - centre[1]
            bx = c * bx0 - s * by0 + src[0] - centre[0]
            by = s * bx0 + c * by0 + src[1] - centre[1]
            az -= centre[2]
            bz -= centre[2]
            dx, dy, dz = bx - ax, by - ay, bz - az
            aa = dx * dx + dy * dy + dz * dz
            if aa == 0.0:
                continue
            bb = ax * dx + ay * dy + az * dz
            cc = ax * ax + ay * ay + az * az - r2
            disc = bb * bb - aa * cc
            if disc <= 0.0:
                continue
            sq = math.sqrt(disc)
            t0 = max(0.0, (-bb - sq) / aa)
            t1 = min(1.0, (-bb + sq) / aa)
            if t1 > t0:
                acc += (t1 - t0) * math.sqrt(aa)
        out[k] = acc
    return out


@njit(cache=True)
def _max_depth(verts, offsets):
    out = np.empty(offsets.size - 1)
    for k in range(out.size):
        out[k] = verts[offsets[k] : offsets[k + 1], 2].max()
    return out


def trace_photons(
    n, seed, *, mus, g, n_rel, lmax, rho_range, rho_keep, mua_min, dpf, max_vertices=2e8
):
    """Trace ``n`` photons; keep (thinned) the paths leaving within ``rho_range`` (mm).

    A path leaving at ``rho`` with length ``L`` is kept with probability
    ``min(1, (rho / rho_keep)^2 exp(-mua_min (L - dpf rho)))`` and weighted by its inverse:
    an unbiased thinning (importance sampling) that evens out the counts over distance and
    drops most of the long paths whose weight ``exp(-mua L)`` is negligible anyway.
    """
    ex, ey, el, nv = _survey(n, seed, mus, g, n_rel, lmax)
    rho = np.hypot(ex, ey)
    ok = (el > 0) & (rho >= rho_range[0]) & (rho <= rho_range[1])
    expo = np.minimum(0.0, -mua_min * (el - dpf * rho))
    p_keep = np.minimum(1.0, (rho / rho_keep) ** 2 * np.exp(expo))
    rng = np.random.default_rng(seed)
    keep = ok & (rng.random(n) < p_keep)
    ids = np.flatnonzero(keep)
    if nv[ids].sum() > max_vertices:
        raise MemoryError(f"{nv[ids].sum():.3g} vertices to store; lower --photons")
    offsets = np.concatenate([[0], np.cumsum(nv[ids])]).astype(np.int64)
    verts = np.empty((offsets[-1], 3))
    _record(ids.astype(np.int64), offsets, seed, mus, g, n_rel, lmax, verts)
    return {
        "ids": ids,
        "offsets": offsets,
        "verts": verts,
        "rho": rho[ids],
        "angle": np.arctan2(ey[ids], ex[ids]),
        "length": el[ids],
        "weight": 1.0 / p_keep[ids],
        "max_depth": _max_depth(verts, offsets),
        "survey": {"dropped_at_lmax": int(np.sum(el < 0)), "kept": int(ids.size)},
    }


def pair_signals(paths, src, det, lesions, mua, *, n_launched, delta, omega, n, batches=10):
    """Complex exitance (per launched photon per mm^2) of every pair, lesion and wavelength.

    Returns ``signal`` (lesion-or-None, wavelength, source, detector) and its batch standard
    errors (relative amplitude, phase in rad). ``lesions`` is a list of (centre mm, radius mm,
    lesion mua per wavelength) or None for the lesion-free medium.
    """
    nl, nw = len(lesions), len(mua)
    sig = np.zeros((nl, nw, len(src), len(det)), complex)
    se_a = np.zeros_like(sig, dtype=float)
    se_p = np.zeros_like(sig, dtype=float)
    batch_of = paths["ids"] % batches
    t_phase = np.exp(-1j * omega * n * paths["length"] / C_MM_PER_S)
    for si, s in enumerate(src):
        for di, d in enumerate(det):
            v = d - s
            rho = float(np.hypot(*v))
            sel = np.flatnonzero(np.abs(paths["rho"] - rho) <= delta)
            deep = paths["max_depth"][sel]
            if sel.size < 20:
                raise RuntimeError(f"only {sel.size} photons at {rho:.1f} mm; more photons")
            pair_angle = math.atan2(v[1], v[0])
            base = paths["weight"][sel] * t_phase[sel] / (n_launched * 4 * np.pi * rho * delta)
            lens = paths["length"][sel]
            for li, les in enumerate(lesions):
                contrib = np.zeros((nw, sel.size), complex)
                for mirror in (False, True):
                    # rotate the exit angle a onto the pair's axis; mirrored (y -> -y) it is -a
                    ang = pair_angle + (paths["angle"][sel] if mirror else -paths["angle"][sel])
                    ll = np.zeros(sel.size)
                    if les is not None:  # only paths that reach the lesion's depth
                        near = np.flatnonzero(deep >= les[0][2] - les[1])
                        ll[near] = _lesion_lengths(
                            paths["verts"], paths["offsets"], sel[near], np.cos(ang[near]),
                            np.sin(ang[near]), mirror, s, np.asarray(les[0]), les[1],
                        )  # fmt: skip
                    for w in range(nw):
                        dm = 0.0 if les is None else les[2][w] - mua[w]
                        contrib[w] += 0.5 * base * np.exp(-mua[w] * lens - dm * ll)
                total = contrib.sum(1)
                sig[li, :, si, di] = total
                bsum = np.stack(
                    [contrib[:, batch_of[sel] == b].sum(1) * batches for b in range(batches)]
                )  # (batches, nw)
                se_a[li, :, si, di] = np.abs(bsum).std(0) / np.sqrt(batches) / np.abs(total)
                se_p[li, :, si, di] = np.angle(bsum / total).std(0) / np.sqrt(batches)
    return sig, se_a, se_p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--photons", type=float, default=3e7, help="photons per run (two runs)")
    ap.add_argument("--outdir", type=Path, default=Path("data_samples/fusion_mmc"))
    ap.add_argument("--g", type=float, default=0.0, help="Henyey-Greenstein anisotropy")
    ap.add_argument("--lmax", type=float, default=2000.0, help="longest path kept, mm")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--quick", action="store_true", help="4e5 photons, nothing written")
    args = ap.parse_args()

    import brim
    import brim.provenance
    from brim.fusion import diffusion as dif
    from brim.fusion import measurement_from_arrays, mua_from_hemoglobin
    from brim.fusion.simulate import _probe_geometry_mm

    wl = np.array([740.0, 780.0, 808.0, 830.0])
    bg_hbo2, bg_hb, musp, n, freq = 14.0, 6.0, 0.7, 1.33, 140e6  # simulate_measurement's
    mua = mua_from_hemoglobin(bg_hbo2, bg_hb, wl)
    mua_les = mua_from_hemoglobin(LESION_SO2 * LESION_HBT_UM, (1 - LESION_SO2) * LESION_HBT_UM, wl)
    mus = musp / (1.0 - args.g)
    src, det = _probe_geometry_mm()
    rho_all = np.hypot(*(det[None] - src[:, None]).transpose(2, 0, 1))
    delta = 1.5
    n_ph = int(4e5 if args.quick else args.photons)
    settings = {
        "code": "brim scripts/make_mmc_reference.py (own numba Monte Carlo, MCML-style)",
        "photons_per_run": n_ph,
        "mus_per_mm": mus,
        "g": args.g,
        "musp_per_mm": musp,
        "refractive_index": n,
        "boundary": "Fresnel, tissue n=1.33 to air",
        "source": "pencil beam, normal incidence",
        "detector": f"annulus rho +- {delta} mm, paths rotated and mirrored onto each pair",
        "lmax_mm": args.lmax,
        "thinning": "keep probability min(1, (rho/60 mm)^2 exp(-mua_min (L - 6 rho))), weight 1/p",
        "seed": args.seed,
    }
    print(json.dumps(settings, indent=1))
    omega = 2 * np.pi * freq
    runs = {}
    for name, seed in (("lesions", args.seed), ("reference", args.seed + 1)):
        t0 = time.perf_counter()
        runs[name] = trace_photons(
            n_ph,
            seed,
            mus=mus,
            g=args.g,
            n_rel=n,
            lmax=args.lmax,
            rho_range=(rho_all.min() - delta, rho_all.max() + delta),
            rho_keep=60.0,
            mua_min=float(mua.min()),
            dpf=6.0,
        )
        print(f"{name}: traced {n_ph:.3g} photons in {time.perf_counter() - t0:.0f} s, "
              f"{runs[name]['survey']}, {runs[name]['verts'].shape[0]:.3g} vertices")  # fmt: skip
    lesions = [((0.0, 0.0, z), d / 2, mua_les) for d, z in LESIONS_MM]
    t0 = time.perf_counter()
    kw = {"n_launched": n_ph, "delta": delta, "omega": omega, "n": n}
    sig_les, sea_les, sep_les = pair_signals(runs["lesions"], src, det, lesions, mua, **kw)
    sig_ref, sea_ref, sep_ref = pair_signals(runs["reference"], src, det, [None], mua, **kw)
    print(f"pair signals in {time.perf_counter() - t0:.0f} s")
    # calibration from the reference only: diffusion / Monte Carlo, median over pairs
    gain = np.empty(nw := wl.size, complex)
    for w in range(nw):
        props = dif.OpticalProperties(mua[w], musp, n, freq)
        model = dif.fluence_semi_infinite(src, det, props)
        ratio = model / sig_ref[0, w]
        gain[w] = np.median(np.abs(ratio)) * np.exp(1j * np.median(np.angle(ratio)))
        print(f"{wl[w]:.0f} nm: |diffusion/MC| median {np.abs(gain[w]):.4g} "
              f"(spread {np.percentile(np.abs(ratio) / np.abs(gain[w]), [5, 95]).round(3)}), "
              f"phase offset {np.angle(gain[w]):+.3f} rad")  # fmt: skip
    print(
        f"relative amplitude SE: reference median {np.median(sea_ref):.3f} max "
        f"{sea_ref.max():.3f}; lesions median {np.median(sea_les):.3f} max {sea_les.max():.3f}"
    )
    if args.quick:
        for li, (d, z) in enumerate(LESIONS_MM):
            ratio = np.abs(sig_les[li] / sig_ref[0])
            print(f"lesion {d:.0f} mm at {z:.0f} mm: target/reference amplitude min "
                  f"{ratio.min():.3f} median {np.median(ratio):.3f}")  # fmt: skip
        return
    args.outdir.mkdir(parents=True, exist_ok=True)
    truth_bg = {
        "background_hbo2_uM": bg_hbo2,
        "background_hb_uM": bg_hb,
        "musp_per_mm": musp,
        "mua_background_per_mm": mua.tolist(),
    }
    cases = [("reference", None, sig_ref[0], sea_ref[0], sep_ref[0])] + [
        (f"d{d:.0f}_z{z:.0f}", (d, z), sig_les[i], sea_les[i], sep_les[i])
        for i, (d, z) in enumerate(LESIONS_MM)
    ]
    for tag, les, sig, sea, sep in cases:
        truth = dict(truth_bg)
        if les is not None:
            truth["lesion"] = {
                "center": [0.0, 0.0, les[1] * 1e-3],
                "radius": les[0] * 0.5e-3,
                "hbo2": LESION_SO2 * LESION_HBT_UM,
                "hb": (1 - LESION_SO2) * LESION_HBT_UM,
            }
            truth["mua_lesion_per_mm"] = mua_les.tolist()
        phi = sig * gain[:, None, None]
        ds = measurement_from_arrays(
            np.abs(phi), np.angle(phi), wl, src, det, freq, position_units="mm",
            attrs={
                "brim_truth": json.dumps(truth),
                "refractive_index": n,
                "description": "Monte Carlo photon transport (independent of brim's diffusion "
                "model), made by scripts/make_mmc_reference.py",
                "monte_carlo": json.dumps(settings),
                "calibration": "one complex gain per wavelength from the lesion-free reference "
                "(median diffusion/MC over pairs): " + json.dumps(
                    [[abs(v), float(np.angle(v))] for v in gain]),
            },
        )  # fmt: skip
        ds["amplitude_rel_se"] = (("wavelength", "source", "detector"), sea, {"units": "1"})
        ds["phase_se"] = (("wavelength", "source", "detector"), sep, {"units": "rad"})
        ds = brim.provenance.record(
            ds,
            "scripts/make_mmc_reference.py",
            params={**settings, "case": tag, "median_amplitude_rel_se": float(np.median(sea)),
                    "max_amplitude_rel_se": float(sea.max())},
        )  # fmt: skip
        path = brim.save(ds, args.outdir / f"{tag}.nc")
        print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
