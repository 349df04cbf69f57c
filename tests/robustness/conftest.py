import shutil

import pytest

from recon.io import write_native
from recon.phantom import simulate_cine


@pytest.fixture(scope="session")
def cine_template(tmp_path_factory):
    """A small fully sampled cine with its coil maps: 6 frames, 32 x 32, 2 coils."""
    path = tmp_path_factory.mktemp("template") / "cine.h5"
    write_native(path, simulate_cine(frames=6, size=32, coils=2, seed=5, snr=40.0))
    return path


@pytest.fixture
def cine(cine_template, tmp_path):
    """A fresh copy of the template in this test's own folder (the folder `hostile` watches)."""
    return shutil.copy(cine_template, tmp_path / "cine.h5")


QUICK = ["--method", "zero-filled", "--sens", "file", "--mask", "vista", "--accel", "4", "--acs", "8", "--quiet"]
