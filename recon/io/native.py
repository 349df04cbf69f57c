"""The native HDF5 layout (docs/FORMATS.md): datasets kspace, mask, reference, sens, recon; metadata as attributes."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from ..data import CineData, CineMeta
from ..errors import FileFormatError
from .atomic import atomic_path

FORMAT_NAME = "napari-stdm"
FORMAT_VERSION = 1


def is_native(f: h5py.File) -> bool:
    return f.attrs.get("format") == FORMAT_NAME or "kspace" in f


def read_meta(attrs) -> CineMeta:
    def opt(name, cast):
        return cast(attrs[name]) if name in attrs else None

    return CineMeta(
        pixel_spacing=opt("pixel_spacing", lambda v: tuple(float(x) for x in v)),
        slice_thickness=opt("slice_thickness", float),
        frame_times=opt("frame_times", lambda v: tuple(float(x) for x in v)),
        rr_interval=opt("rr_interval", float),
        source=str(attrs.get("source", "")),
        extra=json.loads(attrs.get("meta_extra", "{}")),
    )


def write_meta(attrs, meta: CineMeta) -> None:
    for name in ("pixel_spacing", "slice_thickness", "frame_times", "rr_interval"):
        value = getattr(meta, name)
        if value is not None:
            attrs[name] = value
    attrs["source"] = meta.source
    attrs["meta_extra"] = json.dumps(meta.extra, default=str)


def read_native(path: str | Path) -> CineData:
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            if "kspace" not in f:
                raise FileFormatError(f"{path} has no 'kspace' dataset (found: {', '.join(f.keys()) or 'nothing'}); "
                                      "expected the native layout of docs/FORMATS.md.")
            def optional(name):
                return f[name][()] if name in f else None

            data = CineData(kspace=f["kspace"][()], mask=optional("mask"), reference=optional("reference"),
                            sens=optional("sens"), meta=read_meta(f.attrs))
    except OSError as exc:
        raise FileFormatError(f"{path} could not be read as HDF5 ({exc}); is the file complete?") from exc
    if not data.meta.source:
        data.meta.source = path.name
    return data.validate()


def write_datasets(f: h5py.File, data: CineData) -> None:
    f.attrs["format"] = FORMAT_NAME
    f.attrs["format_version"] = FORMAT_VERSION
    f.create_dataset("kspace", data=data.kspace.astype(np.complex64), compression="gzip", compression_opts=1)
    if data.mask is not None:
        f.create_dataset("mask", data=data.mask.astype(np.uint8), compression="gzip")
    if data.reference is not None:
        f.create_dataset("reference", data=data.reference.astype(np.complex64))
    if data.sens is not None:
        f.create_dataset("sens", data=data.sens.astype(np.complex64))
    write_meta(f.attrs, data.meta)


def write_native(path: str | Path, data: CineData) -> Path:
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        write_datasets(f, data)
    return Path(path)


def write_result(path: str | Path, data: CineData, image: np.ndarray, info: dict,
                 uncertainty: np.ndarray | None = None) -> Path:
    """The input (as reconstructed: undersampled k-space and mask) plus `recon` and a JSON `info` attribute
    (method, parameters, mask, timing, metrics)."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        write_datasets(f, data)
        f.create_dataset("recon", data=image.astype(np.complex64))
        if uncertainty is not None:
            f.create_dataset("uncertainty", data=uncertainty.astype(np.float32))
        f.attrs["recon_info"] = json.dumps(info, default=float)
        f.attrs["method"] = info.get("method", "")
    return Path(path)


def read_result(path: str | Path) -> tuple[CineData, np.ndarray, dict]:
    data = read_native(path)
    with h5py.File(path, "r") as f:
        if "recon" not in f:
            raise FileFormatError(f"{path} holds no 'recon' dataset; it is an input file, not a reconstruction. "
                                  "Run `stdm recon` on it first.")
        return data, f["recon"][()], json.loads(f.attrs.get("recon_info", "{}"))
