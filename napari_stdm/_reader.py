"""Readers: k-space files the engine loads (shown zero-filled), result files (shown as the result) and DICOM cine
folders this plugin exported (shown as the cine, with its spacing and timing)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np

from recon.io import load, read_result

from ._layers import cine_layers, image_layer, map_layer, map_layers


HDF5_SUFFIXES = (".h5", ".hdf5")
KSPACE_SUFFIXES = (*HDF5_SUFFIXES, ".mat", ".npy", ".npz")  # every format `stdm recon` reads (docs/FORMATS.md)


def get_reader(path):
    if isinstance(path, list) or Path(str(path)).suffix.lower() not in KSPACE_SUFFIXES:
        return None
    suffix = Path(str(path)).suffix.lower()
    try:
        if suffix in HDF5_SUFFIXES:
            with h5py.File(path, "r") as f:  # look at link names only: an external link must not be followed here
                if f.get("kspace", getlink=True) is None:
                    # ISMRMRD / OCMR: group /dataset (the engine's reader checks what it holds)
                    return read_kspace if f.get("dataset", getlink=True) is not None else None
                is_result = f.get("recon", getlink=True) is not None
            return read_result_layers if is_result else read_kspace
        if suffix == ".mat":
            with open(path, "rb") as f:
                return read_kspace if f.read(6) == b"MATLAB" else None
        return read_kspace if holds_complex(Path(path)) else None
    except OSError:
        return None


def holds_complex(path: Path) -> bool:
    """.npy/.npz holding complex numbers (k-space), from the array headers only; other arrays are images for
    napari's own reader."""
    import zipfile

    from recon.errors import ReconError
    from recon.io.numpy_files import npy_header, npz_members

    try:
        if path.suffix.lower() == ".npy":
            with open(path, "rb") as fp:
                return npy_header(fp, str(path))[1].kind == "c"
        with zipfile.ZipFile(path) as archive:
            for name, info in npz_members(archive).items():
                with archive.open(info) as fp:
                    if npy_header(fp, f"{path}:{name}")[1].kind == "c":
                        return True
    except (ReconError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return False


def read_kspace(path, options=None):
    """The measured (zero-filled) cine; the data ride along in the layer's metadata for the dock widget. A
    multi-slice file opens at its middle slice; the dock's slice chooser reads another."""
    from recon.io.options import opening_options

    options, slices = opening_options(path, options)
    data = load(path, options)
    open_the_dock()
    shown = replace(data, reference=None)  # show what was measured, not the reference
    return cine_layers(shown, Path(path).stem, {"napari_stdm_data": data,
                                                # exports must never overwrite it
                                                "napari_stdm_path": str(Path(path).resolve()),
                                                "napari_stdm_load": options, "napari_stdm_slices": slices})


def open_the_dock() -> None:
    """Opening k-space in a napari window opens the reconstruction dock too (once; it then offers the new layer as
    its data): one step less between a file and its reconstruction."""
    try:
        import napari

        viewer = napari.current_viewer()
        if viewer is not None:
            viewer.window.add_plugin_dock_widget("napari-stdm", "Cine reconstruction")  # no-op when open already
    except Exception:  # noqa: BLE001 — never let the convenience break reading the file
        pass


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
    geometry; its run information rides along in the layer metadata; the maps it holds are drawn over it. With
    `with_reference`, the reference cine (when the file holds one) comes first, at the same contrast."""
    from recon.io.native import read_result_maps

    data, image, info = read_result(path)
    name = result_name(info, path)
    result = image_layer(np.abs(image), data.meta, name,
                         {"napari_stdm_result": info, "napari_stdm_path": str(Path(path).resolve())})
    maps = map_layers(read_result_maps(path), image, data.meta, name)  # over the result, prior map shown
    if not with_reference or data.reference is None:
        return [result, *maps]
    reference = image_layer(np.abs(data.reference), data.meta, f"reference · {name}")
    reference[1]["contrast_limits"] = result[1]["contrast_limits"]
    return [reference, result, *maps]


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
    from recon.io.dicom import PIXEL_MAX, PRIOR_MAP_PER_UNIT
    from recon.io.dicom_cine import read_dicom_cine

    cine = read_dicom_cine(path)
    name = cine.info.get("SeriesDescription") or Path(path).name
    metadata = {"napari_stdm_dicom": cine.info, "napari_stdm_path": str(Path(path).resolve())}
    kind = map_series_kind(cine.info)
    if kind is None:
        return [image_layer(cine.image, cine.meta, name, metadata)]
    # a map series this plugin exported: drawn like the map it was (over the cine opened before it)
    # (the uncertainty series is in the cine series' pixel units: relative to its peak, about its signal level)
    shown = cine.image / (PRIOR_MAP_PER_UNIT if kind == "prior_map" else PIXEL_MAX)
    values, kwargs, layer_type = map_layer(kind, shown, cine.meta, f"{name} · {Path(path).name}")
    kwargs["metadata"].update(metadata)
    kwargs["visible"] = True
    return [(values, kwargs, layer_type)]


def map_series_kind(info: dict) -> str | None:
    """'prior_map' / 'uncertainty' for a map series napari-stdm wrote (its SeriesDescription), else None."""
    from recon.io.dicom import MAP_SERIES

    if "napari-stdm" not in info.get("DerivationDescription", ""):
        return None
    return next((kind for kind, (description, *_) in MAP_SERIES.items()
                 if info.get("SeriesDescription") == description), None)
