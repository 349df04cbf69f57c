"""Reorder an array given as letters into the engine's (frames, coils, ky, kx).

Letters: t = frames (time), c = coils, y = ky (phase encode), x = kx (readout), s = slice (one is selected).
A missing c becomes a coils axis of length 1; a missing t is an error (a cine needs frames).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError

LETTERS = set("tcyxs")


def to_tcyx(array: np.ndarray, axes: str, slice_index: int | None = None) -> np.ndarray:
    axes = axes.lower()
    if len(axes) != array.ndim or set(axes) - LETTERS or len(set(axes)) != len(axes):
        raise DataError(f"axis order '{axes}' does not describe an array of shape {array.shape}; give one letter per "
                        "axis from t (frames), c (coils), y (phase encode), x (readout), s (slice), e.g. 'tcyx'.")
    if "t" not in axes or "y" not in axes or "x" not in axes:
        raise DataError(f"axis order '{axes}' needs t (frames), y and x; say which axis is time.")
    if "s" in axes:
        n = array.shape[axes.index("s")]
        index = 0 if slice_index is None and n == 1 else slice_index
        if index is None:
            raise DataError(f"the data hold {n} slices; choose one (slice=0..{n - 1}, or --slice).")
        if not 0 <= index < n:
            raise DataError(f"slice {index} does not exist; the data hold slices 0..{n - 1}.")
        array = np.take(array, index, axis=axes.index("s"))
        axes = axes.replace("s", "")
    if "c" not in axes:
        array, axes = array[..., None], axes + "c"
    return np.transpose(array, [axes.index(a) for a in "tcyx"])
