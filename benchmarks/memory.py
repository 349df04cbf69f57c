"""Peak resident memory of this process during a block (sampled), plus BART's children (their own peak)."""

from __future__ import annotations

import resource
import threading
import time


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakRSS:
    """`with PeakRSS() as peak: ...` then `peak.mb`: the highest RSS seen (this process or a child), in MB."""

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.mb = 0.0
        self._stop = threading.Event()

    def _poll(self):
        while not self._stop.is_set():
            self.mb = max(self.mb, rss_mb())
            time.sleep(self.interval)

    def __enter__(self):
        self.mb = rss_mb()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        self.mb = max(self.mb, rss_mb(), children)
        return False
