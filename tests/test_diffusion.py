import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.diffusion.checkpoint import CheckpointError, load_model, load_state, read_config, save_model
from recon.diffusion.planes import PlaneSet, augment, cine_planes
from recon.diffusion.sde import VESDE
from recon.diffusion.slicing import from_planes, to_planes
from recon.diffusion.train import TrainConfig, train
from recon.diffusion.unet import PRESETS, UNet, parameter_count
from recon.io import write_native
from recon.phantom import simulate_cine


def indexed_cine(frames=4, ny=6, nx=5):
    t, y, x = np.meshgrid(np.arange(frames), np.arange(ny), np.arange(nx), indexing="ij")
    return (t * 10000 + y * 100 + x).astype(np.complex64)


def test_planes_have_the_right_axes():
    cine = indexed_cine()
    yt, = cine_planes(cine, "yt")
    xt, = cine_planes(cine, "xt")
    assert yt.shape == (5, 4, 6) and yt[3, 2, 1] == 2 * 10000 + 1 * 100 + 3  # plane x=3, (t=2, y=1)
    assert xt.shape == (6, 4, 5) and xt[1, 2, 3] == 2 * 10000 + 1 * 100 + 3  # plane y=1, (t=2, x=3)
    torch_cine = torch.from_numpy(cine)
    for direction in ("yt", "xt", "xy"):
        planes = to_planes(torch_cine, direction)
        assert planes.shape[1] == 2
        assert torch.equal(from_planes(planes, direction), torch_cine)
    assert torch.equal(to_planes(torch_cine, "yt")[3, 0], torch.from_numpy(yt[3].real))


def test_augment_crops_space_and_only_shifts_or_reverses_time(rng):
    planes = np.ones((3, 8, 70), np.complex64) * np.arange(1, 9)[None, :, None]  # frame t holds the value t + 1
    for _ in range(5):
        out = augment(planes, rng, crop=64, temporal=True)
        assert out.shape == (3, 2, 8, 64)
        frame_level = np.hypot(out[:, 0], out[:, 1]).mean(axis=2)  # (planes, frames), scaled per plane
        order = np.round(frame_level / frame_level.min(axis=1, keepdims=True)).astype(int) - 1
        for seq in order:
            steps = np.diff(seq) % 8
            assert sorted(seq) == list(range(8)) and (np.all(steps == 1) or np.all(steps == 7))


@pytest.mark.parametrize("shape", [(12, 128), (13, 30), (25, 156), (1, 8)])
def test_unet_takes_any_plane_size(shape):
    net = UNet(PRESETS["tiny"])
    x = torch.randn(2, 2, *shape)
    assert net(x, torch.zeros(2)).shape == x.shape


def test_presets_span_tests_to_paper_size():
    assert parameter_count(UNet(PRESETS["tiny"])) < 100_000
    assert 20e6 < parameter_count(UNet(PRESETS["paper"])) < 28e6


def test_sde_schedule():
    sde = VESDE(0.01, 50.0)
    assert float(sde.sigma(torch.tensor(0.0))) == pytest.approx(0.01)
    assert float(sde.sigma(torch.tensor(1.0))) == pytest.approx(50.0)
    s = sde.schedule(10, sigma_start=2.0)
    assert s[0] == pytest.approx(2.0) and s[-1] == pytest.approx(0.01) and torch.all(s[1:] < s[:-1])


def test_focused_loss_trains_mostly_at_the_samplers_noise_levels(monkeypatch):
    """--sigma-focus: 3/4 of a batch at sigma <= focus (log-uniform from sigma_min), the rest over the whole range."""
    sde, seen = VESDE(0.01, 50.0), []

    def network(x, log_sigma):
        seen.append(torch.exp(4 * log_sigma))
        return torch.zeros_like(x)

    x0 = torch.zeros(4000, 1, 2, 2)
    sde.loss(network, x0, torch.Generator().manual_seed(0), focus=0.2)
    sigma = seen[0]
    share = float((sigma <= 0.2).float().mean())
    assert 0.75 < share < 0.85  # 0.75 + 0.25 * (the whole range's share below 0.2: 0.35)
    assert float(sigma.min()) >= 0.01 and float(sigma.max()) > 1.0
    seen.clear()
    sde.loss(network, x0, torch.Generator().manual_seed(0))
    assert float((seen[0] <= 0.2).float().mean()) < 0.45


def test_tiny_training_lowers_the_loss(tmp_path):
    for seed in (10010, 10011):
        write_native(tmp_path / f"{seed}.h5", simulate_cine(frames=6, size=32, coils=1, seed=seed, snr=None))
    data = PlaneSet.from_folder(tmp_path, "both", crop=None)
    batch, cond = data.batch(32, np.random.default_rng(1))
    assert cond is None  # image planes: no position channels
    sde = VESDE()

    def fixed_loss(model):
        with torch.no_grad():
            return float(sde.loss(model, batch, torch.Generator().manual_seed(0)))

    out = tmp_path / "m.safetensors"
    torch.manual_seed(0)
    before = fixed_loss(UNet(PRESETS["tiny"]))
    train(TrainConfig(data=str(tmp_path), out=str(out), preset="tiny", steps=150, batch=16, crop=None,
                      lr=2e-3, warmup=10, ema=0.9, checkpoint_every=150), progress=False)
    model, _, config = load_model(out)
    assert fixed_loss(model) < 0.8 * before
    assert config["training"]["steps_done"] == 150 and config["plane_kind"] == "both"
    assert config["training"]["data_seeds"] == [10010, 10011]
    assert out.with_suffix(".loss.png").read_bytes()[:4] == b"\x89PNG"


def test_short_training_saves_trained_weights_not_the_initialisation(tmp_path):
    """A fixed EMA decay of 0.999 left a short run's saved weights mostly at their random start."""
    from recon.diffusion.checkpoint import load_state
    from recon.diffusion.train import state_path

    write_native(tmp_path / "10010.h5", simulate_cine(frames=6, size=32, coils=1, seed=10010, snr=None))
    out = tmp_path / "m.safetensors"
    config = TrainConfig(data=str(tmp_path), out=str(out), preset="tiny", steps=30, batch=4, crop=None, lr=2e-3,
                         warmup=5)
    assert config.ema == 0.999
    train(config, progress=False)
    torch.manual_seed(config.seed)
    start = torch.nn.utils.parameters_to_vector(UNet(PRESETS["tiny"]).parameters())
    trained = UNet(PRESETS["tiny"])
    trained.load_state_dict(load_state(state_path(out))["model"])
    trained = torch.nn.utils.parameters_to_vector(trained.parameters())
    saved = torch.nn.utils.parameters_to_vector(load_model(out)[0].parameters())
    assert torch.linalg.vector_norm(saved - trained) < 0.5 * torch.linalg.vector_norm(start - trained)


def test_save_load_round_trip_is_exact(tmp_path):
    net = UNet(PRESETS["tiny"])
    torch.nn.init.normal_(net.conv_out.weight)
    path = save_model(tmp_path / "m.safetensors", net, {"plane_kind": "yt", "sde": {"sigma_min": 0.01,
                                                                                      "sigma_max": 50.0}})
    loaded, sde, config = load_model(path)
    for (k, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    x = torch.randn(1, 2, 8, 16)
    assert torch.equal(net.eval()(x, torch.zeros(1)), loaded(x, torch.zeros(1)))
    assert config["unet"] == PRESETS["tiny"].to_dict() and sde.sigma_max == 50.0


class Payload:
    def __reduce__(self):
        return (print, ("this would run arbitrary code",))


def test_pickled_objects_are_refused(tmp_path):
    torch.save({"step": 1, "evil": Payload()}, tmp_path / "bad.state.pt")
    with pytest.raises(CheckpointError, match="refused"):
        load_state(tmp_path / "bad.state.pt")


def test_bad_model_files_are_explained(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_config(tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="not a safetensors"):
        read_config(tmp_path / "junk.safetensors")


def test_resume_continues_where_it_stopped(tmp_path, tiny_model):
    data = tiny_model.parent
    out = tmp_path / "r.safetensors"
    cfg = dict(data=str(data), out=str(out), preset="tiny", batch=2, crop=None, checkpoint_every=2)
    train(TrainConfig(steps=2, **cfg), progress=False)
    train(TrainConfig(steps=5, **cfg), progress=False)
    state = load_state(out.with_suffix(".state.pt"))
    assert state["step"] == 5 and len(state["losses"]) == 5


def test_data_parallel_training_with_two_cpu_processes(tmp_path, tiny_model):
    torchrun = Path(sys.executable).with_name("torchrun")
    out = tmp_path / "ddp.safetensors"
    done = subprocess.run([str(torchrun), "--nproc_per_node=2", "--master_port=29533", "-m", "recon.cli", "train",
                           "--data", str(tiny_model.parent), "--preset", "tiny", "--steps", "3", "--batch", "2",
                           "--crop", "0", "--quiet", "--threads", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert read_config(out)["training"]["processes"] == 2
