"""Hostile and broken input files: every reader refuses them with one line and exit 2 (or, for optional metadata,
drops the bad field with a warning), never follows a link out of the file, never hangs, never shows a traceback.

Every file is built here, in the test's own folder, from the small cine of conftest.py.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from recon.data import CineData, CineMeta
from recon.errors import DataError, FileFormatError
from recon.io import load
from tests.ismrmrd_fixture import write_ismrmrd

from .conftest import QUICK
from .harness import hostile, run_cli, snapshot

SECRET = b"TOP-SECRET-PATIENT-0042|"
HUGE = (10**6, 64, 512, 512)
MAT73_HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."


# ---------------------------------------------------------------- building blocks


def template_arrays(cine: Path) -> dict:
    with h5py.File(cine, "r") as f:
        return {name: f[name][()] for name in ("kspace", "reference", "sens")}


def secret_bin(tmp: Path, size: int) -> Path:
    """Another local file, full of bytes that must never reach an output."""
    path = tmp / "secret.bin"
    path.write_bytes((SECRET * (size // len(SECRET) + 1))[:size])
    return path


def secret_h5(tmp: Path, cine: Path) -> Path:
    """Another local HDF5 file with a well-formed k-space of its own."""
    path = tmp / "secret.h5"
    shutil.copy(cine, path)
    with h5py.File(path, "a") as f:
        f.attrs["source"] = SECRET.decode()
    return path


def edit(cine: Path, change) -> Path:
    with h5py.File(cine, "a") as f:
        change(f)
    return cine


def replace(f: h5py.File, name: str, **kwargs) -> None:
    if name in f:
        del f[name]
    f.create_dataset(name, **kwargs)


def external_storage(tmp: Path, cine: Path, name: str = "kspace") -> Path:
    arrays = template_arrays(cine)
    array = arrays[name]
    secret_bin(tmp, array.nbytes)
    return edit(cine, lambda f: replace(f, name, shape=array.shape, dtype=array.dtype,
                                        external=[("secret.bin", 0, array.nbytes)]))


def external_link(tmp: Path, cine: Path, name: str = "kspace") -> Path:
    secret_h5(tmp, cine)

    def change(f):
        del f[name]
        f[name] = h5py.ExternalLink("secret.h5", f"/{name}")
    return edit(cine, change)


def soft_link(cine: Path, name: str, target: str) -> Path:
    def change(f):
        if name in f:
            del f[name]
        f[name] = h5py.SoftLink(target)
    return edit(cine, change)


def virtual(tmp: Path, cine: Path) -> Path:
    secret_h5(tmp, cine)
    shape = template_arrays(cine)["kspace"].shape
    layout = h5py.VirtualLayout(shape=shape, dtype=np.complex64)
    layout[:] = h5py.VirtualSource("secret.h5", "kspace", shape=shape)

    def change(f):
        del f["kspace"]
        f.create_virtual_dataset("kspace", layout)
    return edit(cine, change)


def fastmri(tmp: Path, cine: Path, create: dict | None = None, **items) -> Path:
    """A fastMRI-style file; create: create_dataset arguments of its kspace; items: other names and values."""
    path = tmp / "fastmri.h5"
    with h5py.File(path, "w") as f:
        f["ismrmrd_header"] = "<ismrmrdHeader/>"
        if create is not None:
            f.create_dataset("kspace", **create)
        for name, value in items.items():
            f[name] = value
    return path


def fastmri_link(tmp: Path, cine: Path) -> Path:
    secret_h5(tmp, cine)
    return fastmri(tmp, cine, kspace=h5py.ExternalLink("secret.h5", "/kspace"))


def fastmri_storage(tmp: Path, cine: Path) -> Path:
    size = 6 * 32 * 32 * 8
    secret_bin(tmp, size)
    return fastmri(tmp, cine, create=dict(shape=(6, 32, 32), dtype=np.complex64, external=[("secret.bin", 0, size)]))


def ismrmrd(tmp: Path, name: str = "ocmr.h5") -> Path:
    rng = np.random.default_rng(3)
    kspace = (rng.standard_normal((4, 2, 16, 32)) + 1j * rng.standard_normal((4, 2, 16, 32))).astype(np.complex64)
    write_ismrmrd(tmp / name, kspace, np.ones((4, 16), bool), with_noise=False)
    return tmp / name


def ismrmrd_with(tmp: Path, change) -> Path:
    path = ismrmrd(tmp)
    with h5py.File(path, "a") as f:
        change(f, tmp)
    return path


def stolen_acquisitions(f: h5py.File, tmp: Path) -> None:
    """dataset/data becomes a link into another scan's file: the classic exfiltration."""
    ismrmrd(tmp, "other_patient.h5")
    del f["dataset/data"]
    f["dataset/data"] = h5py.ExternalLink("other_patient.h5", "/dataset/data")


def huge_matrix(f: h5py.File, tmp: Path) -> None:
    xml = f["dataset/xml"][0]
    xml = (xml.decode() if isinstance(xml, bytes) else xml).replace("<x>32</x>", "<x>10000000</x>")
    xml = xml.replace("<y>16</y>", "<y>10000000</y>")
    del f["dataset/xml"]
    f.create_dataset("dataset/xml", data=[xml], dtype=h5py.string_dtype())


def mat73(path: Path, variables: dict) -> Path:
    """MATLAB v7.3: HDF5 behind a 512-byte MATLAB user block, complex as compound (real, imag)."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            if callable(value):
                value(f, name)
            elif np.iscomplexobj(value):
                compound = np.dtype([("real", "<f4"), ("imag", "<f4")])
                data = np.empty(value.shape, compound)
                data["real"], data["imag"] = value.real, value.imag
                f[name] = data
            else:
                f[name] = value
    with open(path, "r+b") as f:
        f.write(MAT73_HEADER.ljust(128, b" "))
    return path


def cmrx_kspace(cine: Path) -> np.ndarray:
    return template_arrays(cine)["kspace"][:, None]  # (time, slice, coil, ky, kx)


def cmrx_external(tmp: Path, cine: Path) -> Path:
    secret_h5(tmp, cine)
    return mat73(tmp / "cine_sax.mat",
                 {"kspace_full": lambda f, n: f.__setitem__(n, h5py.ExternalLink("secret.h5", "/kspace"))})


def cmrx_sibling_mask_link(tmp: Path, cine: Path) -> Path:
    secret_h5(tmp, cine)
    mat73(tmp / "cine_lax_mask.mat", {"mask": lambda f, n: f.__setitem__(n, h5py.ExternalLink("secret.h5", "/kspace"))})
    return mat73(tmp / "cine_lax.mat", {"kus": cmrx_kspace(cine)})


def cmrx_huge(tmp: Path, cine: Path) -> Path:
    compound = np.dtype([("real", "<f4"), ("imag", "<f4")])
    return mat73(tmp / "huge.mat", {"kspace_full": lambda f, n: f.create_dataset(
        n, shape=(12, 2, 10**5, 512, 512), dtype=compound, chunks=(1, 1, 1, 64, 64))})


def cmrx_no_real_imag(tmp: Path, cine: Path) -> Path:
    odd = np.zeros((6, 1, 2, 32, 32), np.dtype([("left", "<f4"), ("right", "<f4")]))
    return mat73(tmp / "odd.mat", {"kspace_full": odd})


def npy_huge(tmp: Path) -> Path:
    path = tmp / "huge.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<c8", "fortran_order": False, "shape": HUGE})
        f.write(b"\0" * 64)
    return path


def npz_huge(tmp: Path) -> Path:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<c8", "fortran_order": False, "shape": HUGE})
    path = tmp / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("kspace.npy", header.getvalue() + b"\0" * 64)
    return path


def cut(path: Path, fraction: float = 0.5) -> Path:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * fraction)])
    return path


def npy_truncated(tmp: Path, cine: Path) -> Path:
    np.save(tmp / "cut.npy", template_arrays(cine)["kspace"])
    return cut(tmp / "cut.npy")


def npz_cut(tmp: Path, cine: Path) -> Path:
    np.savez_compressed(tmp / "cut.npz", kspace=template_arrays(cine)["kspace"])
    return cut(tmp / "cut.npz")


def mat5_cut(tmp: Path, cine: Path) -> Path:
    scipy.io.savemat(tmp / "cut.mat", {"kspace_full": cmrx_kspace(cine).T})
    return cut(tmp / "cut.mat")


def mat73_cut(tmp: Path, cine: Path) -> Path:
    return cut(mat73(tmp / "cut73.mat", {"kspace_full": cmrx_kspace(cine)}))


def magic(tmp: Path, name: str, head: bytes, size: int = 4000) -> Path:
    (tmp / name).write_bytes(head + np.random.default_rng(7).bytes(size))
    return tmp / name


def fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.h5")
    return tmp / "pipe.h5"


def dev_link(tmp: Path) -> Path:
    (tmp / "zero.h5").symlink_to("/dev/zero")
    return tmp / "zero.h5"


def text(values) -> np.ndarray:
    return np.array(values, dtype=h5py.string_dtype())


# ---------------------------------------------------------------- the refused files
# (id, build(tmp, cine) -> path, load options, words the message must hold, exit code of `stdm info` or
#  (code, words) where info stops at another problem: it lists the arrays of a file too big to load, and
#  only when listing is impossible (a truncated header) or loading fails with bad data does it exit 2)

REFUSED = [
    # the file points outside itself
    ("native-kspace-external-storage", lambda t, c: external_storage(t, c), [], ("outside the file",), 2),
    ("native-sens-external-storage", lambda t, c: external_storage(t, c, "sens"), [], ("outside the file",), 2),
    ("native-kspace-external-link", lambda t, c: external_link(t, c), [], ("external link",), 2),
    ("native-reference-external-link", lambda t, c: external_link(t, c, "reference"), [], ("external link",), 2),
    ("native-external-link-unused-group", lambda t, c: edit(c, lambda f: f.create_group("notes").__setitem__(
        "x", h5py.ExternalLink("/etc/hostname", "/"))), [], ("external link",), 2),
    ("native-kspace-soft-link-missing", lambda t, c: soft_link(c, "kspace", "/nowhere"), [], ("soft link",), 2),
    ("native-sens-soft-link-missing", lambda t, c: soft_link(c, "sens", "gone/away"), [], ("soft link",), 2),
    ("native-kspace-virtual", lambda t, c: virtual(t, c), [], ("virtual",), 2),
    ("fastmri-kspace-external-link", fastmri_link, ["--frames-axis", "0"], ("external link",), 2),
    ("fastmri-kspace-external-storage", fastmri_storage, ["--frames-axis", "0"], ("outside the file",), 2),
    ("ismrmrd-acquisitions-external-link", lambda t, c: ismrmrd_with(t, stolen_acquisitions), [],
     ("external link",), 2),
    ("cmrxrecon-kspace-external-link", cmrx_external, [], ("external link",), 2),
    ("cmrxrecon-sibling-mask-external-link", cmrx_sibling_mask_link, [], ("external link",), 0),
    # not a regular file
    ("fifo", lambda t, c: fifo(t), [], ("named pipe",), 2),
    ("dev-zero", lambda t, c: Path("/dev/zero"), [], ("character device",), 2),
    ("dev-null", lambda t, c: Path("/dev/null"), [], ("character device",), 2),
    ("symlink-to-dev-zero", lambda t, c: dev_link(t), [], ("character device",), 2),
    ("folder", lambda t, c: (t / "folder").mkdir() or t / "folder", [], ("folder",), 2),
    # declared sizes beyond memory
    ("native-kspace-huge", lambda t, c: edit(c, lambda f: replace(
        f, "kspace", shape=HUGE, dtype=np.complex64, chunks=(1, 1, 64, 64))), [], ("GB", "memory"), 2),
    ("native-reference-huge", lambda t, c: edit(c, lambda f: replace(
        f, "reference", shape=HUGE, dtype=np.complex64, chunks=(1, 1, 64, 64))), [], ("GB", "memory"), 2),
    ("fastmri-kspace-huge", lambda t, c: fastmri(t, c, create=dict(
        shape=(10**6, 4096, 4096), dtype=np.complex64, chunks=(1, 64, 64))), ["--frames-axis", "0"],
     ("GB", "memory"), 2),
    ("cmrxrecon-slice-huge", cmrx_huge, ["--slice", "0"], ("GB", "memory"), 2),
    ("ismrmrd-matrix-huge", lambda t, c: ismrmrd_with(t, huge_matrix), [], ("GB", "memory"), 2),
    ("npy-header-huge", lambda t, c: npy_huge(t), [], ("GB", "memory"), (2, ("truncated",))),
    ("npz-member-huge", lambda t, c: npz_huge(t), [], ("GB", "memory"), (2, ("truncated",))),
    # wrong kinds of object or data
    ("native-kspace-group", lambda t, c: edit(c, lambda f: (f.__delitem__("kspace"), f.create_group("kspace"))),
     [], ("group",), 0),
    ("native-kspace-strings", lambda t, c: edit(c, lambda f: replace(f, "kspace", data=text(["a"] * 8))),
     [], ("text",), 0),
    ("native-kspace-compound", lambda t, c: edit(c, lambda f: replace(
        f, "kspace", data=np.zeros((6, 2, 32, 32), [("a", "<f4"), ("b", "<i2")]))), [], ("compound",), 0),
    ("native-kspace-vlen", lambda t, c: edit(c, lambda f: replace(
        f, "kspace", shape=(6,), dtype=h5py.vlen_dtype(np.float32))), [], ("variable-length",), 0),
    ("native-kspace-empty-dataspace", lambda t, c: edit(c, lambda f: replace(
        f, "kspace", data=h5py.Empty("f4"))), [], ("without any values",), 0),
    ("native-mask-wrong-shape", lambda t, c: edit(c, lambda f: replace(f, "mask", data=np.ones((5, 32, 31), "u1"))),
     [], ("mask", "does not fit"), 2),
    ("native-mask-group", lambda t, c: edit(c, lambda f: f.create_group("mask")), [], ("mask", "group"), 0),
    ("native-mask-strings", lambda t, c: edit(c, lambda f: replace(f, "mask", data=text(["yes"] * 6))),
     [], ("mask", "text"), 0),
    ("native-reference-wrong-shape", lambda t, c: edit(c, lambda f: replace(
        f, "reference", data=np.ones((6, 32, 30), np.complex64))), [], ("reference",), 2),
    ("native-sens-wrong-shape", lambda t, c: edit(c, lambda f: replace(
        f, "sens", data=np.ones((3, 32, 32), np.complex64))), [], ("coil maps",), 2),
    ("cmrxrecon-compound-without-real-imag", cmrx_no_real_imag, [], ("compound",), 0),
    # truncated or corrupt
    ("native-truncated", lambda t, c: cut(c), [], ("cine.h5",), 2),
    ("npy-truncated", npy_truncated, [], ("truncated",), 2),
    ("npz-cut-in-half", npz_cut, [], ("npz",), 2),
    ("mat5-cut-in-half", mat5_cut, [], ("mat",), 0),
    ("mat73-cut-in-half", mat73_cut, [], ("cut73.mat",), 2),
    ("zero-byte-file", lambda t, c: magic(t, "empty.h5", b"", size=0), [], ("neither",), 2),
    ("random-with-hdf5-magic", lambda t, c: magic(t, "junk.h5", b"\x89HDF\r\n\x1a\n"), [], ("junk.h5",), 2),
    ("random-with-matlab-magic", lambda t, c: magic(t, "junk.mat", b"MATLAB 5.0 MAT-file".ljust(128)), [],
     ("junk.mat",), 2),
    ("random-with-npy-magic", lambda t, c: magic(t, "junk.npy", b"\x93NUMPY\x01\x00"), [], ("junk.npy",), 2),
    ("random-with-zip-magic", lambda t, c: magic(t, "junk.npz", b"PK\x03\x04"), [], ("junk.npz",), 2),
]

IDS = [case[0] for case in REFUSED]


@pytest.mark.parametrize("name, build, options, words, info", REFUSED, ids=IDS)
def test_recon_refuses(name, build, options, words, info, cine, tmp_path):
    path = build(tmp_path, cine)
    hostile(["recon", path, "--out", tmp_path / "out.h5", *QUICK, *options], tmp_path, words=words)


@pytest.mark.parametrize("name, build, options, words, info", REFUSED, ids=IDS)
def test_info_refuses_or_describes(name, build, options, words, info, cine, tmp_path):
    """`stdm info` says what it can: exit 2 and one line, or the file's arrays and why it is not a cine yet."""
    path = build(tmp_path, cine)
    code, words = info if isinstance(info, tuple) else (info, words)
    hostile(["info", path, *options], tmp_path, code=code, words=words if code else ())
    if code == 0:
        out = run_cli(["info", path, *options])[1]
        assert "not read as a cine yet" in out and any(word.lower() in out.lower() for word in words), out


@pytest.mark.parametrize("build", [lambda t, c: external_storage(t, c), lambda t, c: external_storage(t, c, "sens"),
                                   lambda t, c: external_link(t, c), lambda t, c: virtual(t, c)],
                         ids=["external-storage", "external-storage-sens", "external-link", "virtual"])
def test_foreign_bytes_reach_no_output(build, cine, tmp_path):
    path = build(tmp_path, cine)
    before = snapshot(tmp_path)
    for argv in (["recon", path, "--out", tmp_path / "out.h5", "--dicom", tmp_path / "dicom", *QUICK], ["info", path]):
        code, out, err = run_cli(argv)
        assert code == 2 and SECRET.decode() not in out + err
    assert snapshot(tmp_path) == before  # no result, no DICOM folder, no staging file
    with pytest.raises(FileFormatError):
        load(path)


def test_fifo_is_refused_without_opening(tmp_path):
    """A FIFO with no writer blocks open() forever; the check must come before it (the test would hang)."""
    path = fifo(tmp_path)
    with pytest.raises(FileFormatError, match="named pipe"):
        load(path)


# ---------------------------------------------------------------- metadata: dropped with a warning, or refused

BAD_META = [
    ("meta-extra-not-json", "meta_extra", "{not json", "meta_extra"),
    ("meta-extra-json-list", "meta_extra", "[1, 2, 3]", "meta_extra"),
    ("meta-extra-bad-orientation", "meta_extra", '{"image_orientation": "abc", "image_position": [0, 0, 0]}',
     "image_orientation"),
    ("meta-extra-bad-patient-position", "meta_extra", '{"patient_position": "UPSIDE-DOWN"}', "patient_position"),
    ("pixel-spacing-string", "pixel_spacing", "1.0\\1.0", "pixel_spacing"),
    ("pixel-spacing-three-values", "pixel_spacing", [1.0, 1.0, 1.0], "pixel_spacing"),
    ("pixel-spacing-nan", "pixel_spacing", [np.nan, 1.0], "pixel_spacing"),
    ("pixel-spacing-zero", "pixel_spacing", [0.0, 1.0], "pixel_spacing"),
    ("pixel-spacing-negative", "pixel_spacing", [-1.0, 1.0], "pixel_spacing"),
    ("slice-thickness-string", "slice_thickness", "thick", "slice_thickness"),
    ("slice-thickness-nan", "slice_thickness", np.nan, "slice_thickness"),
    ("slice-thickness-zero", "slice_thickness", 0.0, "slice_thickness"),
    ("rr-interval-negative", "rr_interval", -800.0, "rr_interval"),
    ("rr-interval-string", "rr_interval", "fast", "rr_interval"),
    ("frame-times-shorter", "frame_times", [0.0, 40.0, 80.0], "frame_times"),
    ("frame-times-longer", "frame_times", list(np.arange(9) * 40.0), "frame_times"),
    ("frame-times-not-increasing", "frame_times", [0.0, 40.0, 30.0, 120.0, 160.0, 200.0], "frame_times"),
    ("frame-times-nan", "frame_times", [0.0, 40.0, np.nan, 120.0, 160.0, 200.0], "frame_times"),
]


@pytest.mark.parametrize("name, attribute, value, words", BAD_META, ids=[case[0] for case in BAD_META])
def test_bad_metadata_is_dropped_with_a_warning(name, attribute, value, words, cine, tmp_path):
    edit(cine, lambda f: f.attrs.__setitem__(attribute, value))
    err = hostile(["recon", cine, "--out", tmp_path / "out.h5", "--dicom", tmp_path / "dicom", *QUICK], tmp_path,
                  code=0, new=("out.h5", "dicom"))
    assert f"stdm: warning: {cine}" in err and words in err
    assert len(list((tmp_path / "dicom").iterdir())) == 6  # one image per frame, whatever the file claimed
    hostile(["info", cine], tmp_path, code=0)


def test_dropped_metadata_is_absent_from_the_data(cine):
    edit(cine, lambda f: (f.attrs.__setitem__("frame_times", [0.0, 1.0]), f.attrs.__setitem__("pixel_spacing", "x")))
    with pytest.warns(UserWarning, match="frame_times has 2 values for 6 frames"):
        data = load(cine)
    assert data.meta.frame_times is None and data.meta.pixel_spacing is None
    assert data.meta.slice_thickness == 8.0  # the good fields stay


def test_validate_refuses_frame_times_that_do_not_match_the_frames(cine):
    data = load(cine)
    for times in ((0.0, 1.0), tuple(range(7)), (0.0, 1.0, 1.0, 2.0, 3.0, 4.0), (0, 1, 2, float("nan"), 4, 5)):
        with pytest.raises(DataError, match="frame_times"):
            CineData(kspace=data.kspace, meta=CineMeta(frame_times=times)).validate()
    with pytest.raises(DataError, match="pixel_spacing"):
        CineData(kspace=data.kspace, meta=CineMeta(pixel_spacing=(0.0, 1.0))).validate()


def test_a_hard_link_loop_is_walked_once(cine, tmp_path):
    """Self-contained oddities are fine: a group that contains itself, a soft link to an existing dataset."""
    def change(f):
        group = f.create_group("loop")
        group["again"] = group
        f["alias"] = h5py.SoftLink("/kspace")
    edit(cine, change)
    hostile(["recon", cine, "--out", tmp_path / "out.h5", *QUICK], tmp_path, code=0, new=("out.h5",))
