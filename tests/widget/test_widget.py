import numpy as np
import pytest

from recon.io import read_result, write_native
from recon.phantom import simulate_cine
from tests.widget.conftest import wait_idle


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


def test_widget_docks_and_lists_methods(widget):
    assert {"zero-filled", "lps", "dstdm"} <= set(widget.method.choices)
    widget.method.value = "sense"
    assert [w.name for w in widget.params] == ["iterations", "lam"]
    widget.method.value = "dstdm"
    assert "steps" in [w.name for w in widget.params]
    controls = {w.name: w for w in widget.params}
    assert list(controls["sampler"].choices) == ["x0-dc", "heun", "predictor"]  # a dropdown, not free text
    assert list(controls["init"].choices) == ["zero-filled", "lps", "noise"]
    assert controls["sampler"].value == "x0-dc"


def test_zero_filled_run_on_the_sample(qtbot, widget):
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.preview is not None and widget.preview.data.shape == (12, 128, 128)
    assert "PSNR" in widget.metrics.value and widget.status.value.startswith("done")
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
    assert widget.errors == [] and widget.status.value.startswith("done")
    assert len(updates) >= 2 and widget.result.step == 3


def test_cancel_mid_run_leaves_the_viewer_usable(qtbot, widget):
    widget.method.value = "lps"
    set_params(widget, iterations=1000, tolerance=0.0)
    widget.run()
    qtbot.waitUntil(lambda: widget.progress.value >= 1, timeout=60_000)
    widget.cancel()
    wait_idle(qtbot, widget, timeout=20_000)
    assert widget.status.value.startswith("cancelled") and widget.progress.value < 1000
    assert widget.run_button.enabled and not widget.cancel_button.enabled
    widget.method.value = "zero-filled"
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.status.value.startswith("done")


def test_bad_file_shows_an_error_and_stays_usable(qtbot, widget, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    widget.source.value = "k-space file"
    widget.file.value = bad
    widget.run()
    assert widget.worker is None and widget.errors and "neither HDF5" in str(widget.errors[-1])
    assert widget.run_button.enabled and widget.status.value.startswith("error")


def test_failing_method_reports_in_the_widget(qtbot, widget):
    widget.method.value = "dstdm"
    set_params(widget, model="/nonexistent.safetensors", steps=2)
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors and "does not exist" in str(widget.errors[-1])
    assert widget.run_button.enabled


def test_opening_a_kspace_file_feeds_the_widget_and_runs(qtbot, widget, tmp_path):
    path = write_native(tmp_path / "cine.h5", simulate_cine(frames=6, size=64, coils=2, seed=3))
    widget.viewer.open(str(path), plugin="napari-stdm")
    assert widget.source.value == "layer: cine"
    widget.method.value = "zero-filled"
    widget.mask.value = "kt-gaussian"
    widget.accel.value = 4
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.preview.data.shape == (6, 64, 64)
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
    assert "zero-filled vista R=8" in names and "sense vista R=8" in names
    widget.viewer.grid.enabled = True
    widget.add_difference_layer()
    assert any(n.startswith("difference") for n in (layer.name for layer in widget.viewer.layers))
    files = widget.export_dicom(str(tmp_path / "dicom"))
    assert len(files) == 12 and all(f.exists() for f in files)
    out = widget.save_h5(str(tmp_path / "r.h5"))
    _, image, info = read_result(out)
    assert image.shape == (12, 128, 128) and info["method"] == "sense" and info["metrics"]["psnr"] > 20


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
    assert names.count("zero-filled vista R=8") == 1 and "zero-filled vista R=8 [2]" in names
    assert sum(name.startswith("mask vista R=8") for name in names) == 2
    gc.collect()
    assert [job() is not None for job in jobs] == [False, False, True], "finished runs still hold their data"


def test_gldm_scan_specific_mode_shows_training_then_steps(qtbot, widget, tiny_gldm_models):
    widget.method.value = "gldm"
    widget.mask.value = "interleaved"
    set_params(widget, steps=2, global_model=tiny_gldm_models[0], local_model=tiny_gldm_models[1], rank=20,
               window=4, finetune_seconds=1.0)
    shown, show = [], widget.show_iterate
    widget.show_iterate = lambda it: (show(it), shown.append(widget.metrics.value))
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.errors == [] and widget.status.value.startswith("done") and widget.result.step == 2
    assert any(text.startswith("fine-tuning kspace-") for text in shown), shown[:5]
    assert [step for step, *_ in widget.job.history] == [1, 2]
