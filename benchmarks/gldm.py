"""GLDM on time-interleaved masks (R = 4, 8; 16 ACS lines) next to L+S, BART and dSTDM on the same data, plus the
time of one low-rank Hankel step on 16 x 128^2. Writes benchmarks/results/gldm.{md,csv}.

    python benchmarks/gldm.py                      # every row
    python benchmarks/gldm.py --only "gldm"        # re-run these rows, keep the others from gldm.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import RESULTS, run_one, write_csv  # noqa: E402
from recon.gldm.lowrank import low_rank_step  # noqa: E402
from recon.phantom import simulate_cine  # noqa: E402
from recon.pipeline import problem_for, undersample  # noqa: E402

METHODS = ("zero-filled", "lps", "bart-ttv", "dstdm", "gldm")
# ablations: what the priors do without the low-rank step, and the scan-specific mode
VARIANTS = {"gldm, no low-rank step": ("gldm", {"rank": 0}),
            "gldm, no priors (low-rank + DC)": ("gldm", {"priors": "none"}),
            "gldm + 60 s fine-tuning": ("gldm", {"finetune_seconds": 60.0})}
NUMBERS = ("R", "R_eff", "seconds", "peak_mb", "psnr", "ssim", "nmse")


def low_rank_seconds(repeats: int = 3) -> float:
    k = torch.randn(16, 128, 128, dtype=torch.complex64)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        low_rank_step(k, rank=96, window=8)
        times.append(time.perf_counter() - start)
    return min(times)


def earlier_rows(keep) -> list[dict]:
    """Rows of the last full run (gldm.csv) whose method is kept, numbers parsed back."""
    with (RESULTS / "gldm.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if keep(row["method"])]
    for row in rows:
        row.update({k: (int if k == "R" else float)(row[k]) for k in NUMBERS})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="method labels to re-run; the other rows come from gldm.csv")
    args = parser.parse_args()
    start = time.perf_counter()
    cine = simulate_cine(frames=16, size=128, coils=8, seed=1001, snr=40.0)
    runs = {name: (name, {}) for name in METHODS} | VARIANTS
    rows = earlier_rows(lambda label: label not in args.only) if args.only else []
    for accel in (4, 8):
        measured, info = undersample(cine, "interleaved", accel, 16, seed=0)
        reference, measured.reference = measured.reference, None
        problem = problem_for(measured)
        for label, (name, params) in runs.items():
            if args.only and label not in args.only:
                continue
            try:
                row = run_one(name, problem, reference, **params) | {"method": label}
            except Exception as exc:  # noqa: BLE001 — a missing model or BART: report and go on
                print(f"{label}: {exc}")
                continue
            rows.append({"case": "phantom-1001 (16 frames)", "mask": "interleaved", "R": accel,
                         "R_eff": round(info["effective_accel"], 2), **row})
            print(f"R={accel} {label:24s} {row['psnr']:6.2f} dB SSIM {row['ssim']:.3f} {row['seconds']:6.1f} s", flush=True)
    lr = low_rank_seconds()
    order = list(runs)
    rows.sort(key=lambda r: (r["R"], order.index(r["method"]) if r["method"] in order else len(order)))
    RESULTS.mkdir(exist_ok=True)
    write_csv(rows, RESULTS / "gldm.csv")
    lines = ["# GLDM on time-interleaved sampling", "",
             f"Phantom seed 1001, 16 frames x 128^2 x 8 coils, SNR 40; interleaved masks with 16 ACS lines; ESPIRiT maps; "
             f"default parameters; {'re-run of ' + ', '.join(args.only) if args.only else 'whole run'} "
             f"{(time.perf_counter() - start) / 60:.1f} min on 2 cores.", "",
             "| R | R_eff | method | PSNR dB | SSIM | NMSE | time s | peak MB |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['R']} | {r['R_eff']} | {r['method']} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['nmse']:.2e} | "
              f"{r['seconds']:.1f} | {r['peak_mb']:.0f} |" for r in rows]
    lines += ["", f"One low-rank Hankel step (16 x 128^2, 8 x 8 window, rank 96, Gram + eigh): {lr:.2f} s (best of 3)."]
    (RESULTS / "gldm.md").write_text("\n".join(lines) + "\n")
    print(f"low-rank step {lr:.2f} s; wrote {RESULTS}/gldm.*")
    return 0


if __name__ == "__main__":
    sys.exit(main())
