"""Readers and writers. `load` detects the format from the file's content, not its extension."""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import h5py

from ..data import CineData
from ..errors import DataError, FileFormatError
from .guards import regular_file
from .hdf5_safety import first_line, open_hdf5
from .native import is_native, read_native, read_result, text_attr, write_native, write_result
from .options import LoadOptions

NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"
DAMAGED = (OSError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile, zlib.error)


def detect(path: Path) -> str:
    """'native', 'fastmri', 'ismrmrd', 'cmrxrecon' or 'numpy', from the bytes of the file."""
    path = regular_file(Path(path))
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise FileFormatError(f"{path} could not be read ({exc.strerror or exc}); check the file.") from None
    if head.startswith(NPY_MAGIC) or head.startswith(ZIP_MAGIC):
        return "numpy"
    if head.startswith(b"MATLAB"):
        return "cmrxrecon"
    if not h5py.is_hdf5(path):
        raise FileFormatError(f"{path} is neither HDF5, MATLAB nor NumPy; expected native/fastMRI/ISMRMRD .h5, "
                              "CMRxRecon .mat or .npy/.npz k-space (docs/FORMATS.md).")
    with open_hdf5(path) as f:  # refuses files that point outside themselves before anything is followed
        return hdf5_layout(f, path)


def hdf5_layout(f: h5py.File, path: Path) -> str:
    if text_attr(f.attrs, "format") == "napari-stdm":
        return "native"
    if isinstance(f.get("dataset"), h5py.Group) and "data" in f["dataset"]:
        return "ismrmrd"
    kspace = f.get("kspace")
    if isinstance(kspace, h5py.Dataset) and ("ismrmrd_header" in f or kspace.ndim == 3):
        return "fastmri"
    if is_native(f):
        return "native"
    raise FileFormatError(f"{path} is HDF5 but in no layout this version reads (found: "
                          f"{', '.join(f.keys()) or 'nothing'}); expected a 'kspace' dataset (frames, coils, ky, kx), "
                          "see docs/FORMATS.md.")


def load(path: str | Path, options: LoadOptions | None = None, **kwargs) -> CineData:
    """Open a k-space file of any supported layout and return a validated CineData.

    options (LoadOptions, or its fields as keywords, which override it): slice, which slice of a multi-slice file;
    frames_axis / axes, where time is when the format does not say; key, which k-space variable (CMRxRecon
    kspace_sub08, an .npz array); crop_oversampling, drop 2x readout oversampling (CMRxRecon; ISMRMRD files are
    always cropped to their recon matrix).
    Anything other than a complete, self-contained file of a known layout raises FileFormatError or DataError.
    """
    o = replace(options or LoadOptions(), **kwargs)
    path = regular_file(Path(path))
    kind = detect(path)
    try:
        return read_kind(kind, path, o.slice, o.frames_axis, o.axes, o.key, o.crop_oversampling)
    except MemoryError:
        raise DataError(f"{path} does not fit in the memory available; read one slice (--slice) or use a machine "
                        "with more memory.") from None
    except DAMAGED as exc:  # the readers name what they expect; this is the net for damage they cannot foresee
        raise FileFormatError(f"{path} could not be read as {kind} k-space ({first_line(exc)}); the file may be "
                              "damaged or truncated: copy it again from the source.") from exc


def read_kind(kind: str, path: Path, slice, frames_axis, axes, key, crop_oversampling) -> CineData:
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


__all__ = ["LoadOptions", "detect", "load", "read_native", "read_result", "write_native", "write_result"]
