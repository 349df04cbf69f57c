"""What leaves the dock: DICOM (layers, maps), result .h5 with history, recipes, results read back."""

import numpy as np
import pydicom
import pytest

from recon.io import read_result
from tests.widget.conftest import full_text, wait_idle
from tests.widget.helpers import set_params, open_small_cine, write_multislice_mat, map_layers_of


def test_save_layer_as_dicom_takes_spacing_and_trigger_times_from_the_layer(qtbot, widget, tmp_path):
    _, data, source = open_small_cine(widget, tmp_path)
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    widget.viewer.layers.selection = {widget.preview}
    out = tmp_path / "series"
    widget.viewer.layers.save(str(out), selected=True, plugin="napari-stdm")  # File → Save Selected Layer(s)
    datasets = sorted((pydicom.dcmread(p) for p in out.iterdir()), key=lambda d: int(d.InstanceNumber))
    assert len(datasets) == 6
    assert [float(v) for v in datasets[0].PixelSpacing] == pytest.approx(data.meta.pixel_spacing)
    assert [float(d.TriggerTime) for d in datasets] == pytest.approx(data.meta.frame_times, abs=1e-3)
    # a layer whose scale the user changed exports what napari shows
    from napari_stdm._writer import write_dicom

    files = write_dicom(str(tmp_path / "rescaled"), widget.preview.data,
                        {**widget.preview._get_state(), "scale": (50.0, 1.25, 1.5)})
    rescaled = [pydicom.dcmread(f) for f in files]
    assert [float(v) for v in rescaled[0].PixelSpacing] == [1.25, 1.5]
    assert [float(d.TriggerTime) for d in rescaled] == pytest.approx([0, 50, 100, 150, 200, 250])


def test_runs_stay_as_layers_and_export(qtbot, widget, tmp_path):
    for name in ("zero-filled", "sense"):
        widget.method.value = name
        widget.run()
        wait_idle(qtbot, widget)
    names = [layer.name for layer in widget.viewer.layers]
    assert any(n.startswith("zero-filled · sample · vista R_eff") for n in names)
    assert any(n.startswith("sense · sample · vista R_eff") and n.endswith("15 iterations") for n in names)
    widget.viewer.grid.enabled = True
    widget.add_difference_layer()
    assert any(n.startswith("difference · sense · sample") for n in (layer.name for layer in widget.viewer.layers))
    files = widget.export_dicom(str(tmp_path / "dicom"))
    assert len(files) == 12 and all(f.exists() for f in files)
    out = widget.save_h5(str(tmp_path / "r.h5"))
    _, image, info = read_result(out)
    assert image.shape == (12, 128, 128) and info["method"] == "sense" and info["metrics"]["psnr"] > 20
    assert info["status"] == "finished" and info["name"] == widget.preview.name


def test_dicom_export_reads_back_as_a_cine_with_spacing_and_timing(qtbot, widget, tmp_path):
    _, data, source = open_small_cine(widget, tmp_path)
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    folder = tmp_path / "dicom"
    widget.export_dicom(str(folder))
    opened = widget.viewer.open(str(folder), plugin="napari-stdm")[0]
    assert opened.data.shape == (6, 64, 64)
    assert tuple(opened.scale) == pytest.approx(tuple(source.scale), rel=1e-4)
    assert opened.metadata["napari_stdm_meta"].frame_times == pytest.approx(data.meta.frame_times, abs=1e-3)
    shown = widget.preview.data
    assert np.allclose(opened.data / opened.data.max(), shown / shown.max(), atol=2 / 4095)


def test_saved_h5_holds_the_convergence_history(qtbot, widget, tmp_path):
    from recon.io.native import read_result_history

    widget.method.value = "lps"
    set_params(widget, iterations=3, tolerance=0.0)
    widget.run()
    wait_idle(qtbot, widget)
    out = widget.save_h5(str(tmp_path / "r.h5"))
    history = read_result_history(out)
    assert list(history["step"]) == [1, 2, 3] and np.all(np.isfinite(history["psnr"]))
    assert history["psnr"][-1] == pytest.approx(read_result(out)[2]["metrics"]["psnr"])


def test_recipe_saves_and_loads_back_into_the_controls(qtbot, widget, tmp_path, tiny_model):
    import hashlib
    import json

    write_multislice_mat(tmp_path / "sax.mat")
    widget.viewer.open(str(tmp_path / "sax.mat"), plugin="napari-stdm")
    widget.reading.controls["slice"].value = 0
    qtbot.waitUntil(lambda: widget.loader is None, timeout=30_000)
    widget.mask.value, widget.accel.value, widget.acs.value, widget.seed.value = "kt-gaussian", 3.0, 6, 4
    widget.method.value = "dstdm"
    set_params(widget, steps=7, model=str(tiny_model), sampler="heun", seed=11)
    path = widget.save_recipe(str(tmp_path / "recipe.json"))
    saved = json.loads(path.read_text())
    assert saved["data"] == {"input": str((tmp_path / "sax.mat").resolve()), "load": {"slice": 0}}
    assert saved["mask"]["kind"] == "kt-gaussian" and saved["seeds"] == {"mask": 4, "method": 11}
    assert saved["weights"]["model"]["sha256"] == hashlib.sha256(tiny_model.read_bytes()).hexdigest()
    assert saved["version"] and saved["parameters"]["sampler"] == "heun"
    # everything changed, then loaded back
    widget.method.value = "lps"
    widget.mask.value, widget.accel.value, widget.seed.value = "vista", 8.0, 0
    widget.source.value = "synthetic sample"
    assert widget.load_recipe(str(path)) and widget.errors == []
    assert widget.source.value == "layer: sax" and widget.reading.controls["slice"].value == 0
    assert (widget.mask.value, widget.accel.value, widget.acs.value, widget.seed.value) == ("kt-gaussian", 3, 6, 4)
    values = widget.parameter_values()
    assert widget.method.value == "dstdm" and values["steps"] == 7 and values["sampler"] == "heun"
    assert values["model"] == str(tiny_model) and values["seed"] == 11
    saved["parameters"]["model"] = ""  # the shipped default: an empty picker, not the current folder
    path.write_text(json.dumps(saved))
    assert widget.load_recipe(str(path)) and widget.parameter_values()["model"] == ""


def test_maps_are_saved_read_back_and_exported_as_dicom_series(qtbot, widget, tmp_path, tiny_model):
    import pydicom

    from recon.io.native import read_result_maps
    from tests.conftest import require_tool
    from tests.test_dicom import validator_errors

    widget.method.value = "dstdm"
    set_params(widget, steps=2, samples=2, model=str(tiny_model))
    widget.run()
    wait_idle(qtbot, widget)
    extras = widget.result.extras
    saved = read_result_maps(widget.save_h5(str(tmp_path / "r.h5")))
    assert set(saved) == {"prior_map", "uncertainty"}
    assert np.allclose(saved["prior_map"], extras["prior_map"]) and np.allclose(saved["uncertainty"],
                                                                                  extras["uncertainty"])
    opened = widget.viewer.open(str(tmp_path / "r.h5"), plugin="napari-stdm")
    assert [layer.metadata.get("napari_stdm_map") for layer in opened] == [None, "prior_map", "uncertainty"]
    assert [layer.visible for layer in opened] == [True, True, False]
    assert np.allclose(opened[1].data, extras["prior_map"]) and str(opened[1].blending) == "additive"
    wait_idle(qtbot, widget)  # colour bars are switched on in a turn of their own
    assert opened[1].colorbar.visible and opened[1].name.startswith("prior map (× signal level) · ")
    widget.export_dicom(str(tmp_path / "plain"))
    assert not (tmp_path / "plain_prior_map").exists()  # maps only when asked for
    widget.dicom_maps.value = True
    cine = widget.export_dicom(str(tmp_path / "d"))
    series = {name: sorted((tmp_path / f"d_{name}").iterdir()) for name in ("prior_map", "uncertainty")}
    assert len(cine) == 12 and all(len(files) == 12 for files in series.values())
    first = pydicom.dcmread(series["prior_map"][0])
    assert "prior contribution" in first.SeriesDescription and first.ImageType[0] == "DERIVED"
    assert first.StudyInstanceUID == pydicom.dcmread(cine[0]).StudyInstanceUID
    assert first.WindowCenter == 100 and first.WindowWidth == 200  # the 0-0.2 scale napari shows
    (back,) = widget.viewer.open(str(tmp_path / "d_prior_map"), plugin="napari-stdm")
    assert back.metadata["napari_stdm_map"] == "prior_map" and back.colormap.name == "magma"
    assert np.allclose(back.data, np.clip(extras["prior_map"], 0, 4.095), atol=0.5e-3 + 1e-6)
    require_tool("dciodvfy")
    for path in [cine[0], series["prior_map"][0], series["uncertainty"][-1]]:
        assert validator_errors(["dciodvfy", str(path)]) == [], path


def test_with_maps_on_a_method_without_maps_writes_the_cine_alone(qtbot, widget, tmp_path):
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    assert not widget.dicom_maps.enabled and "disabled" in widget.dicom_maps.tooltip
    widget.dicom_maps.value = True
    assert len(widget.export_dicom(str(tmp_path / "d"))) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
    assert map_layers_of(widget, "prior_map") == [] and full_text(widget.maps) == ""
