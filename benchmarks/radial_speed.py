"""Time of true-radial (NUFFT) reconstruction against Cartesian on the bundled sample (12 x 128^2 x 8 coils).

    python benchmarks/radial_speed.py            # writes benchmarks/results/radial_speed.md

Same data and method defaults; Cartesian: VISTA with 8 ACS lines at R_eff 8; radial: golden-angle at R_eff 8
(25 spokes). The time counts coil maps and the run. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recon import methods  # noqa: E402
from recon.diffusion.precision import hardware_bfloat16  # noqa: E402
from recon.pipeline import MaskSpec, prepare, reconstruct  # noqa: E402
from recon.samples import sample_cine  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "radial_speed.md"
MASKS = {"Cartesian VISTA, 8 ACS": MaskSpec("vista", acs=8, accel_eff=8), "golden-angle radial": MaskSpec(
    "golden-angle", accel_eff=8)}


def timed(spec: MaskSpec, method: str) -> tuple[float, float, float]:
    cine = sample_cine()
    start = time.perf_counter()
    prepared = prepare(cine, spec)
    maps = time.perf_counter() - start
    result = reconstruct(prepared, methods.create(method), prepared.reference)
    return maps, result.seconds, result.metrics["psnr"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["dstdm", "lps", "bart-ttv"])
    args = parser.parse_args(argv)
    lines = ["# Radial (NUFFT) vs Cartesian time, bundled sample 12 x 128² x 8 coils, R_eff 8", "",
             f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
             f"bfloat16 networks: {'yes' if hardware_bfloat16() else 'no'}; defaults of every method. Prep counts "
             "the simulated acquisition and coil maps (radial: with numba's first-call compilation).", "",
             "| method | sampling | coil maps + prep (s) | run (s) | PSNR (dB) |", "|---|---|---|---|---|"]
    for method in args.methods:
        for label, spec in MASKS.items():
            maps, run, quality = timed(spec, method)
            lines.append(f"| {method} | {label} | {maps:.1f} | {run:.1f} | {quality:.2f} |")
            print(lines[-1], flush=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
