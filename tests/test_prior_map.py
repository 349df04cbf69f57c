"""Prior-contribution map (recon.prior_map): zero where k-space is measured, larger the less is measured, carried by
every diffusion run, kept by the result file and exported as its own DICOM series."""

import datetime

import numpy as np
import pytest
import torch

from recon import methods
from recon.cli import main
from recon.io import write_native, write_result
from recon.io.native import read_result_maps
from recon.phantom import simulate_cine
from recon.pipeline import problem_for, undersample
from recon.prior_map import prior_map, unmeasured_image
from tests.conftest import require_tool
from tests.test_dicom import validator_errors


@pytest.fixture(scope="module")
def cine():
    return simulate_cine(frames=6, size=48, coils=4, seed=31, snr=None)


def problem_at(cine, accel, kind="vista"):
    measured, _ = undersample(cine, kind, accel, 8, seed=0)
    measured.reference = None
    return problem_for(measured, "file")  # the true maps: no ESPIRiT, so the test is quick and exact


def body_mean(cine, values, frames=slice(None)):
    magnitude = np.abs(cine.reference)
    return float(values[frames][(magnitude > 0.2 * magnitude.max())[frames]].mean())


def test_zero_where_all_kspace_is_measured(cine):
    full = cine.with_mask(np.ones((cine.frames, *cine.image_shape), bool))
    full.reference = None
    p = problem_for(full, "file")
    values = prior_map(p, cine.reference)
    assert values.shape == cine.reference.shape and values.dtype == np.float32
    assert np.abs(values).max() < 1e-5


def test_a_fully_sampled_frame_has_no_prior_contribution(cine):
    mask = undersample(cine, "vista", 8, 8, seed=0)[0].mask.copy()
    mask[2] = True
    measured = cine.with_mask(mask)
    measured.reference = None
    values = prior_map(problem_for(measured, "file"), cine.reference)
    assert np.abs(values[2]).max() < 1e-5 and body_mean(cine, values, [0, 1, 3]) > 0.01


def test_grows_as_samples_are_removed(cine):
    means = [body_mean(cine, prior_map(problem_at(cine, r), cine.reference)) for r in (2, 4, 8)]
    assert 0 < means[0] < means[1] < means[2] < 1.5, means
    values = prior_map(problem_at(cine, 8), cine.reference)
    assert np.isfinite(values).all() and (values >= 0).all()


def test_per_frame_version_is_the_image_minus_what_the_frame_sees(cine):
    p = problem_at(cine, 4)
    x = torch.from_numpy(cine.reference.astype(np.complex64)) / p.scale
    u = unmeasured_image(p.op, x, temporal=False)
    coil_power = p.sens.abs().square().sum(0)[None]  # 1 on the maps' support
    assert torch.allclose(coil_power * x - p.op.normal(x), u, atol=1e-4 * float(x.abs().max()))
    assert float(u.abs().max()) > 1e-2 * float(x.abs().max())


def test_static_anatomy_measured_by_other_frames_is_not_prior(cine):
    """Frames that together tile k-space: a still image is fully determined, a moving one is not."""
    ny, nx = cine.image_shape
    mask = np.zeros((cine.frames, ny, nx), bool)
    for t in range(cine.frames):
        mask[t, t % 3::3] = True  # interleaved: any 3 consecutive frames tile k-space
    measured = cine.with_mask(mask)
    measured.reference = None
    p = problem_for(measured, "file")
    still = np.repeat(cine.reference[:1], cine.frames, axis=0)
    assert np.abs(prior_map(p, still)).max() < 1e-5
    assert body_mean(cine, prior_map(p, still, temporal=False)) > 0.05
    assert body_mean(cine, prior_map(p, cine.reference)) > 1e-3


def test_a_tensor_in_normalised_units_gives_the_same_map(cine):
    p = problem_at(cine, 4)
    x = torch.from_numpy(cine.reference.astype(np.complex64)) / p.scale
    assert np.allclose(prior_map(p, x), prior_map(p, cine.reference), atol=1e-5)


@pytest.fixture(scope="module")
def single_coil_problem():
    data = simulate_cine(frames=6, size=32, coils=1, seed=77, snr=None)
    measured, _ = undersample(data, "vista", 4, 8, seed=0)
    measured.reference = None
    return problem_for(measured)


@pytest.mark.parametrize("name, samples", [("dstdm", 1), ("stdm", 2), ("dstdm-seq", 1)])
def test_diffusion_runs_return_the_map_on_the_final_iterate(single_coil_problem, tiny_model, name, samples):
    method = methods.create(name, model=str(tiny_model), steps=2, samples=samples)
    iterates = list(method.iterate(single_coil_problem))
    last = iterates[-1]
    assert all("prior_map" not in it.extras for it in iterates[:-1])
    values = last.extras["prior_map"]
    assert values.shape == last.image.shape and np.isfinite(values).all() and (values >= 0).all()
    assert np.allclose(values, prior_map(single_coil_problem, last.image), atol=1e-4)
    assert set(method.map_names()) <= set(last.extras)


def test_gldm_returns_the_map(cine):
    p = problem_at(cine, 3, kind="interleaved")
    last = methods.create("gldm", steps=2, priors="none", rank=8, window=4).run(p)
    values = last.extras["prior_map"]
    assert values.shape == last.image.shape and np.isfinite(values).all() and body_mean(cine, values) > 0


def test_result_file_round_trip(tmp_path, small_cine):
    frames = small_cine.reference.shape
    maps = {"uncertainty": np.full(frames, 0.5, np.float32), "prior_map": np.linspace(0, 1, np.prod(frames))
            .reshape(frames).astype(np.float32)}
    write_result(tmp_path / "r.h5", small_cine, small_cine.reference, {"method": "x"}, maps["uncertainty"],
                 maps["prior_map"])
    back = read_result_maps(tmp_path / "r.h5")
    assert set(back) == set(maps) and all(np.array_equal(back[k], maps[k]) for k in maps)
    write_result(tmp_path / "plain.h5", small_cine, small_cine.reference, {"method": "x"})
    assert read_result_maps(tmp_path / "plain.h5") == {}


def test_map_that_does_not_fit_is_dropped_with_a_warning(tmp_path, small_cine):
    import h5py

    path = write_result(tmp_path / "r.h5", small_cine, small_cine.reference, {}, prior_map=np.zeros((2, 3, 4)))
    with pytest.warns(UserWarning, match="prior_map"):
        assert read_result_maps(path) == {}
    with h5py.File(tmp_path / "t.h5", "w") as f:
        f["recon"] = small_cine.reference
        f["prior_map"] = np.array([b"text"] * 8)
    with pytest.warns(UserWarning, match="prior_map"):
        assert read_result_maps(tmp_path / "t.h5") == {}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_model):
    folder = tmp_path_factory.mktemp("maps")
    write_native(folder / "in.h5", simulate_cine(frames=6, size=32, coils=1, seed=5, snr=None))
    out = folder / "dicom"
    assert main(["recon", str(folder / "in.h5"), "--method", "dstdm", "--model", str(tiny_model), "--steps", "2",
                 "--samples", "2", "--accel", "4", "--acs", "8", "--out", str(folder / "r.h5"), "--dicom", str(out),
                 "--dicom-maps", "--quiet"]) == 0
    return folder


def test_recon_writes_maps_to_h5_and_dicom_series_in_the_same_study(exported):
    import pydicom

    maps = read_result_maps(exported / "r.h5")
    assert set(maps) == {"prior_map", "uncertainty"}
    cine = [pydicom.dcmread(p) for p in sorted((exported / "dicom").iterdir())]
    for name, words in (("prior_map", "prior contribution"), ("uncertainty", "posterior std")):
        series = [pydicom.dcmread(p) for p in sorted((exported / f"dicom_{name}").iterdir())]
        assert len(series) == len(cine) == 6
        first = series[0]
        assert words in first.SeriesDescription and list(first.ImageType)[0] == "DERIVED"
        assert first.StudyInstanceUID == cine[0].StudyInstanceUID
        assert first.FrameOfReferenceUID == cine[0].FrameOfReferenceUID
        assert first.SeriesInstanceUID != cine[0].SeriesInstanceUID and first.SeriesNumber != cine[0].SeriesNumber
        assert [d.TriggerTime for d in series] == [d.TriggerTime for d in cine]
    prior = np.stack([d.pixel_array for d in (pydicom.dcmread(p) for p in sorted((exported / "dicom_prior_map")
                                                                                  .iterdir()))])
    assert np.allclose(prior / 1000, np.clip(maps["prior_map"], 0, 4.095), atol=0.5e-3 + 1e-6)


def test_map_series_pass_dciodvfy_and_dcentvfy(exported):
    require_tool("dciodvfy")
    files = sorted(exported.glob("dicom*/IM*.dcm"))
    assert len(files) == 18
    for path in files:
        assert validator_errors(["dciodvfy", str(path)]) == [], path
    assert validator_errors(["dcentvfy", *map(str, files)]) == []


def test_export_writes_maps_from_a_result_file_and_refuses_when_there_are_none(exported, tmp_path, capsys):
    assert main(["export", str(exported / "r.h5"), "--dicom", str(tmp_path / "e"), "--dicom-maps"]) == 0
    assert len(list((tmp_path / "e_prior_map").iterdir())) == 6
    assert main(["recon", "sample", "--method", "zero-filled", "--out", str(tmp_path / "z.h5"), "--dicom",
                 str(tmp_path / "z"), "--dicom-maps", "--quiet"]) == 2
    assert "gives no maps" in capsys.readouterr().err and not (tmp_path / "z").exists()
    assert main(["recon", "sample", "--method", "zero-filled", "--out", str(tmp_path / "z.h5"), "--dicom-maps",
                 "--quiet"]) == 2
    assert "needs --dicom" in capsys.readouterr().err


def test_map_series_for_a_fixed_time_are_deterministic(tmp_path, small_cine):
    import pydicom

    from recon.io.dicom import export_cine, write_map_series

    now = datetime.datetime(2026, 1, 2, 3, 4, 5)
    files = export_cine(small_cine.reference, small_cine.meta, tmp_path / "c", uid_seed="s", now=now)
    values = np.zeros(small_cine.reference.shape)
    names = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        names.append(write_map_series(values, small_cine.meta, tmp_path / name, files[0], kind="prior_map",
                                      uid_seed="s", now=now))
    a, b = (pydicom.dcmread(n[0]) for n in names)
    assert a.SOPInstanceUID == b.SOPInstanceUID != pydicom.dcmread(files[0]).SOPInstanceUID


def test_export_cine_with_maps_writes_all_series_or_none(tmp_path, small_cine):
    from recon.io.dicom import export_cine, map_folder
    from recon.io.outputs import OutputError

    image = small_cine.reference
    maps = {"prior_map": np.full(image.shape, 0.1, np.float32)}
    files = export_cine(image, small_cine.meta, tmp_path / "d", maps=maps)
    written = sorted(map_folder(tmp_path / "d", "prior_map").iterdir())
    assert map_folder(tmp_path / "d", "prior_map") == tmp_path / "d_prior_map"
    assert len(files) == len(written) == small_cine.frames
    (tmp_path / "e_prior_map").mkdir()
    (tmp_path / "e_prior_map" / "notes.txt").write_text("mine")  # not a series of ours: refused, before anything
    with pytest.raises(OutputError):
        export_cine(image, small_cine.meta, tmp_path / "e", maps=maps, overwrite=True)
    assert not (tmp_path / "e").exists() and (tmp_path / "e_prior_map" / "notes.txt").read_text() == "mine"
