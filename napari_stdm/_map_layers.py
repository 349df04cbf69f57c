"""The maps of a diffusion run as layers over its result: the prior map shown with a colour bar, the uncertainty
hidden; a new result hides every map shown (napari_stdm._layers makes them)."""

from __future__ import annotations

from ._layers import MAP_KINDS, MAP_LABELS, map_display, map_layer_kwargs, map_legend


class MapLayers:
    """Mixed into the dock widget (napari_stdm._widget.ReconWidget), whose state these methods read: `result`,
    `viewer`, `after_run`, `maps_text`, `add_layer`."""

    def show_maps(self, run, run_key: str, kinds: list[str] | None = None):
        """The maps of the finished `run` over its result (napari_stdm._layers): the prior map shown, with a colour
        bar; the uncertainty hidden. An identical rerun updates its own map layers. One layer per turn of the
        event loop (a new layer with its colour bar costs the GUI 0.1-0.2 s)."""
        result = self.result
        if result is None or result.run is not run or result.layer not in self.viewer.layers:
            return
        all_kinds = [k for k in MAP_KINDS if k in run.extras]
        kind, *rest = all_kinds if kinds is None else kinds
        values = map_display(kind, run.extras[kind], result.image)
        kwargs = map_layer_kwargs(kind, run_key, result.name)
        layer = next((layer for layer in self.viewer.layers if layer.metadata.get("napari_stdm_map") == kind
                      and layer.metadata.get("napari_stdm_map_of") == run_key), None)
        if layer is None:
            layer = self.add_layer(values, kwargs.pop("name"), kwargs.pop("metadata"), **kwargs)
        else:
            layer.data, layer.visible = values, kwargs["visible"]  # its colour bar: on_layer_inserted
        self.viewer.layers.selection.active = result.layer  # the cine stays the selected layer (window, play)
        if rest:
            self.after_run.add("maps", lambda: self.show_maps(run, run_key, rest), next_=True)
        else:
            self.maps_text.set(map_legend(all_kinds), "\n\n".join(MAP_LABELS[k][2] for k in all_kinds))

    def hide_maps(self):
        """A new result hides every map shown: an additive overlay (and its colour bar) over a result it does not
        belong to would read as that result's map."""
        for layer in self.viewer.layers:
            if "napari_stdm_map" in layer.metadata and layer.visible:  # setting it again costs a refresh
                layer.visible = False
