"""Readers and writers. `load` detects the format from the file's content, not its extension."""

from __future__ import annotations

from pathlib import Path

import h5py

from ..data import CineData
from ..errors import FileFormatError
from .native import is_native, read_native, read_result, write_native, write_result

NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"


def detect(path: Path) -> str:
    """'native', 'fastmri', 'ismrmrd', 'cmrxrecon' or 'numpy', from the bytes of the file."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(NPY_MAGIC) or head.startswith(ZIP_MAGIC):
        return "numpy"
    if head.startswith(b"MATLAB"):
        return "cmrxrecon"
    if not h5py.is_hdf5(path):
        raise FileFormatError(f"{path} is neither HDF5, MATLAB nor NumPy; expected native/fastMRI/ISMRMRD .h5, "
                              "CMRxRecon .mat or .npy/.npz k-space (docs/FORMATS.md).")
    try:
        with h5py.File(path, "r") as f:
            keys = list(f.keys())
            if f.attrs.get("format") == "napari-stdm":
                return "native"
            if "dataset" in f and isinstance(f["dataset"], h5py.Group) and "data" in f["dataset"]:
                return "ismrmrd"
            if "kspace" in f and ("ismrmrd_header" in f or f["kspace"].ndim == 3):
                return "fastmri"
            if is_native(f):
                return "native"
    except OSError as exc:
        raise FileFormatError(f"{path} could not be opened as HDF5 ({exc}); is the file complete?") from exc
    raise FileFormatError(f"{path} is HDF5 but in no layout this version reads (found: {', '.join(keys) or 'nothing'});"
                          " expected a 'kspace' dataset (frames, coils, ky, kx), see docs/FORMATS.md.")


def load(path: str | Path, slice: int | None = None, frames_axis: int | None = None, axes: str | None = None,
         key: str | None = None, crop_oversampling: bool = False) -> CineData:
    """Open a k-space file of any supported layout and return a validated CineData.

    slice: which slice of a multi-slice file; frames_axis / axes: where time is when the format does not say;
    key: which k-space variable (CMRxRecon kspace_sub08, an .npz array); crop_oversampling: drop 2x readout
    oversampling (CMRxRecon; ISMRMRD files are always cropped to their recon matrix).
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path} does not exist; check the path.")
    if path.is_dir():
        raise FileFormatError(f"{path} is a folder; give the k-space file inside it.")
    kind = detect(path)
    if kind == "native":
        return read_native(path)
    if kind == "fastmri":
        from .fastmri import read_fastmri

        return read_fastmri(path, frames_axis, axes, slice)
    if kind == "cmrxrecon":
        from .cmrxrecon import read_cmrxrecon

        return read_cmrxrecon(path, key, slice, crop_oversampling)
    if kind == "numpy":
        from .numpy_files import read_numpy

        return read_numpy(path, axes, slice, key)
    from .ismrmrd_reader import read_ismrmrd

    return read_ismrmrd(path, slice)


__all__ = ["detect", "load", "read_native", "read_result", "write_native", "write_result"]
