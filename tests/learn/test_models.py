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
    a = build_model("MLP", kwargs={"in_features": 4}, seed=3)
    b = build_model("MLP", kwargs={"in_features": 4}, seed=3)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(brim.ConfigError, match="unknown model"):
        build_model({"class": "os.system", "kwargs": {}})
    with pytest.raises(brim.ConfigError, match="bad arguments"):
        build_model("MLP", kwargs={"nonsense": 1})


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to torch")
def test_models_run_on_cuda_like_on_cpu():
    for model, inputs, _ in _models():
        model.eval()
        with torch.no_grad():
            cpu = model(*inputs).numpy()
            gpu = model.cuda()(*[t.cuda() for t in inputs]).cpu().numpy()
        np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-4)


def test_avgpool_downsampling_keeps_coarse_pixels_centred_on_their_blocks():
    # oracle: with a zero residual branch and a unit 1x1 skip, the block's output is the 2x2
    # block mean of a non-negative input (avgpool), or the sample at (2i, 2j) (strided conv:
    # half a pixel off the block centre, blind to odd rows and columns)
    from brim.learn.models import _ResBlock

    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3, 5] = 4.0  # odd row and column
    outs = {}
    for ds in ("avgpool", "stride"):
        blk = _ResBlock(1, 1, 2, False, norm="batch", downsample=ds).eval()
        with torch.no_grad():
            blk.conv2.weight.zero_()
            blk.skip[0].weight.fill_(1.0)
            outs[ds] = blk(x)[0, 0] * np.sqrt(1 + 1e-5)  # undo BatchNorm's eps (eval mode)
    expect = torch.nn.functional.avg_pool2d(x, 2)[0, 0]
    torch.testing.assert_close(outs["avgpool"], expect, rtol=1e-5, atol=1e-6)
    assert float(outs["stride"].abs().max()) == 0.0


def test_norm_and_downsample_options():
    m = ResNetClassifier(1, widths=(4, 8, 16), norm="batch", downsample="avgpool")
    assert any(isinstance(k, torch.nn.BatchNorm2d) for k in m.modules())
    assert not any(isinstance(k, torch.nn.GroupNorm) for k in m.modules())
    out = m(torch.randn(3, 1, 15, 17))  # odd sizes: ceil-mode pooling
    assert tuple(out.shape) == (3, 1)
    rebuilt = build_model(m.spec)
    assert rebuilt.spec["kwargs"]["norm"] == "batch"
    assert rebuilt.spec["kwargs"]["downsample"] == "avgpool"
    with pytest.raises(brim.ConfigError, match="norm"):
        ResNetClassifier(1, norm="layer")
    with pytest.raises(brim.ConfigError, match="downsample"):
        ResNetClassifier(1, downsample="maxpool")
