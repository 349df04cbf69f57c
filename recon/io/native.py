"""The native HDF5 layout (docs/FORMATS.md): datasets kspace, mask, reference, sens, recon; metadata as attributes."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import h5py
import numpy as np

from ..data import CineData, CineMeta, check_frame_times, positive_numbers
from ..errors import FileFormatError
from ..radial.data import RadialCine
from .h5_write import new_h5
from .hdf5_safety import dataset, open_hdf5, read
from .lenient import extra_fields, kept

FORMAT_NAME = "napari-stdm"
FORMAT_VERSION = 1


def is_native(f: h5py.File) -> bool:
    return text_attr(f.attrs, "format") == FORMAT_NAME or "kspace" in f


def text_attr(attrs, name: str) -> str:
    """A string attribute, '' when absent or of another kind (a hostile file may store anything)."""
    try:
        value = attrs.get(name, "")
    except (OSError, TypeError, ValueError):
        return ""
    value = value.decode(errors="replace") if isinstance(value, bytes) else value
    return value if isinstance(value, str) else ""


def read_meta(attrs, frames: int, where: str = "file") -> CineMeta:
    """Geometry and timing attributes; a value that is unreadable or implausible is dropped with a warning."""
    def opt(name, check, *args):
        value = attr(attrs, name, where)
        return None if value is None else kept(check, value, where, *args)

    extra = attr(attrs, "meta_extra", where)
    return CineMeta(
        pixel_spacing=opt("pixel_spacing", positive_numbers, "pixel_spacing", 2),
        slice_thickness=first(opt("slice_thickness", positive_numbers, "slice_thickness", 1)),
        frame_times=opt("frame_times", check_frame_times, frames),
        rr_interval=first(opt("rr_interval", positive_numbers, "rr_interval", 1)),
        source=text_attr(attrs, "source"),
        extra={} if extra is None else extra_fields(extra, where),
    )


def attr(attrs, name: str, where: str):
    """The attribute's value; None when absent or unreadable (with a warning)."""
    if name not in attrs:
        return None
    try:
        return attrs[name]
    except (OSError, TypeError, ValueError) as exc:
        warnings.warn(f"{where}: attribute {name} could not be read ({exc}); it is ignored.")
        return None


def first(values):
    return None if values is None else values[0]


def write_meta(attrs, meta: CineMeta) -> None:
    for name in ("pixel_spacing", "slice_thickness", "frame_times", "rr_interval"):
        value = getattr(meta, name)
        if value is not None:
            attrs[name] = value
    attrs["source"] = meta.source
    attrs["meta_extra"] = json.dumps(meta.extra, default=str)


def read_native(path: str | Path) -> CineData | RadialCine:
    """The native file's cine: CineData, or RadialCine when it holds a trajectory `traj` (docs/FORMATS.md)."""
    path = Path(path)
    with open_hdf5(path) as f:
        kspace = dataset(f, "kspace", path)
        if kspace is None:
            raise FileFormatError(f"{path} has no 'kspace' dataset (found: {', '.join(f.keys()) or 'nothing'}); "
                                  "expected the native layout of docs/FORMATS.md.")
        kspace = read(kspace, path, itemsize=8)

        def optional(name):
            ds = dataset(f, name, path)
            return None if ds is None else read(ds, path)

        frames = kspace.shape[0] if kspace.ndim else 0
        meta = read_meta(f.attrs, frames, str(path))
        if dataset(f, "traj", path) is not None:
            data = read_radial(f, path, kspace, optional, meta)
        else:
            data = CineData(kspace=kspace, mask=optional("mask"), reference=optional("reference"),
                            sens=optional("sens"), meta=meta)
    if not data.meta.source:
        data.meta.source = path.name
    return data.validate()


def read_radial(f: h5py.File, path: Path, kspace: np.ndarray, optional, meta: CineMeta) -> RadialCine:
    """kspace (frames, coils, spokes, readout), traj (frames, spokes, readout, 2) and the `image_shape` attribute."""
    shape = attr(f.attrs, "image_shape", str(path))
    if shape is None:
        raise FileFormatError(f"{path} holds a radial trajectory 'traj' but no 'image_shape' attribute (y, x); add "
                              "it, e.g. f.attrs['image_shape'] = (128, 128).")
    if "mask" in f:
        raise FileFormatError(f"{path} holds both a trajectory 'traj' and a Cartesian 'mask'; a radial file has no "
                              "mask (every sample in 'kspace' was measured at 'traj'). Remove one of them.")
    return RadialCine(kspace=kspace, traj=optional("traj"), image_shape=shape, reference=optional("reference"),
                      sens=optional("sens"), meta=meta)


def write_datasets(f: h5py.File, data: CineData | RadialCine) -> None:
    f.attrs["format"] = FORMAT_NAME
    f.attrs["format_version"] = FORMAT_VERSION
    f.create_dataset("kspace", data=data.kspace.astype(np.complex64), compression="gzip", compression_opts=1)
    if isinstance(data, RadialCine):
        f.create_dataset("traj", data=data.traj.astype(np.float32))
        f.attrs["image_shape"] = np.asarray(data.image_shape, np.int64)
    elif data.mask is not None:
        f.create_dataset("mask", data=data.mask.astype(np.uint8), compression="gzip")
    if data.reference is not None:
        f.create_dataset("reference", data=data.reference.astype(np.complex64))
    if data.sens is not None:
        f.create_dataset("sens", data=data.sens.astype(np.complex64))
    write_meta(f.attrs, data.meta)


def write_native(path: str | Path, data: CineData) -> Path:
    with new_h5(path) as f:
        write_datasets(f, data)
    return Path(path)


def write_result(path: str | Path, data: CineData, image: np.ndarray, info: dict,
                 uncertainty: np.ndarray | None = None, prior_map: np.ndarray | None = None,
                 history: list | None = None) -> Path:
    """The input (as reconstructed: undersampled k-space and mask) plus `recon` and a JSON `info` attribute
    (method, parameters, mask, timing, metrics); the optional maps (frames, y, x) as float32 datasets; the
    convergence `history` [(step, residual, psnr)] as a float64 (n, 3) dataset, NaN where a value is unknown."""
    with new_h5(path) as f:
        write_datasets(f, data)
        f.create_dataset("recon", data=image.astype(np.complex64))
        for name, values in (("uncertainty", uncertainty), ("prior_map", prior_map)):
            if values is not None:
                f.create_dataset(name, data=np.asarray(values).astype(np.float32))
        if history:
            rows = [[np.nan if v is None else float(v) for v in row[:3]] + [np.nan] * (3 - len(row[:3]))
                    for row in history]
            ds = f.create_dataset("history", data=np.asarray(rows, np.float64).reshape(-1, 3))
            ds.attrs["columns"] = ",".join(HISTORY_COLUMNS)
        f.attrs["recon_info"] = json.dumps(info, default=float)
        f.attrs["method"] = info.get("method", "")
    return Path(path)


def read_result(path: str | Path) -> tuple[CineData, np.ndarray, dict]:
    data = read_native(path)
    with open_hdf5(Path(path)) as f:
        recon = dataset(f, "recon", Path(path))
        if recon is None:
            raise FileFormatError(f"{path} holds no 'recon' dataset; it is an input file, not a reconstruction. "
                                  "Run `stdm recon` on it first.")
        image = read(recon, Path(path), itemsize=8)
        info = text_attr(f.attrs, "recon_info") or "{}"
    if image.shape != (data.frames, *data.image_shape):
        raise FileFormatError(f"{path}: 'recon' {image.shape} does not fit k-space {data.kspace.shape}; expected "
                              "(frames, y, x). The file was not written by `stdm recon`.")
    try:
        info = json.loads(info)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        warnings.warn(f"{path}: attribute recon_info is not a JSON object; the run's parameters are unknown.")
        info = {}
    return data, image, info


RESULT_MAPS = ("uncertainty", "prior_map")
HISTORY_COLUMNS = ("step", "residual", "psnr")


def read_result_history(path: str | Path) -> dict[str, np.ndarray]:
    """The convergence history of a result file: {"step", "residual", "psnr"} arrays (NaN where unknown); {} when
    the file holds none, or one that is not an (n, 3) table of numbers (with a warning)."""
    path = Path(path)
    with open_hdf5(path) as f:
        try:
            ds = dataset(f, "history", path)
            if ds is None:
                return {}
            if len(ds.shape or ()) != 2 or ds.shape[1] != 3:
                warnings.warn(f"{path}: 'history' {ds.shape} is not an (n, 3) table; it is ignored.")
                return {}
            table = read(ds, path, allow="fiu", itemsize=8).astype(np.float64)
        except FileFormatError as exc:
            warnings.warn(f"{exc} 'history' is ignored.")
            return {}
    return {name: table[:, i] for i, name in enumerate(HISTORY_COLUMNS)}


def read_result_maps(path: str | Path) -> dict[str, np.ndarray]:
    """The optional maps of a result file ('uncertainty', 'prior_map') as float32 (frames, y, x). A map that is not
    real numbers of the recon's shape, or holds NaN/Inf, is dropped with a warning: the image stays usable."""
    path = Path(path)
    maps = {}
    with open_hdf5(path) as f:
        recon = dataset(f, "recon", path)
        shape = None if recon is None else recon.shape
        for name in RESULT_MAPS:
            try:
                ds = dataset(f, name, path)
                if ds is None:
                    continue
                if shape is None or ds.shape != shape:
                    warnings.warn(f"{path}: '{name}' {ds.shape} does not fit the recon {shape}; it is ignored.")
                    continue
                values = read(ds, path, allow="fiu", itemsize=4).astype(np.float32)
            except FileFormatError as exc:
                warnings.warn(f"{exc} '{name}' is ignored.")
                continue
            if not np.isfinite(values).all():
                warnings.warn(f"{path}: '{name}' holds NaN or Inf; it is ignored.")
                continue
            maps[name] = values
    return maps
