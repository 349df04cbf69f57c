"""Complex k-space in .npy / .npz, with an explicit axis order (default 'tcyx')."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import CineData, CineMeta
from ..errors import FileFormatError
from .axes import to_tcyx


def read_numpy(path: Path, axes: str | None = None, slice_index: int | None = None, key: str | None = None) -> CineData:
    try:
        loaded = np.load(path, allow_pickle=False, mmap_mode="r" if path.suffix == ".npy" else None)
    except ValueError as exc:  # object arrays need pickle: refused
        raise FileFormatError(f"{path} holds Python objects; only plain numeric arrays are read ({exc}).") from exc
    except Exception as exc:
        raise FileFormatError(f"{path} could not be read as .npy/.npz ({exc}).") from exc
    mask = None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        names = list(loaded.files)
        key = key or ("kspace" if "kspace" in names else names[0] if len(names) == 1 else None)
        if key is None or key not in names:
            raise FileFormatError(f"{path} holds arrays {names}; name the k-space one (key=...) or call it 'kspace'.")
        array = loaded[key]
        if "mask" in names:
            mask = loaded["mask"]
    else:
        array = loaded
    kspace = to_tcyx(np.asarray(array), axes or "tcyx", slice_index)
    return CineData(kspace=kspace, mask=mask, meta=CineMeta(source=f"{path.name} ({axes or 'tcyx'})")).validate()
