import numpy as np
import pytest

from recon import methods
from recon.diffusion import precision
from recon.phantom import simulate_cine
from recon.pipeline import problem_for, undersample


@pytest.fixture(scope="module")
def problem():
    cine = simulate_cine(frames=6, size=32, coils=1, seed=78, snr=None)
    measured, _ = undersample(cine, "vista", 4, 8, seed=0)
    measured.reference = None
    return problem_for(measured)


def test_auto_is_bfloat16_only_with_hardware_support(monkeypatch):
    for has_amx, expected in ((True, "bfloat16"), (False, "float32")):
        monkeypatch.setattr(precision, "hardware_bfloat16", lambda: has_amx)
        assert str(precision.resolve("auto")) == f"torch.{expected}"
    assert str(precision.resolve("float32")) == "torch.float32"


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="float16"):
        precision.resolve("float16")
    with pytest.raises(Exception, match="precision"):
        methods.create("dstdm", precision="float16")


@pytest.mark.parametrize("name", ["dstdm", "gldm"])
def test_bfloat16_networks_change_the_image_only_slightly(problem, tiny_model, tiny_gldm_models, name):
    models = {"model": str(tiny_model)} if name == "dstdm" else dict(zip(("global_model", "local_model"),
                                                                           tiny_gldm_models))
    run = lambda p: methods.create(name, steps=3, precision=p, **models).run(problem).image  # noqa: E731
    single, half = run("float32"), run("bfloat16")
    assert single.dtype == half.dtype == np.complex64
    difference = np.linalg.norm(half - single) / np.linalg.norm(single)
    assert 0 < difference < 0.02  # bfloat16 really ran (not identical), and it changed the image by < 2 %


def test_training_in_bfloat16_records_it_and_keeps_float32_weights(tmp_path):
    from recon.diffusion.checkpoint import load_model, read_config
    from recon.diffusion.train import TrainConfig, train
    from recon.io import write_native

    write_native(tmp_path / "c.h5", simulate_cine(frames=6, size=32, coils=1, seed=10003, snr=None))
    out = train(TrainConfig(data=str(tmp_path), out=str(tmp_path / "m.safetensors"), preset="tiny", steps=3, batch=4,
                            crop=None, checkpoint_every=3, precision="bfloat16"), progress=False)
    assert read_config(out)["training"]["precision"] == "bfloat16"
    model = load_model(out)[0]
    assert all(p.dtype.is_floating_point and p.dtype.itemsize == 4 for p in model.parameters())


def test_unknown_training_precision_is_refused(tmp_path):
    from recon.diffusion.train import TrainConfig, train
    from recon.errors import ReconError

    with pytest.raises(ReconError, match="precision 'half'"):
        train(TrainConfig(data=str(tmp_path), out=str(tmp_path / "m.safetensors"), precision="half"), progress=False)
