"""The `stdm` console script. It imports nothing heavy itself, so a Ctrl-C or SIGTERM while torch and friends load
ends with one line and exit code 130 / 143 instead of a traceback."""

from __future__ import annotations

import signal
import sys


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is so that staging files are removed on the way out."""


def on_sigterm(signum, frame) -> None:
    raise Terminated()


def main() -> int:
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        from .cli import main as run
    except Terminated:
        print("stdm: terminated while starting; nothing was written", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("stdm: cancelled while starting; nothing was written", file=sys.stderr)
        return 130
    return run()
