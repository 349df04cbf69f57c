"""Coil sensitivity maps: ESPIRiT (sigpy) from time-averaged k-space, normalised to sum |S|^2 = 1."""

from __future__ import annotations

import numpy as np

from .errors import DataError


def time_averaged_kspace(kspace: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average each k-space location over the frames that sampled it: (coils, ky, kx)."""
    counts = mask.sum(axis=0)
    total = (kspace * mask[:, None]).sum(axis=0)
    return (total / np.maximum(counts, 1)[None]).astype(np.complex64)


def normalise_maps(sens: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Scale maps to sum |S|^2 = 1 wherever they are non-zero; zero elsewhere."""
    rss = np.sqrt((np.abs(sens) ** 2).sum(axis=0))
    support = rss > eps * max(rss.max(), eps)
    out = np.where(support[None], sens / np.where(support, rss, 1)[None], 0)
    return out.astype(np.complex64)


def calibration_width(union: np.ndarray, largest: int, smallest: int = 8) -> int:
    """Widest centred square (<= largest) that the frames together sample almost completely."""
    ny, nx = union.shape
    for width in range(min(largest, ny, nx), smallest - 1, -2):
        centre = union[ny // 2 - width // 2: ny // 2 + width // 2, nx // 2 - width // 2: nx // 2 + width // 2]
        if centre.mean() >= 0.95:
            return width
    raise DataError(
        f"the central {smallest}x{smallest} of k-space is not sampled in any frame, too little for ESPIRiT coil "
        "maps; use a mask with ACS lines (--acs 20) or supply coil maps in the file."
    )


def espirit_maps(kspace: np.ndarray, mask: np.ndarray, calib_width: int = 24, thresh: float = 0.02,
                 crop: float = 0.95) -> np.ndarray:
    """ESPIRiT maps (coils, y, x) from undersampled cine k-space (frames, coils, ky, kx).

    Single-coil data gets a map of ones: the data are already coil-combined.
    """
    frames, coils, ny, nx = kspace.shape
    if coils == 1:
        return np.ones((1, ny, nx), np.complex64)
    avg = time_averaged_kspace(kspace, mask)
    width = calibration_width(mask.any(axis=0), calib_width)
    import sigpy.mri

    maps = sigpy.mri.app.EspiritCalib(avg, calib_width=width, thresh=thresh, crop=crop, show_pbar=False).run()
    return normalise_maps(np.asarray(maps))
