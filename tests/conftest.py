import os
import shutil

import numpy as np
import pytest

from recon.phantom import simulate_cine


def require_tool(name: str) -> None:
    """Skip on a developer machine without `name`; fail in CI, which must install it."""
    if shutil.which(name) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed but CI must provide it (.ci/run installs it)")
        pytest.skip(f"{name} not installed")


@pytest.fixture(scope="session")
def small_cine():
    """8 frames, 64 x 64, 4 coils: big enough for masks with 20 ACS lines, small enough to be quick."""
    return simulate_cine(frames=8, size=64, coils=4, seed=123, snr=50.0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A tiny spatiotemporal model trained for a few steps: enough to exercise the samplers, not to be good."""
    from recon.diffusion.train import TrainConfig, train
    from recon.io import write_native

    folder = tmp_path_factory.mktemp("train")
    for seed in (10000, 10001):
        write_native(folder / f"c{seed}.h5", simulate_cine(frames=6, size=32, coils=1, seed=seed, snr=None))
    out = folder / "tiny.safetensors"
    train(TrainConfig(data=str(folder), out=str(out), preset="tiny", steps=4, batch=4, crop=None,
                      checkpoint_every=4), progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_gldm_models(tmp_path_factory):
    """Tiny global and local k-space models trained for two steps from undersampled phantom acquisitions."""
    from recon.diffusion.train import TrainConfig, train
    from recon.io import write_native

    folder = tmp_path_factory.mktemp("gldm")
    write_native(folder / "c.h5", simulate_cine(frames=8, size=32, coils=2, seed=10200, snr=None))
    paths = []
    for kind in ("kspace-global", "kspace-local"):
        out = folder / f"{kind}.safetensors"
        train(TrainConfig(data=str(folder), out=str(out), planes=kind, preset="tiny", steps=2, batch=4, crop=None,
                          sigma_max=4.0, checkpoint_every=2), progress=False)
        paths.append(str(out))
    return paths
