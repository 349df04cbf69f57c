"""OCMR / ISMRMRD .h5 (Cartesian cine, or radial with trajectories: `read_radial`): the acquisition table is read in one go and sorted with numpy.

Frame = idx.phase, line = idx.kspace_encode_step_1; noise, navigator, phase-correction and dummy scans are
skipped; asymmetric echoes are zero-padded around center_sample; 2x readout oversampling is removed (the image is
cropped to the recon matrix); repeated lines (averages) are averaged. Geometry (position, directions, FOV, patient
position) and timing (TR, TE, trigger times) go into CineMeta for the DICOM export.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import CineData, CineMeta, check_frame_times, positive_numbers
from ..errors import FileFormatError
from ..radial.data import RadialCine
from .guards import check_fits
from .hdf5_safety import dataset, open_hdf5, read
from .lenient import kept
from .readout import crop_readout

TABLE_FIELDS = {"head", "data"}
SKIP_FLAGS = (19, 22, 23, 28)  # noise measurement, phase correction, navigator, dummy scan (1-based bit numbers)
PHYSIOLOGY_TICK_MS = 2.5


def parse_header(path: Path, xml: bytes) -> dict:
    import ismrmrd.xsd

    try:
        header = ismrmrd.xsd.CreateFromDocument(xml.decode() if isinstance(xml, bytes) else xml)
        enc = header.encoding[0]
    except Exception as exc:  # the xsd parser is strict and raises many kinds of errors
        raise FileFormatError(f"{path}: the ISMRMRD XML header could not be parsed ({exc}).") from exc
    seq = header.sequenceParameters
    info = header.measurementInformation
    system = header.acquisitionSystemInformation
    return {
        "encoded_x": enc.encodedSpace.matrixSize.x, "recon_x": enc.reconSpace.matrixSize.x,
        "recon_y": enc.reconSpace.matrixSize.y,
        "ny": enc.encodedSpace.matrixSize.y,
        "fov_mm": (enc.reconSpace.fieldOfView_mm.y, enc.reconSpace.fieldOfView_mm.x),
        "slice_thickness": enc.reconSpace.fieldOfView_mm.z,
        "tr_ms": seq.TR[0] if seq and seq.TR else None, "te_ms": seq.TE[0] if seq and seq.TE else None,
        "patient_position": str(info.patientPosition.value) if info is not None else None,
        "field_strength": system.systemFieldStrength_T if system is not None else None,
    }


def acquisition_table(path: Path):
    with open_hdf5(path) as f:
        xml, data = dataset(f, "dataset/xml", path), dataset(f, "dataset/data", path)
        if xml is None or data is None:
            raise FileFormatError(f"{path}: no ISMRMRD header and acquisitions ('dataset/xml', 'dataset/data').")
        xml = read(xml, path, allow="SOU")
        table = read(data, path, allow="V")
    if xml.size == 0 or table.ndim != 1 or not TABLE_FIELDS <= set(table.dtype.names):
        raise FileFormatError(f"{path}: 'dataset/data' is not an ISMRMRD acquisition table (fields head, data); "
                              "the file is damaged or was not written by an ISMRMRD tool.")
    if table.size == 0:
        raise FileFormatError(f"{path} holds no acquisitions.")
    return xml.flat[0], table


def imaging_rows(head) -> np.ndarray:
    skip = np.zeros(head.shape, bool)
    for bit in SKIP_FLAGS:
        skip |= (head["flags"] >> np.uint64(bit - 1)) & np.uint64(1) == 1
    return ~skip


def geometry(head, h: dict, recon_x: int) -> dict:
    """Image plane orientation and the centre of the top-left voxel, from the first imaging acquisition."""
    first = head[0]
    read, phase = first["read_dir"].astype(float), first["phase_dir"].astype(float)
    dy, dx = h["fov_mm"][0] / h["ny"], h["fov_mm"][1] / recon_x
    centre = first["position"].astype(float)
    top_left = centre - (recon_x / 2 - 0.5) * dx * read - (h["ny"] / 2 - 0.5) * dy * phase
    return {"image_orientation": [*read.tolist(), *phase.tolist()], "image_position": top_left.tolist(),
            "pixel_spacing": (dy, dx)}


def frame_times_or_none(times: list[float], where: str) -> tuple[float, ...] | None:
    """Mean trigger time per frame; a frame without time stamps drops them all, silently (an absent field)."""
    return kept(check_frame_times, times, where, len(times)) if np.all(np.isfinite(times)) else None


def read_ismrmrd(path: Path, slice_index: int | None = None, keep_oversampling: bool = False) -> CineData:
    xml, table = acquisition_table(path)
    h = parse_header(path, xml)
    if min(h["encoded_x"], h["recon_x"], h["ny"]) < 1:
        raise FileFormatError(f"{path}: the ISMRMRD header declares an empty matrix ({h['encoded_x']} x {h['ny']}, "
                              f"recon {h['recon_x']}); the file is damaged.")
    keep = imaging_rows(table["head"])
    head, data = table["head"][keep], table["data"][keep]
    if head.size == 0:
        raise FileFormatError(f"{path} holds only noise or calibration scans; no imaging lines.")
    slices = np.unique(head["idx"]["slice"])
    if slice_index is None and slices.size > 1:
        raise FileFormatError(f"{path} holds slices {slices.tolist()}; choose one (slice=..., --slice).")
    chosen = slices[0] if slice_index is None else slice_index
    if chosen not in slices:
        raise FileFormatError(f"{path}: slice {chosen} does not exist; the file holds {slices.tolist()}.")
    rows = head["idx"]["slice"] == chosen
    if np.any(head["trajectory_dimensions"][rows] > 0):
        if "traj" not in table.dtype.names:
            raise FileFormatError(f"{path}: acquisitions declare trajectory dimensions but the table has no 'traj' "
                                  "field; the file is damaged or was not written by an ISMRMRD tool.")
        return read_radial(path, h, head[rows], data[rows], table["traj"][keep][rows], chosen)
    head, data = head[rows], data[rows]
    frames_idx, lines = head["idx"]["phase"].astype(int), head["idx"]["kspace_encode_step_1"].astype(int)
    frames = int(frames_idx.max()) + 1
    if frames < 2:
        raise FileFormatError(f"{path}: every acquisition has phase index 0, so there is no cardiac frame axis; "
                              "this is not a cine (or its frames are stored in another index).")
    coils = int(head["active_channels"][0])
    nx, ny = int(h["encoded_x"]), max(int(h["ny"]), int(lines.max()) + 1)
    samples = head["number_of_samples"].astype(int)
    if coils < 1 or nx < 1 or samples.max() > nx:
        raise FileFormatError(f"{path}: acquisitions declare {coils} coils and up to {samples.max()} samples for a "
                              f"readout of {nx}; the header and the data disagree.")
    check_fits((frames, coils, ny, nx), 8, f"{path}: the k-space its acquisitions index")
    kspace = np.zeros((frames, coils, ny, nx), np.complex64)
    counts = np.zeros((frames, ny), np.int32)
    for n in np.unique(samples):  # vectorised per readout length (asymmetric echoes are shorter)
        pick = np.flatnonzero(samples == n)
        lines_data = np.stack(data[pick]).view(np.complex64).reshape(pick.size, coils, n)
        offset = nx // 2 - head["center_sample"][pick].astype(int)
        for off in np.unique(offset):
            sel = pick[offset == off]
            block = lines_data[offset == off]
            np.add.at(kspace, (frames_idx[sel], slice(None), lines[sel]),
                      np.pad(block, ((0, 0), (0, 0), (off, nx - n - off))))
            np.add.at(counts, (frames_idx[sel], lines[sel]), 1)
    kspace /= np.maximum(counts, 1)[:, None, :, None]
    recon_x = nx if keep_oversampling else int(h["recon_x"])
    kspace = crop_readout(kspace, recon_x)
    mask = np.repeat((counts > 0)[:, :, None], kspace.shape[-1], axis=2)
    geo = geometry(head, h, recon_x)
    meta = cine_meta(path, h, head, geo, frames_idx, frames, chosen)
    return CineData(kspace=kspace, mask=mask, meta=meta).validate()


def cine_meta(path: Path, h: dict, head, geo: dict, frames_idx: np.ndarray, frames: int, chosen) -> CineMeta:
    stamps = head["physiology_time_stamp"][:, 0].astype(float) * PHYSIOLOGY_TICK_MS
    frame_times = [float(stamps[frames_idx == t].mean()) if np.any(frames_idx == t) else float("nan")
                   for t in range(frames)]
    extra = {k: h[k] for k in ("tr_ms", "te_ms", "patient_position", "field_strength") if h[k] is not None}
    extra.update(image_orientation=geo["image_orientation"], image_position=geo["image_position"])
    where = str(path)
    thickness = kept(positive_numbers, h["slice_thickness"], where, "slice_thickness", 1)
    return CineMeta(pixel_spacing=kept(positive_numbers, geo["pixel_spacing"], where, "pixel_spacing", 2),
                    slice_thickness=None if thickness is None else thickness[0],
                    frame_times=frame_times_or_none(frame_times, where),
                    source=f"ISMRMRD {path.name} slice {chosen}", extra=extra)


def read_radial(path: Path, h: dict, head, data, traj, chosen) -> RadialCine:
    """Non-Cartesian acquisitions: one spoke each, frame = idx.phase, spokes in acquisition order. The trajectory
    is ISMRMRD's (kx, ky) per sample, normalised to [-0.5, 0.5] (the Gadgetron convention) or already in cycles
    per field of view; the image is the recon matrix."""
    dims, samples = head["trajectory_dimensions"].astype(int), head["number_of_samples"].astype(int)
    if (dims < 2).any() or np.unique(samples).size > 1:
        raise FileFormatError(f"{path}: the radial acquisitions need 2 trajectory dimensions and one readout length "
                              f"each (found dimensions {sorted(set(dims.tolist()))}, lengths "
                              f"{sorted(set(samples.tolist()))[:5]}).")
    frames_idx = head["idx"]["phase"].astype(int)
    per_frame = np.bincount(frames_idx)
    if per_frame.size < 2 or (per_frame != per_frame[0]).any():
        raise FileFormatError(f"{path}: frames hold {per_frame.tolist()[:8]} spokes; a radial cine needs at least 2 "
                              "frames (idx.phase) with the same number of spokes each.")
    coils, n, d = int(head["active_channels"][0]), int(samples[0]), int(dims[0])
    order = np.argsort(frames_idx, kind="stable")
    frames, spokes = per_frame.size, int(per_frame[0])
    kspace = np.stack(data[order]).view(np.complex64).reshape(frames, spokes, coils, n).transpose(0, 2, 1, 3)
    coords = np.stack(traj[order]).astype(np.float32).reshape(frames, spokes, n, d)
    shape = (int(h["recon_y"]), int(h["recon_x"]))
    ours = np.stack([coords[..., 1], coords[..., 0]], axis=-1)  # ISMRMRD (kx, ky) -> (ky, kx)
    if np.abs(ours).max() <= 0.5 + 1e-3:
        ours = ours * np.asarray(shape, np.float32)
    geo = geometry(head, {**h, "ny": shape[0]}, shape[1])
    meta = cine_meta(path, h, head, geo, frames_idx, frames, chosen)
    return RadialCine(np.ascontiguousarray(kspace), ours, shape, meta=meta).validate()
