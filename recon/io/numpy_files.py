"""Complex k-space in .npy / .npz, with an explicit axis order (default 'tcyx').

Each array's header is read first: Python objects, text, shapes beyond the available memory and files shorter
than their header declares are refused before any data is read.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..data import CineData, CineMeta
from ..errors import FileFormatError
from .axes import to_tcyx
from .guards import check_fits, nbytes
from .hdf5_safety import first_line

HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def npy_header(fp: BinaryIO, where: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    """(shape, dtype, fortran_order) from an .npy stream positioned at its start; the stream ends at the data."""
    try:
        version = np.lib.format.read_magic(fp)
        if version not in HEADER_READERS:
            raise ValueError(f"format version {version[0]}.{version[1]} is not read here")
        shape, fortran, dtype = HEADER_READERS[version](fp)
    except (ValueError, EOFError, OSError, SyntaxError) as exc:
        raise FileFormatError(f"{where} has no readable .npy header ({first_line(exc)}); is it a NumPy file?") from None
    if any(n < 0 for n in shape):
        raise FileFormatError(f"{where} declares a negative shape {shape}; the file is damaged.")
    if dtype.hasobject:
        raise FileFormatError(f"{where} holds Python objects; only plain numeric arrays are read.")
    if dtype.kind not in "biufc":
        raise FileFormatError(f"{where} holds {dtype} values, not numbers; expected complex k-space.")
    return shape, dtype, fortran


def checked_header(fp: BinaryIO, data_bytes: int, where: str,
                   memory: bool = True) -> tuple[tuple[int, ...], np.dtype, bool]:
    """The header, after checking that the declared array fits in memory (unless memory=False) and that the
    stream, `data_bytes` long in all, holds it all."""
    start = fp.tell()
    shape, dtype, fortran = npy_header(fp, where)
    if memory:
        check_fits(shape, max(dtype.itemsize, 8), where)
    declared, present = nbytes(shape, dtype.itemsize), data_bytes - (fp.tell() - start)
    if present < declared:
        raise FileFormatError(f"{where} is truncated: its header declares {shape} {dtype} ({declared:,} bytes) "
                              f"but only {max(present, 0):,} bytes follow; copy the file again from the source.")
    return shape, dtype, fortran


def read_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as fp:
        shape, dtype, fortran = checked_header(fp, path.stat().st_size, str(path))
        offset = fp.tell()
    if nbytes(shape, dtype.itemsize) == 0:
        return np.zeros(shape, dtype)
    return np.memmap(path, dtype, "r", offset=offset, shape=shape, order="F" if fortran else "C")


def npz_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    return {info.filename[:-4]: info for info in archive.infolist() if info.filename.endswith(".npy")}


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    with archive.open(info) as fp:
        shape, dtype, fortran = checked_header(fp, info.file_size, where)
        count = nbytes(shape, 1)
        raw = fp.read(count * dtype.itemsize)
    array = np.frombuffer(raw, dtype, count=count)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def read_npz(path: Path, key: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = npz_members(archive)
            names = list(members)
            key = key or ("kspace" if "kspace" in names else names[0] if len(names) == 1 else None)
            if key is None or key not in names:
                raise FileFormatError(f"{path} holds arrays {names}; name the k-space one (key=...) or call it "
                                      "'kspace'.")
            array = read_member(archive, members[key], f"{path}:{key}")
            mask = read_member(archive, members["mask"], f"{path}:mask") if "mask" in names and key != "mask" else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise FileFormatError(f"{path} is not a complete .npz archive ({first_line(exc)}); copy it again from the "
                              "source.") from None
    return array, mask


def is_npz(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"PK"


def read_numpy(path: Path, axes: str | None = None, slice_index: int | None = None, key: str | None = None) -> CineData:
    array, mask = read_npz(path, key) if is_npz(path) else (read_npy(path), None)
    kspace = to_tcyx(np.asarray(array), axes or "tcyx", slice_index)
    return CineData(kspace=kspace, mask=mask, meta=CineMeta(source=f"{path.name} ({axes or 'tcyx'})")).validate()
