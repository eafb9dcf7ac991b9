"""brim.evaluate / brim.learn speed against references on the same input, in the same run.

- AUROC (ranks / Mann-Whitney) vs scipy.stats.mannwhitneyu (U / (n1 n0)) and vs the dense
  pairwise comparison (O(n1 n0)).
- HD95 (distance transforms) vs dense pairwise distances between surface pixels.
- Perceptual-hash leakage check vs dense pairwise correlation of the images.
- Training throughput of ResNetClassifier (images / s, forward + backward) on CPU (and CUDA
  when torch sees one), 1 thread vs torch's default.

Prints our time, the reference's, and the ratio (ours / reference).

    python benchmarks/learn_evaluate.py
"""

from __future__ import annotations

import platform

import numpy as np
from _timing import best_seconds as best
from scipy import stats


def row(name, ours, ref, ref_name):
    print(f"| {name} | {ours * 1e3:.2f} | {ref_name}: {ref * 1e3:.2f} | {ours / ref:.3f} |")


def main():
    from brim.evaluate import auroc, check_leakage, hd95

    rng = np.random.default_rng(0)
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
    print("| case | ours (ms) | reference (ms) | ratio |")
    print("|---|---|---|---|")
    for n in (1_000, 20_000):
        y = rng.integers(0, 2, n)
        s = rng.normal(size=n) + y
        a = auroc(y, s)
        u = stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic / ((y == 1).sum() * (y == 0).sum())
        assert abs(a - u) < 1e-12
        row(
            f"AUROC n={n}",
            best(lambda y=y, s=s: auroc(y, s)),
            best(lambda y=y, s=s: stats.mannwhitneyu(s[y == 1], s[y == 0])),
            "scipy mannwhitneyu",
        )
        if n <= 1_000:
            pos, neg = s[y == 1], s[y == 0]

            def dense(pos=pos, neg=neg):
                d = pos[:, None] - neg[None]
                return ((d > 0) + 0.5 * (d == 0)).mean()

            row(f"AUROC n={n}", best(lambda y=y, s=s: auroc(y, s)), best(dense), "dense pairs")

    yy, xx = np.mgrid[:128, :128]
    a = (yy - 60) ** 2 / 900 + (xx - 64) ** 2 / 500 < 1
    b = (yy - 66) ** 2 / 700 + (xx - 60) ** 2 / 600 < 1

    def surface(m):
        from scipy import ndimage

        return np.argwhere(m & ~ndimage.binary_erosion(m))

    def dense_hd95():
        pa, pb = surface(a).astype(float), surface(b).astype(float)
        d = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1))
        return np.percentile(np.r_[d.min(1), d.min(0)], 95)

    assert abs(hd95(a, b) - dense_hd95()) < 1e-9
    row("HD95 128x128 ellipses", best(lambda: hd95(a, b)), best(dense_hd95), "dense pairs")

    imgs = rng.normal(size=(400, 64, 64)).cumsum(1)
    groups = np.arange(400)
    tr, te = np.arange(300), np.arange(300, 400)

    def dense_corr():
        f = imgs.reshape(400, -1)
        f = (f - f.mean(1, keepdims=True)) / f.std(1, keepdims=True)
        return (f[tr] @ f[te].T / f.shape[1]).max()

    row(
        "leakage check 300 vs 100 images 64x64",
        best(lambda: check_leakage(tr, te, groups, inputs=imgs), repeat=2),
        best(dense_corr, repeat=2),
        "dense correlation",
    )

    import torch

    from brim.learn import ResNetClassifier

    for dev in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
        for size in (32, 64):
            model = ResNetClassifier(1, widths=(16, 32, 64)).to(dev)
            x = torch.randn(32, 1, size, size, device=dev)

            def step(model=model, x=x, dev=dev):
                model.zero_grad()
                model(x).sum().backward()
                if dev == "cuda":
                    torch.cuda.synchronize()

            threads = [1, torch.get_num_threads()] if dev == "cpu" else [None]
            for nt in dict.fromkeys(threads):
                old = torch.get_num_threads()
                if nt:
                    torch.set_num_threads(nt)
                step()
                t = best(step, repeat=5)
                torch.set_num_threads(old)
                label = f"{dev}" + (f", {nt} thread(s)" if nt else "")
                print(
                    f"| ResNetClassifier train step, 32 imgs {size}x{size}, {label} | "
                    f"{t * 1e3:.1f} | {32 / t:.0f} images/s | - |"
                )


if __name__ == "__main__":
    main()
