"""The default weights in sample_data/ load, match the code, and give a finite score on a sample plane."""

import pytest
import torch

from dataclasses import replace

from recon.diffusion.checkpoint import default_model_path, load_model
from recon.diffusion.kinds import plane_kind
from recon.diffusion.schema import unet_config
from recon.diffusion.slicing import to_planes
from recon.diffusion.unet import PRESETS
from recon.gldm.kspace import position
from recon.samples import BENCHMARK_SEEDS, SAMPLE_SEED, sample_cine

EXPECTED_KINDS = {"spatiotemporal": ("both", "yt", "xt"), "spatiotemporal-noisy": ("both", "yt", "xt"),
                  "spatial": ("xy",), "gldm-global": ("kspace-global",),
                  "gldm-local": ("kspace-local",)}
SHIPPED = list(EXPECTED_KINDS)


@pytest.mark.parametrize("role", SHIPPED)
def test_shipped_model_loads_and_matches_the_code(role):
    path = default_model_path(role)
    model, sde, config = load_model(path)
    assert config["plane_kind"] in EXPECTED_KINDS[role]
    network = unet_config(config["unet"])
    assert replace(network, condition=0) == PRESETS[config["preset"]]
    assert network.condition in (0, plane_kind(config["plane_kind"]).condition)  # earlier GLDM priors read no position
    training = config["training"]
    assert training["steps_done"] > 0 and training["seconds"] > 0
    seeds = training.get("data_seeds", [])
    assert SAMPLE_SEED not in seeds and not set(seeds) & set(BENCHMARK_SEEDS)
    cine = torch.from_numpy(sample_cine().reference[:, :, :64])
    planes = to_planes(cine / cine.abs().max(), "yt" if role.startswith("spatiotemporal") else "xy")[:4]
    with torch.inference_mode():
        where = position(planes.shape[-2:]) if network.condition else None
        score = sde.denoise(model, planes + 0.1 * torch.randn_like(planes), torch.full((4,), 0.1), where)
    assert torch.isfinite(score).all() and score.abs().mean() > 0


def test_all_weights_fit_the_size_budget():
    total = sum(default_model_path(role).stat().st_size for role in SHIPPED)
    assert total <= 25 * 2 ** 20
