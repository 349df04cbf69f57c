"""Reader for k-space files the engine loads; shows the zero-filled (root-sum-of-squares) cine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py

from recon.io import load

from ._layers import cine_layers


def get_reader(path):
    if isinstance(path, list) or not str(path).endswith((".h5", ".hdf5")):
        return None
    try:
        with h5py.File(path, "r") as f:
            if "kspace" not in f:
                return None
    except OSError:
        return None
    return read_kspace


def read_kspace(path):
    """The measured (zero-filled) cine; the data ride along in the layer's metadata for the dock widget."""
    data = load(path)
    shown = replace(data, reference=None)  # show what was measured, not the reference
    (image, meta, kind), = cine_layers(shown, Path(path).stem)
    meta["metadata"]["napari_stdm_data"] = data
    meta["metadata"]["napari_stdm_path"] = str(Path(path).resolve())  # exports must never overwrite it
    return [(image, meta, kind)]
