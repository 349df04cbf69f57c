"""npe2 writer: an image layer (time first) as a DICOM cine series in the folder `path`.

Pixel spacing and trigger times come from the layer's scale (and units), so what napari shows is what the series
says; orientation, position and scanner fields come from the data the layer was made from, when known.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recon.io.dicom import export_cine

from ._geometry import meta_for_export


def write_dicom(path: str, data, attributes: dict) -> list[str]:
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    meta = meta_for_export(data.shape, attributes)
    metadata = attributes.get("metadata") or {}
    result = metadata.get("napari_stdm_result") or {}
    status = result.get("status") if isinstance(result, dict) else None
    if status and status != "finished":  # a cancelled run's partial result says so in ImageComments too
        meta = replace(meta, source=f"{meta.source}. PARTIAL RESULT: {status}")
    files = export_cine(data, meta, path, method=attributes.get("name", "napari layer"),
                        inputs=[p for p in (metadata.get("napari_stdm_path"),) if p])
    return [str(f) for f in files]
