"""Readout oversampling: keep the central `width` pixels of the image along x, back in k-space."""

from __future__ import annotations

import numpy as np
from numpy.fft import fft, fftshift, ifft, ifftshift


def crop_readout(kspace: np.ndarray, width: int | None = None) -> np.ndarray:
    """Crop the readout (last) axis to `width` image pixels (default half: 2x oversampling removed)."""
    nx = kspace.shape[-1]
    width = nx // 2 if width is None else width
    if width >= nx:
        return kspace
    image = fftshift(ifft(ifftshift(kspace, axes=-1), axis=-1, norm="ortho"), axes=-1)
    start = (nx - width) // 2
    image = image[..., start:start + width]
    return fftshift(fft(ifftshift(image, axes=-1), axis=-1, norm="ortho"), axes=-1).astype(np.complex64)
