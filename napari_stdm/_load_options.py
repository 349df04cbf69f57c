"""The widget's rendering of recon.io.LoadOptions: one control per field (the CLI builds its options from the same
fields) and a slice chooser whose range is the file's slice count."""

from __future__ import annotations

from dataclasses import fields

from magicgui.widgets import CheckBox, Container, LineEdit, SpinBox

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
        for f in fields(LoadOptions):
            meta = f.metadata
            tooltip = f"{meta['help']} (CLI: {meta['cli']})"
            label = f.name.replace("_", " ")
            if f.default is False:
                control = CheckBox(name=f.name, label=label, value=False, tooltip=tooltip)
            elif "min" in meta:  # an optional whole number: its lowest value shows "auto" (= not set)
                control = SpinBox(name=f.name, label=label, min=meta["min"] - 1, max=meta["max"],
                                  value=meta["min"] - 1, tooltip=f"{tooltip}; '{AUTO}' = let the file say")
                control.native.setSpecialValueText(AUTO)
            else:
                control = LineEdit(name=f.name, label=label, value="", tooltip=f"{tooltip}; empty = let the file say")
            self.controls[f.name] = control
            self.append(control)
        self.slices = 1

    def options(self) -> LoadOptions:
        values = {}
        for f in fields(LoadOptions):
            control = self.controls[f.name]
            if isinstance(control, SpinBox):
                values[f.name] = None if control.value < f.metadata["min"] else int(control.value)
            elif isinstance(control, LineEdit):
                values[f.name] = control.value.strip() or None
            else:
                values[f.name] = bool(control.value)
        return LoadOptions(**values)

    def set_options(self, options: LoadOptions, slices: int | None = None) -> None:
        """Show `options` (and the slice range 0..slices-1 when the count is known), without loading anything."""
        if slices is not None:
            self.set_slices(slices)
        for f in fields(LoadOptions):
            control, value = self.controls[f.name], getattr(options, f.name)
            if isinstance(control, SpinBox):
                control.value = f.metadata["min"] - 1 if value is None else value
            elif isinstance(control, LineEdit):
                control.value = value or ""
            else:
                control.value = bool(value)

    def set_slices(self, count: int) -> None:
        """The slice chooser's range: 0..count-1 (or only 'auto' for a single-slice file)."""
        self.slices = max(int(count), 1)
        chooser = self.controls["slice"]
        chooser.range = (0, self.slices - 1) if self.slices > 1 else (-1, -1)  # -1 shows "auto"
        chooser.label = f"slice (of {self.slices})" if self.slices > 1 else "slice"
        chooser.enabled = self.slices > 1
        chooser.tooltip = (f"which of the file's {self.slices} slices to reconstruct (0..{self.slices - 1}; "
                           "CLI: --slice)" if self.slices > 1 else "the file holds one slice (CLI: --slice)")
