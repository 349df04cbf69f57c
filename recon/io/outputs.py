"""All the files one run writes, checked before the run and committed together after it.

A plan refuses an output that resolves to an input, to another output of the same run, to something that is not a
regular file (a folder, /dev/full, a FIFO) or into a folder it cannot write, before any work is done. Outputs are
written to staging names beside their targets and renamed into place together under a lock on each parent folder;
if any step fails, every target is left as it was. Staging names carry the writer's PID, so leftovers of a killed
run are recognised and removed (or, for a target moved aside mid-commit, put back) by the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..errors import ReconError

STAGING = re.compile(r"^\.(?P<name>.+)\.stdm-(?P<pid>\d+)-[0-9a-f]+\.(?P<kind>part|stage|old)$")
LEGACY_OLD_DIR = re.compile(r"^\.(?P<name>.+)\.old-(?P<pid>\d+)$")  # what replace_dir left before plans existed
WRITTEN: list[Path] = []  # what this process has committed, so an error or a cancel can say what exists


class OutputError(ReconError):
    """An output path would overwrite an input or another output, or cannot be written."""


def resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)  # hard links and bind mounts
    except OSError:
        return False


def staging_name(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.stdm-{os.getpid()}-{secrets.token_hex(4)}.{kind}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clean_stale(target: Path) -> None:
    """Remove staging leftovers of `target` from runs that are no longer alive; a target moved aside by a run killed
    mid-commit is put back rather than deleted."""
    folder = target.parent
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        match = STAGING.match(entry.name) or LEGACY_OLD_DIR.match(entry.name)
        if not match or match["name"] != target.name or alive(int(match["pid"])):
            continue
        is_old = match.groupdict().get("kind", "old") == "old"
        if is_old and not target.exists():
            os.rename(entry, target)
        else:
            remove(entry)


def nearest_existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def check_writable_parent(target: Path, what: str) -> None:
    anchor = nearest_existing(target.parent)
    if not anchor.is_dir():
        raise OutputError(f"{what} {target}: {anchor} is a file, not a folder; choose another path.")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {target}: cannot write in {anchor} (permission denied); choose a folder you can "
                          "write to.")


@dataclass
class Output:
    target: Path
    what: str  # how the user named it, e.g. "--png"
    folder: bool = False
    replaceable: Callable[[Path], str | None] | None = None  # for folders: why it must not be replaced, or None
    staged: Path | None = None


@dataclass
class OutputPlan:
    """Inputs of a run (never written) and its outputs (checked on `add`, written with `staged()`)."""

    inputs: list[Path] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    @classmethod
    def for_inputs(cls, paths: Iterable[str | Path | None]) -> "OutputPlan":
        return cls(inputs=[resolved(p) for p in paths if p and Path(p).exists()])

    def file(self, path: str | Path, what: str) -> Path:
        """Plan a file output; returns its resolved target."""
        target = self.check_new(path, what)
        if target.exists() and not target.is_file():
            kind = "a folder" if target.is_dir() else "not a regular file"
            raise OutputError(f"{what} {path} is {kind}; give a file name.")
        self.outputs.append(Output(target, what))
        return target

    def folder(self, path: str | Path, what: str, overwrite: bool,
               replaceable: Callable[[Path], str | None]) -> Path:
        """Plan a folder output replaced as a whole. `replaceable(folder)` says why an existing, non-empty folder
        must not be replaced (None: it may be, with `overwrite`)."""
        target = self.check_new(path, what)
        if target.exists() and not target.is_dir():
            raise OutputError(f"{what} {path} is a file, not a folder; give a new or empty folder.")
        for other in self.inputs + [o.target for o in self.outputs]:
            if target in other.parents:
                raise OutputError(f"{what} {path} holds {other}, which this run reads or writes; choose another "
                                  "folder.")
        output = Output(target, what, folder=True, replaceable=replaceable)
        self.check_replaceable(output, overwrite)
        self.outputs.append(output)
        return target

    def check_new(self, path: str | Path, what: str) -> Path:
        target = resolved(path)
        for source in self.inputs:
            if same_file(target, source):
                raise OutputError(f"{what} {path} is an input of this run; writing it would destroy the data. "
                                  "Choose another name.")
            if source.is_dir() and source in target.parents:
                raise OutputError(f"{what} {path} is inside {source}, a folder this run reads; writing there could "
                                  "replace its data or be read as data next time. Choose a path outside it.")
        for other in self.outputs:
            if same_file(target, other.target) or (other.folder and other.target in target.parents):
                raise OutputError(f"{what} {path} is also the run's {other.what} output; give each output its own "
                                  "name.")
        check_writable_parent(target, what)
        return target

    @staticmethod
    def check_replaceable(output: Output, overwrite: bool) -> None:
        target = output.target
        if not target.is_dir() or not any(target.iterdir()):
            return
        if not overwrite:
            raise OutputError(f"{output.what} {target} already holds files; choose a new or empty folder "
                              "(or, in `stdm`, add --overwrite).")
        reason = output.replaceable(target)
        if reason:
            raise OutputError(f"{output.what} {target} is not replaced: {reason}. Only a series this tool wrote is "
                              "overwritten; choose a new or empty folder.")

    def path(self, target: Path) -> Path:
        """Where to write `target` inside `staged()`."""
        for output in self.outputs:
            if output.target == target and output.staged is not None:
                return output.staged
        raise KeyError(f"{target} is not a planned output, or staging has not begun")

    @contextlib.contextmanager
    def staged(self):
        """Inside: write each output to `plan.path(target)`. On normal exit all are committed; otherwise none."""
        for output in self.outputs:
            output.target.parent.mkdir(parents=True, exist_ok=True)
            clean_stale(output.target)
            output.staged = staging_name(output.target, "stage" if output.folder else "part")
            if output.folder:
                output.staged.mkdir()
        try:
            yield self
            self.commit()
        finally:
            for output in self.outputs:
                if output.staged is not None:
                    remove(output.staged)
                    output.staged = None

    def commit(self) -> None:
        """Rename every staged output into place; on any failure restore what was there before."""
        with folder_locks({o.target.parent for o in self.outputs}):
            for output in self.outputs:
                if output.folder:
                    self.check_replaceable(output, overwrite=True)  # again: another process may have written there
            moved_aside, placed = [], []
            try:
                for output in self.outputs:
                    if output.target.exists():
                        aside = staging_name(output.target, "old")
                        os.rename(output.target, aside)
                        moved_aside.append((aside, output.target))
                    os.rename(output.staged, output.target)
                    output.staged = None
                    placed.append(output.target)
            except BaseException:
                for target in placed:
                    remove(target)
                for aside, target in moved_aside:
                    os.rename(aside, target)
                raise
            for aside, _ in moved_aside:
                remove(aside)
        self.written = placed
        WRITTEN.extend(placed)


@contextlib.contextmanager
def folder_locks(folders: Iterable[Path]):
    """Exclusive flock on each folder (sorted, so two runs never wait on each other crosswise)."""
    with contextlib.ExitStack() as stack:
        for folder in sorted(folders):
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            stack.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
