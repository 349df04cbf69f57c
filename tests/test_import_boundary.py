import subprocess
import sys


def test_engine_never_imports_qt_or_napari():
    code = (
        "import sys, recon, recon.cli, recon.io, recon.methods, recon.pipeline, recon.phantom, recon.masks, "
        "recon.samples, recon.preview\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'napari', 'qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'magicgui', 'vispy'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"recon pulled in GUI modules: {out.stdout}"
