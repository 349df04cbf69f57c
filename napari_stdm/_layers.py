"""Turn engine data into napari layer tuples. Time is the first axis, so napari's first slider plays the cine."""

from __future__ import annotations

import numpy as np

from recon.physics import rss_image


def cine_layers(data, name: str) -> list[tuple]:
    """The data's fully sampled (or zero-filled, if undersampled) magnitude cine as one image layer."""
    magnitude = np.abs(data.reference) if data.reference is not None else rss_image(data.kspace)
    limits = (0.0, float(np.percentile(magnitude, 99.5)))
    meta = {"name": name, "contrast_limits": limits, "metadata": {"napari_stdm_source": data.meta.source}}
    if data.meta.pixel_spacing:
        meta["scale"] = (1.0, *data.meta.pixel_spacing)
    return [(magnitude, meta, "image")]
