"""The data's geometry on napari layers, and back.

Every layer the plugin adds carries `scale` = (frame interval in ms, pixel spacing y in mm, x in mm), axis labels
("time", "y", "x") and units (ms, mm), so results, masks and the data they came from line up, the time slider
counts milliseconds and an export can recover spacing and timing. When the data do not know an axis (no pixel
spacing, no timing in the file) that axis keeps scale 1 in napari's default unit (pixel) and the layer metadata
says so (`napari_stdm_geometry`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recon.data import CineMeta

AXIS_LABELS = ("time", "y", "x")
GEOMETRY_KEY = "napari_stdm_geometry"
META_KEY = "napari_stdm_meta"  # the CineMeta the layer's data came with (orientation, position, timing)


def frame_interval(meta: CineMeta, frames: int) -> float | None:
    """ms between frames: from the trigger times, else the RR interval / frames; None when the data do not say."""
    if meta.frame_times is not None and len(meta.frame_times) >= 2:
        steps = np.diff(np.asarray(meta.frame_times, dtype=float))
        if np.all(np.isfinite(steps)) and np.all(steps > 0):
            return float(np.median(steps))
    if meta.rr_interval and frames > 0 and np.isfinite(meta.rr_interval) and meta.rr_interval > 0:
        return float(meta.rr_interval) / frames
    return None


def pixel_spacing(meta: CineMeta) -> tuple[float, float] | None:
    spacing = meta.pixel_spacing
    if spacing is None or len(spacing) != 2:
        return None
    values = tuple(float(v) for v in spacing)
    return values if all(np.isfinite(v) and v > 0 for v in values) else None


def describe(meta: CineMeta, frames: int) -> dict:
    """What the layer metadata says about its geometry."""
    spacing, interval = pixel_spacing(meta), frame_interval(meta, frames)
    unknown = [what for what, value in (("pixel spacing", spacing), ("frame timing", interval)) if value is None]
    note = ("geometry from the data" if not unknown else
            f"{' and '.join(unknown)} unknown (not in the data): shown in pixels / frames, scale 1")
    return {"pixel_spacing_mm": spacing, "frame_interval_ms": interval, "known": not unknown,
            "unknown": unknown, "note": note}


def layer_kwargs(meta: CineMeta, frames: int) -> dict:
    """scale, axis_labels, units and metadata for a (frames, y, x) layer of data with this meta."""
    geometry = describe(meta, frames)
    spacing, interval = geometry["pixel_spacing_mm"], geometry["frame_interval_ms"]
    scale = (interval or 1.0, *(spacing or (1.0, 1.0)))
    units = ("ms" if interval else "pixel", *(("mm", "mm") if spacing else ("pixel", "pixel")))
    return {"scale": scale, "axis_labels": AXIS_LABELS, "units": units,
            "metadata": {GEOMETRY_KEY: geometry, META_KEY: meta}}


def like(layer) -> dict:
    """scale, axis_labels, units and geometry metadata copied from `layer` (a result drawn over its data)."""
    metadata = {k: layer.metadata[k] for k in (GEOMETRY_KEY, META_KEY) if k in layer.metadata}
    return {"scale": tuple(layer.scale), "axis_labels": tuple(layer.axis_labels),
            "units": tuple(str(u) for u in layer.units), "metadata": metadata}


# ---- back: a layer's scale and units as CineMeta for an export ---------------------------------------------
def in_unit(value: float, unit, target: str) -> float | None:
    """`value` given in `unit` expressed in `target`; None when the unit is not of that kind (pixel, none)."""
    if unit is None:
        return None
    import pint

    registry = pint.get_application_registry()
    try:
        return float((value * registry.Unit(str(unit))).to(target).magnitude)
    except (pint.errors.DimensionalityError, pint.errors.UndefinedUnitError, ValueError, TypeError):
        return None


def axis_value(scale: float, unit, target: str) -> float | None:
    """The physical size of one step along an axis, in `target` units; None when the axis has no physical size.

    A unit of the right kind (mm, µm, s, ...) is converted; a scale other than 1 without a unit (napari's default
    'pixel') is taken to be in `target` units already, as napari users set it; 1 pixel means unknown.
    """
    converted = in_unit(scale, unit, target)
    if converted is not None:
        return converted if np.isfinite(converted) and converted > 0 else None
    if scale != 1 and np.isfinite(scale) and scale > 0:
        return float(scale)
    return None


def meta_for_export(shape: tuple[int, ...], attributes: dict) -> CineMeta:
    """CineMeta for exporting a (frames, y, x) layer: pixel spacing and frame times from its scale (and units),
    everything else (orientation, position, scanner fields) from the meta its data came with."""
    metadata = attributes.get("metadata") or {}
    base = metadata.get(META_KEY)
    base = base if isinstance(base, CineMeta) else CineMeta(source=str(metadata.get("napari_stdm_source", "")))
    scale = list(attributes.get("scale") or [1.0] * len(shape))
    units = list(attributes.get("units") or [None] * len(scale))
    scale, units = [1.0] * (3 - len(scale)) + scale[-3:], [None] * (3 - len(units)) + units[-3:]
    frames = shape[0] if len(shape) == 3 else 1
    dy, dx = (axis_value(scale[i], units[i], "mm") for i in (1, 2))
    spacing = (dy, dx) if dy is not None and dx is not None else None
    interval = axis_value(scale[0], units[0], "ms")
    times, rr = base.frame_times, base.rr_interval
    if times is not None and len(times) != frames:
        times = None
    if interval is not None:
        known = frame_interval(replace(base, frame_times=times), frames)
        if times is None or known is None or not np.isclose(known, interval, rtol=1e-3):
            times = tuple(float(v) for v in np.arange(frames) * interval)  # the layer's timing wins
        if rr is None or not np.isclose(rr / max(frames, 1), interval, rtol=1e-3):
            rr = interval * frames
    return replace(base, pixel_spacing=spacing, frame_times=times, rr_interval=rr)
