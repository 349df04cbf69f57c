"""Write a small OCMR-like ISMRMRD file with the ismrmrd package: cine lines acquisition by acquisition."""

from __future__ import annotations

import ismrmrd
import ismrmrd.xsd as xsd
import numpy as np


def header(nx_enc: int, ny: int, frames: int, fov=(400.0, 300.0)) -> str:
    space = lambda nx: xsd.encodingSpaceType(  # noqa: E731
        matrixSize=xsd.matrixSizeType(x=nx, y=ny, z=1), fieldOfView_mm=xsd.fieldOfViewMm(
            x=fov[0] * nx / (nx_enc // 2), y=fov[1], z=8.0))
    limits = xsd.encodingLimitsType(kspace_encoding_step_1=xsd.limitType(minimum=0, maximum=ny - 1, center=ny // 2),
                                    phase=xsd.limitType(minimum=0, maximum=frames - 1, center=0),
                                    slice=xsd.limitType(minimum=0, maximum=1, center=0))
    encoding = xsd.encodingType(encodedSpace=space(nx_enc), reconSpace=space(nx_enc // 2), encodingLimits=limits,
                                trajectory=xsd.trajectoryType("cartesian"))
    h = xsd.ismrmrdHeader(experimentalConditions=xsd.experimentalConditionsType(H1resonanceFrequency_Hz=63500000),
                          encoding=[encoding],
                          sequenceParameters=xsd.sequenceParametersType(TR=[2.8], TE=[1.4], flipAngle_deg=[50.0]),
                          measurementInformation=xsd.measurementInformationType(
                              patientPosition=xsd.patientPositionType("HFS")),
                          acquisitionSystemInformation=xsd.acquisitionSystemInformationType(
                              systemFieldStrength_T=1.5, receiverChannels=4))
    return xsd.ToXML(h)


def write_ismrmrd(path, kspace: np.ndarray, sampled: np.ndarray, *, asymmetric: int = 0, slices: int = 1,
                  with_noise: bool = True, with_phase: bool = True) -> None:
    """kspace (frames, coils, ky, kx_enc), sampled (frames, ky). asymmetric: samples dropped at the echo start."""
    frames, coils, ny, nx = kspace.shape
    ds = ismrmrd.Dataset(str(path), "dataset", create_if_needed=True)
    ds.write_xml_header(header(nx, ny, frames))
    if with_noise:
        noise = ismrmrd.Acquisition.from_array(np.ones((coils, nx), np.complex64))
        noise.set_flag(ismrmrd.ACQ_IS_NOISE_MEASUREMENT)
        ds.append_acquisition(noise)
    for s in range(slices):
        for t in range(frames):
            for line in np.flatnonzero(sampled[t]):
                acq = ismrmrd.Acquisition.from_array(np.ascontiguousarray(kspace[t, :, line, asymmetric:]) * (s + 1))
                acq.idx.kspace_encode_step_1 = int(line)
                acq.idx.phase = t if with_phase else 0
                acq.idx.slice = s
                acq.center_sample = nx // 2 - asymmetric
                acq.read_dir[:] = (1.0, 0.0, 0.0)
                acq.phase_dir[:] = (0.0, 1.0, 0.0)
                acq.slice_dir[:] = (0.0, 0.0, 1.0)
                acq.position[:] = (10.0, -20.0, 5.0 + 8 * s)
                acq.physiology_time_stamp[0] = int(t * 40 / 2.5)  # 40 ms per frame, in 2.5 ms ticks
                ds.append_acquisition(acq)
    ds.close()


def write_ismrmrd_radial(path, kspace: np.ndarray, traj: np.ndarray, image_shape: tuple[int, int],
                         normalised: bool = True) -> None:
    """kspace (frames, coils, spokes, readout), traj (frames, spokes, readout, 2) as (ky, kx) cycles per FOV; written
    one spoke per acquisition with ISMRMRD's (kx, ky) trajectory, normalised to [-0.5, 0.5] when asked."""
    frames, coils, spokes, readout = kspace.shape
    ny, nx = image_shape
    ds = ismrmrd.Dataset(str(path), "dataset", create_if_needed=True)
    ds.write_xml_header(header(2 * nx, ny, frames).replace("<trajectory>cartesian", "<trajectory>radial"))
    scale = np.array([nx, ny], np.float32) if normalised else np.ones(2, np.float32)
    for t in range(frames):
        for s in range(spokes):
            coords = np.ascontiguousarray(traj[t, s][:, ::-1] / scale, np.float32)
            acq = ismrmrd.Acquisition.from_array(np.ascontiguousarray(kspace[t, :, s]), trajectory=coords)
            acq.idx.kspace_encode_step_1 = s
            acq.idx.phase = t
            acq.center_sample = readout // 2
            acq.read_dir[:] = (1.0, 0.0, 0.0)
            acq.phase_dir[:] = (0.0, 1.0, 0.0)
            acq.slice_dir[:] = (0.0, 0.0, 1.0)
            acq.physiology_time_stamp[0] = int(t * 40 / 2.5)
            ds.append_acquisition(acq)
    ds.close()
