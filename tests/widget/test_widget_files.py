"""The data a user opens: geometry on every layer, k-space files of every format, slices, undersampled files."""

import numpy as np
import pytest

from recon.data import CineMeta
from recon.io import write_native
from recon.phantom import simulate_cine
from tests.widget.conftest import full_text, wait_idle
from tests.widget.helpers import (set_params, open_small_cine, expected_scale, write_multislice_mat,
                                   FILE_MASK_R_EFF, undersampled_file)


def test_sample_shapes_used_for_the_effective_acceleration_are_the_samples():
    from napari_stdm._job import SAMPLE_SHAPES, SAMPLE_SOURCES

    for name, make in SAMPLE_SOURCES.items():
        data = make()
        assert SAMPLE_SHAPES[name] == (data.frames, *data.image_shape), name


def test_every_layer_carries_the_data_geometry(qtbot, widget, tmp_path, tiny_model):
    _, data, source = open_small_cine(widget, tmp_path)
    scale = expected_scale(data.meta, 6)
    assert tuple(source.scale) == pytest.approx(scale) and min(scale) > 1  # ms and mm, not pixels
    assert tuple(source.axis_labels) == ("time", "y", "x")
    assert [str(u) for u in source.units] == ["millisecond", "millimeter", "millimeter"]
    widget.method.value = "dstdm"
    widget.mask.value = "kt-gaussian"
    widget.accel.value = 4
    set_params(widget, steps=2, samples=2, model=str(tiny_model))  # 2 posterior samples: an uncertainty layer
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors == []
    widget.add_difference_layer()
    layers = list(widget.viewer.layers)
    kinds = {"mask", "prior map (× signal level)", "uncertainty (std × signal level)", "difference"}
    assert kinds <= {layer.name.split(" · ")[0] for layer in layers}
    assert widget.preview in layers and len(layers) == 6
    for layer in layers:
        assert tuple(layer.scale) == pytest.approx(tuple(source.scale)), layer.name
        assert tuple(layer.axis_labels) == ("time", "y", "x") and layer.units == source.units, layer.name
        assert layer.metadata["napari_stdm_geometry"]["known"], layer.name
    # drawn over the data, not in a corner: same world extent
    assert np.allclose(widget.preview.extent.world, source.extent.world)


def test_data_without_geometry_keep_scale_one_and_say_so(qtbot, widget, tmp_path):
    _, _, source = open_small_cine(widget, tmp_path, meta=CineMeta(source="no geometry"), name="bare")
    assert tuple(source.scale) == (1, 1, 1)
    geometry = source.metadata["napari_stdm_geometry"]
    assert not geometry["known"] and geometry["unknown"] == ["pixel spacing", "frame timing"]
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    assert tuple(widget.preview.scale) == (1, 1, 1)
    assert "unknown" in widget.preview.metadata["napari_stdm_geometry"]["note"]


def test_bad_file_shows_an_error_and_stays_usable(qtbot, widget, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    widget.source.value = "k-space file"
    widget.file.value = bad
    assert "cannot read this file" in full_text(widget.status) and "neither HDF5" in full_text(widget.status)
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors and "neither HDF5" in str(widget.errors[-1])
    assert widget.run_button.enabled and full_text(widget.status).startswith("error")
    assert widget.result is None and not widget.h5_button.enabled


def test_opening_a_kspace_file_feeds_the_widget_and_runs(qtbot, widget, tmp_path):
    path, _, _ = open_small_cine(widget, tmp_path)
    assert widget.source.value == "layer: cine"
    widget.method.value = "zero-filled"
    widget.mask.value = "kt-gaussian"
    widget.accel.value = 4
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.preview.data.shape == (6, 64, 64) and widget.preview.name.startswith("zero-filled · cine")
    original = path.read_bytes()
    assert widget.save_h5(str(path)) is None and "input of this run" in str(widget.errors[-1])
    assert widget.export_dicom(str(tmp_path)) == [] and "holds" in str(widget.errors[-1])
    assert path.read_bytes() == original and sorted(p.name for p in tmp_path.iterdir()) == ["cine.h5"]


def test_file_open_on_a_result_shows_the_result_with_its_geometry(qtbot, widget, tmp_path):
    _, data, source = open_small_cine(widget, tmp_path)
    widget.method.value = "sense"
    widget.run()
    wait_idle(qtbot, widget)
    out = widget.save_h5(str(tmp_path / "result.h5"))
    name = widget.preview.name
    widget.preview.name = "renamed"  # the read-back layer must take its name from the file
    opened = widget.viewer.open(str(out), plugin="napari-stdm")[0]
    assert opened.name == name
    assert np.allclose(opened.data, np.abs(widget.result.image), rtol=1e-5, atol=1e-6)
    zero_filled = source.data  # what the k-space reader shows
    assert not np.allclose(opened.data / opened.data.max(), zero_filled / zero_filled.max(), atol=0.02)
    assert tuple(opened.scale) == pytest.approx(tuple(source.scale))
    assert opened.metadata["napari_stdm_result"]["method"] == "sense"
    assert "napari_stdm_data" not in opened.metadata  # a result is not offered as k-space to reconstruct


def test_multi_slice_file_opens_with_a_slice_chooser_and_runs_the_chosen_slice(qtbot, widget, tmp_path):
    from recon.physics import rss_image

    stack = write_multislice_mat(tmp_path / "sax.mat")
    layer = widget.viewer.open(str(tmp_path / "sax.mat"), plugin="napari-stdm")[0]  # was: "choose one … (--slice)"
    assert widget.source.value == "layer: sax" and not widget.reading.native.isHidden()  # shown for files
    chooser = widget.reading.controls["slice"]
    assert list(chooser.choices) == [0, 1, 2] and chooser.value == 1 and "of 3" in chooser.label
    assert widget.reading.controls["frames_axis"].native.currentText() == "auto"  # not set: the file says
    shows = lambda s: np.allclose(layer.data, rss_image(stack[s].kspace), atol=1e-4 * layer.data.max())  # noqa: E731
    assert shows(1) and not shows(2)
    chooser.value = 2  # another slice: read in the background into the same layer
    qtbot.waitUntil(lambda: widget.loader is None and layer.metadata["napari_stdm_load"].slice == 2, timeout=30_000)
    assert shows(2) and not shows(1)
    widget.method.value = "zero-filled"
    widget.mask.value = "kt-gaussian"
    widget.accel.value = 2
    widget.acs.value = 4
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors == [] and widget.job.load_options.slice == 2
    assert widget.preview.name.startswith("zero-filled · sax · slice 2")
    assert widget.result_info()["load"] == {"slice": 2}


def test_the_reader_takes_every_format_the_cli_reads(widget, tmp_path):
    from napari_stdm._reader import get_reader
    from napari_stdm._widget import FILE_FILTER
    from tests.ismrmrd_fixture import write_ismrmrd

    cine = simulate_cine(frames=4, size=32, coils=2, seed=8, snr=None)
    write_ismrmrd(tmp_path / "ocmr.h5", cine.kspace, np.ones((4, 32), bool), slices=2)
    np.save(tmp_path / "k.npy", np.stack([cine.kspace, 2 * cine.kspace], 1))  # (t, s, c, y, x)
    np.save(tmp_path / "image.npy", np.ones((4, 8, 8), np.float32))  # an image: napari's own reader's
    for name, slices, shape in (("ocmr.h5", 2, (4, 32, 16)), ("k.npy", 2, (4, 32, 32))):  # ISMRMRD: x cropped
        assert get_reader(str(tmp_path / name)) is not None, name
        layer = widget.viewer.open(str(tmp_path / name), plugin="napari-stdm")[0]
        assert layer.metadata["napari_stdm_slices"] == slices and layer.data.shape == shape, name
        assert widget.source.value == f"layer: {layer.name}" and widget.reading.slices == slices
    assert widget.viewer.layers["k"].metadata["napari_stdm_load"].axes == "tscyx"
    assert get_reader(str(tmp_path / "image.npy")) is None
    for pattern in ("*.mat", "*.npy", "*.npz", "*.h5"):
        assert pattern in FILE_FILTER
    import yaml
    from importlib.resources import files

    manifest = yaml.safe_load(files("napari_stdm").joinpath("napari.yaml").read_text())
    patterns = manifest["contributions"]["readers"][0]["filename_patterns"]
    assert {"*.mat", "*.npy", "*.npz", "*.h5"} <= set(patterns)


def test_undersampled_file_defaults_to_its_own_mask_and_a_discarding_mask_asks_first(qtbot, widget, tmp_path,
                                                                                     monkeypatch):
    import napari_stdm._dialogs as dialogs

    assert widget.mask.value == "vista"
    widget.viewer.open(str(undersampled_file(tmp_path)), plugin="napari-stdm")
    assert widget.mask.value == "file" and widget.accel_eff.value == f"R_eff {FILE_MASK_R_EFF:.1f}"
    asked, answers = [], ["cancel", "discard"]
    monkeypatch.setattr(dialogs, "ask_discard", lambda parent, text: (asked.append(text), answers.pop(0))[1])
    widget.method.value = "zero-filled"
    widget.mask.value = "vista"
    widget.run()
    wait_idle(qtbot, widget)
    assert len(asked) == 1 and "already undersampled" in asked[0] and "% of its measured samples" in asked[0]
    assert widget.result is None and full_text(widget.status).startswith("not run")
    widget.run()  # asked again; this time the mask is applied anyway
    qtbot.waitUntil(lambda: widget.result is not None, timeout=60_000)
    wait_idle(qtbot, widget)
    assert len(asked) == 2 and widget.job.allow_discard and widget.job.mask_info["discarded"] > 0.3
    widget.mask.value = "file"  # the file's own mask asks nothing
    widget.run()
    wait_idle(qtbot, widget)
    assert len(asked) == 2 and widget.job.mask_info["kind"] == "file" and widget.errors == []


def test_a_file_chosen_in_the_dock_asks_once_read_and_can_switch_to_its_mask(qtbot, widget, tmp_path, monkeypatch):
    import napari_stdm._dialogs as dialogs

    monkeypatch.setattr(dialogs, "ask_discard", lambda parent, text: "file")
    widget.source.value = "k-space file"
    widget.file.value = undersampled_file(tmp_path, "dock")
    widget.method.value = "zero-filled"
    widget.run()  # mask vista: the data are read in the worker, then the question
    qtbot.waitUntil(lambda: widget.result is not None, timeout=60_000)
    wait_idle(qtbot, widget)
    assert widget.mask.value == "file" and widget.job.mask_info["kind"] == "file"
    assert widget.job.mask_info["effective_accel"] == pytest.approx(FILE_MASK_R_EFF)


def test_opening_kspace_opens_the_dock_and_a_finished_run_plays(qtbot, make_napari_viewer, tmp_path):
    """The clicks a clinician needs: File → Open a multi-slice file (the dock opens with it as data), Run: the
    result plays."""
    viewer = make_napari_viewer(show=True)  # playing advances a frame only after the last one was drawn
    write_multislice_mat(tmp_path / "sax.mat")
    viewer.open(str(tmp_path / "sax.mat"), plugin="napari-stdm")
    docks = [name for name in viewer.window.dock_widgets if name.startswith("Cine reconstruction")]
    assert len(docks) == 1
    widget = viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")[1]  # the same one
    assert widget.source.value == "layer: sax" and widget.play.value
    widget.method.value = "zero-filled"
    widget.mask.value, widget.accel.value, widget.acs.value = "kt-gaussian", 2, 4
    widget.run()
    wait_idle(qtbot, widget)
    dims = viewer.window._qt_viewer.dims
    qtbot.waitUntil(lambda: dims.is_playing, timeout=15_000)
    try:
        assert widget.dims_widget() is dims and dims.is_playing
        assert viewer.layers.selection.active.name == widget.result.name  # the widget sees layers through a proxy
        start = viewer.dims.current_step[0]
        qtbot.waitUntil(lambda: viewer.dims.current_step[0] != start, timeout=15_000)  # the time axis moves
    finally:
        dims.stop()


def test_a_radial_file_runs_on_its_own_spokes(qtbot, widget, tmp_path):
    from recon.radial import acquire_radial, nyquist_spokes

    data = acquire_radial(simulate_cine(frames=6, size=64, coils=2, seed=3), 20)
    widget.viewer.open(str(write_native(tmp_path / "radial.h5", data)), plugin="napari-stdm")
    assert widget.mask.value == "file" and not widget.acs.enabled
    assert widget.accel_eff.value == f"R_eff {nyquist_spokes((64, 64)) / 20:.1f}"
    widget.method.value = "sense"
    set_params(widget, iterations=3)
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors == [] and widget.preview.data.shape == (6, 64, 64)
    assert not widget.acs.enabled and not widget.accel.enabled  # also after the run: the file's own spokes
    widget.mask.value = "vista"
    assert widget.accel_eff.value == "R_eff –" and "radial spokes" in widget.accel_eff.tooltip
