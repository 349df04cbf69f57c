"""What a file holds, without reading its arrays: for `stdm info`, so a user can pick a slice or a variable."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np


def array_shapes(path: Path, kind: str) -> dict[str, tuple]:
    if kind == "numpy":
        if path.suffix == ".npz" or path.read_bytes()[:2] == b"PK":
            with np.load(path, allow_pickle=False) as z:
                return {name: z[name].shape for name in z.files}
        return {"array": np.load(path, mmap_mode="r", allow_pickle=False).shape}
    if kind == "cmrxrecon" and not h5py.is_hdf5(path):
        import scipy.io

        return {name: tuple(reversed(shape)) for name, shape, _ in scipy.io.whosmat(path)}
    shapes = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: shapes.__setitem__(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)
    return shapes


def describe_file(path: Path, kind: str) -> list[str]:
    lines = [f"format       {kind}"]
    for name, shape in array_shapes(path, kind).items():
        lines.append(f"  {name:24s} {shape}")
    if kind == "cmrxrecon":
        lines.append("  axes as stored (time, slice, coil, ky, kx); choose a slice with --slice; no geometry in file")
    return lines
