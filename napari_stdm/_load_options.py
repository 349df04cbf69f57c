"""The widget's rendering of recon.io.LoadOptions: one control per field (the CLI builds its options from the same
fields) and a slice chooser whose range is the file's slice count."""

from __future__ import annotations

from dataclasses import fields

from magicgui.widgets import CheckBox, ComboBox, Container, LineEdit

from recon.io.options import LoadOptions

AUTO = "auto"  # what an optional number shows when it is not set


class LoadControls(Container):
    """slice, frames axis, axes, key, crop oversampling; `options()` is the LoadOptions they say."""

    def __init__(self):
        super().__init__(labels=True, label="reading",
                         tooltip="how the file is read: slice, time axis, axis order, variable, readout crop (the "
                                 "same options as `stdm recon`)")
        self.margins = (0, 0, 0, 0)
        self.controls = {}
        self.slices = 1
        for f in fields(LoadOptions):
            meta = f.metadata
            tooltip = f"{meta['help']} (CLI: {meta['cli']})"
            label = f.name.replace("_", " ")
            if f.default is False:
                control = CheckBox(name=f.name, label=label, value=False, tooltip=tooltip)
            elif f.name == "slice":  # the file's slices, once its slice count is known
                control = ComboBox(name=f.name, label=label, choices=self.slice_choices, value=None,
                                   tooltip=tooltip)
            elif "min" in meta:  # an optional whole number: a dropdown of its values, AUTO = let the file say
                choices = [(AUTO, None), *((str(v), v) for v in range(meta["min"], meta["max"] + 1))]
                control = ComboBox(name=f.name, label=label, choices=choices, value=None,
                                   tooltip=f"{tooltip}; '{AUTO}' = let the file say")
            else:
                control = LineEdit(name=f.name, label=label, value="", tooltip=f"{tooltip}; empty = let the file say")
            self.controls[f.name] = control
            self.append(control)

    def slice_choices(self, _widget=None) -> list[tuple]:
        """The file's slices 0..N-1, or only 'auto' for a single-slice file (a callable: napari resets choices)."""
        return [(str(i), i) for i in range(self.slices)] if self.slices > 1 else [(AUTO, None)]

    def options(self) -> LoadOptions:
        values = {}
        for f in fields(LoadOptions):
            control = self.controls[f.name]
            if isinstance(control, LineEdit):
                values[f.name] = control.value.strip() or None
            elif isinstance(control, CheckBox):
                values[f.name] = bool(control.value)
            else:
                values[f.name] = control.value
        return LoadOptions(**values)

    def set_options(self, options: LoadOptions, slices: int | None = None) -> None:
        """Show `options` (and the slices 0..slices-1 when the count is known), without loading anything."""
        if slices is not None:
            self.set_slices(slices)
        for f in fields(LoadOptions):
            control, value = self.controls[f.name], getattr(options, f.name)
            if isinstance(control, LineEdit):
                control.value = value or ""
            elif isinstance(control, CheckBox):
                control.value = bool(value)
            else:
                if f.name == "slice" and value is not None and value >= self.slices:
                    self.set_slices(value + 1)  # a recipe may name a slice before the file's count is known
                control.value = value

    def set_slices(self, count: int) -> None:
        """The slice chooser: the file's slices 0..count-1 (only 'auto' for a single-slice file)."""
        self.slices = max(int(count), 1)
        chooser = self.controls["slice"]
        chooser.reset_choices()
        chooser.label = f"slice (of {self.slices})" if self.slices > 1 else "slice"
        chooser.enabled = self.slices > 1
        chooser.tooltip = (f"which of the file's {self.slices} slices to reconstruct (0..{self.slices - 1}; "
                           "CLI: --slice)" if self.slices > 1 else "the file holds one slice (CLI: --slice)")
