"""Run `stdm` the way a careless or hostile user would and check the promises of docs/ROBUSTNESS.md.

`hostile(argv, root)` calls the CLI in-process and asserts: the expected exit code, no traceback, a short message
naming the problem, every file under `root` that existed before is byte-identical afterwards (inputs, earlier
results), and no new file appears unless the case expects it (no partial outputs, no staging leftovers).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import traceback
from pathlib import Path

import pytest

from recon.cli import main


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> content hash of every regular file under root, hidden ones included."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[str(path.relative_to(root))] = "special"
        for name in dirs:
            found[str(Path(folder, name).relative_to(root)) + "/"] = "dir"
    return found


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
        except BaseException:  # noqa: BLE001 - any escape is a traceback the user would see
            pytest.fail(f"stdm {' '.join(map(str, argv))} raised instead of exiting:\n{traceback.format_exc()}")
    return code, out.getvalue(), err.getvalue()


def hostile(argv: list, root: Path, *, code: int = 2, words: tuple[str, ...] = (),
            new: tuple[str, ...] = ()) -> str:
    """Run `stdm argv` with `root` as the only folder it may touch; return stderr.

    code: expected exit code; words: each must appear (case-insensitive) in the error message;
    new: relative paths the run may create (only for runs that succeed).
    """
    before = snapshot(root)
    rc, _, err = run_cli(argv)
    after = snapshot(root)
    assert rc == code, f"exit {rc}, expected {code}; stderr: {err}"
    assert "Traceback" not in err, err
    message = [line for line in err.splitlines() if line.startswith("stdm:") and "warning" not in line]
    if code != 0:
        assert message or "usage:" in err, f"no one-line message on stderr: {err!r}"
        assert len(message) <= 1, f"more than one error line: {err!r}"
    for word in words:
        assert word.lower() in err.lower(), f"{word!r} not in {err!r}"
    changed = sorted(p for p, digest in before.items() if after.get(p) != digest)
    assert not changed, f"files changed or removed: {changed}"
    created = sorted(set(after) - set(before) - {n for n in new} - {n + "/" for n in new})
    created = [p for p in created if not any(p.startswith(n.rstrip("/") + "/") for n in new)]
    assert not created, f"unexpected new files: {created}"
    return err
