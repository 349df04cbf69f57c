from pathlib import Path

import numpy as np
import pytest

from recon.diffusion.checkpoint import read_config
from recon.diffusion.planes import PlaneSet
from recon.diffusion.sources import Source, augmented_cine, magnitude_cines
from recon.diffusion.train import TrainConfig, train
from recon.errors import DataError, ReconError
from recon.io import write_native
from recon.phantom import simulate_cine


@pytest.fixture
def magnitude_npz(tmp_path):
    """A tiny quantised 'real' magnitude cine: 3 slices x 8 frames x 40 x 48, a bright disc that beats."""
    t, y, x = np.meshgrid(np.arange(8), np.arange(40), np.arange(48), indexing="ij")
    radius = 8 + 3 * np.cos(2 * np.pi * t / 8)
    cine = np.where(np.hypot(y - 20, x - 24) < radius, 200, 40).astype(np.uint8)
    path = tmp_path / "real.npz"
    np.savez(path, cine=np.stack([cine, cine, cine]))
    return path


def test_source_spec_takes_an_optional_weight():
    assert Source.parse("data/train") == Source(Path("data/train"), 1.0)
    assert Source.parse("a/b.npz:2.5").weight == 2.5
    assert Source.parse("a/b.npz:2.5").path.name == "b.npz"
    assert Source.parse("a/b.npz:1e-3").weight == 0.001
    for bad in ("a/b.npz:0", "a/b.npz:-1", "a/b.npz:nan", "a/b.npz:abc"):
        with pytest.raises(ReconError, match="weight after ':' must be"):
            Source.parse(bad)


def test_real_magnitude_becomes_plausible_complex_cines(magnitude_npz):
    cines = magnitude_cines(Source(magnitude_npz), variants=4, seed=0, skip_slices=(1,))
    assert len(cines) == 2 * 4  # slices 0 and 2, four variants each
    for cine in cines:
        assert cine.dtype == np.complex64 and np.isfinite(cine).all()
        assert 12 <= cine.shape[0] <= 32  # periodic temporal resampling
        assert np.abs(cine.imag).max() > 0.05 * np.abs(cine).max()  # a synthetic phase, not real-valued
    assert len({c.shape for c in cines}) > 1  # several fields of view / matrices


def test_dither_removes_quantisation_steps(rng):
    flat = np.full((8, 32, 32), 100, np.float32)
    cine = augmented_cine(flat, rng, quantised=True)
    assert np.unique(np.round(np.abs(cine), 6)).size > 100


def test_every_slice_held_out_is_an_error(magnitude_npz):
    with pytest.raises(DataError, match="held out"):
        magnitude_cines(Source(magnitude_npz), variants=1, seed=0, skip_slices=(0, 1, 2))


def test_bad_magnitude_files_are_named(tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros((5, 5)))
    with pytest.raises(DataError, match="shape"):
        magnitude_cines(Source(tmp_path / "flat.npy"), 1, 0)
    np.savez(tmp_path / "two.npz", a=np.zeros((8, 8, 8)), b=np.zeros((8, 8, 8)))
    with pytest.raises(DataError, match="'cine'"):
        magnitude_cines(Source(tmp_path / "two.npz"), 1, 0)


def test_sources_are_drawn_by_weight_not_by_size(tmp_path, magnitude_npz):
    folder = tmp_path / "phantoms"
    folder.mkdir()
    write_native(folder / "p.h5", simulate_cine(frames=6, size=32, coils=1, seed=10001, snr=None))
    planes = PlaneSet.from_sources([str(folder), f"{magnitude_npz}:3"], "both", crop=None, variants=2)
    real_share = planes.weights[2:].sum()  # the phantom contributes its y-t and x-t groups first
    assert real_share == pytest.approx(0.75)
    assert any("real magnitude cine" in s for s in planes.sources)


def test_a_bad_cine_in_a_training_folder_is_named(tmp_path):
    import h5py

    folder = tmp_path / "phantoms"
    folder.mkdir()
    write_native(folder / "nan.h5", simulate_cine(frames=4, size=16, coils=1, seed=10001, snr=None))
    with h5py.File(folder / "nan.h5", "a") as f:
        kspace = f["kspace"][...]
        kspace.flat[3] = np.nan
        f["kspace"][...] = kspace
        del f["reference"]
    with pytest.raises(DataError, match="training cine .*nan.h5: k-space contains 1 NaN"):
        PlaneSet.from_sources([str(folder)], "both")


def test_training_says_when_it_resumes_and_when_nothing_is_left(tmp_path, tiny_model, capsys):
    import shutil

    from recon.cli import main

    out = tmp_path / "m.safetensors"
    shutil.copy(tiny_model, out)
    shutil.copy(tiny_model.with_suffix(".state.pt"), tmp_path / "m.state.pt")
    argv = ["train", "--data", str(tiny_model.parent), "--out", str(out), "--preset", "tiny", "--batch", "2",
            "--crop", "0", "--quiet"]
    assert main(argv + ["--steps", "4"]) == 0  # the state is at step 4 already
    text = capsys.readouterr()
    assert "nothing to do" in text.err + text.out and "unchanged" in text.out
    assert main(argv + ["--steps", "5"]) == 0
    text = capsys.readouterr()
    assert "resuming m.safetensors at step 4 of 5" in text.err + text.out and "wrote" in text.out


def test_training_records_its_sources(tmp_path, magnitude_npz):
    out = tmp_path / "m.safetensors"
    train(TrainConfig(data=[f"{magnitude_npz}:1"], out=str(out), preset="tiny", steps=2, batch=2, crop=None,
                      variants=1, skip_slices=(2,), checkpoint_every=2), progress=False)
    training = read_config(out)["training"]
    assert training["skip_slices"] == [2]
    assert "slices [2] held out" in training["data_sources"][0]


def test_training_can_start_from_earlier_weights(tmp_path, magnitude_npz, tiny_model):
    import torch

    from recon.diffusion.checkpoint import load_model

    out = tmp_path / "continued.safetensors"
    train(TrainConfig(data=[str(magnitude_npz)], out=str(out), preset="tiny", steps=1, batch=2, crop=None, lr=1e-9,
                      warmup=1, variants=1, init_from=str(tiny_model), checkpoint_every=1), progress=False)
    before, after = load_model(tiny_model)[0].state_dict(), load_model(out)[0].state_dict()
    assert all(torch.allclose(before[k], after[k], atol=1e-5) for k in before)  # lr ~0: still the start weights
    with pytest.raises(ReconError, match="preset"):
        train(TrainConfig(data=[str(magnitude_npz)], out=str(tmp_path / "x.safetensors"), preset="small", steps=1,
                          batch=2, crop=None, variants=1, init_from=str(tiny_model)), progress=False)


def test_kspace_priors_train_from_real_magnitude_cines_acquired_interleaved(tmp_path, magnitude_npz):
    import torch

    from recon.gldm.kspace import position

    folder = tmp_path / "phantoms"
    folder.mkdir()
    write_native(folder / "p.h5", simulate_cine(frames=8, size=32, coils=1, seed=10001, snr=None))
    planes = PlaneSet.from_sources([str(folder), f"{magnitude_npz}:3"], "kspace-local", crop=16, variants=2)
    assert planes.weights[1:].sum() == pytest.approx(0.75)  # one phantom group, then the real cines
    assert any("real magnitude cine" in s for s in planes.sources)
    for group in planes.groups[1:]:  # time-interleaved acquisitions: k-space no frame of a group sampled is empty
        assert (np.abs(group) == 0).any()
    one = PlaneSet([], "kspace-local", crop=16, groups=[planes.groups[1]])
    batch, where = one.batch(4, np.random.default_rng(3))
    assert batch.shape == (4, 2, planes.groups[1].shape[1], 16) and where.shape == (1, 2, *batch.shape[-2:])
    full = position(planes.groups[1].shape[1:])
    starts = [s for s in range(full.shape[-1] - 15) if torch.equal(where, full[..., s:s + 16])]
    assert len(starts) == 1  # the position channels are those of the columns the crop took
    assert float(where[0, 0].abs().max()) > 0.5 and float(where[0, 1, 0, 1] - where[0, 1, 0, 0]) > 0


def test_kspace_priors_read_where_they_are_in_kspace(tmp_path, magnitude_npz):
    out = tmp_path / "g.safetensors"
    train(TrainConfig(data=[f"{magnitude_npz}:1"], out=str(out), planes="kspace-global", preset="tiny", steps=2,
                      batch=2, crop=16, variants=1, sigma_max=4.0, checkpoint_every=2), progress=False)
    assert read_config(out)["unet"]["condition"] == 2
