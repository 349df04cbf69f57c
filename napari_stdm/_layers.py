"""Turn engine data into napari layer tuples. Time is the first axis, so napari's first slider plays the cine;
every layer carries the data's geometry (napari_stdm._geometry). The maps of a diffusion run (prior contribution,
uncertainty) are drawn over their cine: magma, additive, so the cine stays visible where the map is 0."""

from __future__ import annotations

import numpy as np

from recon.pipeline import preview

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
    magnitude = np.abs(data.reference) if data.reference is not None else preview(data)
    return [image_layer(magnitude, data.meta, name, metadata)]


MAP_KINDS = ("prior_map", "uncertainty")  # the order they are added: the last added is on top
MAP_OPACITY = 0.6  # additive: bright blood pools saturate less than at 0.8, the map still reads on dark tissue
MAP_TOP = 0.2  # top of both colour scales: 0.2 of the cine's signal level (benchmarks/results/calibration.md)
MAP_LABELS = {
    "prior_map": ("prior map", "× signal level",
                  "prior map: what k-space no sample determined added to each pixel, relative to the cine's "
                  "bright-tissue signal level (0 = the data decided; 0.2 = as much as a fifth of that level filled in "
                  "by the prior). Ranks the actual error best (Spearman 0.81 per 8x8 patch on held-out real data at "
                  "R_eff 8); it shows where the prior decided, not how large the error is"),
    "uncertainty": ("uncertainty", "std × signal level",
                    "uncertainty (hidden; toggle its eye): std of the magnitude over the posterior samples, relative "
                    "to the same signal level. Ranks the error less well than the prior map (Spearman 0.71) and is "
                    "2-10x smaller than the actual error"),
}


def signal_level(image: np.ndarray) -> float:
    """The cine's signal level the maps are relative to (recon.prior_map: 99th percentile of the local RMS)."""
    import torch

    from recon.prior_map import LEVEL_PERCENTILE, SIGMA, local_rms

    level = float(np.percentile(local_rms(torch.from_numpy(np.abs(image).astype(np.float32)), SIGMA),
                                LEVEL_PERCENTILE))
    return level if np.isfinite(level) and level > 0 else 1.0


def map_display(kind: str, values: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The map as drawn: both relative to the cine's signal level, so both colour bars read in the same unit (the
    prior map is stored that way; the uncertainty is stored in the image's units)."""
    values = np.asarray(values, np.float32)
    return values if kind == "prior_map" else values / np.float32(signal_level(image))


def map_layer_kwargs(kind: str, run_key: str, result_name: str) -> dict:
    """Name, colour map, contrast and overlay settings of a map layer drawn over its cine (map_display values)."""
    short, unit, meaning = MAP_LABELS[kind]
    return {"name": f"{short} ({unit}) · {result_name}", "colormap": "magma", "contrast_limits": (0.0, MAP_TOP),
            "blending": "additive", "opacity": MAP_OPACITY, "visible": kind == "prior_map",
            "metadata": {"napari_stdm_map": kind, "napari_stdm_map_of": run_key, "napari_stdm_map_meaning": meaning}}


def map_legend(kinds) -> str:
    """One short line for the dock (it must not be cut at the dock's default width)."""
    return f"prior map: 0 measured – {MAP_TOP:g} filled in" if "prior_map" in kinds else \
        f"uncertainty: 0 – {MAP_TOP:g} × signal"


def map_layer(kind: str, shown: np.ndarray, meta, result_name: str) -> tuple:
    """A map layer tuple of values already as drawn (map_display) with the geometry of `meta`."""
    kwargs = map_layer_kwargs(kind, result_name, result_name)
    geometry = layer_kwargs(meta, shown.shape[0])
    geometry["metadata"].update(kwargs.pop("metadata"))
    return shown, {**kwargs, **geometry}, "image"


def map_layers(maps: dict, image: np.ndarray, meta, result_name: str) -> list[tuple]:
    """Layer tuples of a result's maps ({kind: (frames, y, x)}) over its cine `image`."""
    return [map_layer(kind, map_display(kind, maps[kind], image), meta, result_name)
            for kind in MAP_KINDS if kind in maps]
