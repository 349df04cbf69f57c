"""Readers: k-space files the engine loads (shown zero-filled), result files (shown as the result) and DICOM cine
folders this plugin exported (shown as the cine, with its spacing and timing)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np

from recon.io import load, read_result

from ._layers import cine_layers, image_layer


def get_reader(path):
    if isinstance(path, list) or not str(path).endswith((".h5", ".hdf5")):
        return None
    try:
        with h5py.File(path, "r") as f:  # look at link names only: an external link must not be followed here
            if f.get("kspace", getlink=True) is None:
                return None
            is_result = f.get("recon", getlink=True) is not None
    except OSError:
        return None
    return read_result_layers if is_result else read_kspace


def read_kspace(path):
    """The measured (zero-filled) cine; the data ride along in the layer's metadata for the dock widget."""
    data = load(path)
    shown = replace(data, reference=None)  # show what was measured, not the reference
    return cine_layers(shown, Path(path).stem, {"napari_stdm_data": data,
                                                # exports must never overwrite it
                                                "napari_stdm_path": str(Path(path).resolve())})


def result_name(info: dict, path) -> str:
    """The name the widget gave the result when it was saved; else file · method."""
    name = info.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    method = info.get("method") or "recon"
    status = info.get("status")
    return " · ".join([Path(path).stem, str(method), *([status] if status and status != "finished" else [])])


def read_result_layers(path, with_reference: bool = False):
    """A saved reconstruction (`stdm recon` / Save h5): the result cine, named as the result, with the data's
    geometry; its run information rides along in the layer metadata. With `with_reference`, the reference cine
    (when the file holds one) comes first, at the same contrast."""
    data, image, info = read_result(path)
    name = result_name(info, path)
    result = image_layer(np.abs(image), data.meta, name,
                         {"napari_stdm_result": info, "napari_stdm_path": str(Path(path).resolve())})
    if not with_reference or data.reference is None:
        return [result]
    reference = image_layer(np.abs(data.reference), data.meta, f"reference · {name}")
    reference[1]["contrast_limits"] = result[1]["contrast_limits"]
    return [reference, result]


def get_dicom_reader(path):
    """Folders that hold DICOM files (IM0001.dcm, ...): a cine series."""
    from recon.io.dicom_cine import is_dicom_file

    if isinstance(path, list) or not Path(path).is_dir():
        return None
    try:
        if not any(p.is_file() and is_dicom_file(p) for p in Path(path).iterdir()):
            return None
    except OSError:
        return None
    return read_dicom_folder


def read_dicom_folder(path):
    from recon.io.dicom_cine import read_dicom_cine

    cine = read_dicom_cine(path)
    name = cine.info.get("SeriesDescription") or Path(path).name
    return [image_layer(cine.image, cine.meta, name,
                        {"napari_stdm_dicom": cine.info, "napari_stdm_path": str(Path(path).resolve())})]
