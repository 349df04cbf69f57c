"""What a file holds, without reading its arrays: for `stdm info`, so a user can pick a slice or a variable."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import h5py

from ..errors import FileFormatError
from .guards import regular_file
from .hdf5_safety import first_line, open_hdf5
from .numpy_files import checked_header, is_npz, npz_members


def numpy_shapes(path: Path) -> dict[str, tuple]:
    if not is_npz(path):
        with open(path, "rb") as fp:
            return {"array": checked_header(fp, path.stat().st_size, str(path), memory=False)[0]}
    try:
        with zipfile.ZipFile(path) as archive:
            shapes = {}
            for name, info in npz_members(archive).items():
                with archive.open(info) as fp:
                    shapes[name] = checked_header(fp, info.file_size, f"{path}:{name}", memory=False)[0]
            return shapes
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise FileFormatError(f"{path} is not a complete .npz archive ({first_line(exc)}); copy it again from the "
                              "source.") from None


def array_shapes(path: Path, kind: str) -> dict[str, tuple]:
    regular_file(path)
    if kind == "numpy":
        return numpy_shapes(path)
    if kind == "cmrxrecon" and not h5py.is_hdf5(path):
        from .cmrxrecon import mat_variables

        return {name: tuple(reversed(shape)) for name, shape in mat_variables(path).items()}
    shapes = {}
    with open_hdf5(path) as f:  # refuses links and storage outside the file before anything is listed
        f.visititems(lambda name, obj: shapes.__setitem__(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)
    return shapes


def describe_file(path: Path, kind: str) -> list[str]:
    lines = [f"format       {kind}"]
    for name, shape in array_shapes(path, kind).items():
        lines.append(f"  {name:24s} {shape}")
    if kind == "cmrxrecon":
        lines.append("  axes as stored (time, slice, coil, ky, kx); choose a slice with --slice; no geometry in file")
    return lines
