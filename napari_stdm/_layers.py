"""Turn engine data into napari layer tuples. Time is the first axis, so napari's first slider plays the cine;
every layer carries the data's geometry (napari_stdm._geometry). The maps of a diffusion run (prior contribution,
uncertainty) are drawn over their cine: magma, additive, so the cine stays visible where the map is 0."""

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


MAP_KINDS = ("prior_map", "uncertainty")  # the order they are added: the last added is on top
MAP_TOP = 0.2  # top of the colour scale: 20 % of the cine's signal level (benchmarks/results/calibration.md)
MAP_LABELS = {
    "prior_map": ("prior map", "share of signal not measured",
                  "how much of each pixel comes from k-space no sample determined (0 = the data decided; 0.2 = a "
                  "fifth of the local signal filled in by the prior). Ranks the actual error best "
                  "(Spearman 0.81 per 8x8 patch on held-out real data at R_eff 8)"),
    "uncertainty": ("uncertainty", "std, image units",
                    "standard deviation of the magnitude over the posterior samples, in the cine's own units "
                    "(ranks the actual error less well than the prior map: Spearman 0.71)"),
}


def map_layer_kwargs(kind: str, values: np.ndarray, image: np.ndarray, result_name: str) -> dict:
    """Name, colour map, contrast and overlay settings of a map layer over the cine `image` (magnitude).
    Both scales end at MAP_TOP of the cine's signal level, so a full colour means the same for every run: the prior
    map is relative to that level already, the uncertainty is in the image's units."""
    short, unit, meaning = MAP_LABELS[kind]
    top = MAP_TOP if kind == "prior_map" else MAP_TOP * contrast(np.abs(image))[1]
    return {"name": f"{short} ({unit}) · {result_name}", "colormap": "magma", "contrast_limits": (0.0, top),
            "blending": "additive", "opacity": 0.8, "visible": kind == "prior_map",
            "metadata": {"napari_stdm_map": kind, "napari_stdm_map_meaning": meaning}}


def map_legend(kinds) -> str:
    """One line for the dock: what the colours of the maps shown mean."""
    shown = "prior map" if "prior_map" in kinds else "uncertainty"
    return f"{shown} over cine: 0 measured … {MAP_TOP:g} filled in"


def map_layers(maps: dict, image: np.ndarray, meta, result_name: str) -> list[tuple]:
    """Layer tuples of a result's maps ({kind: (frames, y, x)}) with the geometry of `meta`."""
    layers = []
    for kind in (k for k in MAP_KINDS if k in maps):
        kwargs = map_layer_kwargs(kind, maps[kind], image, result_name)
        geometry = layer_kwargs(meta, maps[kind].shape[0])
        geometry["metadata"].update(kwargs.pop("metadata"))
        layers.append((np.asarray(maps[kind], np.float32), {**kwargs, **geometry}, "image"))
    return layers
