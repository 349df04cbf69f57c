import shutil
import subprocess
import sys
from importlib import metadata, resources


def test_npe2_manifest_is_valid():
    npe2 = shutil.which("npe2") or str(__import__("pathlib").Path(sys.executable).with_name("npe2"))
    out = subprocess.run([npe2, "validate", "napari-stdm"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid" in out.stdout


def test_console_script_and_entry_point_are_declared():
    eps = metadata.entry_points()
    assert any(ep.name == "stdm" for ep in eps.select(group="console_scripts"))
    assert any(ep.value == "napari_stdm:napari.yaml" for ep in eps.select(group="napari.manifest"))


def test_real_cine_ships_with_the_package():
    assert resources.files("sample_data").joinpath("giraf_sax_cine_data25.mat").is_file()
