"""Screenshot of the dock widget after a run (docs/widget.png), plus the widget's two interactive targets: time to the
first preview after Run, and memory growth over 20 consecutive runs. Needs a display, e.g.

    xvfb-run -a .venv/bin/python scripts/screenshot.py [METHOD]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.memory import rss_mb  # noqa: E402


def wait(condition, timeout: float = 900.0) -> None:
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)


def layer_picture(layer, frame: int, zoom: int = 4):
    """The layer's frame as napari shows it (gray, its contrast limits), drawn without OpenGL: painting image
    layers with Mesa's software GL under Xvfb crashes, so the canvas itself is not grabbed."""
    import numpy as np

    low, high = layer.contrast_limits
    gray = np.clip((np.asarray(layer.data[frame]) - low) / (high - low), 0, 1)
    gray = np.kron(gray, np.ones((zoom, zoom)))
    return np.dstack([(gray * 255).astype(np.uint8)] * 3 + [np.full(gray.shape, 255, np.uint8)])


def save_side_by_side(path: Path, canvas, dock_pixmap) -> None:
    """The cine frame next to the dock widget."""
    import numpy as np
    from PIL import Image

    dock_pixmap.save(str(path.with_suffix(".dock.png")))
    dock = np.asarray(Image.open(path.with_suffix(".dock.png")).convert("RGBA"))
    path.with_suffix(".dock.png").unlink()
    height = max(canvas.shape[0], dock.shape[0])
    pad = lambda a: np.pad(a, ((0, height - a.shape[0]), (0, 0), (0, 0)), constant_values=255)  # noqa: E731
    Image.fromarray(np.concatenate([pad(canvas), pad(dock)], axis=1)).save(path)


def main(method: str = "dstdm") -> int:
    viewer = napari.Viewer(show=False)
    viewer.window.resize(1500, 950)
    _, widget = viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")
    widget.method.value = "zero-filled"
    widget.run()
    wait(lambda: widget.worker is None)  # warm-up: imports, numba JIT of ESPIRiT
    before = rss_mb()
    for _ in range(20):
        widget.run()
        wait(lambda: widget.worker is None)
    after = rss_mb()
    widget.method.value = method
    start = time.perf_counter()
    widget.run()
    wait(lambda: widget.preview is not None)
    first_preview = time.perf_counter() - start
    wait(lambda: widget.worker is None)
    wait(lambda: False, timeout=1.0)
    out = Path(__file__).resolve().parent.parent / "docs" / "widget.png"
    save_side_by_side(out, layer_picture(widget.preview, 4), widget.native.grab())
    print(f"wrote {out}: {widget.status.value}; {widget.metrics.value}")
    print(f"first {method} preview {first_preview:.2f} s after Run; RSS over 20 zero-filled runs "
          f"{before:.0f} -> {after:.0f} MB ({100 * (after - before) / before:+.1f} %)")
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
