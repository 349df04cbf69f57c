import os
import shutil

import pytest


@pytest.fixture(autouse=True, scope="session")
def require_xvfb():
    """pytest-xvfb silently does nothing without Xvfb; in CI that must be a failure, not a skipped GUI."""
    if shutil.which("Xvfb") is None and not os.environ.get("DISPLAY"):
        if os.environ.get("CI"):
            pytest.fail("Xvfb is missing: napari widget tests need it (scripts/setup.sh installs xvfb)")
        pytest.skip("no display and no Xvfb")


@pytest.fixture
def widget(make_napari_viewer, monkeypatch):
    import napari_stdm._widget as module

    monkeypatch.setattr(module, "PREVIEW_INTERVAL_S", 0.0)  # every iterate reaches the layer in tests
    errors = []
    monkeypatch.setattr(module, "show_error", errors.append)
    viewer = make_napari_viewer()
    dock, w = viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")
    w.play.value = False  # no animation timers between test steps (test_widget tests playing on its own)
    w.errors = errors
    w.dock = dock
    return w


def wait_idle(qtbot, widget, timeout=120_000):
    """The run has ended and the layers it adds after its end (the mask, the maps) are there."""
    qtbot.waitUntil(lambda: widget.settled, timeout=timeout)


def full_text(label) -> str:
    """The whole text of an elided status/metrics label (its tooltip describes the label while it is empty)."""
    from napari_stdm._elide import ElidedText

    elided = label.native.findChild(ElidedText)
    return elided.full if elided is not None else (label.tooltip or "")
