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
from .readout import crop_readout

KSPACE_KEYS = ("kspace_full", "kus", "kspace_sub04", "kspace_sub08", "kspace_sub10", "kspace_sub12", "kspace")
MAT_V73_MAGIC = b"MATLAB 7.3 MAT-file"


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


def as_complex(array: np.ndarray) -> np.ndarray:
    if array.dtype.names and {"real", "imag"} <= set(array.dtype.names):
        return (array["real"] + 1j * array["imag"]).astype(np.complex64)
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
    with h5py.File(path, "r") as f:
        name = kspace_key(list(f.keys()), path, key)
        ds = f[name]
        if ds.ndim == 4:  # single slice stored as (time, coil, ky, kx)
            kspace = as_complex(ds[()])
        elif ds.ndim == 5:
            kspace = as_complex(ds[:, pick_slice(ds.shape, slice_index, path)])
        else:
            raise FileFormatError(f"{path}:{name} has shape {ds.shape}; expected MATLAB (kx, ky, coil, slice, time).")
        mask = next((f[m][()] for m in mask_key(name) if m in f), None)
    return kspace, mask, name


def read_v5(path: Path, key: str | None, slice_index: int | None) -> tuple[np.ndarray, np.ndarray | None, str]:
    import scipy.io

    try:
        content = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    except Exception as exc:
        raise FileFormatError(f"{path} could not be read as a MAT v5 file ({exc}).") from exc
    name = kspace_key(list(content), path, key)
    array = np.asarray(content[name])
    if array.ndim not in (4, 5):
        raise FileFormatError(f"{path}:{name} has shape {array.shape}; expected (kx, ky, coil, [slice,] time).")
    array = array.T  # MATLAB (kx, ky, coil, slice, time) -> (time, slice, coil, ky, kx)
    kspace = array if array.ndim == 4 else array[:, pick_slice(array.shape, slice_index, path)]
    mask = next((np.asarray(content[m]).T for m in mask_key(name) if m in content), None)
    return kspace.astype(np.complex64), mask, name


def sibling_mask(path: Path, name: str) -> np.ndarray | None:
    """CMRxRecon keeps masks in cine_xxx_mask.mat next to the k-space file."""
    sibling = path.with_name(path.stem + "_mask.mat")
    if not sibling.exists():
        return None
    if h5py.is_hdf5(sibling):
        with h5py.File(sibling, "r") as f:
            return next((f[m][()] for m in mask_key(name) if m in f), None)
    import scipy.io

    content = scipy.io.loadmat(sibling)
    return next((np.asarray(content[m]).T for m in mask_key(name) if m in content), None)


def fit_mask(mask: np.ndarray | None, frames: int) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask) != 0
    return np.broadcast_to(mask, (frames, *mask.shape)) if mask.ndim == 2 else mask


def read_cmrxrecon(path: Path, key: str | None = None, slice_index: int | None = None,
                   crop_oversampling: bool = False) -> CineData:
    reader = read_v73 if h5py.is_hdf5(path) else read_v5
    try:
        kspace, mask, name = reader(path, key, slice_index)
    except OSError as exc:
        raise FileFormatError(f"{path} could not be read ({str(exc).splitlines()[0]}); is the file complete?") from exc
    if mask is None:
        mask = sibling_mask(path, name)
    mask = fit_mask(mask, kspace.shape[0])
    if crop_oversampling:
        kspace = crop_readout(kspace)
        mask = None if mask is None else mask[..., mask.shape[-1] // 4: mask.shape[-1] // 4 + mask.shape[-1] // 2]
    source = f"CMRxRecon {path.name}:{name}" + (f" slice {slice_index}" if slice_index is not None else "")
    meta = CineMeta(source=source, extra={"geometry": "not in file"})
    return CineData(kspace=kspace, mask=mask, meta=meta).validate()
