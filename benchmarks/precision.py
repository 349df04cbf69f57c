"""Network arithmetic: float32 against bfloat16 (recon.diffusion.precision) for dSTDM and GLDM, same cases, seeds
and masks; time, PSNR and peak memory. Run on an otherwise idle machine (the times are the point).

    python benchmarks/precision.py

Writes benchmarks/results/precision.{md,csv}. The CPU decides whether bfloat16 is fast: the markdown records
whether it multiplies bfloat16 in hardware (recon.diffusion.precision.hardware_bfloat16).
"""

from __future__ import annotations

import csv
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cases import cases  # noqa: E402
from benchmarks.memory import PeakRSS  # noqa: E402
from recon import methods  # noqa: E402
from recon.diffusion.precision import hardware_bfloat16  # noqa: E402
from recon.metrics import all_metrics  # noqa: E402
from recon.pipeline import MaskSpec, prepare, reconstruct  # noqa: E402
from recon.samples import sample_cine  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def runs():
    """(case, mask, method) triples: the sample and the GIRAF cine (report seed 0) with dSTDM, a held-out phantom
    with GLDM at time-interleaved R_eff 8. Nothing here is tuned: both precisions run the method's defaults."""
    sample = sample_cine()
    yield "sample 12x128²x8", sample, MaskSpec("vista", acs=8, seed=0, accel_eff=8), "dstdm"
    name, giraf, seed = next(cases("report", 1, ("real",)))
    yield name, giraf, MaskSpec("vista", acs=8, seed=seed, accel_eff=8), "dstdm"
    name, phantom, seed = next(cases("report", 1, ("heldout",)))
    yield name, phantom, MaskSpec("interleaved", acs=8, seed=seed, accel_eff=8), "gldm"


def main() -> int:
    rows = []
    for case, cine, mask, method in runs():
        problem, reference, _ = prepare(cine, mask)
        for precision in ("float32", "bfloat16"):
            with PeakRSS() as peak:
                start = time.perf_counter()
                result = reconstruct(problem, methods.create(method, precision=precision))
                seconds = time.perf_counter() - start
            metrics = all_metrics(result.image, reference)
            rows.append({"case": case, "mask": f"{mask.kind} R_eff 8, {mask.acs} ACS", "method": method,
                         "precision": precision, "seconds": round(seconds, 1), "peak_mb": round(peak.mb),
                         "psnr": round(metrics["psnr"], 3), "ssim": round(metrics["ssim"], 4)})
            print(rows[-1], flush=True)
    with (RESULTS / "precision.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = ["# Network precision: float32 vs bfloat16", "",
             f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; bfloat16 in "
             f"hardware (AMX or AVX-512 BF16): {'yes' if hardware_bfloat16() else 'no'} (precision `auto` picks "
             "bfloat16 only then). Method "
             "defaults otherwise; ESPIRiT maps from the undersampled data; time = the method alone.", "",
             "| case | mask | method | precision | PSNR dB | SSIM | time s | peak MB |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['mask']} | {r['method']} | {r['precision']} | {r['psnr']:.2f} | {r['ssim']:.3f} | "
              f"{r['seconds']:.1f} | {r['peak_mb']} |" for r in rows]
    (RESULTS / "precision.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
