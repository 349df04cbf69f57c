import pytest
import torch

from recon.diffusion.samplers import SAMPLERS, SYMMETRIES, corrector_step, plane_denoiser, sample, symmetrised


def oracle(truth):
    return lambda x, sigma: truth.clone()


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_a_perfect_denoiser_gives_the_data_consistent_truth(sampler):
    g = torch.Generator().manual_seed(0)
    truth = torch.randn(4, 8, 8, dtype=torch.complex64, generator=g)
    measured = torch.zeros_like(truth, dtype=torch.bool)
    measured[:, ::2] = True

    def consistent(x):
        return torch.where(measured, truth, x)

    x = truth + 5 * torch.randn(truth.shape, dtype=torch.complex64, generator=g)
    steps = list(sample(sampler, oracle(truth), consistent, x, [5.0, 1.0, 0.2, 0.01], g, eta=0.5))
    assert [s for s, _ in steps] == [1, 2, 3, 4]
    assert torch.allclose(steps[-1][1], truth, atol=1e-5)


def test_unknown_sampler_is_refused():
    with pytest.raises(ValueError):
        next(sample("euler", None, None, torch.zeros(1), [1.0], torch.Generator()))


def test_corrector_moves_towards_the_denoised_state():
    g = torch.Generator().manual_seed(1)
    truth = torch.zeros(2, 16, 16, dtype=torch.complex64)
    x = torch.ones_like(truth) * 3
    out = corrector_step(oracle(truth), x, 1.0, 0.5, g)
    assert torch.isfinite(out).all() and out.abs().mean() < x.abs().mean()


class RecordingSDE:
    def __init__(self):
        self.sigmas, self.batches = [], []

    def denoise(self, model, planes, sigma, cond=None):
        self.sigmas.append(float(sigma[0]))
        self.batches.append(planes.shape[0])
        return planes * 0.5


def test_sequential_branches_are_told_their_own_noise_level():
    sde = RecordingSDE()
    denoise = plane_denoiser(torch.nn.Identity(), sde, ("yt", "xt"), sequential=True, step_ratio=0.25)
    denoise(torch.ones(3, 4, 4, dtype=torch.complex64), 2.0)
    assert sde.sigmas == pytest.approx([2.0, 1.0])  # x-t sees the level halfway (geometrically) to the next step
    sde.sigmas.clear()
    plane_denoiser(torch.nn.Identity(), sde, ("yt", "xt"), sequential=False, step_ratio=0.25)(
        torch.ones(3, 4, 4, dtype=torch.complex64), 2.0)
    assert sde.sigmas == [2.0, 2.0]


def test_alternating_denoiser_runs_one_direction_per_call_taking_turns():
    sde = RecordingSDE()
    denoise = plane_denoiser(torch.nn.Identity(), sde, ("yt", "xt"), sequential=False, step_ratio=0.5, alternate=True)
    x = torch.ones(3, 4, 6, dtype=torch.complex64)
    for _ in range(3):
        assert torch.allclose(denoise(x, 1.0), 0.5 * x)
    assert sde.batches == [6, 4, 6]  # y-t planes (one per x), then x-t (one per y), then y-t again


@pytest.mark.parametrize("symmetry", SYMMETRIES)
def test_symmetrised_denoiser_undoes_its_transform(symmetry):
    x = torch.randn(5, 4, 6, dtype=torch.complex64, generator=torch.Generator().manual_seed(2))
    halve = symmetrised(lambda y, sigma: 0.5 * y, symmetry, torch.Generator().manual_seed(0))
    assert torch.equal(halve(x, 1.0), 0.5 * x)  # an equivariant denoiser is unchanged, pixel for pixel


def test_symmetrised_denoiser_moves_the_networks_edges_from_call_to_call():
    def drop_first_frame(y, sigma):  # a denoiser with an edge: it loses the first frame it is given
        out = y.clone()
        out[0] = 0
        return out

    x = torch.ones(8, 3, 3, dtype=torch.complex64)
    plain = symmetrised(drop_first_frame, "none", torch.Generator())
    assert all(plain(x, 1.0)[0].abs().sum() == 0 for _ in range(4))
    rolled = symmetrised(drop_first_frame, "roll", torch.Generator().manual_seed(0))
    lost = [int((rolled(x, 1.0).abs().sum(dim=(1, 2)) == 0).nonzero()) for _ in range(12)]
    assert len(set(lost)) > 3  # one frame lost per call, not always the same one


def test_unknown_symmetry_is_refused():
    with pytest.raises(ValueError):
        symmetrised(lambda y, sigma: y, "rotate", torch.Generator())
