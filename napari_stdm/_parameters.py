"""A method's parameters as dock controls: declared choices become dropdowns, model files file pickers, numbers
spin boxes with the declared limits; each control's tooltip is the parameter's help."""

from __future__ import annotations

import math
from dataclasses import MISSING

from magicgui.widgets import FileEdit, create_widget

MODEL_FILTER = "*.safetensors"


def is_model_parameter(name: str) -> bool:
    """Parameters that name a trained model file (model, global_model, ...): a file picker, empty = shipped."""
    return name.endswith("model")


def parameter_widget(f):
    """A control for one method dataclass field: declared choices become a dropdown, model files a file picker,
    numbers a spin box with the declared limits; the tooltip is the parameter's help."""
    default = f.default if f.default is not MISSING else ""
    help_text = f.metadata.get("help", "")
    label = f.name.replace("_", " ")
    if is_model_parameter(f.name):
        widget = FileEdit(name=f.name, label=label, mode="r", filter=MODEL_FILTER, value=default or "")
        tooltip = f"{help_text} (empty: the shipped default)"
        widget.tooltip = tooltip
        widget.line_edit.tooltip = widget.choose_btn.tooltip = tooltip
        return widget
    options = {k: f.metadata[k] for k in ("min", "max") if k in f.metadata}
    if isinstance(default, float):
        options["step"] = 10 ** math.floor(math.log10(abs(default))) / 10 if default else 0.001
    if "choices" in f.metadata:
        options = {"choices": list(f.metadata["choices"])}
    widget = create_widget(value=default, annotation=type(default), name=f.name, label=label,
                           widget_type="ComboBox" if "choices" in f.metadata else None, options=options)
    widget.tooltip = help_text or f"{label} (default {default})"
    return widget


LABEL_MARGIN = 8  # pixels: a QLabel's own margins, which magicgui's label width leaves out


def fit_labels(container) -> None:
    """Give every label of a labelled container room for its whole text in the font it is drawn in: magicgui sizes
    the label column to the widest text alone, so the widest label lost its last letter ("dc noise belov")."""
    from qtpy.QtGui import QFontMetrics

    rows = [ref() for ref in (getattr(w, "_labeled_widget_ref", None) for w in container) if ref is not None]
    if not rows:
        return
    labels = [row._label_widget.native for row in rows]
    width = max(QFontMetrics(label.font()).horizontalAdvance(label.text()) for label in labels) + LABEL_MARGIN
    for row in rows:
        row.label_width = width


def set_parameter(widget, value) -> None:
    if isinstance(widget, FileEdit) and not value:
        widget.line_edit.value = ""  # FileEdit.value = "" would become the current folder
    else:
        widget.value = value


def parameter_value(widget):
    if isinstance(widget, FileEdit):
        text = str(widget.value)
        return "" if text in ("", ".") else text
    return widget.value
