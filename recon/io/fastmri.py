"""fastMRI-style HDF5: `kspace` (slices, coils, H, W) or (slices, H, W), optional `ismrmrd_header` and `mask`.

There is no time axis in the format: the user says which axis holds the frames (frames_axis, or a full axis
order such as 'tcyx'); without it the reader stops with an explanation instead of guessing.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from ..data import CineData, CineMeta
from ..errors import FileFormatError
from .axes import to_tcyx


def default_axes(ndim: int, frames_axis: int) -> str:
    """fastMRI keeps (slices, [coils,] H, W); the slices axis is the one that can hold frames."""
    if ndim not in (3, 4) or frames_axis != 0:
        raise FileFormatError(f"with k-space of {ndim} axes and frames on axis {frames_axis}, give the full axis "
                              "order instead (axes='tcyx', 'ctyx', ... ; s marks a slice axis to select from).")
    return "tcyx" if ndim == 4 else "tyx"


def read_fastmri(path: Path, frames_axis: int | None = None, axes: str | None = None,
                 slice_index: int | None = None) -> CineData:
    with h5py.File(path, "r") as f:
        ds = f["kspace"]
        if axes is None and frames_axis is None:
            raise FileFormatError(
                f"{path} is a fastMRI-style file, kspace {ds.shape}, with no time axis in the format; say which "
                "axis holds the cardiac frames (frames_axis=0 / --frames-axis 0, or axes='tcyx').")
        order = axes or default_axes(ds.ndim, frames_axis)
        kspace = to_tcyx(ds[()], order, slice_index)
        mask = f["mask"][()] if "mask" in f else None
        header = f["ismrmrd_header"][()] if "ismrmrd_header" in f else None
    if mask is not None and mask.ndim == 1:  # fastMRI stores a 1D mask over the readout-transposed axis
        mask = np.broadcast_to(mask[None, None, :] != 0, (kspace.shape[0], kspace.shape[2], mask.shape[0]))
    extra = {"ismrmrd_header": header.decode(errors="replace")[:20000]} if header is not None else {}
    return CineData(kspace=kspace, mask=mask, meta=CineMeta(source=f"fastMRI-style {path.name} ({order})",
                                                            extra=extra)).validate()
