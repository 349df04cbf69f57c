import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from recon.cli import main
from recon.io import read_result


@pytest.fixture(scope="module")
def cine_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "cine.h5"
    assert main(["simulate", str(path), "--frames", "6", "--size", "64", "--coils", "4", "--seed", "11"]) == 0
    return path


def test_simulate_info_and_methods(cine_file, capsys):
    with h5py.File(cine_file) as f:
        assert f["kspace"].shape == (6, 4, 64, 64) and "reference" in f and "sens" not in f
    assert main(["info", str(cine_file)]) == 0
    out = capsys.readouterr().out
    assert "frames       6" in out and "coils        4" in out
    assert main(["methods"]) == 0
    assert "--lambda-l" in capsys.readouterr().out


def test_recon_writes_result_png_and_metrics(cine_file, tmp_path, capsys):
    out, png, js = tmp_path / "r.h5", tmp_path / "r.png", tmp_path / "r.json"
    code = main(["recon", str(cine_file), "--method", "lps", "--iterations", "7", "--mask", "kt-gaussian",
                 "--accel", "4", "--out", str(out), "--png", str(png), "--json", str(js), "--quiet"])
    assert code == 0
    assert "PSNR" in capsys.readouterr().out
    data, image, info = read_result(out)
    assert image.shape == (6, 64, 64) and info["parameters"]["iterations"] == 7
    assert info["mask"]["kind"] == "kt-gaussian" and info["metrics"]["psnr"] > 15
    assert data.mask is not None and data.reference is not None
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(js.read_text())["method"] == "lps"


@pytest.mark.parametrize("args, words", [
    (["recon", "missing.h5"], "does not exist"),
    (["recon", "CINE", "--method", "magic"], "unknown method"),
    (["recon", "CINE", "--accel", "100"], "larger than"),
    (["recon", "CINE", "--mask", "file"], "no mask"),
    (["recon", "CINE", "--sens", "file"], "coil maps"),
])
def test_bad_input_exits_2_with_one_line(cine_file, tmp_path, capsys, args, words):
    args = [str(cine_file) if a == "CINE" else a for a in args]
    assert main(args + ["--out", str(tmp_path / "x.h5"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.h5").exists()


def test_console_script_reports_errors_without_traceback(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    done = subprocess.run([sys.executable, "-m", "recon.cli", "info", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "neither HDF5" in done.stderr


def test_nan_kspace_file_is_refused(tmp_path, cine_file):
    with h5py.File(cine_file) as f, h5py.File(tmp_path / "nan.h5", "w") as g:
        k = f["kspace"][()]
        k[0, 0, 0, 0] = np.nan
        g["kspace"] = k
    assert main(["info", str(tmp_path / "nan.h5")]) == 2


def test_diffusion_recon_from_the_command_line_with_uncertainty(cine_file, tmp_path, tiny_model):
    import h5py

    out = tmp_path / "d.h5"
    assert main(["recon", str(cine_file), "--method", "dstdm", "--model", str(tiny_model), "--steps", "2",
                 "--samples", "2", "--method-seed", "3", "--seed", "1", "--mask", "kt-gaussian", "--accel", "4",
                 "--out", str(out), "--quiet"]) == 0
    with h5py.File(out) as f:
        assert f["uncertainty"].shape == (6, 64, 64)
    _, _, info = read_result(out)
    assert info["parameters"]["seed"] == 3 and info["mask"]["seed"] == 1
