import numpy as np
import pydicom
import pytest

from recon.data import CineMeta
from recon.io import read_result, write_native
from recon.phantom import simulate_cine
from tests.widget.conftest import full_text, wait_idle


def set_params(widget, **values):
    for w in widget.params:
        if w.name in values:
            w.value = values[w.name]


def run_and_count_updates(qtbot, widget):
    updates = []
    widget.run()
    qtbot.waitUntil(lambda: widget.preview is not None or widget.worker is None, timeout=60_000)
    if widget.preview is not None:
        widget.preview.events.data.connect(lambda e: updates.append(1))
    wait_idle(qtbot, widget)
    return updates


def open_small_cine(widget, tmp_path, meta=None, name="cine"):
    """A small k-space file opened with File → Open; its layer becomes the widget's data."""
    data = simulate_cine(frames=6, size=64, coils=2, seed=3)
    if meta is not None:
        data.meta = meta
    path = write_native(tmp_path / f"{name}.h5", data)
    widget.viewer.open(str(path), plugin="napari-stdm")
    return path, data, widget.viewer.layers[name]


def expected_scale(meta, frames):
    interval = np.median(np.diff(meta.frame_times))
    return (interval, *meta.pixel_spacing)


def test_widget_docks_and_lists_methods(widget):
    assert {"zero-filled", "lps", "dstdm"} <= set(widget.method.choices)
    widget.method.value = "sense"
    assert [w.name for w in widget.params] == ["iterations", "lam"]
    widget.method.value = "dstdm"
    assert "steps" in [w.name for w in widget.params]
    controls = {w.name: w for w in widget.params}
    assert list(controls["sampler"].choices) == ["x0-dc", "heun", "predictor"]  # a dropdown, not free text
    from recon.methods.stdm import INITS

    assert list(controls["init"].choices) == list(INITS) and "lps" in INITS
    assert controls["sampler"].value == "x0-dc"


def test_sample_shapes_used_for_the_effective_acceleration_are_the_samples():
    from napari_stdm._job import SAMPLE_SHAPES, SAMPLE_SOURCES

    for name, make in SAMPLE_SOURCES.items():
        data = make()
        assert SAMPLE_SHAPES[name] == (data.frames, *data.image_shape), name


def test_zero_filled_run_on_the_sample(qtbot, widget):
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.preview is not None and widget.preview.data.shape == (12, 128, 128)
    assert "PSNR" in full_text(widget.metrics) and full_text(widget.status).startswith("done")
    assert any(layer.name.startswith("mask") for layer in widget.viewer.layers)
    assert widget.errors == []


def test_lps_updates_the_preview_layer_live(qtbot, widget):
    widget.method.value = "lps"
    set_params(widget, iterations=6, tolerance=0.0)
    updates = run_and_count_updates(qtbot, widget)
    assert len(updates) >= 2
    assert widget.progress.value == widget.progress.max == 6
    assert len(widget.job.history) == 6


def test_three_step_diffusion_run(qtbot, widget, tiny_model):
    widget.method.value = "dstdm"
    set_params(widget, steps=3, model=str(tiny_model))
    updates = run_and_count_updates(qtbot, widget)
    assert widget.errors == [] and full_text(widget.status).startswith("done")
    assert len(updates) >= 2 and widget.result.step == 3


# ---- point 3: geometry ----------------------------------------------------------------------------------------
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


# ---- point 4: result actions and cancelled runs ------------------------------------------------------------------
def start_long_lps(qtbot, widget, tmp_path):
    open_small_cine(widget, tmp_path, name="long")
    widget.method.value = "lps"
    set_params(widget, iterations=1000, tolerance=0.0)
    widget.run()
    qtbot.waitUntil(lambda: widget.progress.value >= 2, timeout=60_000)


def test_result_actions_are_disabled_during_a_run_and_enabled_after(qtbot, widget, tmp_path):
    buttons = (widget.difference_button, widget.dicom_button, widget.h5_button)
    assert not any(b.enabled for b in buttons)  # nothing to act on yet
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    assert all(b.enabled for b in buttons)
    finished = widget.result
    start_long_lps(qtbot, widget, tmp_path)
    assert not any(b.enabled for b in buttons) and "in flight" in widget.h5_button.tooltip
    # a click that still arrives (script, keyboard) neither fails nor touches the run or the finished result
    assert widget.save_h5(str(tmp_path / "during.h5")) is None and widget.export_dicom(str(tmp_path / "d")) == []
    assert widget.add_difference_layer() is None
    assert not (tmp_path / "during.h5").exists() and widget.result is finished and widget.errors == []
    widget.cancel()
    wait_idle(qtbot, widget, timeout=20_000)
    assert all(b.enabled for b in buttons) and widget.result is not finished


def test_cancel_keeps_a_partial_result_marked_and_exportable(qtbot, widget, tmp_path):
    start_long_lps(qtbot, widget, tmp_path)
    widget.cancel()
    wait_idle(qtbot, widget, timeout=20_000)
    result = widget.result
    assert result is not None and result.partial and 2 <= result.step < 1000
    mark = f"cancelled at step {result.step}/1000"
    assert result.status == mark and widget.preview.name.endswith(f" · {mark}")
    assert widget.preview.metadata["napari_stdm_result"]["status"] == mark
    assert full_text(widget.status).startswith(mark)
    assert widget.run_button.enabled and not widget.cancel_button.enabled
    assert widget.dicom_button.enabled and widget.h5_button.enabled and widget.difference_button.enabled
    out = widget.save_h5(str(tmp_path / "partial.h5"))
    _, image, info = read_result(out)
    assert info["status"] == mark and info["partial"] and info["steps"] == result.step
    assert np.allclose(np.abs(image), widget.preview.data, atol=1e-5 * widget.preview.data.max())
    files = widget.export_dicom(str(tmp_path / "dicom"))
    first = pydicom.dcmread(files[0])
    assert mark in first.SeriesDescription and mark in first.ImageComments
    assert widget.add_difference_layer() is not None and widget.errors == []
    # the viewer stays usable
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    assert full_text(widget.status).startswith("done") and not widget.result.partial


def test_a_cancelled_rerun_gives_back_the_identical_finished_result(qtbot, widget, tmp_path):
    open_small_cine(widget, tmp_path)
    widget.method.value = "lps"
    set_params(widget, iterations=80, tolerance=0.0)
    widget.run()
    wait_idle(qtbot, widget)
    finished_layer, finished_data = widget.preview, widget.preview.data
    name = finished_layer.name
    widget.run()  # identical settings: draws into the same layer
    qtbot.waitUntil(lambda: widget.progress.value >= 2, timeout=60_000)
    widget.cancel()
    wait_idle(qtbot, widget, timeout=20_000)
    if not widget.result.partial:
        pytest.skip("the rerun finished before the cancel arrived")
    assert finished_layer.name == name and finished_layer.data is finished_data
    assert finished_layer.metadata["napari_stdm_result"]["status"] == "finished"
    assert widget.preview is not finished_layer and "cancelled at step" in widget.preview.name


# ---- point 5: status ----------------------------------------------------------------------------------------------
def test_run_resets_progress_and_metrics_at_once_and_shows_each_phase(qtbot, widget):
    statuses, set_status = [], widget.set_status
    widget.set_status = lambda text: (statuses.append(text), set_status(text))
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    assert statuses[:4] == ["starting…", "loading data…", "coil maps…", "running zero-filled…"], statuses
    assert "PSNR" in full_text(widget.metrics) and widget.progress.value == 1
    statuses.clear()
    widget.method.value = "lps"
    set_params(widget, iterations=3, tolerance=0.0)
    widget.seed.value = 1  # a new mask: coil maps again (the data read by the last run are reused)
    widget.run()
    # before any event from the worker: nothing of the previous run is left
    assert widget.progress.value == 0 and full_text(widget.metrics) == "" and len(widget.plot.axes.lines) == 0
    assert full_text(widget.status) == "starting…"
    wait_idle(qtbot, widget)
    assert statuses[:3] == ["starting…", "coil maps…", "running lps…"], statuses
    assert "iteration 3/3" in statuses and statuses[-1].startswith("done: sample · lps")
    statuses.clear()
    widget.method.value = "zero-filled"  # the same data and mask again: no reading, no coil maps
    widget.run()
    assert widget.job.prepared is not None  # handed over before the worker starts
    wait_idle(qtbot, widget)
    assert "loading data…" not in statuses and "coil maps…" not in statuses and widget.errors == []
    assert "coil maps of the last run…" in statuses


def test_diffusion_run_shows_loading_model_and_sampling_steps(qtbot, widget, tiny_model, tmp_path):
    open_small_cine(widget, tmp_path)
    statuses, set_status = [], widget.set_status
    widget.set_status = lambda text: (statuses.append(text), set_status(text))
    widget.method.value = "dstdm"
    set_params(widget, steps=2, model=str(tiny_model))
    widget.run()
    wait_idle(qtbot, widget)
    assert "loading data…" not in statuses  # an opened layer is loaded already
    assert statuses.index("coil maps…") < statuses.index("loading model…") < statuses.index("sampling step 1/2")


def test_a_long_error_does_not_widen_the_dock(qtbot, widget, tmp_path):
    window = widget.viewer.window._qt_window
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(200)
    before = widget.dock.width()
    widget.fail(RuntimeError("the reconstruction could not start because " + "x" * 600))
    # a layer with a very long name becomes a data choice: the dropdown must not widen the dock either
    open_small_cine(widget, tmp_path, name="a_very_long_file_name_" + "y" * 120)
    qtbot.wait(300)
    assert widget.dock.width() == before
    assert widget.status.native.text().endswith("…") and len(widget.status.native.text()) < 200
    assert "x" * 600 in full_text(widget.status) and "x" * 600 in str(widget.errors[0])
    assert widget.dock.sizeHint().width() < window.width() / 2


def test_bad_file_shows_an_error_and_stays_usable(qtbot, widget, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    widget.source.value = "k-space file"
    widget.file.value = bad
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors and "neither HDF5" in str(widget.errors[-1])
    assert widget.run_button.enabled and full_text(widget.status).startswith("error")
    assert widget.result is None and not widget.h5_button.enabled


def test_failing_method_reports_in_the_widget(qtbot, widget):
    widget.method.value = "dstdm"
    set_params(widget, model="/nonexistent.safetensors", steps=2)
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors and "does not exist" in str(widget.errors[-1])
    assert widget.run_button.enabled


# ---- point 6: names and effective acceleration ---------------------------------------------------------------
def test_layer_names_say_data_method_and_parameters(qtbot, widget):
    widget.method.value = "lps"
    set_params(widget, iterations=2)
    estimate = widget.accel_eff.value
    widget.run()
    wait_idle(qtbot, widget)
    effective = widget.job.mask_info["effective_accel"]
    assert widget.accel_eff.value == estimate == f"R_eff {effective:.1f}"
    first = widget.preview.name
    assert first == f"sample · lps · vista R_eff {effective:.1f} · 2 iterations"
    set_params(widget, lambda_l=0.05)  # differs only in one parameter
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.preview.name == f"{first} · lambda l 0.05"
    widget.accel.value = 4
    assert widget.accel_eff.value != estimate  # R_eff follows R before the run


def test_opening_a_kspace_file_feeds_the_widget_and_runs(qtbot, widget, tmp_path):
    path, _, _ = open_small_cine(widget, tmp_path)
    assert widget.source.value == "layer: cine"
    widget.method.value = "zero-filled"
    widget.mask.value = "kt-gaussian"
    widget.accel.value = 4
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.preview.data.shape == (6, 64, 64) and widget.preview.name.startswith("cine · zero-filled")
    original = path.read_bytes()
    assert widget.save_h5(str(path)) is None and "input of this run" in str(widget.errors[-1])
    assert widget.export_dicom(str(tmp_path)) == [] and "holds" in str(widget.errors[-1])
    assert path.read_bytes() == original and sorted(p.name for p in tmp_path.iterdir()) == ["cine.h5"]


def test_runs_stay_as_layers_and_export(qtbot, widget, tmp_path):
    for name in ("zero-filled", "sense"):
        widget.method.value = name
        widget.run()
        wait_idle(qtbot, widget)
    names = [layer.name for layer in widget.viewer.layers]
    assert any(n.startswith("sample · zero-filled · vista R_eff") for n in names)
    assert any(n.startswith("sample · sense · vista R_eff") and n.endswith("15 iterations") for n in names)
    widget.viewer.grid.enabled = True
    widget.add_difference_layer()
    assert any(n.startswith("difference · sample · sense") for n in (layer.name for layer in widget.viewer.layers))
    files = widget.export_dicom(str(tmp_path / "dicom"))
    assert len(files) == 12 and all(f.exists() for f in files)
    out = widget.save_h5(str(tmp_path / "r.h5"))
    _, image, info = read_result(out)
    assert image.shape == (12, 128, 128) and info["method"] == "sense" and info["metrics"]["psnr"] > 20
    assert info["status"] == "finished" and info["name"] == widget.preview.name


def test_identical_runs_reuse_their_layers_and_finished_runs_free_their_data(qtbot, widget):
    import gc
    import weakref

    widget.method.value = "zero-filled"
    jobs = []
    for seed in (1, 1, 2):
        widget.seed.value = seed
        widget.run()
        wait_idle(qtbot, widget)
        jobs.append(weakref.ref(widget.job))
    names = [layer.name for layer in widget.viewer.layers]
    results = [n for n in names if n.startswith("sample · zero-filled")]
    assert len(results) == 2 and results[0].endswith("seed 1") and results[1].endswith("seed 2"), names
    assert sum(name.startswith("mask · sample · vista") for name in names) == 2
    gc.collect()
    assert [job() is not None for job in jobs] == [False, False, True], "finished runs still hold their data"


def test_gldm_scan_specific_mode_shows_training_then_steps(qtbot, widget, tiny_gldm_models):
    widget.method.value = "gldm"
    widget.mask.value = "interleaved"
    set_params(widget, steps=2, global_model=tiny_gldm_models[0], local_model=tiny_gldm_models[1], rank=20,
               window=4, finetune_seconds=1.0)
    statuses, set_status = [], widget.set_status
    widget.set_status = lambda text: (statuses.append(text), set_status(text))
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors == [] and full_text(widget.status).startswith("done") and widget.result.step == 2
    tuning = [i for i, s in enumerate(statuses) if s.startswith("fine-tuning kspace-")]
    assert tuning and tuning[-1] < statuses.index("sampling step 1/2"), statuses[:8]
    assert [step for step, *_ in widget.job.history] == [1, 2]


# ---- point 8: read-back --------------------------------------------------------------------------------------------
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


def test_closing_napari_mid_run_stops_the_run(qtbot, widget, tmp_path):
    start_long_lps(qtbot, widget, tmp_path)
    worker = widget.worker
    widget.viewer.close()
    qtbot.waitUntil(lambda: not worker.is_running, timeout=20_000)
    assert widget.job.history[-1][0] < 1000


# ---- point 2: load options, slice chooser, every format ------------------------------------------------------------
def write_multislice_mat(path, slices=3):
    from tests.test_formats import write_mat73

    stack = [simulate_cine(frames=4, size=32, coils=2, seed=20 + s, snr=None) for s in range(slices)]
    write_mat73(path, {"kspace_full": np.stack([c.kspace for c in stack], 1)})  # (time, slice, coil, ky, kx)
    return stack


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
    assert widget.preview.name.startswith("sax · slice 2 · zero-filled")
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


# ---- point 6 (rest): the file's own mask ---------------------------------------------------------------------------
FILE_MASK_R_EFF = 64 * 64 * 6 / (6 * 64 * (8 + 28))  # kt-uniform R 2 outside 8 ACS lines: 36 of 64 lines


def undersampled_file(tmp_path, name="under"):
    from recon.masks import make_mask

    data = simulate_cine(frames=6, size=64, coils=2, seed=3)
    mask = make_mask("kt-uniform", (6, 64, 64), 2, 8).array
    assert mask.size / mask.sum() == pytest.approx(FILE_MASK_R_EFF)
    return write_native(tmp_path / f"{name}.h5", data.with_mask(mask))


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


# ---- point 7: tooltips, dropdowns, file pickers --------------------------------------------------------------------
def all_controls(container):
    from magicgui.widgets import Container

    for w in container:
        yield w
        if isinstance(w, Container):
            yield from all_controls(w)


def test_every_control_has_a_tooltip_and_model_parameters_are_file_pickers(widget):
    from magicgui.widgets import FileEdit

    from recon import methods

    for name in methods.names():
        widget.method.value = name
        missing = [w.name or w.label for w in all_controls(widget) if not (w.tooltip or "").strip()]
        assert missing == [], f"{name}: controls without a tooltip: {missing}"
        for w in widget.params:
            if w.name.endswith("model"):
                assert isinstance(w, FileEdit) and w.filter == "*.safetensors", (name, w.name)
                assert "empty" in w.tooltip and widget.parameter_values()[w.name] == ""
    assert widget.plot.toolTip() and widget.table.toolTip()
    widget.method.value = "dstdm"
    sampler = next(w for w in widget.params if w.name == "sampler")
    assert "predictor" in sampler.tooltip  # the parameter's help
    with pytest.raises(ValueError):
        sampler.value = "euler"  # a dropdown refuses what is not a choice


def test_the_plugin_names_no_method_internals():
    from importlib.resources import files

    for module in ("_widget.py", "_job.py"):
        text = files("napari_stdm").joinpath(module).read_text()
        assert "finetune" not in text and "uses_model" not in text, module


# ---- point 9: sweep, history, recipe -------------------------------------------------------------------------------
def test_steps_sweep_runs_each_count_as_a_labelled_layer_with_a_table_row(qtbot, widget, tmp_path):
    open_small_cine(widget, tmp_path)
    widget.method.value = "lps"
    set_params(widget, tolerance=0.0)
    jobs, original = [], widget.run

    def recording_run(*args, **kwargs):
        original(*args, **kwargs)
        jobs.append(widget.job)

    widget.run = recording_run
    widget.sweep_text.value = "2, 5"
    widget.sweep()
    qtbot.waitUntil(lambda: widget.table.rowCount() == 2, timeout=120_000)
    wait_idle(qtbot, widget)
    rows = widget.table.rows()
    assert [r[:2] for r in rows] == [["lps", "2"], ["lps", "5"]]
    assert all(float(r[2]) > 10 and 0 < float(r[3]) <= 1 and float(r[4]) >= 0 for r in rows)
    assert float(rows[1][2]) > float(rows[0][2])  # more iterations, better here
    names = [layer.name for layer in widget.viewer.layers]
    assert any(n.endswith("· 2 iterations · tolerance 0") for n in names)
    assert any(n.endswith("· 5 iterations · tolerance 0") for n in names)
    assert len(jobs) == 2 and jobs[1].prepared is jobs[0].prepared  # same data, mask and coil maps


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


# ---- issue 17: the maps of a diffusion run ---------------------------------------------------------------------
def map_layers_of(widget, kind):
    return [layer for layer in widget.viewer.layers if layer.metadata.get("napari_stdm_map") == kind]


def test_a_sweeps_maps_never_lie_over_the_next_runs_preview(qtbot, widget, tmp_path, tiny_model):
    """The next count starts at once; the finished count's maps must not appear over the new live preview."""
    from recon.events import Step

    open_small_cine(widget, tmp_path)
    widget.method.value = "dstdm"
    set_params(widget, model=str(tiny_model))
    seen, original = [], widget.on_yielded

    def recording(event):
        original(event)
        if isinstance(event, Step):
            seen.append((widget._run_key, [layer.metadata["napari_stdm_map_of"] for layer in widget.viewer.layers
                                           if "napari_stdm_map" in layer.metadata and layer.visible]))

    widget.on_yielded = recording
    widget.sweep_text.value = "2, 3"
    widget.sweep()
    qtbot.waitUntil(lambda: widget.table.rowCount() == 2, timeout=120_000)
    wait_idle(qtbot, widget)
    assert len({key for key, _ in seen}) == 2 and all(not shown for _, shown in seen)
    shown = [layer for layer in widget.viewer.layers if "napari_stdm_map" in layer.metadata and layer.visible]
    assert [layer.metadata["napari_stdm_map_of"] for layer in shown] == [widget._run_key]
    assert widget.viewer.layers.selection.active.name == widget.result.layer.name


def test_diffusion_run_draws_its_prior_map_over_the_result(qtbot, widget, tmp_path, tiny_model):
    _, _, source = open_small_cine(widget, tmp_path)
    widget.method.value = "dstdm"
    set_params(widget, steps=2, model=str(tiny_model))
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors == []
    (prior,) = map_layers_of(widget, "prior_map")
    result = widget.result.layer
    assert prior.name == f"prior map (× signal level) · {result.name}"
    assert np.array_equal(prior.data, widget.result.extras["prior_map"]) and prior.data.shape == result.data.shape
    assert prior.colormap.name == "magma" and str(prior.blending) == "additive" and prior.visible
    assert tuple(prior.contrast_limits) == pytest.approx((0, 0.2)) and prior.colorbar.visible
    layers = list(widget.viewer.layers)
    between = layers[layers.index(result) + 1:layers.index(prior)]  # over its cine: additive adds to what is below
    assert between and not any(layer.visible for layer in between), between  # (the hidden mask layer)
    assert tuple(prior.scale) == pytest.approx(tuple(source.scale))
    assert widget.viewer.layers.selection.active.name == result.name  # the cine stays selected (window, play)
    assert map_layers_of(widget, "uncertainty") == []  # one sample: no uncertainty
    assert full_text(widget.maps) == "prior map: 0 measured – 0.2 filled in"
    widget.run()  # identical settings: the run's own layers are reused, its map too
    wait_idle(qtbot, widget)
    assert map_layers_of(widget, "prior_map") == [prior] and prior.visible
    set_params(widget, seed=1)
    widget.run()
    wait_idle(qtbot, widget)
    older, newer = map_layers_of(widget, "prior_map")
    assert not older.visible and newer.visible  # additive overlays of two runs never add up
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    # no map (nor its colour bar) stays over a result it does not belong to
    assert not any(layer.visible for layer in map_layers_of(widget, "prior_map"))


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


def test_golden_angle_radial_run_on_the_sample(qtbot, widget):
    from recon.radial import nyquist_spokes, spokes_for_effective

    widget.mask.value = "golden-angle"
    widget.accel.value = 8
    spokes = spokes_for_effective((128, 128), 8)
    assert widget.accel_eff.value == f"R_eff {nyquist_spokes((128, 128)) / spokes:.1f}"
    assert f"{spokes} golden-angle spokes" in widget.accel_eff.tooltip and not widget.acs.enabled
    widget.method.value = "lps"
    set_params(widget, iterations=5)
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors == [] and widget.job.mask_info["spokes"] == spokes
    result = widget.preview
    assert result.data.shape == (12, 128, 128) and "golden-angle" in result.name
    mask = next(layer for layer in widget.viewer.layers if layer.name.startswith("mask"))
    assert tuple(mask.scale) == tuple(result.scale)
    # the window follows the result, not the first (dimmer) gridding preview
    assert result.contrast_limits[1] == pytest.approx(np.percentile(result.data, 99.5), rel=1e-3)
    widget.mask.value = "vista"
    assert widget.acs.enabled


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
