"""The `stdm` console script. It imports nothing heavy itself, so a Ctrl-C or SIGTERM while torch and friends load
ends with one line and exit code 130 / 143 instead of a traceback. torch itself is imported with both signals held
back (recon.held_signals: a KeyboardInterrupt inside torch's C++ initialisation aborts the process)."""

from __future__ import annotations

import signal
import sys

TORCH_COMMANDS = ("recon", "train", "methods")  # the sub-commands that load torch before they do anything


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is so that staging files are removed on the way out."""


def on_sigterm(signum, frame) -> None:
    raise Terminated()


def import_torch() -> None:
    from .held_signals import held_signals

    with held_signals():
        import torch  # noqa: F401


def main() -> int:
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        if sys.argv[1:2] and sys.argv[1] in TORCH_COMMANDS:
            import_torch()
        from .cli import main as run
    except Terminated:
        print("stdm: terminated while starting; nothing was written", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("stdm: cancelled while starting; nothing was written", file=sys.stderr)
        return 130
    return run()
