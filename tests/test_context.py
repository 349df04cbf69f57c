"""Neighbour planes as context (recon.diffusion.context): a y-t / x-t network that also reads the planes beside
its own."""

import json

import numpy as np
import pytest
import torch

from recon import methods
from recon.diffusion.checkpoint import CheckpointError, load_model, read_config
from recon.diffusion.context import mirrored, with_neighbours
from recon.diffusion.planes import PlaneSet
from recon.diffusion.train import TrainConfig, train
from recon.errors import ReconError
from recon.phantom import simulate_cine
from recon.pipeline import problem_for, undersample


@pytest.fixture(scope="module")
def context_model(tmp_path_factory, tiny_model):
    """The tiny prior widened to one neighbour on each side, trained one step at a learning rate of ~0."""
    out = tmp_path_factory.mktemp("context") / "ctx.safetensors"
    folder = tiny_model.parent
    train(TrainConfig(data=[str(folder)], out=str(out), preset="tiny", steps=1, batch=2, crop=None, lr=1e-12,
                      warmup=1, init_from=str(tiny_model), context=1, checkpoint_every=1), progress=False)
    return out


def test_neighbours_are_the_adjacent_planes_mirrored_at_the_edges():
    assert mirrored(np.arange(-2, 6), 4).tolist() == [2, 1, 0, 1, 2, 3, 2, 1]
    planes = torch.arange(4.0)[:, None, None, None].expand(4, 2, 3, 5)  # plane i holds the value i
    stacked = with_neighbours(planes, 1)
    assert stacked.shape == (4, 6, 3, 5)
    assert stacked[:, ::2, 0, 0].tolist() == [[0, 1, 1], [1, 0, 2], [2, 1, 3], [3, 2, 2]]  # self, -1, +1
    assert with_neighbours(planes, 0) is planes


def test_a_widened_network_starts_as_the_one_it_came_from(tiny_model, context_model):
    old, sde, _ = load_model(tiny_model)
    new = load_model(context_model)[0]
    assert new.config.context == 1 and read_config(context_model)["unet"]["context"] == 1
    assert "context" not in read_config(tiny_model)["unet"]  # files without context stay as they were
    planes = torch.randn(5, 2, 6, 32) * 0.3
    sigma = torch.full((5,), 0.05)
    with torch.no_grad():
        expected = sde.denoise(old, planes, sigma)
        got = sde.denoise(new, with_neighbours(planes, 1), sigma)
    assert torch.allclose(expected, got, atol=1e-5)
    with torch.no_grad():  # and it does read the neighbours once their weights are not zero
        new.conv_out.weight.fill_(0.05)  # (after a few training steps the tiny network's output is still ~0)
        before = sde.denoise(new, with_neighbours(planes, 1), sigma)
        new.conv_in.weight[:, 2:] = 0.1
        assert not torch.allclose(before, sde.denoise(new, with_neighbours(planes, 1), sigma), atol=1e-4)


def test_training_batches_hold_each_plane_with_its_neighbours_phase_and_scale_shared():
    x = np.arange(1, 9, dtype=np.float32)  # the y-t plane at column x holds x + 1 everywhere
    cine = np.broadcast_to(x[None, None, :], (6, 10, 8)).astype(np.complex64)
    data = PlaneSet([cine], "yt", crop=None, context=1)
    batch, cond = data.batch(64, np.random.default_rng(0))
    assert cond is None and batch.shape == (64, 6, 6, 10)
    c = torch.complex(batch[:, 0::2], batch[:, 1::2])[:, :, 0, 0]  # (sample, plane) complex values
    ratio = c[:, 1:] / c[:, :1]
    assert torch.allclose(ratio.imag, torch.zeros_like(ratio.imag), atol=1e-5)  # one phase for all three
    step = (c[:, 1:] - c[:, :1]).abs()  # the neighbours hold x + 1 -+ 1 (mirrored at the edges) times one scale
    assert torch.allclose(step[:, 0], step[:, 1], rtol=1e-4)
    level = c[:, 0].abs() / step[:, 0]
    assert torch.allclose(level, level.round(), atol=1e-3) and set(level.round().int().tolist()) <= set(range(1, 9))
    assert len(set(level.round().int().tolist())) > 4  # many columns drawn, each with its own neighbours


def test_context_is_refused_where_it_does_not_fit(tmp_path, tiny_model, context_model):
    with pytest.raises(ReconError, match="image-domain"):
        PlaneSet([np.ones((4, 8, 8), np.complex64)], "kspace-global", context=1)
    with pytest.raises(ReconError, match="init-from"):  # less context than the start: nothing to drop it into
        train(TrainConfig(data=[str(tiny_model.parent)], out=str(tmp_path / "x.safetensors"), preset="tiny", steps=1,
                          batch=2, crop=None, init_from=str(context_model), context=0), progress=False)
    from safetensors.torch import save_file

    model, _, config = load_model(context_model)
    config["unet"]["context"] = 99  # an edited file: 199 input planes
    save_file(model.state_dict(), str(tmp_path / "bad.safetensors"), metadata={"config": json.dumps(config)})
    with pytest.raises(CheckpointError, match="context"):
        load_model(tmp_path / "bad.safetensors")


def test_dstdm_runs_with_a_context_prior(context_model):
    cine = simulate_cine(frames=6, size=32, coils=2, seed=78, snr=None)
    measured, _ = undersample(cine, "vista", 4, 8, seed=0)
    problem = problem_for(measured)
    result = methods.create("dstdm", model=str(context_model), steps=3, dc_noise=0).run(problem)
    assert result.image.shape == (6, 32, 32) and np.isfinite(result.image).all()
