"""`python -m napari_stdm [RESULT.h5 ...]`: napari with the dock widget, showing saved reconstructions."""

from __future__ import annotations

import sys

import numpy as np


def main(argv: list[str]) -> int:
    import napari

    from recon.io import read_result

    viewer = napari.Viewer(title="napari-stdm")
    viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")
    for path in argv:
        data, image, info = read_result(path)
        magnitude = np.abs(image)
        limits = (0.0, float(np.percentile(magnitude, 99.5)))
        if data.reference is not None:
            viewer.add_image(np.abs(data.reference), name="reference", contrast_limits=limits)
        viewer.add_image(magnitude, name=f"{info.get('method', 'recon')} ({path})", contrast_limits=limits)
    napari.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
