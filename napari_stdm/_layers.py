"""Turn engine data into napari layer tuples. Time is the first axis, so napari's first slider plays the cine;
every layer carries the data's geometry (napari_stdm._geometry)."""

from __future__ import annotations

import numpy as np

from recon.physics import rss_image

from ._geometry import layer_kwargs


def contrast(magnitude: np.ndarray) -> tuple[float, float]:
    return 0.0, float(np.percentile(magnitude, 99.5)) or 1.0


def image_layer(magnitude: np.ndarray, meta, name: str, metadata: dict | None = None) -> tuple:
    """One (frames, y, x) magnitude layer tuple with the geometry of `meta`."""
    kwargs = layer_kwargs(meta, magnitude.shape[0])
    kwargs["metadata"].update({"napari_stdm_source": meta.source, **(metadata or {})})
    return magnitude, {"name": name, "contrast_limits": contrast(magnitude), **kwargs}, "image"


def cine_layers(data, name: str, metadata: dict | None = None) -> list[tuple]:
    """The data's fully sampled (or zero-filled, if undersampled) magnitude cine as one image layer."""
    magnitude = np.abs(data.reference) if data.reference is not None else rss_image(data.kspace)
    return [image_layer(magnitude, data.meta, name, metadata)]
