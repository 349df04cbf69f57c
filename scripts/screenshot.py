"""Screenshot of the dock widget after a run (docs/widget.png), plus the widget's two interactive targets: time to the
first preview after Run, and memory growth over 20 consecutive runs (written to benchmarks/results/widget.md).
Needs a display, e.g.

    xvfb-run -a .venv/bin/python scripts/screenshot.py [METHOD]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.memory import rss_mb  # noqa: E402


def wait(condition, timeout: float = 900.0) -> None:
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline:
        QApplication.processEvents()
        # processEvents() alone never runs deleteLater(); napari's event loop would, so do it here too
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
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


def twenty_runs(viewer, widget, new_seed_each_run: bool) -> tuple[float, float, int]:
    """RSS before and after 20 zero-filled runs, and how many layers they left."""
    layers = len(viewer.layers)
    before = rss_mb()
    for _ in range(20):
        widget.seed.value += int(new_seed_each_run)
        widget.run()
        wait(lambda: widget.worker is None)
    wait(lambda: False, timeout=0.5)
    return before, rss_mb(), len(viewer.layers) - layers


def napari_alone(viewer) -> tuple[float, float, int]:
    """For scale: what napari itself spends on 20 result-sized and 20 mask-sized layers, without any run."""
    import numpy as np

    before = rss_mb()
    for i in range(20):
        viewer.add_image(np.random.rand(12, 128, 128).astype(np.float32), name=f"plain {i}")
        viewer.add_image(np.zeros((12, 128), np.uint8), name=f"plain mask {i}", visible=False)
        wait(lambda: False, timeout=0.05)
    wait(lambda: False, timeout=0.5)
    return before, rss_mb(), 40


def main(method: str = "dstdm") -> int:
    root = Path(__file__).resolve().parent.parent
    viewer = napari.Viewer(show=False)
    viewer.window.resize(1500, 950)
    _, widget = viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")
    widget.method.value = "zero-filled"
    widget.run()
    wait(lambda: widget.worker is None)  # warm-up: imports, numba JIT of ESPIRiT
    widget.method.value = method
    start = time.perf_counter()
    widget.run()
    wait(lambda: widget.preview is not None)
    first_preview = time.perf_counter() - start
    wait(lambda: widget.worker is None)
    wait(lambda: False, timeout=1.0)
    finished = f"{widget.status.value}; {widget.metrics.value}"
    out = root / "docs" / "widget.png"
    save_side_by_side(out, layer_picture(widget.preview, 4), widget.native.grab())
    widget.method.value = "zero-filled"
    rows = []
    for label, vary in (("same settings", False), ("new mask seed each run", True)):
        before, after, layers = twenty_runs(viewer, widget, vary)
        rows.append(f"| {label} | {before:.0f} | {after:.0f} | {100 * (after - before) / before:+.1f} % | {layers} |")
    before, after, layers = napari_alone(viewer)
    rows.append(f"| no run: napari given 20 result-sized + 20 mask-sized layers | {before:.0f} | {after:.0f} | "
                f"{100 * (after - before) / before:+.1f} % | {layers} |")
    report = "\n".join([
        "# Widget: memory over 20 consecutive zero-filled runs, first preview",
        "",
        "`xvfb-run -a .venv/bin/python scripts/screenshot.py` on the synthetic sample (12×128²×8 coils), one viewer.",
        "",
        "| 20 runs with | RSS before (MB) | RSS after (MB) | growth | layers added |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"First {method} preview {first_preview:.2f} s after the first Run of {method} in the session ({finished}).",
        "",
    ])
    (root / "benchmarks" / "results" / "widget.md").write_text(report)
    print(report)
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
