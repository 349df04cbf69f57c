"""Image quality on magnitude images (frames, y, x) against a reference.

PSNR = 20 log10(max|ref| / RMSE); SSIM = mean over frames of skimage's SSIM with data_range = max|ref|;
NMSE = ||x - ref||^2 / ||ref||^2. All on magnitudes, over the whole field of view, no rescaling of the estimate.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity


def _magnitudes(image, reference):
    x, ref = np.abs(np.asarray(image)).astype(np.float64), np.abs(np.asarray(reference)).astype(np.float64)
    if x.shape != ref.shape:
        raise ValueError(f"image {x.shape} and reference {ref.shape} differ in shape")
    return x, ref


def finite(x, ref) -> bool:
    """Metrics of a non-finite image (or reference) are NaN: never a PSNR of inf for an all-NaN result."""
    return bool(np.isfinite(x).all() and np.isfinite(ref).all())


def psnr(image, reference) -> float:
    x, ref = _magnitudes(image, reference)
    if not finite(x, ref):
        return float("nan")
    mse = np.mean((x - ref) ** 2)
    return float(20 * np.log10(ref.max() / np.sqrt(mse))) if mse > 0 else float("inf")


def nmse(image, reference) -> float:
    x, ref = _magnitudes(image, reference)
    if not finite(x, ref):
        return float("nan")
    return float(np.sum((x - ref) ** 2) / np.sum(ref ** 2))


def ssim(image, reference) -> float:
    return float(np.mean(ssim_per_frame(image, reference)))


def ssim_per_frame(image, reference) -> np.ndarray:
    x, ref = _magnitudes(image, reference)
    if not finite(x, ref):
        return np.full(len(x), np.nan)
    peak = ref.max()
    return np.array([structural_similarity(a, b, data_range=peak) for a, b in zip(x, ref)])


def psnr_per_frame(image, reference) -> np.ndarray:
    x, ref = _magnitudes(image, reference)
    if not finite(x, ref):
        return np.full(len(x), np.nan)
    mse = np.mean((x - ref) ** 2, axis=(1, 2))
    return 20 * np.log10(ref.max() / np.sqrt(np.maximum(mse, 1e-30)))


def all_metrics(image, reference) -> dict[str, float]:
    return {"psnr": psnr(image, reference), "ssim": ssim(image, reference), "nmse": nmse(image, reference)}
