"""Labels and dropdowns that never widen the dock: long text is elided to the width the dock gives them, and the
full text is the tooltip (and, for errors, the notification)."""

from __future__ import annotations

from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtWidgets import QComboBox, QSizePolicy


class ElidedText(QObject):
    """Shows `text` in a magicgui Label, cut with "…" to the label's width; the full text is its tooltip."""

    def __init__(self, label, text: str = "", describe: str = ""):
        super().__init__(label.native)
        self.label = label.native
        self.full = ""
        self.describe = describe  # the tooltip while there is no text
        self.label.setWordWrap(False)
        self.label.setMinimumWidth(0)
        policy = self.label.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)  # its text never asks the layout for width
        self.label.setSizePolicy(policy)
        self.label.installEventFilter(self)
        self.set(text)

    def set(self, text: str, tooltip: str | None = None) -> None:
        """Show `text` (elided when too long); the tooltip is `tooltip`, else the full text."""
        self.full = " ".join(str(text).split())  # one line: newlines in an error would grow the dock's height
        self.label.setToolTip((self.full or self.describe) if tooltip is None else tooltip)
        self.render()

    def render(self) -> None:
        width = max(self.label.contentsRect().width(), 40)
        self.label.setText(self.label.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, width))

    def eventFilter(self, obj, event):  # noqa: N802 — Qt's name
        if obj is self.label and event.type() == QEvent.Type.Resize:
            self.render()
        return False


def keep_narrow(combo, characters: int = 14) -> None:
    """A magicgui ComboBox whose width does not follow its longest choice (layer names can be long)."""
    native: QComboBox = combo.native
    native.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    native.setMinimumContentsLength(characters)
    native.view().setTextElideMode(Qt.TextElideMode.ElideRight)
