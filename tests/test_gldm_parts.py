import time

import numpy as np
import pytest
import torch

from recon.gldm.lowrank import low_rank_step
from recon.gldm.merge import merge_frames
from recon.masks import make_mask
from recon.phantom import simulate_cine


def numpy_reference(k: np.ndarray, rank: int, window: int) -> np.ndarray:
    """Block-Hankel built with loops, full numpy SVD, U diag(s) V^H truncated, averaged back."""
    frames, ny, nx = k.shape
    rows, where = [], []
    for y in range(ny - window + 1):
        for x in range(nx - window + 1):
            rows.append(k[:, y:y + window, x:x + window].reshape(-1))
            where.append((y, x))
    a = np.array(rows)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    ar = (u[:, :rank] * s[:rank]) @ vh[:rank]
    out, counts = np.zeros_like(k), np.zeros(k.shape)
    for row, (y, x) in zip(ar, where):
        out[:, y:y + window, x:x + window] += row.reshape(frames, window, window)
        counts[:, y:y + window, x:x + window] += 1
    return out / counts


def test_low_rank_step_matches_numpy_svd():
    rng = np.random.default_rng(0)
    k = (rng.standard_normal((3, 12, 10)) + 1j * rng.standard_normal((3, 12, 10))).astype(np.complex128)
    ours = low_rank_step(torch.from_numpy(k), rank=6, window=4).numpy()
    assert np.abs(ours - numpy_reference(k, 6, 4)).max() < 1e-4 * np.abs(k).max()


def test_low_rank_step_reduces_error_of_missing_samples():
    truth = np.fft.fftshift(np.fft.fft2(simulate_cine(frames=6, size=32, coils=1, seed=4, snr=None).reference),
                            axes=(-2, -1)).astype(np.complex64)
    mask = np.random.default_rng(1).uniform(size=truth.shape) < 0.6
    k = torch.from_numpy(truth * mask)
    filled = low_rank_step(k, rank=20, window=6)
    filled = torch.where(torch.from_numpy(mask), k, filled)
    before = np.linalg.norm(truth * mask - truth)
    after = np.linalg.norm(filled.numpy() - truth)
    assert after < 0.8 * before


def test_low_rank_step_speed_is_recorded_not_asserted():
    k = torch.randn(16, 128, 128, dtype=torch.complex64)
    start = time.perf_counter()
    out = low_rank_step(k, rank=96, window=8)
    assert out.shape == k.shape and torch.isfinite(out).all()
    print(f"low-rank step 16x128^2: {time.perf_counter() - start:.2f} s")


def test_merge_averages_and_reports_uncovered():
    cine = simulate_cine(frames=8, size=32, coils=2, seed=5, snr=None)
    mask = make_mask("interleaved", (8, 32, 32), 4, 4, seed=0).array
    acquired = cine.kspace * mask[:, None]
    global_ = merge_frames(acquired, mask)
    assert global_.uncovered == 0
    assert np.array_equal(global_.kspace[2][:, mask[2]], acquired[2][:, mask[2]])  # own samples kept
    local = merge_frames(acquired, mask, group_size=2)  # 2 frames cannot tile R = 4
    assert 0.3 < local.uncovered < 0.6
    line = next(r for r in range(32) if mask[1, r, 0] and mask[5, r, 0] and mask[:, r, 0].sum() == 2)
    expected = (acquired[1][:, line] + acquired[5][:, line]) / 2  # frames 1 and 5 sampled it: averaged, not summed
    assert np.allclose(global_.kspace[0][:, line], expected, atol=1e-6)


def test_training_data_never_holds_unmeasured_samples():
    cine = simulate_cine(frames=8, size=32, coils=2, seed=6, snr=None)
    mask = make_mask("interleaved", (8, 32, 32), 4, 4, seed=0).array
    merged = merge_frames(cine.kspace, mask)  # even handed FULL k-space, only masked samples enter
    union = mask.any(axis=0)
    assert np.all(merged.kspace[:, :, ~union] == 0)
    full_only = cine.kspace * (~mask)[:, None]
    assert np.allclose(merge_frames(full_only, mask).kspace, 0)


@pytest.fixture(scope="module")
def interleaved_problem():
    from recon.pipeline import problem_for, undersample

    cine = simulate_cine(frames=8, size=32, coils=2, seed=88, snr=None)
    measured, _ = undersample(cine, "interleaved", 4, 8, seed=0)
    measured.reference = None
    return problem_for(measured)


def test_gldm_runs_yields_and_keeps_the_last_iterate(interleaved_problem, tiny_gldm_models):
    from recon import methods

    g, local = tiny_gldm_models
    iterates = list(methods.create("gldm", steps=3, global_model=g, local_model=local, rank=20,
                                   window=4).iterate(interleaved_problem))
    assert [it.step for it in iterates] == [1, 2, 3] and iterates[-1].image.shape == (8, 32, 32)
    assert all(np.isfinite(it.image).all() for it in iterates)
    again = methods.create("gldm", steps=3, global_model=g, local_model=local, rank=20, window=4)
    assert np.array_equal(again.run(interleaved_problem).image, iterates[-1].image)


def test_gldm_scan_specific_mode_trains_copies_and_reports_progress(interleaved_problem, tiny_gldm_models):
    from recon import methods
    from recon.diffusion.checkpoint import cached_model

    g, local = tiny_gldm_models
    before = [p.clone() for p in cached_model(g)[0].parameters()]
    iterates = list(methods.create("gldm", steps=2, global_model=g, local_model=local, rank=20, window=4,
                                   finetune_seconds=1.0).iterate(interleaved_problem))
    tuning = [it for it in iterates if it.step == 0]
    assert tuning and {it.extras["finetune"].split()[0] for it in tuning} == {"kspace-global", "kspace-local"}
    assert [it.step for it in iterates[len(tuning):]] == [1, 2] and np.isfinite(iterates[-1].image).all()
    assert all(torch.equal(a, b) for a, b in zip(before, cached_model(g)[0].parameters())), "shared model changed"
    plain = methods.create("gldm", steps=2, global_model=g, local_model=local, rank=20, window=4)
    assert not np.array_equal(plain.run(interleaved_problem).image, iterates[-1].image)


def test_gldm_without_priors_is_the_low_rank_step_and_dc_alone(interleaved_problem, tiny_gldm_models):
    from recon import methods
    from recon.errors import MethodError

    none = methods.create("gldm", steps=3, priors="none", global_model="/missing.safetensors", rank=20, window=4)
    result = none.run(interleaved_problem)
    zero_filled = interleaved_problem.to_output(interleaved_problem.zero_filled())
    assert result.step == 3 and not np.allclose(result.image, zero_filled)
    only_global = methods.create("gldm", steps=3, priors="global", global_model=tiny_gldm_models[0],
                                 local_model="/missing.safetensors", rank=20, window=4)
    assert not np.array_equal(only_global.run(interleaved_problem).image, result.image)
    with pytest.raises(MethodError, match="global\\+local"):
        methods.create("gldm", priors="both").run(interleaved_problem)


def test_gldm_refuses_image_models(interleaved_problem, tiny_gldm_models, tiny_model):
    from recon import methods
    from recon.errors import MethodError

    with pytest.raises(MethodError, match="kspace-global"):
        methods.create("gldm", global_model=str(tiny_model), local_model=tiny_gldm_models[1]).run(
            interleaved_problem)


def test_gldm_training_planes_come_from_the_acquisition_only(tmp_path):
    from recon.gldm.training_data import acquisition_planes

    cine = simulate_cine(frames=8, size=32, coils=1, seed=7000, snr=None)
    mask = make_mask("interleaved", (8, 32, 32), 4, 4, seed=0).array
    planes = acquisition_planes(cine.kspace * mask[:, None], mask, "kspace-local", group=2)
    union_per_group = [mask[g:g + 2].any(axis=0) for g in range(0, 8, 2)]
    for t in range(8):
        unsampled = np.abs(planes[t][~union_per_group[t // 2]])
        assert unsampled.max() < 1e-5 * np.abs(planes).max(), "no value where the group sampled nothing"


@pytest.mark.parametrize("sampler", ["predictor", "x0-dc", "heun"])
def test_gldm_samples_with_the_papers_steps_or_the_shared_samplers(interleaved_problem, tiny_gldm_models, sampler):
    from recon import methods

    g, local = tiny_gldm_models
    common = dict(steps=3, global_model=g, local_model=local, rank=20, window=4, sampler=sampler)
    result = methods.create("gldm", **common).run(interleaved_problem)
    assert np.isfinite(result.image).all()
    residual = result.extras["residual"]
    start = interleaved_problem.op.residual(interleaved_problem.view_shared(), interleaved_problem.kspace)
    assert residual <= start + 1e-6  # the last iterate is data-consistent at least as the start is
    other = methods.create("gldm", **{**common, "sampler": "x0-dc" if sampler == "predictor" else "predictor"})
    assert not np.array_equal(other.run(interleaved_problem).image, result.image)


def test_gldm_starts_where_init_says(interleaved_problem, tiny_gldm_models):
    from recon import methods
    from recon.errors import MethodError

    g, local = tiny_gldm_models
    runs = {init: methods.create("gldm", steps=1, priors="none", rank=0, init=init).run(interleaved_problem).image
            for init in ("zero-filled", "view-shared", "lps")}
    assert not np.allclose(runs["zero-filled"], runs["view-shared"])
    lps = methods.create("lps").run(interleaved_problem).image  # without priors or low-rank step: the start itself
    assert np.allclose(runs["lps"], lps, atol=1e-4 * np.abs(lps).max())
    assert not np.allclose(runs["view-shared"], lps, atol=1e-2 * np.abs(lps).max())
    with pytest.raises(MethodError, match="view-shared"):
        methods.create("gldm", init="noise", global_model=g, local_model=local).run(interleaved_problem)


def test_gldm_announces_its_l_plus_s_start_before_sampling(interleaved_problem, tiny_gldm_models):
    from recon import methods

    g, local = tiny_gldm_models
    method = methods.create("gldm", steps=2, global_model=g, local_model=local, rank=20, window=4)
    method.announce_phases = True  # as the shared driver (recon.pipeline) sets it
    iterates = list(method.iterate(interleaved_problem))
    phases = [it.extras["phase"] for it in iterates if it.step == 0]
    assert phases[:2] == ["loading models", "warm start (lps)"] and "warm start (lps) 10/100" in phases
    assert [it.step for it in iterates if it.step] == [1, 2]
