"""Model shapes, specs, and the CUDA path (skipped without a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import brim  # noqa: E402
from brim.learn import MLP, ResNetClassifier, TwoBranchFusion, UNet2d, build_model  # noqa: E402


def _models():
    return [
        (
            ResNetClassifier(2, 3, widths=(4, 8), blocks_per_stage=2, attention=True),
            (torch.randn(2, 2, 20, 24),),
            (2, 3),
        ),
        (UNet2d(1, 2, base_channels=4, depth=3), (torch.randn(2, 1, 21, 19),), (2, 2, 21, 19)),
        (MLP(7, hidden=(8,)), (torch.randn(5, 7),), (5, 1)),
        (
            TwoBranchFusion(ResNetClassifier(1, widths=(4,)), MLP(3, hidden=(6,))),
            (torch.randn(2, 1, 16, 16), torch.randn(2, 3)),
            (2, 1),
        ),
    ]


def test_output_shapes_and_spec_rebuild():
    for model, inputs, shape in _models():
        out = model(*inputs)
        assert tuple(out.shape) == shape
        rebuilt = build_model(model.spec)
        assert type(rebuilt) is type(model)
        assert sum(p.numel() for p in rebuilt.parameters()) == sum(
            p.numel() for p in model.parameters()
        )


def test_build_model_is_seeded_and_refuses_unknown_classes():
    a = build_model("MLP", {"in_features": 4}, seed=3)
    b = build_model("MLP", {"in_features": 4}, seed=3)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(brim.ConfigError, match="unknown model"):
        build_model({"class": "os.system", "kwargs": {}})
    with pytest.raises(brim.ConfigError, match="bad arguments"):
        build_model("MLP", {"nonsense": 1})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to torch")
def test_models_run_on_cuda_like_on_cpu():
    for model, inputs, _ in _models():
        model.eval()
        with torch.no_grad():
            cpu = model(*inputs).numpy()
            gpu = model.cuda()(*[t.cuda() for t in inputs]).cpu().numpy()
        np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-4)
