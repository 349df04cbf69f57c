"""Screenshot of the dock widget after a run, for docs/widget.png. Run under a display, e.g.

    xvfb-run -a .venv/bin/python scripts/screenshot.py [METHOD]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication


def main(method: str = "dstdm") -> int:
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1400, 900)
    _, widget = viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")
    widget.method.value = method
    widget.run()
    deadline = time.time() + 600
    while widget.worker is not None and time.time() < deadline:
        QApplication.processEvents()
        time.sleep(0.05)
    viewer.dims.set_current_step(0, 4)
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.05)
    out = Path(__file__).resolve().parent.parent / "docs" / "widget.png"
    viewer.screenshot(str(out), canvas_only=False)
    print(f"wrote {out}: {widget.status.value}; {widget.metrics.value}")
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
