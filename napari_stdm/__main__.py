"""`python -m napari_stdm [FILE ...]`: napari with the dock widget. Saved reconstructions (RESULT.h5) open with
their reference; k-space files (every format the engine reads) open as the dock's data, a multi-slice file at its
middle slice."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    import napari

    from ._reader import get_reader, read_result_layers

    viewer = napari.Viewer(title="napari-stdm")
    viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")
    for path in argv:
        if get_reader(path) is read_result_layers:
            for layer in viewer.layers:  # the maps of an earlier file would lie over this file's cine
                if "napari_stdm_map" in layer.metadata:
                    layer.visible = False
            for data, kwargs, _ in read_result_layers(path, with_reference=True):
                layer = viewer.add_image(data, **kwargs)
                if "napari_stdm_result" in layer.metadata:
                    result = layer
            viewer.layers.selection.active = result  # the cine (window, play), not its map
        else:
            viewer.open(path, plugin="napari-stdm")
    napari.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
