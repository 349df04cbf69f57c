"""The controls and layers a user reads: names, tooltips, file pickers, maps over the right run."""

import numpy as np
import pytest

from tests.widget.conftest import full_text, wait_idle
from tests.widget.helpers import set_params, open_small_cine, all_controls, map_layers_of


def test_layer_names_say_data_method_and_parameters(qtbot, widget):
    widget.method.value = "lps"
    set_params(widget, iterations=2)
    estimate = widget.accel_eff.value
    widget.run()
    wait_idle(qtbot, widget)
    effective = widget.job.mask_info["effective_accel"]
    assert widget.accel_eff.value == estimate == f"R_eff {effective:.1f}"
    first = widget.preview.name
    assert first == f"lps · sample · vista R_eff {effective:.1f} · 2 iterations"
    set_params(widget, lambda_l=0.05)  # differs only in one parameter
    widget.run()
    wait_idle(qtbot, widget)
    assert widget.preview.name == f"{first} · lambda l 0.05"
    widget.accel.value = 4
    assert widget.accel_eff.value != estimate  # R_eff follows R before the run


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


def test_every_parameter_label_shows_its_whole_text(widget):
    from qtpy.QtGui import QFontMetrics

    from recon import methods

    for name in methods.names():
        widget.method.value = name
        for w in widget.params:
            label = w._labeled_widget_ref()._label_widget.native
            needed = QFontMetrics(label.font()).horizontalAdvance(label.text())
            assert label.minimumWidth() >= needed + 4, (name, label.text(), label.minimumWidth(), needed)  # "belov"


def test_the_plugin_names_no_method_internals():
    from importlib.resources import files

    modules = [f for f in files("napari_stdm").iterdir() if f.name.endswith(".py")]
    assert any(f.name == "_widget.py" for f in modules)
    for module in modules:
        text = module.read_text()
        assert "finetune" not in text and "uses_model" not in text, module.name


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
