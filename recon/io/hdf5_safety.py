"""HDF5 files are read only when self-contained, and arrays only when they are what a reader expects.

HDF5 lets a file point outside itself: external links, datasets whose raw bytes live in another file (external
storage) and virtual datasets assembled from other files. Following them would copy some other local file's
bytes into a result, so `open_hdf5` refuses such a file before any link is followed; `dataset` and `read`
refuse groups where arrays belong, text or compound types where numbers belong, and declared sizes beyond memory.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np

from ..errors import FileFormatError
from .guards import check_fits

NUMERIC = "biufc"
SELF_CONTAINED = "only self-contained HDF5 files are read: save a copy with the arrays stored inside the file"


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def open_hdf5(path: Path) -> Iterator[h5py.File]:
    """h5py.File(path, 'r') after `check_file`; HDF5 read errors inside the block become FileFormatError."""
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise FileFormatError(f"{path} could not be opened as HDF5 ({first_line(exc)}); is the file "
                              "complete?") from None
    with f:
        try:
            check_file(f, path)
            yield f
        except (OSError, RuntimeError, KeyError, ValueError) as exc:  # h5py's errors on damaged metadata or data
            raise FileFormatError(f"{path} could not be read ({first_line(exc)}); is the file complete? "
                                  "Copy it again from the source.") from None


def check_file(f: h5py.File, path: Path) -> None:
    """Walk every link without following it; refuse external links, dangling soft links and outside storage."""
    groups, soft, seen = [("", f)], [], {f.id}
    while groups:
        prefix, group = groups.pop()
        for name in group:
            where = f"{prefix}/{name}"
            link = link_of(group, name, where, path)
            if isinstance(link, h5py.SoftLink):
                soft.append((group, name, where, link.path))
                continue
            obj = group.get(name)
            if obj is None or obj.id in seen:
                continue
            seen.add(obj.id)
            if isinstance(obj, h5py.Group):
                groups.append((where, obj))
            elif isinstance(obj, h5py.Dataset):
                check_storage(obj, where, path)
    for group, name, where, target in soft:  # safe to resolve now: no link in the file leads outside it
        try:
            found = group.get(name)
        except Exception:  # noqa: BLE001 - link loops and malformed paths are all "does not resolve"
            found = None
        if found is None:
            raise FileFormatError(f"{path}: '{where}' is a soft link to '{target}', which does not exist in the file; "
                                  "the file is incomplete or damaged. Save it again from the source.")


def link_of(group: h5py.Group, name: str, where: str, path: Path):
    try:
        link = group.get(name, getlink=True)
    except (TypeError, KeyError, OSError):
        raise FileFormatError(f"{path}: '{where}' is a link of a kind this reader does not follow; "
                              f"{SELF_CONTAINED}.") from None
    if isinstance(link, h5py.ExternalLink):
        raise FileFormatError(f"{path}: '{where}' is an external link to {link.filename}:{link.path}, another file; "
                              f"{SELF_CONTAINED}.")
    return link


def check_storage(ds: h5py.Dataset, where: str, path: Path) -> None:
    if ds.is_virtual:
        raise FileFormatError(f"{path}: '{where}' is a virtual dataset assembled from other data; {SELF_CONTAINED}.")
    if ds.external:
        files = ", ".join(sorted({str(name) for name, *_ in ds.external}))
        raise FileFormatError(f"{path}: the bytes of '{where}' are stored outside the file (in {files}); "
                              f"{SELF_CONTAINED}.")


def dataset(f: h5py.Group, name: str, path: Path) -> h5py.Dataset | None:
    """The array `name`, or None when absent; a group or any other object under that name is refused."""
    obj = f.get(name)
    if obj is None:
        if f.get(name, getlink=True) is not None:
            raise FileFormatError(f"{path}: '{name}' is listed but cannot be opened; the file is damaged. Copy it "
                                  "again from the source.")
        return None
    if not isinstance(obj, h5py.Dataset):
        kind = "a group" if isinstance(obj, h5py.Group) else f"a {type(obj).__name__}"
        raise FileFormatError(f"{path}: '{name}' is {kind}, not an array; expected '{name}' to be a dataset "
                              "(docs/FORMATS.md).")
    check_storage(obj, name, path)
    return obj


def describe_dtype(dtype: np.dtype) -> str:
    if dtype.names:
        return f"a compound type (fields {', '.join(dtype.names)})"
    if h5py.check_string_dtype(dtype) or dtype.kind in "SU":
        return "text"
    if h5py.check_vlen_dtype(dtype) is not None or dtype.kind == "O":
        return "variable-length sequences"
    return f"{dtype} values"


def dtype_of(ds: h5py.Dataset, path: Path) -> np.dtype:
    try:
        return ds.dtype
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"{path}: '{ds.name}' has an HDF5 data type numpy cannot represent "
                              f"({first_line(exc)}); expected numbers.") from None


def read(ds: h5py.Dataset, path: Path, *, allow: str = NUMERIC, index=(), shape=None,
         itemsize: int | None = None) -> np.ndarray:
    """ds[index] after checking its type (numpy kinds in `allow`) and that `shape` (default: all of it) fits
    in memory at `itemsize` bytes per value (default: as stored)."""
    dtype = dtype_of(ds, path)
    if dtype.kind not in allow:
        raise FileFormatError(f"{path}: '{ds.name}' holds {describe_dtype(dtype)}; expected numbers "
                              "(complex k-space, a 0/1 mask, complex images). Check which dataset holds them.")
    if ds.shape is None:
        raise FileFormatError(f"{path}: '{ds.name}' is declared without any values (an empty dataspace).")
    check_fits(ds.shape if shape is None else shape, max(itemsize or 0, dtype.itemsize), f"{path}: '{ds.name}'")
    return ds[index]
