"""The questions and file choosers the dock asks. Module-level functions, so tests replace them."""

from __future__ import annotations

DISCARD, USE_FILE_MASK, DONT_RUN = "discard", "file", "cancel"


def ask_discard(parent, text: str) -> str:
    """An undersampled file and a retrospective mask: DISCARD (apply it anyway), USE_FILE_MASK or DONT_RUN."""
    from qtpy.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, "napari-stdm: discard measured samples?", text, parent=parent)
    discard = box.addButton("Apply the mask anyway", QMessageBox.ButtonRole.AcceptRole)
    own = box.addButton("Use the file's own mask", QMessageBox.ButtonRole.ActionRole)
    box.addButton("Don't run", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(own)
    box.exec()
    clicked = box.clickedButton()
    return DISCARD if clicked is discard else USE_FILE_MASK if clicked is own else DONT_RUN


def ask_save_path(parent, title: str, filter: str) -> str:
    from qtpy.QtWidgets import QFileDialog

    return QFileDialog.getSaveFileName(parent, title, "", filter)[0]


def ask_open_path(parent, title: str, filter: str) -> str:
    from qtpy.QtWidgets import QFileDialog

    return QFileDialog.getOpenFileName(parent, title, "", filter)[0]


def ask_folder(parent, title: str) -> str:
    from qtpy.QtWidgets import QFileDialog

    return QFileDialog.getExistingDirectory(parent, title)
