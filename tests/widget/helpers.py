"""Steps the widget tests share: set parameters, open a small cine, start a long run, make test files."""

import numpy as np
import pytest

from recon.io import write_native
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


def start_long_lps(qtbot, widget, tmp_path):
    open_small_cine(widget, tmp_path, name="long")
    widget.method.value = "lps"
    set_params(widget, iterations=1000, tolerance=0.0)
    widget.run()
    qtbot.waitUntil(lambda: widget.progress.value >= 2, timeout=60_000)


def write_multislice_mat(path, slices=3):
    from tests.test_formats import write_mat73

    stack = [simulate_cine(frames=4, size=32, coils=2, seed=20 + s, snr=None) for s in range(slices)]
    write_mat73(path, {"kspace_full": np.stack([c.kspace for c in stack], 1)})  # (time, slice, coil, ky, kx)
    return stack


FILE_MASK_R_EFF = 64 * 64 * 6 / (6 * 64 * (8 + 28))  # kt-uniform R 2 outside 8 ACS lines: 36 of 64 lines


def undersampled_file(tmp_path, name="under"):
    from recon.masks import make_mask

    data = simulate_cine(frames=6, size=64, coils=2, seed=3)
    mask = make_mask("kt-uniform", (6, 64, 64), 2, 8).array
    assert mask.size / mask.sum() == pytest.approx(FILE_MASK_R_EFF)
    return write_native(tmp_path / f"{name}.h5", data.with_mask(mask))


def all_controls(container):
    from magicgui.widgets import Container

    for w in container:
        yield w
        if isinstance(w, Container):
            yield from all_controls(w)


def map_layers_of(widget, kind):
    return [layer for layer in widget.viewer.layers if layer.metadata.get("napari_stdm_map") == kind]
