"""The dock running methods like a user: live previews, phases, cancel, errors, sweeps, radial."""

import numpy as np
import pydicom
import pytest

from recon.io import read_result
from tests.widget.conftest import full_text, wait_idle
from tests.widget.helpers import set_params, run_and_count_updates, open_small_cine, start_long_lps


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
    assert "iteration 3/3" in statuses and statuses[-1].startswith("done: lps · sample")
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


def test_failing_method_reports_in_the_widget(qtbot, widget):
    widget.method.value = "dstdm"
    set_params(widget, model="/nonexistent.safetensors", steps=2)
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors and "does not exist" in str(widget.errors[-1])
    assert widget.run_button.enabled


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
    results = [n for n in names if n.startswith("zero-filled · sample")]
    assert len(results) == 2 and results[0].endswith("seed 1") and results[1].endswith("seed 2"), names
    assert sum(name.startswith("mask · sample · vista") for name in names) == 2
    first_mask = next(layer for layer in widget.viewer.layers if layer.name.startswith("mask"))
    assert not first_mask.visible and widget.viewer.layers.index(first_mask) < len(widget.viewer.layers) - 1
    first_mask.visible = True  # ticked: on top of the results added after it, which would cover it
    assert widget.viewer.layers[-1].name == first_mask.name  # (the widget sees layers through a proxy)
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


def test_closing_napari_mid_run_stops_the_run(qtbot, widget, tmp_path):
    start_long_lps(qtbot, widget, tmp_path)
    worker = widget.worker
    widget.viewer.close()
    qtbot.waitUntil(lambda: not worker.is_running, timeout=20_000)
    assert widget.job.history[-1][0] < 1000


def test_steps_sweep_runs_each_count_as_a_labelled_layer_with_a_table_row(qtbot, widget, tmp_path):
    open_small_cine(widget, tmp_path)
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    widget.method.value = "lps"
    set_params(widget, tolerance=0.0)
    jobs, original = [], widget.run

    def recording_run(*args, **kwargs):
        original(*args, **kwargs)
        jobs.append(widget.job)

    widget.run = recording_run
    widget.sweep_text.value = "2, 5"
    widget.sweep()
    qtbot.waitUntil(lambda: widget.table.rowCount() == 3, timeout=120_000)
    wait_idle(qtbot, widget)
    earlier, *rows = widget.table.rows()
    assert earlier[:2] == ["zero-filled", "1"]  # a sweep adds to the comparison, it does not wipe earlier runs
    assert [r[:2] for r in rows] == [["lps · tolerance 0", "2"], ["lps · tolerance 0", "5"]]  # changed ones named
    assert all(float(r[2]) > 10 and 0 < float(r[3]) <= 1 and float(r[4]) >= 0 for r in rows)
    assert float(rows[1][2]) > float(rows[0][2])  # more iterations, better here
    names = [layer.name for layer in widget.viewer.layers]
    assert any(n.endswith("· 2 iterations · tolerance 0") for n in names)
    assert any(n.endswith("· 5 iterations · tolerance 0") for n in names)
    assert len(jobs) == 2 and jobs[1].prepared is jobs[0].prepared  # same data, mask and coil maps


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
    assert not widget.acs.enabled and widget.accel.enabled  # the end of a run enables the controls, not ACS here
    result = widget.preview
    assert result.data.shape == (12, 128, 128) and "golden-angle" in result.name
    mask = next(layer for layer in widget.viewer.layers if layer.name.startswith("mask"))
    assert tuple(mask.scale) == tuple(result.scale)
    # the window follows the result, not the first (dimmer) gridding preview
    assert result.contrast_limits[1] == pytest.approx(np.percentile(result.data, 99.5), rel=1e-3)
    widget.mask.value = "vista"
    assert widget.acs.enabled
