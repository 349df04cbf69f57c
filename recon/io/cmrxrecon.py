"""CMRxRecon .mat files: MAT v7.3 (HDF5, read lazily with h5py) and MAT v5 (scipy).

MATLAB axes (kx, ky, coil, slice, time) appear reversed in HDF5: (time, slice, coil, ky, kx); complex numbers are
a compound dtype with fields 'real' and 'imag'. k-space keys: kspace_full, kspace_sub04/08/10 (2023), kus (2024).
Masks: maskXX / mask in the same file or a sibling *_mask.mat; 2D (ky, kx) or k-t 3D (time, ky, kx).
No geometry or timing is stored in these files.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np

from ..data import CineData, CineMeta
from ..errors import FileFormatError
from .guards import check_fits, regular_file
from .hdf5_safety import dataset, describe_dtype, first_line, open_hdf5, read
from .readout import crop_readout

KSPACE_KEYS = ("kspace_full", "kus", "kspace_sub04", "kspace_sub08", "kspace_sub10", "kspace_sub12", "kspace")
MAT_V73_MAGIC = b"MATLAB 7.3 MAT-file"
MAT_KINDS = "biufcV"  # numbers, or MATLAB complex as a compound (real, imag)


def is_mat(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(6) == b"MATLAB"


def kspace_key(keys, path: Path, wanted: str | None) -> str:
    if wanted:
        if wanted not in keys:
            raise FileFormatError(f"{path} has no '{wanted}' (found: {', '.join(keys)}).")
        return wanted
    for key in KSPACE_KEYS:
        if key in keys:
            return key
    raise FileFormatError(f"{path} holds no CMRxRecon k-space (expected one of {', '.join(KSPACE_KEYS)}; "
                          f"found: {', '.join(keys) or 'nothing'}).")


def as_complex(array: np.ndarray, path: Path, name: str) -> np.ndarray:
    if array.dtype.names and {"real", "imag"} <= set(array.dtype.names):
        if array.dtype["real"].kind in "biuf" and array.dtype["imag"].kind in "biuf":
            return (array["real"] + 1j * array["imag"]).astype(np.complex64)
    if array.dtype.kind not in "biufc":
        raise FileFormatError(f"{path}:{name} holds {describe_dtype(array.dtype)}; expected complex k-space "
                              "(MATLAB complex, fields real/imag).")
    return array.astype(np.complex64)


def mask_key(kspace_name: str) -> list[str]:
    match = re.search(r"(\d+)$", kspace_name)
    return ([f"mask{match.group(1)}"] if match else []) + ["mask"]


def pick_slice(shape: tuple, slice_index: int | None, path: Path) -> int:
    slices = shape[1]
    if slice_index is None:
        if slices == 1:
            return 0
        raise FileFormatError(f"{path} holds {slices} slices; choose one with slice=0..{slices - 1} (--slice).")
    if not 0 <= slice_index < slices:
        raise FileFormatError(f"{path}: slice {slice_index} does not exist; the file holds 0..{slices - 1}.")
    return slice_index


def read_v73(path: Path, key: str | None, slice_index: int | None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Read one slice lazily: only that slice's bytes are loaded."""
    with open_hdf5(path) as f:
        name = kspace_key(list(f.keys()), path, key)
        ds = dataset(f, name, path)
        if ds.ndim == 4:  # single slice stored as (time, coil, ky, kx)
            kspace = as_complex(read(ds, path, allow=MAT_KINDS, itemsize=8), path, name)
        elif ds.ndim == 5:
            index = pick_slice(ds.shape, slice_index, path)
            shape = ds.shape[:1] + ds.shape[2:]
            kspace = as_complex(read(ds, path, allow=MAT_KINDS, index=(slice(None), index), shape=shape, itemsize=8),
                                path, name)
        else:
            raise FileFormatError(f"{path}:{name} has shape {ds.shape}; expected MATLAB (kx, ky, coil, slice, time).")
        mask = hdf5_mask(f, name, path)
    return kspace, mask, name


def hdf5_mask(f, name: str, path: Path) -> np.ndarray | None:
    found = next((m for m in mask_key(name) if m in f), None)
    return None if found is None else read(dataset(f, found, path), path)


def mat_variables(path: Path) -> dict[str, tuple]:
    """Variable name -> MATLAB shape, from the headers only."""
    import scipy.io

    try:
        return {name: shape for name, shape, _ in scipy.io.whosmat(path)}
    except Exception as exc:  # noqa: BLE001 - scipy raises many kinds of errors on damaged files
        raise FileFormatError(f"{path} could not be read as a MAT v5 file ({first_line(exc)}); is the file "
                              "complete?") from None


def read_v5(path: Path, key: str | None, slice_index: int | None) -> tuple[np.ndarray, np.ndarray | None, str]:
    import scipy.io

    variables = mat_variables(path)
    name = kspace_key(list(variables), path, key)
    check_fits(variables[name], 8, f"{path}:{name}")
    masks = [m for m in mask_key(name) if m in variables]
    for m in masks:
        check_fits(variables[m], 8, f"{path}:{m}")
    try:
        content = scipy.io.loadmat(path, variable_names=[name, *masks])
    except Exception as exc:  # noqa: BLE001 - scipy raises many kinds of errors on damaged files
        raise FileFormatError(f"{path} could not be read as a MAT v5 file ({first_line(exc)}); is the file "
                              "complete? Copy it again from the source.") from None
    array = np.asarray(content[name])
    if array.ndim not in (4, 5):
        raise FileFormatError(f"{path}:{name} has shape {array.shape}; expected (kx, ky, coil, [slice,] time).")
    array = array.T  # MATLAB (kx, ky, coil, slice, time) -> (time, slice, coil, ky, kx)
    kspace = array if array.ndim == 4 else array[:, pick_slice(array.shape, slice_index, path)]
    mask = next((np.asarray(content[m]).T for m in mask_key(name) if m in content), None)
    return as_complex(kspace, path, name), mask, name


def sibling_mask(path: Path, name: str) -> np.ndarray | None:
    """CMRxRecon keeps masks in cine_xxx_mask.mat next to the k-space file."""
    sibling = path.with_name(path.stem + "_mask.mat")
    if not sibling.exists():
        return None
    regular_file(sibling)
    if h5py.is_hdf5(sibling):
        with open_hdf5(sibling) as f:
            return hdf5_mask(f, name, sibling)
    import scipy.io

    masks = [m for m in mask_key(name) if m in mat_variables(sibling)]
    if not masks:
        return None
    try:
        return np.asarray(scipy.io.loadmat(sibling, variable_names=masks[:1])[masks[0]]).T
    except Exception as exc:  # noqa: BLE001 - scipy raises many kinds of errors on damaged files
        raise FileFormatError(f"{sibling} (the mask file) could not be read ({first_line(exc)}).") from None


def fit_mask(mask: np.ndarray | None, frames: int) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask) != 0
    return np.broadcast_to(mask, (frames, *mask.shape)) if mask.ndim == 2 else mask


def read_cmrxrecon(path: Path, key: str | None = None, slice_index: int | None = None,
                   crop_oversampling: bool = False) -> CineData:
    reader = read_v73 if h5py.is_hdf5(path) else read_v5
    kspace, mask, name = reader(path, key, slice_index)
    if mask is None:
        mask = sibling_mask(path, name)
    mask = fit_mask(mask, kspace.shape[0])
    if crop_oversampling:
        kspace = crop_readout(kspace)
        mask = None if mask is None else mask[..., mask.shape[-1] // 4: mask.shape[-1] // 4 + mask.shape[-1] // 2]
    source = f"CMRxRecon {path.name}:{name}" + (f" slice {slice_index}" if slice_index is not None else "")
    meta = CineMeta(source=source, extra={"geometry": "not in file"})
    return CineData(kspace=kspace, mask=mask, meta=meta).validate()
