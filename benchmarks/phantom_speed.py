"""Time the synthetic cine (12 x 128 x 128 x 8 coils) and the masks; writes results/phantom_speed.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recon.masks import KINDS, make_mask  # noqa: E402
from recon.phantom import simulate_cine  # noqa: E402


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    rows = [("simulate_cine(12 frames, 128², 8 coils, SNR 40)", best_of(lambda: simulate_cine(12, 128, 8, seed=1)))]
    rows += [(f"make_mask('{k}', (12, 128, 128), R=8)", best_of(lambda k=k: make_mask(k, (12, 128, 128), 8, 20)))
             for k in KINDS]
    lines = ["# Phantom and mask speed", "", "Best of 5, 2-core machine.", "", "| what | seconds |", "|---|---|"]
    lines += [f"| {name} | {t:.3f} |" for name, t in rows]
    out = Path(__file__).resolve().parent / "results" / "phantom_speed.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
