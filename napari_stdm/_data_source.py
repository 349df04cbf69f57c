"""The data a run reconstructs, as the dock shows it: a shipped sample, a file chosen in the dock, or an opened
k-space layer; how that file is read (slice, load options, read in the background); its name and shape; and the
mask that suits it (the file's own samples when it is undersampled already)."""

from __future__ import annotations

from pathlib import Path

from napari.qt.threading import thread_worker

from recon.errors import ReconError
from recon.io import LoadOptions, detect, load
from recon.io.options import opening_options
from recon.pipeline import default_mask_kind

from ._job import FILE_SOURCE, LAYER_PREFIX, SAMPLE_NAMES, SAMPLE_SHAPES, SAMPLE_SOURCES
from ._layers import contrast


def load_layer_data(path: str, options: LoadOptions):
    """The worker's function for reading another slice (or with other options) of an opened file."""
    return load(path, options)


class DataSource:
    """Mixed into the dock widget (napari_stdm._widget.ReconWidget), whose state these methods read: `source`,
    `file`, `reading`, `mask`, `viewer`, `running`, `loader`, `_opened_path`, `set_status`, `fail`,
    `update_effective_accel`."""

    def on_source_changed(self, *_):
        self.file.visible = self.source.value == FILE_SOURCE
        layer = self.source_layer()
        if self.source.value == FILE_SOURCE:
            self.on_file_changed()
        elif layer is not None and layer.metadata.get("napari_stdm_path"):
            options = layer.metadata.get("napari_stdm_load") or LoadOptions()
            with self.reading.changed.blocked():  # showing what the layer holds reads nothing
                self.reading.set_options(options, layer.metadata.get("napari_stdm_slices", 1))
        self.reading.visible = self.reads_file()
        self.default_mask()
        self.update_effective_accel()

    def on_file_changed(self, *_):
        """A file chosen in the dock: its slice count and the options it opens with (headers only)."""
        path = str(self.file.value)
        if self.source.value != FILE_SOURCE or not Path(path).is_file() or path == self._opened_path:
            return
        self._opened_path = path
        try:
            detect(Path(path))  # a file that is no k-space format at all is said now, not only at Run
        except ReconError as exc:
            self.set_status(f"cannot read this file: {exc}")
            return
        options, slices = opening_options(path)
        with self.reading.changed.blocked():
            self.reading.set_options(options, slices)

    def default_mask(self):
        """The file's own samples for data that are undersampled already; a retrospective mask otherwise."""
        data = self.layer_data()
        if data is None and self.source.value not in SAMPLE_SOURCES:
            return  # a file not read yet: the run asks if a mask would discard measured samples
        if data is not None and default_mask_kind(data) == "file":
            self.mask.value = "file"
        elif self.mask.value == "file":
            self.mask.value = "vista"

    def on_reading_changed(self, *_):
        """Another slice (or other load options) of an opened file: read it in the background into its layer."""
        layer = self.source_layer()
        path = None if layer is None else layer.metadata.get("napari_stdm_path")
        if not path or self.running or layer.metadata.get("napari_stdm_load") == self.reading.options():
            return
        options = self.reading.options()
        self.set_status(f"reading {Path(path).name} {self.options_text(options)}…".replace("  ", " "))
        loader = thread_worker(load_layer_data, start_thread=False, ignore_errors=True)(path, options)
        loader.returned.connect(lambda data, layer=layer, options=options: self.show_loaded(layer, data, options))
        loader.errored.connect(self.fail)
        loader.finished.connect(lambda: setattr(self, "loader", None))
        self.loader = loader
        loader.start()

    def show_loaded(self, layer, data, options: LoadOptions):
        from recon.pipeline import preview

        if layer not in self.viewer.layers or options != self.reading.options():
            return  # the layer is gone, or the user chose again meanwhile (a later read follows)
        magnitude = preview(data)
        layer.metadata.update({"napari_stdm_data": data, "napari_stdm_load": options})
        layer.data = magnitude
        layer.contrast_limits = contrast(magnitude)
        self.set_status(f"read {layer.name} {self.options_text(options)}")
        self.default_mask()
        self.update_effective_accel()

    @staticmethod
    def options_text(options: LoadOptions | None) -> str:
        return "" if options is None or options.slice is None else f"slice {options.slice}"

    def source_layer(self):
        if self.source.value and self.source.value.startswith(LAYER_PREFIX):
            name = self.source.value[len(LAYER_PREFIX):]
            return self.viewer.layers[name] if name in self.viewer.layers else None
        return None

    def layer_data(self):
        layer = self.source_layer()
        return None if layer is None else layer.metadata["napari_stdm_data"]

    def reads_file(self) -> bool:
        """Whether the chosen data come from a file (the dock's file, or a layer opened from one)."""
        layer = self.source_layer()
        return self.source.value == FILE_SOURCE or (layer is not None and bool(layer.metadata.get("napari_stdm_path")))

    def load_options(self) -> LoadOptions | None:
        """How the chosen file is read (None for the samples and layers not read from a file)."""
        return self.reading.options() if self.reads_file() else None

    def input_path(self) -> str | None:
        if self.source.value == FILE_SOURCE:
            return str(self.file.value)
        layer = self.source_layer()
        return None if layer is None else layer.metadata.get("napari_stdm_path")

    def data_name(self) -> str:
        if self.source.value in SAMPLE_NAMES:
            return SAMPLE_NAMES[self.source.value]
        if self.source.value == FILE_SOURCE:
            base = Path(str(self.file.value)).stem or "file"
        else:
            base = self.source.value[len(LAYER_PREFIX):]
        options = self.load_options()
        return f"{base} · slice {options.slice}" if self.reading.slices > 1 and options and options.slice is not None \
            else base

    def data_shape(self) -> tuple[int, int, int] | None:
        """(frames, ky, kx) of the chosen data when known without reading a file."""
        data = self.layer_data()
        if data is not None:
            return data.frames, *data.image_shape
        return SAMPLE_SHAPES.get(self.source.value)
