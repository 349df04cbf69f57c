"""Errors a user can act on. Every message says what was found and what to do about it."""


class ReconError(Exception):
    """Base class: bad input or a run that cannot go on. The CLI prints it as one line (exit code 2)."""


class DataError(ReconError):
    """The data (k-space, mask, reference, coil maps) does not fit what the engine expects."""


class FileFormatError(ReconError):
    """A file is missing, unreadable, or not laid out as expected."""


class MaskError(ReconError):
    """A sampling mask cannot be built or does not fit the data."""


class MethodError(ReconError):
    """Unknown method, bad parameter, or a method that cannot run here."""


class Cancelled(ReconError):
    """A run was stopped by the user before it finished; nothing was written."""
