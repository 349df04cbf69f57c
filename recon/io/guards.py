"""Checks made before a reader touches a file's bytes: is it a plain file, and does what it declares fit in memory."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

from ..errors import DataError, FileFormatError

GB = 1e9


def regular_file(path: Path) -> Path:
    """Refuse folders, pipes, devices and sockets before they are opened (a FIFO would block forever)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileFormatError(f"{path} does not exist; check the path.") from None
    except OSError as exc:
        raise FileFormatError(f"{path} cannot be examined ({exc.strerror}); check the path and permissions.") from None
    if stat.S_ISREG(mode):
        if not os.access(path, os.R_OK):
            raise FileFormatError(f"{path} is not readable by you; check its permissions.")
        return path
    if stat.S_ISDIR(mode):
        raise FileFormatError(f"{path} is a folder; give the k-space file inside it.")
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else
            "a character device" if stat.S_ISCHR(mode) else
            "a block device" if stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise FileFormatError(f"{path} is {kind}, not a k-space file; give a regular file saved on disk.")


def available_bytes() -> int:
    """Memory this process can still take without swapping (psutil when installed, else free pages)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def nbytes(shape, itemsize: int) -> int:
    return math.prod(int(n) for n in shape) * int(itemsize)


def check_fits(shape, itemsize: int, what: str) -> None:
    """Refuse an array whose declared size exceeds the available memory, before anything is allocated."""
    size, free = nbytes(shape, itemsize), available_bytes()
    if size > free:
        raise DataError(f"{what} declares shape {tuple(int(n) for n in shape)}, {size / GB:.3g} GB in memory, but "
                        f"only {free / GB:.3g} GB of memory is available; read one slice (--slice), crop the data, "
                        "or use a machine with more memory.")
