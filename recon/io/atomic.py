"""Write to a staging sibling, then rename: a crash or a cancel never leaves a half-written file."""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

from .outputs import STAGING, WRITTEN, clean_stale, remove, staging_name


@functools.cache
def new_file_mode() -> int:
    """The mode open() gives a new file: rw for all, less the process's umask (read once: reading it means setting
    it, which other threads writing files meanwhile would see)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | Path, overwrite: bool = True):
    """Yield a staging path next to `path`; on success it replaces `path`, on error it is removed. Leftovers of
    killed runs writing the same `path` are cleaned up first."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name or allow overwriting")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    tmp = staging_name(path, "part")
    try:
        yield tmp
        if tmp.is_file():
            os.chmod(tmp, new_file_mode())  # some writers (safetensors) create their files readable by the owner only
        os.replace(tmp, path)
    except OSError as exc:
        exc.filename = exc.filename or str(path)  # a write() error names no file; say which output failed
        raise
    else:
        if not STAGING.match(path.name) and path not in WRITTEN:  # a plan's staging file: when the plan commits
            WRITTEN.append(path)  # (training rewrites its checkpoint: once in the list)
    finally:
        remove(tmp)
