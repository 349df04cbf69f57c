"""Coil sensitivity maps: ESPIRiT (sigpy) from time-averaged k-space, normalised to sum |S|^2 = 1."""

from __future__ import annotations

import warnings

import numpy as np

from .errors import DataError

MIN_CROPPED_WIDTH = 16  # below this calibration width, maps may be uncropped (see espirit_maps)
MIN_SUPPORT = 0.2  # share of the field of view the cropped maps must cover to be kept


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
    return maps_from_average(avg, calibration_width(mask.any(axis=0), calib_width), thresh, crop)


def maps_from_average(avg: np.ndarray, width: int, thresh: float = 0.02, crop: float = 0.95) -> np.ndarray:
    """Normalised ESPIRiT maps from time-averaged k-space (coils, ky, kx) whose central width x width is sampled."""
    import sigpy.mri

    from .held_signals import held_signals

    with held_signals():  # numba compiles sigpy's kernels here; a Ctrl-C inside its callbacks would be lost
        maps = np.asarray(sigpy.mri.app.EspiritCalib(avg, calib_width=width, thresh=thresh, crop=crop,
                                                      show_pbar=False).run())
    if width < MIN_CROPPED_WIDTH and crop > 0 and (np.abs(maps).sum(axis=0) > 0).mean() < MIN_SUPPORT:
        # With a small calibration region no eigenvalue reaches the crop level and the maps come out all zero
        # (VISTA at R_eff 8 with 8 ACS lines). Uncropped maps then work as well as the true ones (L+S within 0.15 dB).
        warnings.warn(f"ESPIRiT: only a {width} x {width} centre is sampled in all frames together; coil maps are "
                      "not cropped to the body (more ACS lines or supplied maps give cleaner backgrounds).")
        maps = np.asarray(sigpy.mri.app.EspiritCalib(avg, calib_width=width, thresh=thresh, crop=0.0,
                                                      show_pbar=False).run())
    return normalise_maps(maps)
