"""The colour bars' font warm-up draws nothing the user sees and leaves napari's text overlay as it was."""

from napari_stdm._warm_up import PAINTED_MS, TICK_GLYPHS, warm_up_tick_font


def test_warm_up_is_invisible_and_puts_the_text_overlay_back(qtbot, make_napari_viewer):
    viewer = make_napari_viewer()
    overlay = viewer.text_overlay
    warm_up_tick_font(viewer)
    assert overlay.text == TICK_GLYPHS and overlay.visible and overlay.opacity == 0.0
    qtbot.waitUntil(lambda: not overlay.visible, timeout=PAINTED_MS + 2000)
    assert overlay.text == "" and overlay.opacity == 1.0


def test_warm_up_leaves_a_users_text_overlay_alone(qtbot, make_napari_viewer):
    viewer = make_napari_viewer()
    overlay = viewer.text_overlay
    overlay.text, overlay.visible = "patient 7", True
    warm_up_tick_font(viewer)
    assert overlay.text == "patient 7" and overlay.opacity == 1.0
    overlay.visible = False
    warm_up_tick_font(viewer)
    overlay.text = "typed meanwhile"
    qtbot.wait(PAINTED_MS + 200)
    assert overlay.text == "typed meanwhile" and overlay.opacity == 1.0


def test_the_dock_warms_up_once_it_is_open(qtbot, widget):
    overlay = widget.viewer.text_overlay
    qtbot.waitUntil(lambda: overlay.text == TICK_GLYPHS, timeout=5000)
    qtbot.waitUntil(lambda: overlay.text == "" and not overlay.visible, timeout=5000)

