"""fastMRI-style HDF5: `kspace` (slices, coils, H, W) or (slices, H, W), optional `ismrmrd_header` and `mask`.

There is no time axis in the format: the user says which axis holds the frames (frames_axis, or a full axis
order such as 'tcyx'); without it the reader stops with an explanation instead of guessing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import numpy as np

from ..data import CineData, CineMeta
from ..errors import FileFormatError
from .axes import to_tcyx
from .hdf5_safety import dataset, dtype_of, open_hdf5, read


def default_axes(ndim: int, frames_axis: int) -> str:
    """fastMRI keeps (slices, [coils,] H, W); the slices axis is the one that can hold frames."""
    if ndim not in (3, 4) or frames_axis != 0:
        raise FileFormatError(f"with k-space of {ndim} axes and frames on axis {frames_axis}, give the full axis "
                              "order instead (axes='tcyx', 'ctyx', ... ; s marks a slice axis to select from).")
    return "tcyx" if ndim == 4 else "tyx"


def xml_text(ds: h5py.Dataset | None, path: Path) -> str:
    """The ISMRMRD header as text ('' when absent); it is only kept for reference, so a bad one is skipped."""
    if ds is None:
        return ""
    value = ds[()] if ds.shape == () and dtype_of(ds, path).kind in "SOU" else None
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, str):
        return value
    warnings.warn(f"{path}: 'ismrmrd_header' is not a text string; it is ignored.")
    return ""


def read_fastmri(path: Path, frames_axis: int | None = None, axes: str | None = None,
                 slice_index: int | None = None) -> CineData:
    with open_hdf5(path) as f:
        ds = dataset(f, "kspace", path)
        if ds is None:
            raise FileFormatError(f"{path} has no 'kspace' dataset; expected a fastMRI-style file (docs/FORMATS.md).")
        if axes is None and frames_axis is None:
            raise FileFormatError(
                f"{path} is a fastMRI-style file, kspace {ds.shape}, with no time axis in the format; say which "
                "axis holds the cardiac frames (frames_axis=0 / --frames-axis 0, or axes='tcyx').")
        order = axes or default_axes(ds.ndim, frames_axis)
        kspace = to_tcyx(read(ds, path, itemsize=8), order, slice_index)
        mask = dataset(f, "mask", path)
        mask = None if mask is None else read(mask, path)
        header = xml_text(dataset(f, "ismrmrd_header", path), path)
    if mask is not None and mask.ndim == 1:  # fastMRI stores a 1D mask over the readout-transposed axis
        mask = np.broadcast_to(mask[None, None, :] != 0, (kspace.shape[0], kspace.shape[2], mask.shape[0]))
    extra = {"ismrmrd_header": header[:20000]} if header else {}
    return CineData(kspace=kspace, mask=mask, meta=CineMeta(source=f"fastMRI-style {path.name} ({order})",
                                                            extra=extra)).validate()
