"""The one run pipeline (recon.pipeline): prepare never changes its input, the driver's typed events, the
convergence history in result files, LoadOptions on the CLI, recipes."""

import json
import warnings
from dataclasses import fields

import numpy as np
import pytest

from recon import methods
from recon.cli import build_parser, main
from recon.data import CineData
from recon.events import Cancelled, Failed, Finished, MaskReady, Phase, Step
from recon.io import LoadOptions, write_native
from recon.io.native import read_result, read_result_history
from recon.io.options import slice_count
from recon.masks import make_mask
from recon.methods.base import Iterate
from recon.phantom import simulate_cine
from recon.pipeline import DiscardRefused, MaskSpec, prepare, preparing, run, undersample


@pytest.fixture
def cine():
    return simulate_cine(frames=6, size=32, coils=2, seed=4, snr=None)


def snapshot(data: CineData) -> dict:
    return {name: (None if getattr(data, name) is None else getattr(data, name).copy())
            for name in ("kspace", "mask", "reference", "sens")}


def assert_unchanged(data: CineData, before: dict, ids: dict) -> None:
    for name, value in before.items():
        now = getattr(data, name)
        assert id(now) == ids[name], f"{name} was replaced"
        assert (now is None) == (value is None) and (value is None or np.array_equal(now, value)), name


@pytest.mark.parametrize("spec", [MaskSpec("vista", 4, 8), MaskSpec("file")])
def test_prepare_never_changes_its_input(cine, spec):
    data = cine.with_mask(make_mask("kt-uniform", (6, 32, 32), 2, 8).array) if spec.kind == "file" else cine
    before, ids = snapshot(data), {n: id(getattr(data, n)) for n in ("kspace", "mask", "reference", "sens")}
    problem, reference, info = prepare(data, spec, "file")
    assert_unchanged(data, before, ids)
    assert data.reference is not None and reference is not None and np.array_equal(reference, data.reference)
    assert info.measured is not data and info.measured.reference is None  # the method's view has no reference
    assert problem.mask.shape == (6, 32, 32)


def test_file_mask_of_a_zero_marked_file_and_the_discard_warning(cine):
    lines = np.zeros((6, 32), bool)
    lines[:, ::2] = True
    kspace = cine.kspace * lines[:, None, :, None]  # no mask: zeros mark the missing lines
    data = CineData(kspace=kspace.astype(np.complex64), reference=cine.reference, sens=cine.sens, meta=cine.meta)
    kept, info = undersample(data, "file")
    assert kept is not data and np.array_equal(kept.mask[:, :, 0], lines) and info["effective_accel"] == 2
    with pytest.warns(UserWarning, match=r"already undersampled.*leaves out \d+\.\d% of its measured samples"):
        _, _, run_info = prepare(data, MaskSpec("kt-uniform", 4, 4), "file")
    assert 0.3 < run_info.mask["discarded"] < 0.7 and run_info.mask["input_undersampled"]
    with pytest.raises(DiscardRefused) as refused:
        list(preparing(data, MaskSpec("kt-uniform", 4, 4), "file", allow_discard=False))
    assert refused.value.info["discarded"] == run_info.mask["discarded"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fully sampled file is undersampled retrospectively without a warning
        _, _, full = prepare(cine, MaskSpec("kt-uniform", 4, 4), "file")
    assert not full.mask["input_undersampled"] and full.mask["discarded"] == 0


def test_samples_outside_a_files_own_mask_are_named_and_dropped(cine):
    lines = np.zeros((6, 32, 32), bool)
    lines[:, ::3] = True
    data = CineData(kspace=cine.kspace, mask=lines, reference=cine.reference, meta=cine.meta)  # full k-space kept
    with pytest.warns(UserWarning, match=r"non-zero samples outside its mask \(6\d\.\d% of them\)"):
        kept, info = undersample(data, "file")
    assert not kept.kspace[:, :, ~lines[0, :, 0]].any() and np.array_equal(kept.kspace[:, :, ::3], cine.kspace[:, :, ::3])
    assert info["discarded"] == 0.0 and data.kspace is cine.kspace  # the input is not changed
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a file whose k-space is zero outside its mask: nothing to say
        undersample(cine.with_mask(lines), "file")


def test_events_in_order_with_psnr_and_a_finished_result(cine):
    prepared = prepare(cine, MaskSpec("vista", 4, 8), "file")
    events = list(run(prepared, methods.create("lps", iterations=3, tolerance=0.0)))
    assert isinstance(events[0], Phase) and events[0].text == "running lps"
    steps = [e for e in events if isinstance(e, Step)]
    assert [e.iterate.step for e in steps] == [1, 2, 3] and all(e.psnr > 10 for e in steps)
    assert steps[0].text == "iteration 1/3"
    two = Step(Iterate(5, 8, None, {"sample": 2, "samples": 2}), "sampling step")
    assert two.text == "sample 2/2, sampling step 1/4"  # not "sampling step 5/8": each sample runs the steps asked
    assert isinstance(events[-1], Finished)
    result = events[-1].result
    assert result.status == "finished" and result.steps == result.total == 3 and result.metrics["psnr"] > 10
    assert [h[0] for h in result.history] == [1, 2, 3] and result.history[-1][2] == steps[-1].psnr


def test_cancel_marks_the_partial_result_and_errors_become_events(cine):
    prepared = prepare(cine, MaskSpec("vista", 4, 8), "file")
    seen = []
    events = list(run(prepared, methods.create("lps", iterations=50, tolerance=0.0),
                      cancelled=lambda: len(seen) >= 2 or seen.append(1) and False))
    assert isinstance(events[-1], Cancelled) and events[-1].result.status.startswith("cancelled at step")
    assert events[-1].result.partial and events[-1].result.steps < 50
    failing = methods.create("dstdm", model="/nonexistent.safetensors", steps=2)
    events = list(run(prepared, failing))
    assert isinstance(events[-1], Failed) and "does not exist" in str(events[-1].error)


def test_diffusion_announces_loading_model_before_its_first_step(cine, tiny_model):
    prepared = prepare(cine, MaskSpec("vista", 4, 8), "file")
    events = list(run(prepared, methods.create("dstdm", model=str(tiny_model), steps=2, init="lps")))
    texts = [e.text for e in events if isinstance(e, (Phase, Step))]
    assert texts[:3] == ["running dstdm", "loading model", "warm start (lps)"], texts
    assert texts[3:12] == [f"warm start (lps) {i}/100" for i in range(10, 100, 10)], texts  # L+S's progress
    assert texts[12].startswith("noise-aware data consistency (estimated SNR")  # this cine is noisy: the gate is on
    assert texts[13:] == ["sampling step 1/2", "sampling step 2/2"] and isinstance(events[-1], Finished)
    # plain consumers of `iterate` still see estimates only
    plain = list(methods.create("dstdm", model=str(tiny_model), steps=2).iterate(prepared.problem))
    assert [it.step for it in plain] == [1, 2]


def test_preparing_yields_the_mask_then_coil_maps(cine):
    gen = preparing(cine, MaskSpec("vista", 4, 8), "file")
    first, second = next(gen), next(gen)
    assert isinstance(first, MaskReady) and first.mask.shape == (6, 32, 32) and first.info["kind"] == "vista"
    assert isinstance(second, Phase) and second.text == "coil maps"
    assert second.image.shape == (6, 32, 32) and second.image.max() > 0  # a map-free preview of what was measured


def test_cli_keeps_an_undersampled_files_own_samples_by_default(tmp_path, cine, capsys):
    mask = make_mask("kt-uniform", (6, 32, 32), 2, 8).array
    path = write_native(tmp_path / "u.h5", cine.with_mask(mask))
    out = tmp_path / "r.h5"
    assert main(["recon", str(path), "--method", "zero-filled", "--sens", "file", "--out", str(out), "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err
    _, _, info = read_result(out)
    assert info["mask"]["kind"] == "file" and info["mask"]["discarded"] == 0
    full = write_native(tmp_path / "f.h5", cine)  # fully sampled: retrospective VISTA, as before
    assert main(["recon", str(full), "--method", "zero-filled", "--sens", "file", "--out", str(out), "--quiet"]) == 0
    assert read_result(out)[2]["mask"]["kind"] == "vista"


def test_acs_given_where_no_acs_block_is_added_is_said(tmp_path, cine, capsys):
    from recon.recipe import make_recipe

    path = write_native(tmp_path / "c.h5", cine)
    out = tmp_path / "r.h5"
    base = ["recon", str(path), "--method", "zero-filled", "--sens", "file", "--out", str(out), "--quiet"]
    assert main([*base, "--mask", "radial", "--accel", "4", "--acs", "8"]) == 0
    assert "--acs 8 is not used: radial spokes" in capsys.readouterr().err
    assert main([*base, "--mask", "vista", "--accel", "4", "--acs", "8"]) == 0
    assert "not used" not in capsys.readouterr().err
    recipe = make_recipe(str(path), methods.create("zero-filled"), MaskSpec("radial", 4, 20), sens="file")
    saved = recipe.save(tmp_path / "radial.json")  # the widget saves its disabled ACS control: no warning for it
    assert main(["recon", "--recipe", str(saved), "--out", str(out), "--quiet"]) == 0
    assert "not used" not in capsys.readouterr().err
    assert read_result(out)[2]["mask"]["kind"] == "radial"


def test_cli_writes_the_history_and_warns_on_discarded_samples(tmp_path, cine, capsys):
    path = write_native(tmp_path / "u.h5", cine.with_mask(make_mask("kt-uniform", (6, 32, 32), 2, 8).array))
    out = tmp_path / "r.h5"
    assert main(["recon", str(path), "--method", "lps", "--iterations", "4", "--tolerance", "0", "--sens", "file",
                 "--mask", "vista", "--accel", "4", "--acs", "8", "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: the file is already undersampled; the vista mask leaves out" in err and "--mask file" in err
    history = read_result_history(out)
    assert list(history["step"]) == [1, 2, 3, 4] and np.all(history["residual"] > 0)
    _, image, info = read_result(out)
    assert history["psnr"][-1] == pytest.approx(info["metrics"]["psnr"], abs=1e-6)
    assert info["mask"]["discarded"] > 0


def test_load_options_are_the_cli_options():
    recon_parser = build_parser("zero-filled").recon_parser
    for f in fields(LoadOptions):
        assert f"--{f.name.replace('_', '-')}" in recon_parser._option_string_actions, f.name
    args = recon_parser.parse_args(["x.mat", "--slice", "2", "--key", "kus", "--crop-oversampling"])
    assert LoadOptions.from_args(args) == LoadOptions(slice=2, key="kus", crop_oversampling=True)
    assert LoadOptions.from_dict({"slice": 2}).changed() == {"slice": 2}
    with pytest.raises(Exception, match="unknown"):
        LoadOptions.from_dict({"slices": 2})
    with pytest.raises(Exception, match="whole number"):
        LoadOptions.from_dict({"slice": "2"})


def test_slice_count_from_headers(tmp_path):
    from tests.ismrmrd_fixture import write_ismrmrd
    from tests.test_formats import write_mat73

    k = simulate_cine(frames=4, size=16, coils=2, seed=1, snr=None).kspace
    write_mat73(tmp_path / "c.mat", {"kspace_full": np.stack([k, k, k], 1)})
    write_ismrmrd(tmp_path / "two.h5", k, np.ones((4, 16), bool), slices=2)
    np.save(tmp_path / "k.npy", np.stack([k] * 4, 1))  # (t, s, c, y, x)
    assert slice_count(tmp_path / "c.mat") == 3
    assert slice_count(tmp_path / "two.h5") == 2
    assert slice_count(tmp_path / "k.npy", LoadOptions(axes="tscyx")) == 4
    write_native(tmp_path / "n.h5", simulate_cine(frames=4, size=16, coils=1, seed=1))
    assert slice_count(tmp_path / "n.h5") == 1


def test_recipe_round_trip_through_the_cli(tmp_path, cine, capsys):
    from recon.recipe import make_recipe, read_recipe

    path = write_native(tmp_path / "c.h5", cine)
    method = methods.create("lps", iterations=3, tolerance=0.0)
    recipe = make_recipe(str(path), method, MaskSpec("kt-gaussian", 3, 8, seed=5), sens="file")
    saved = recipe.save(tmp_path / "recipe.json")
    values = json.loads(saved.read_text())
    assert values["seeds"] == {"mask": 5} and values["parameters"]["iterations"] == 3
    assert read_recipe(saved) == recipe
    out = tmp_path / "r.h5"
    assert main(["recon", "--recipe", str(saved), "--out", str(out), "--quiet", "--iterations", "2"]) == 0
    _, _, info = read_result(out)
    assert info["method"] == "lps" and info["parameters"]["iterations"] == 2  # the later option wins
    assert info["mask"]["kind"] == "kt-gaussian" and info["mask"]["seed"] == 5 and info["sens"] == "file"
    values["parameters"]["iterations"] = -1
    (tmp_path / "bad.json").write_text(json.dumps(values))
    assert main(["recon", "--recipe", str(tmp_path / "bad.json")]) == 2
    assert "outside" in capsys.readouterr().err


def test_malformed_recipe_parts_are_named_not_crashed_on(tmp_path, cine):
    from recon.recipe import RecipeError, make_recipe, recipe_from_dict

    path = write_native(tmp_path / "c.h5", cine)
    good = json.loads(make_recipe(str(path), methods.create("lps"), MaskSpec("vista", 8, 8)).save(
        tmp_path / "r.json").read_text())
    for part, value, words in ((("data", "load"), [1, 2], '"load" must be an object'),
                               (("weights",), {"model": {"path": 5, "sha256": "x"}}, '"weights" must map')):
        values = json.loads(json.dumps(good))
        target = values
        for key in part[:-1]:
            target = target[key]
        target[part[-1]] = value
        with pytest.raises(RecipeError, match=words):
            recipe_from_dict(values)
