"""`stdm train --alias-share`: training inputs that carry a sampler's structured errors (recon.diffusion.aliasing)."""

import numpy as np
import pytest
import torch

from recon.diffusion.aliasing import group_directions, random_rows, zero_filled_error
from recon.diffusion.planes import PlaneSet, cine_planes
from recon.diffusion.sde import VESDE
from recon.diffusion.train import TrainConfig, train
from recon.errors import ReconError
from recon.io import write_native
from recon.phantom import simulate_cine


def centred_zero_filled_error(cine: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The reconstruction's own convention: centred 2-D FFT, line mask over (frames, ky)."""
    axes = (1, 2)
    kspace = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(cine, axes=axes), axes=axes), axes=axes)
    zero_filled = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace * rows[:, :, None], axes=axes), axes=axes),
                                  axes=axes)
    return zero_filled - cine


def test_plane_errors_are_the_cines_zero_filled_error(rng):
    cine = (rng.standard_normal((10, 40, 24)) + 1j * rng.standard_normal((10, 40, 24))).astype(np.complex64)
    rows = random_rows(10, 40, rng)
    expected = centred_zero_filled_error(cine, rows)
    yt, xt = cine_planes(cine, "both")
    picks = np.array([5, 0, 5, 17])
    assert np.allclose(zero_filled_error(yt, "yt", rows, picks), expected.transpose(2, 0, 1)[picks], atol=1e-5)
    assert np.allclose(zero_filled_error(xt, "xt", rows, picks), expected.transpose(1, 0, 2)[picks], atol=1e-5)
    assert np.abs(expected).max() > 0.5  # the mask really drops lines


def test_random_masks_reach_the_effective_accelerations_users_ask_for(rng):
    for _ in range(30):
        rows = random_rows(16, 128, rng)
        assert rows.shape == (16, 128) and rows.any(axis=1).all()
        assert 3.0 <= rows.size / rows.sum() <= 16.0


def test_directions_follow_how_groups_are_cut():
    yt, xt = cine_planes(np.zeros((6, 12, 8), np.complex64), "both")
    assert group_directions("both", [yt, xt, yt, xt]) == ["yt", "xt", "yt", "xt"]
    assert group_directions("yt", [yt]) == ["yt"]
    with pytest.raises(ValueError, match="per cine"):
        group_directions("both", [yt, yt])


def test_batches_carry_errors_augmented_like_their_planes(tmp_path, rng):
    folder = tmp_path / "phantoms"
    folder.mkdir()
    write_native(folder / "p.h5", simulate_cine(frames=8, size=32, coils=1, seed=10001, snr=None))
    plain = PlaneSet.from_sources([str(folder)], "both", crop=16)
    aliased = PlaneSet.from_sources([str(folder)], "yt", crop=None, alias_share=1.0)
    x0, _, error = aliased.batch_with_errors(6, np.random.default_rng(1))
    assert error is not None and error.shape == x0.shape == (6, 2, 8, 32)
    # a y-t plane's error is minus its part in the lines the mask missed, so plane + error (what was measured) is
    # orthogonal to it, per plane, if and only if both went through the same flips, shifts, phase and scale
    inner = ((x0 + error) * error).sum(dim=(1, 2, 3))
    size = error.pow(2).sum(dim=(1, 2, 3))
    assert float(size.min()) > 0 and float((inner.abs() / size).max()) < 1e-4
    same, _, none = plain.batch_with_errors(6, np.random.default_rng(2))
    assert none is None and torch.equal(same, plain.batch(6, np.random.default_rng(2))[0])


def test_structured_errors_enter_the_input_at_a_share_of_sigma():
    sde, inputs = VESDE(0.01, 50.0), []

    def network(x, log_sigma):
        inputs.append(x)
        return torch.zeros_like(x)

    x0 = torch.zeros(2000, 1, 4, 4)
    pattern = torch.ones_like(x0)
    sde.loss(network, x0, torch.Generator().manual_seed(0), focus=0.1, structured=pattern)
    with_pattern = inputs.pop()
    sde.loss(network, x0, torch.Generator().manual_seed(0), focus=0.1)
    without = inputs.pop()
    shift = (with_pattern - without).mean(dim=(1, 2, 3))
    assert float(shift.max()) > 0.05 and float(shift.min()) >= 0  # the pattern, scaled, in some inputs
    assert float((shift == 0).float().mean()) > 0.1  # not above the focus level


def test_alias_share_is_checked(tmp_path):
    folder = tmp_path / "phantoms"
    folder.mkdir()
    write_native(folder / "p.h5", simulate_cine(frames=6, size=32, coils=1, seed=10001, snr=None))
    with pytest.raises(ReconError, match="alias_share"):
        train(TrainConfig(data=[str(folder)], out=str(tmp_path / "m.safetensors"), planes="xy", alias_share=0.5))
    with pytest.raises(ReconError, match="alias_share"):
        train(TrainConfig(data=[str(folder)], out=str(tmp_path / "m.safetensors"), alias_share=1.5))
    out = tmp_path / "m.safetensors"
    train(TrainConfig(data=[str(folder)], out=str(out), preset="tiny", steps=2, batch=2, crop=None,
                      alias_share=1.0, checkpoint_every=2), progress=False)
    assert out.is_file()
