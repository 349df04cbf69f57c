"""npe2 writer: an image layer (time first) as a DICOM cine series in the folder `path`."""

from __future__ import annotations

from recon.data import CineMeta
from recon.io.dicom import export_cine


def write_dicom(path: str, data, attributes: dict) -> list[str]:
    scale = attributes.get("scale")
    spacing = tuple(float(v) for v in scale[-2:]) if scale is not None and len(scale) >= 2 else None
    metadata = attributes.get("metadata") or {}
    meta = CineMeta(pixel_spacing=spacing, source=str(metadata.get("napari_stdm_source", "napari layer")))
    files = export_cine(data, meta, path, method=attributes.get("name", "napari layer"))
    return [str(f) for f in files]
