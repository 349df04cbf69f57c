"""Outputs that would destroy inputs or each other, DICOM folders holding other files, failures and cancels while
writing, stale staging files of killed runs. Every case: exit code, one line, inputs byte-identical, nothing stray."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recon.io.dicom import write_series
from recon.io.outputs import OutputPlan, clean_stale
from recon.phantom import simulate_cine

from .conftest import QUICK
from .harness import hostile, run_cli, snapshot


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def own_series(folder: Path) -> Path:
    folder.mkdir()
    write_series(simulate_cine(frames=3, size=16, coils=1, seed=1, snr=None).reference, simulate_cine(
        frames=3, size=16, coils=1, seed=1).meta, folder, method="earlier")
    return folder


def recon(cine, *extra):
    return ["recon", cine, *QUICK, *extra]


# (case id, extra arguments with {in}/{dir} placeholders, words expected in the message)
CLASHES = [
    ("out-is-input", ["--out", "{in}"], ["input of this run"]),
    ("out-is-input-other-spelling", ["--out", "{dir}/sub/../cine.h5"], ["input of this run"]),
    ("json-is-input", ["--out", "{dir}/r.h5", "--json", "{in}"], ["input of this run"]),
    ("png-is-input", ["--out", "{dir}/r.h5", "--png", "{in}"], ["input of this run"]),
    ("png-is-out", ["--out", "{dir}/r.h5", "--png", "{dir}/r.h5"], ["also the run's --out"]),
    ("json-is-out", ["--out", "{dir}/r.h5", "--json", "{dir}/r.h5"], ["also the run's --out"]),
    ("json-is-png", ["--out", "{dir}/r.h5", "--png", "{dir}/p", "--json", "{dir}/p"], ["also the run's --png"]),
    ("dicom-holds-input", ["--out", "{dir}/r.h5", "--dicom", "{dir}", "--overwrite"], ["holds"]),
    ("dicom-is-input-file", ["--out", "{dir}/r.h5", "--dicom", "{in}"], ["input of this run"]),
    ("dicom-holds-out", ["--out", "{dir}/d/r.h5", "--dicom", "{dir}/d"], ["reads or writes"]),
    ("out-is-folder", ["--out", "{dir}"], ["folder"]),
    ("out-is-dev-full", ["--out", "/dev/full"], ["not a regular file"]),
    ("out-is-dev-null", ["--out", "/dev/null"], ["not a regular file"]),
    ("out-parent-is-file", ["--out", "{in}/r.h5"], ["is a file, not a folder"]),
    ("png-parent-is-file", ["--out", "{dir}/r.h5", "--png", "{in}/p.png"], ["is a file, not a folder"]),
]


@pytest.mark.parametrize("extra, words", [c[1:] for c in CLASHES], ids=[c[0] for c in CLASHES])
def test_output_that_would_destroy_an_input_or_another_output_is_refused(cine, tmp_path, extra, words):
    (tmp_path / "sub").mkdir()
    extra = [a.format(**{"in": cine, "dir": tmp_path}) for a in extra]
    hostile(recon(cine, *extra), tmp_path, words=tuple(words))


def test_output_through_a_symlink_or_hard_link_to_the_input_is_refused(cine, tmp_path):
    os.symlink(cine, tmp_path / "alias.h5")
    os.link(cine, tmp_path / "hard.h5")
    hostile(recon(cine, "--out", tmp_path / "alias.h5"), tmp_path, words=("input of this run",))
    hostile(recon(cine, "--out", tmp_path / "hard.h5"), tmp_path, words=("input of this run",))


def test_model_file_is_an_input_too(cine, tmp_path, tiny_model):
    model = Path(tmp_path / "m.safetensors")
    model.write_bytes(Path(tiny_model).read_bytes())
    hostile(["recon", cine, "--method", "dstdm", "--model", model, "--out", model, "--quiet"], tmp_path,
            words=("input of this run",))


def test_export_refuses_to_write_into_or_over_its_result(cine, tmp_path):
    hostile(recon(cine, "--out", tmp_path / "r.h5"), tmp_path, code=0, new=("r.h5",))
    hostile(["export", tmp_path / "r.h5", "--dicom", tmp_path, "--overwrite"], tmp_path, words=("holds",))
    hostile(["export", tmp_path / "r.h5", "--dicom", tmp_path / "r.h5"], tmp_path, words=("input of this run",))


def foreign_document(folder: Path) -> None:
    folder.mkdir()
    (folder / "notes.txt").write_text("my thesis")


def own_series_plus_document(folder: Path) -> None:
    own_series(folder)
    (folder / "notes.txt").write_text("my thesis")


def other_vendor_dicom(folder: Path) -> None:
    own_series(folder)
    path = folder / "IM0001.dcm"
    path.write_bytes(path.read_bytes().replace(b"napari-stdm (research reconstruction)",
                                               b"ScannerVendor console export  (MR)  "))


def own_series_plus_subfolder(folder: Path) -> None:
    own_series(folder)
    (folder / "keep").mkdir()


def truncated_own_file(folder: Path) -> None:
    own_series(folder)
    (folder / "IM0002.dcm").write_bytes(b"\0" * 10)


@pytest.mark.parametrize("fill", [foreign_document, own_series_plus_document, other_vendor_dicom,
                                  own_series_plus_subfolder, truncated_own_file])
def test_overwrite_replaces_only_a_series_this_tool_wrote(cine, tmp_path, fill):
    fill(tmp_path / "dicom")
    hostile(recon(cine, "--out", tmp_path / "r.h5", "--dicom", tmp_path / "dicom", "--overwrite"), tmp_path,
            words=("not replaced",))


def test_existing_folder_without_overwrite_is_refused_before_the_run(cine, tmp_path):
    own_series(tmp_path / "dicom")
    hostile(recon(cine, "--out", tmp_path / "r.h5", "--dicom", tmp_path / "dicom"), tmp_path,
            words=("--overwrite",))


def test_overwrite_of_own_series_replaces_it_whole(cine, tmp_path):
    own_series(tmp_path / "dicom")
    assert run_cli(recon(cine, "--out", tmp_path / "r.h5", "--dicom", tmp_path / "dicom", "--overwrite"))[0] == 0
    assert sorted(snapshot(tmp_path / "dicom")) == [f"IM{i:04d}.dcm" for i in range(1, 7)]  # 6 frames, not 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_output_folders_are_created(cine, tmp_path):
    hostile(recon(cine, "--out", tmp_path / "a" / "r.h5", "--json", tmp_path / "b" / "c" / "r.json"), tmp_path,
            code=0, new=("a", "b"))


def test_stale_staging_of_killed_runs_is_cleaned_and_a_moved_aside_result_restored(cine, tmp_path):
    pid = dead_pid()
    (tmp_path / f".r.h5.stdm-{pid}-ab12.part").write_bytes(b"half")
    (tmp_path / f".r.json.stdm-{pid}-ab12.old").write_text("the earlier result")  # killed mid-commit
    (tmp_path / f".dicom.stdm-{pid}-ab12.stage").mkdir()
    (tmp_path / f".dicom.old-{pid}").mkdir()  # what replace_dir left before output plans
    own_series(tmp_path / "dicom")
    live = tmp_path / f".r.h5.stdm-{os.getpid()}-ab12.part"
    live.write_bytes(b"a run still going")
    for target in ("r.h5", "r.json", "dicom"):
        clean_stale(tmp_path / target)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["cine.h5", "dicom", "r.json", live.name]), names
    assert (tmp_path / "r.json").read_text() == "the earlier result"


def test_all_outputs_or_none_when_a_writer_fails(cine, tmp_path, monkeypatch):
    def broken(path, *args, **kwargs):
        Path(path).write_bytes(b"partial")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("recon.preview.save_preview", broken)
    err = hostile(recon(cine, "--out", tmp_path / "r.h5", "--png", tmp_path / "r.png", "--json", tmp_path / "r.json",
                        "--dicom", tmp_path / "dicom"), tmp_path, code=1, words=("no space", "nothing was written"))
    assert "r.png" in err


@pytest.mark.parametrize("where", ["recon.pipeline.reconstruct", "recon.io.write_result"])
def test_ctrl_c_during_the_run_or_the_writing_leaves_nothing(cine, tmp_path, monkeypatch, where):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(where, interrupted)
    hostile(recon(cine, "--out", tmp_path / "r.h5", "--json", tmp_path / "r.json"), tmp_path, code=130,
            words=("cancelled", "nothing was written"))


def test_commit_that_fails_halfway_puts_every_earlier_file_back(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"old {name}")
    plan = OutputPlan()
    a, b = plan.file(tmp_path / "a.txt", "a"), plan.file(tmp_path / "b.txt", "b")
    with pytest.raises(FileNotFoundError):
        with plan.staged():
            plan.path(a).write_text("new a")  # b's staged file never appears: its rename fails
    assert (tmp_path / "a.txt").read_text() == "old a.txt" and (tmp_path / "b.txt").read_text() == "old b.txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_result_with_nan_is_refused_and_nothing_written(cine, tmp_path, monkeypatch):
    import numpy as np

    from recon.methods.zero_filled import ZeroFilled

    original = ZeroFilled.iterate

    def poisoned(self, problem):
        for it in original(self, problem):
            it.image[0, 0, 0] = np.nan
            yield it

    monkeypatch.setattr(ZeroFilled, "iterate", poisoned)
    hostile(recon(cine, "--out", tmp_path / "r.h5"), tmp_path, words=("NaN", "nothing was written"))


def test_metrics_of_a_nan_image_are_nan_not_inf():
    import numpy as np

    from recon.metrics import all_metrics

    reference = np.ones((2, 8, 8), np.complex64)
    image = np.full_like(reference, np.nan)
    assert all(np.isnan(v) for v in all_metrics(image, reference).values())


NUMBERS = [
    ("accel-nan", ["recon", "{in}", "--accel", "nan"]), ("accel-inf", ["recon", "{in}", "--accel", "inf"]),
    ("accel-negative", ["recon", "{in}", "--accel", "-2"]), ("accel-below-1", ["recon", "{in}", "--accel", "0.5"]),
    ("accel-text", ["recon", "{in}", "--accel", "fast"]), ("accel-eff-nan", ["recon", "{in}", "--accel-eff", "nan"]),
    ("acs-negative", ["recon", "{in}", "--acs", "-1"]), ("acs-fraction", ["recon", "{in}", "--acs", "2.5"]),
    ("seed-negative", ["recon", "{in}", "--seed", "-1"]), ("seed-huge", ["recon", "{in}", "--seed", str(2**40)]),
    ("slice-negative", ["recon", "{in}", "--slice", "-1"]),
    ("spacing-nan", ["recon", "{in}", "--spacing", "nan"]), ("spacing-zero", ["recon", "{in}", "--spacing", "0"]),
    ("spacing-negative", ["recon", "{in}", "--spacing", "-1"]), ("spacing-inf", ["recon", "{in}", "--spacing", "inf"]),
    ("lambda-nan", ["recon", "{in}", "--method", "lps", "--lambda-l", "nan"]),
    ("iterations-negative", ["recon", "{in}", "--method", "lps", "--iterations", "-3"]),
    ("sigma-start-nan", ["recon", "{in}", "--method", "dstdm", "--sigma-start", "nan"]),
    ("dc-weight-inf", ["recon", "{in}", "--method", "dstdm", "--dc-weight", "inf"]),
    ("export-spacing-nan", ["export", "{in}", "--dicom", "{dir}/d", "--spacing", "nan"]),
    ("simulate-frames-0", ["simulate", "{dir}/s.h5", "--frames", "0"]),
    ("simulate-frames-1", ["simulate", "{dir}/s.h5", "--frames", "1"]),
    ("simulate-size-0", ["simulate", "{dir}/s.h5", "--size", "0"]),
    ("simulate-coils-0", ["simulate", "{dir}/s.h5", "--coils", "0"]),
    ("simulate-snr-nan", ["simulate", "{dir}/s.h5", "--snr", "nan"]),
    ("simulate-snr-negative", ["simulate", "{dir}/s.h5", "--snr", "-5"]),
    ("simulate-seed-negative", ["simulate", "{dir}/s.h5", "--seed", "-1"]),
    ("simulate-count-0", ["simulate", "{dir}/s", "--count", "0"]),
    ("simulate-breathing-inf", ["simulate", "{dir}/s.h5", "--breathing", "inf"]),
    ("train-lr-nan", ["train", "--data", "{dir}", "--out", "{dir}/m.safetensors", "--lr", "nan"]),
    ("train-lr-zero", ["train", "--data", "{dir}", "--out", "{dir}/m.safetensors", "--lr", "0"]),
    ("train-steps-0", ["train", "--data", "{dir}", "--out", "{dir}/m.safetensors", "--steps", "0"]),
    ("train-batch-negative", ["train", "--data", "{dir}", "--out", "{dir}/m.safetensors", "--batch", "-4"]),
    ("train-sigma-max-nan", ["train", "--data", "{dir}", "--out", "{dir}/m.safetensors", "--sigma-max", "nan"]),
    ("train-threads-0", ["train", "--data", "{dir}", "--out", "{dir}/m.safetensors", "--threads", "0"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in NUMBERS], ids=[c[0] for c in NUMBERS])
def test_non_finite_or_out_of_range_numbers_are_refused_before_anything_runs(cine, tmp_path, argv):
    argv = [a.format(**{"in": cine, "dir": tmp_path}) for a in argv]
    hostile(argv + (["--quiet"] if argv[0] == "recon" else []), tmp_path)


def test_simulate_onto_a_folder_or_a_folder_onto_a_file_is_refused(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("keep")
    hostile(["simulate", tmp_path / "folder", "--size", "16", "--frames", "2"], tmp_path, words=("folder",))
    hostile(["simulate", tmp_path / "file", "--count", "2", "--size", "16"], tmp_path, words=("is a file",))


def test_train_out_that_is_a_training_source_is_refused(tmp_path):
    source = tmp_path / "cines.npy"
    source.write_bytes(b"\x93NUMPY not really")
    hostile(["train", "--data", f"{source}:2", "--out", source], tmp_path, words=("input of this run",))


def test_train_out_inside_a_training_folder_is_refused(tmp_path):
    from recon.io import write_native
    from recon.phantom import simulate_cine

    folder = tmp_path / "cines"
    folder.mkdir()
    write_native(folder / "good.h5", simulate_cine(frames=4, size=16, coils=1, seed=10001, snr=None))
    hostile(["train", "--data", folder, "--out", folder / "good.h5", "--preset", "tiny"], tmp_path,
            words=("inside", "a folder this run reads"))
    hostile(["train", "--data", folder, "--out", folder / "new.safetensors", "--preset", "tiny"], tmp_path,
            words=("inside",))


def test_simulate_count_makes_a_folder_even_for_one_and_vary_needs_it(tmp_path):
    hostile(["simulate", tmp_path / "one", "--count", "1", "--size", "16", "--frames", "2"], tmp_path, code=0,
            new=("one",))
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["phantom_0.h5"]
    hostile(["simulate", tmp_path / "v.h5", "--vary", "--size", "16", "--frames", "2"], tmp_path,
            words=("--count",))


def test_concurrent_overwrites_of_one_folder_end_with_one_whole_series(cine, tmp_path):
    hostile(recon(cine, "--out", tmp_path / "r.h5"), tmp_path, code=0, new=("r.h5",))
    command = [sys.executable, "-m", "recon.cli", "export", str(tmp_path / "r.h5"), "--dicom", str(tmp_path / "d"),
               "--overwrite"]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [run.communicate()[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], errors
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [f"IM{i:04d}.dcm" for i in range(1, 7)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cine.h5", "d", "r.h5"]


def start(argv: list, before=None) -> subprocess.Popen:
    """`stdm ARGV` as a child that takes Ctrl-C as a terminal would give it: a job started with `&` by a
    non-interactive shell (CI launched in the background) inherits SIGINT ignored, and Python keeps it ignored.
    `before`: more to do in the child before it runs."""
    import signal

    def prepare_child():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if before is not None:
            before()

    stdm = Path(sys.executable).with_name("stdm")
    return subprocess.Popen([str(stdm), *map(str, argv)], stderr=subprocess.PIPE, text=True, preexec_fn=prepare_child)


def test_ctrl_c_while_starting_is_one_line(tmp_path):
    import signal
    import time

    cine = tmp_path / "x.h5"
    from recon.io import write_native

    write_native(cine, simulate_cine(frames=16, size=96, coils=6, seed=3))
    # a long run, so the signal comes while it starts (imports, > 1 s) or, on a fast machine, while it runs: both
    # are one "stdm: cancelled" line and exit 130 (an 'info' on a missing file could finish before the signal)
    run = start(["recon", cine, "--method", "lps", "--iterations", "1000", "--tolerance", "0",
                 "--out", tmp_path / "r.h5"])
    time.sleep(0.3)
    run.send_signal(signal.SIGINT)
    err = run.communicate(timeout=300)[1]  # a lost signal fails, never hangs CI
    assert run.returncode == 130 and "Traceback" not in err and err.strip().startswith("stdm: cancelled"), err
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["x.h5"], (left, err)


def test_sigterm_during_a_run_removes_its_staging_files(tmp_path):
    import signal
    import time

    cine = tmp_path / "big.h5"
    from recon.io import write_native

    write_native(cine, simulate_cine(frames=16, size=96, coils=6, seed=3))
    before = snapshot(tmp_path)
    run = start(["recon", cine, "--method", "lps", "--iterations", "1000", "--tolerance", "0",
                 "--out", tmp_path / "r.h5", "--dicom", tmp_path / "d"])
    time.sleep(8)  # mid-run: 1000 L+S iterations without early stop take > 30 s (a SIGTERM while importing is 143 too)
    run.send_signal(signal.SIGTERM)
    err = run.communicate(timeout=300)[1]  # a lost signal fails, never hangs CI
    assert run.returncode == 143 and "Traceback" not in err and "nothing was written" in err, err
    assert snapshot(tmp_path) == before


def file_size_limit():
    """In the child: writes past 1 MB fail with EFBIG, as on a full disk (but without needing root or a mount)."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


@pytest.mark.parametrize("argv", [
    ["simulate", "{dir}/s.h5", "--size", "128", "--frames", "12"],
    ["recon", "{big}", "--method", "zero-filled", "--out", "{dir}/r.h5", "--quiet"],
    ["recon", "{big}", "--method", "zero-filled", "--out", "{dir}/small.h5", "--quiet", "--dicom", "{dir}/d",
     "--json", "{dir}/r.json"],
], ids=["simulate", "recon", "recon-with-dicom"])
def test_full_disk_while_writing_is_one_line_and_leaves_nothing(tmp_path, argv):
    big = tmp_path / "big.h5"
    from recon.io import write_native

    write_native(big, simulate_cine(frames=12, size=128, coils=1, seed=3))
    before = snapshot(tmp_path)
    run = start([a.format(dir=tmp_path, big=big) for a in argv], before=file_size_limit)
    err = run.communicate(timeout=300)[1]  # a lost signal fails, never hangs CI
    assert run.returncode == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "nothing was written" in err and "too large" in err.lower()
    assert snapshot(tmp_path) == before
