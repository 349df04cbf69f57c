"""GLDM on held-out data with time-interleaved masks: the held-out benchmark (benchmarks/heldout.py: GIRAF real cine
and the held-out phantom family, never trained or tuned on; 8 ACS lines; R chosen for the effective acceleration)
with GLDM's rows and masks, plus the time of one low-rank Hankel step on 16 x 128^2.
Writes benchmarks/results/gldm_<set>.{csv,md}; resumable like heldout.py. The "phantom priors" rows read the
priors shipped before from data/gldm/old: `make gldm-phantom-priors` puts them there (`make bench` does).

    python benchmarks/gldm.py                             # report set: interleaved + interleaved-random, R_eff 4 and 8
    python benchmarks/gldm.py --set tuning --rows GLDM --params init=view-shared sigma_start=0.3   # tune here only
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import heldout  # noqa: E402
from recon.gldm.lowrank import low_rank_step  # noqa: E402

ROWS = ["L+S", "BART tTV", "dSTDM", "GLDM", "GLDM priors=none", "GLDM + 60 s scan-specific", "GLDM, phantom priors",
        "GLDM before (paper sampling, phantom priors)"]
DEFAULTS = ["--masks", "interleaved", "interleaved-random", "--accels", "4", "8", "--extra-masks", "--rows", *ROWS]


def low_rank_seconds(repeats: int = 3) -> float:
    k = torch.randn(16, 128, 128, dtype=torch.complex64)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        low_rank_step(k, rank=96, window=8)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    which = argv[argv.index("--set") + 1] if "--set" in argv else "report"
    name = ["--name", f"gldm_{which}"] if "--name" not in argv else []
    heldout.main(DEFAULTS + name + argv)  # later options override the defaults
    stem = argv[argv.index("--name") + 1] if "--name" in argv else f"gldm_{which}"
    seconds = low_rank_seconds()
    with (heldout.RESULTS / f"{stem}.md").open("a") as f:
        f.write(f"\nOne low-rank Hankel step (16 x 128^2, 8 x 8 window, rank 96, Gram + eigh): {seconds:.2f} s "
                "(best of 3).\n")
    print(f"low-rank step {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
