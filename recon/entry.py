"""The `stdm` console script. It imports nothing heavy itself, so a Ctrl-C while torch and friends load ends
with one line and exit code 130 instead of a traceback."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        print("stdm: cancelled while starting; nothing was written", file=sys.stderr)
        return 130
    return run()
