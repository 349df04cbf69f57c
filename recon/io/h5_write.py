"""New HDF5 files are built in memory and then written with plain file I/O: a full disk (or a file-size limit) is a
clean OSError and a removed staging file, never a crash of the HDF5 library at exit."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import h5py

from .atomic import atomic_path


@contextlib.contextmanager
def new_h5(path: str | Path):
    """Yield a writable h5py.File; on success its bytes replace `path` atomically."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        yield f
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        out.write(buffer.getbuffer())
