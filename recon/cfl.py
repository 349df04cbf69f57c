"""BART's .cfl/.hdr pair: complex64, column-major, a one-line text header of dimensions."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_cfl(base: Path, array: np.ndarray) -> None:
    """Write `array` whose BART dimensions are array.shape (dim 0 first)."""
    dims = list(array.shape) + [1] * (16 - array.ndim)
    Path(f"{base}.hdr").write_text("# Dimensions\n" + " ".join(map(str, dims)) + "\n")
    np.asfortranarray(array.astype(np.complex64)).T.tofile(f"{base}.cfl")  # .T of Fortran order = C bytes


def read_cfl(base: Path) -> np.ndarray:
    """Read a .cfl/.hdr pair into an array indexed in BART's dimension order (trailing ones dropped)."""
    lines = Path(f"{base}.hdr").read_text().splitlines()
    dims = [int(v) for v in lines[1].split()]
    while len(dims) > 1 and dims[-1] == 1:
        dims.pop()
    data = np.fromfile(f"{base}.cfl", dtype=np.complex64)
    return data.reshape(dims[::-1]).T
