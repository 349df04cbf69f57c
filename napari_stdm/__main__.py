"""`python -m napari_stdm [RESULT.h5 ...]`: napari with the dock widget, showing saved reconstructions."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    import napari

    from ._reader import read_result_layers

    viewer = napari.Viewer(title="napari-stdm")
    viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")
    for path in argv:
        for data, kwargs, _ in read_result_layers(path, with_reference=True):
            viewer.add_image(data, **kwargs)
    napari.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
