"""Playing the finished cine (Playback, mixed into the dock): the result on top, its time axis animated by napari's
own slider panel, stopped when a new run starts."""

from __future__ import annotations

from qtpy.QtWidgets import QWidget


class Playback:
    """Needs the dock's `play` checkbox, `result`, `running`, `viewer` and `native`."""

    def play_when_shown(self):
        """Play the result once its layers are there, unless a new run started meanwhile."""
        if not self.running:
            self.play_result()

    def play_result(self) -> bool:
        """Show the result on top and play the time axis (when 'play the cine when done' is ticked)."""
        if not self.play.value or self.result is None or self.result.layer not in self.viewer.layers:
            return False
        layer = self.result.layer
        layer.visible = True
        self.viewer.layers.selection.active = layer
        time_axis = self.viewer.dims.ndim - layer.ndim  # the layer's first axis is time
        qt_dims = self.dims_widget()
        try:
            if not qt_dims.is_playing:
                qt_dims.play(axis=time_axis, fps=max(5.0, min(30.0, layer.data.shape[0] / 1.0)))
        except (AttributeError, IndexError, ValueError):
            return False
        return True

    def dims_widget(self):
        """napari's slider panel (QtDims: play/stop), found in the window's widget tree: napari has no public call to
        play an axis, and plugins may not reach into its private viewer attributes."""
        window = self.native.window()
        return next((w for w in window.findChildren(QWidget) if type(w).__name__ == "QtDims"), None) \
            if window is not None else None

    def stop_playing(self):
        qt_dims = self.dims_widget()
        try:
            if qt_dims.is_playing:
                qt_dims.stop()
        except AttributeError:
            pass
