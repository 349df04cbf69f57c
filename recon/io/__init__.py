"""Readers and writers. `load` detects the format from the file's content, not its extension."""

from __future__ import annotations

from pathlib import Path

import h5py

from ..data import CineData
from ..errors import FileFormatError
from .native import is_native, read_native, read_result, write_native, write_result


def load(path: str | Path) -> CineData:
    """Open a k-space file and return a validated CineData."""
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path} does not exist; check the path.")
    if path.is_dir():
        raise FileFormatError(f"{path} is a folder; give the k-space file inside it.")
    if not h5py.is_hdf5(path):
        raise FileFormatError(f"{path} is not an HDF5 file; expected the native k-space layout (docs/FORMATS.md).")
    try:
        with h5py.File(path, "r") as f:
            native = is_native(f)
            keys = ", ".join(f.keys()) or "nothing"
    except OSError as exc:
        raise FileFormatError(f"{path} could not be opened as HDF5 ({exc}); is the file complete?") from exc
    if not native:
        raise FileFormatError(f"{path} is HDF5 but not in a layout this version reads (found: {keys}); "
                              "expected a 'kspace' dataset (frames, coils, ky, kx).")
    return read_native(path)


__all__ = ["load", "read_native", "read_result", "write_native", "write_result"]
