"""GLDM on time-interleaved masks (R = 4, 8; 16 ACS lines) next to L+S, BART and dSTDM on the same data, plus the
time of one low-rank Hankel step on 16 x 128^2. Writes benchmarks/results/gldm.{md,csv}.

    python benchmarks/gldm.py                      # every row
    python benchmarks/gldm.py --only gldm lps --seeds 1002 --accels 8   # add or re-run rows, keep the others
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


def case_name(seed: int) -> str:
    return f"phantom-{seed} (16 frames)"


def earlier_rows(replaced) -> list[dict]:
    """Rows of gldm.csv that this run does not replace, numbers parsed back."""
    with (RESULTS / "gldm.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if not replaced(row)]
    for row in rows:
        row.update({k: (int if k == "R" else float)(row[k]) for k in NUMBERS})
    return rows


def measure(seed: int, accel: int, runs: dict) -> list[dict]:
    cine = simulate_cine(frames=16, size=128, coils=8, seed=seed, snr=40.0)
    measured, info = undersample(cine, "interleaved", accel, 16, seed=0)
    reference, measured.reference = measured.reference, None
    problem = problem_for(measured)
    rows = []
    for label, (name, params) in runs.items():
        try:
            row = run_one(name, problem, reference, **params) | {"method": label}
        except Exception as exc:  # noqa: BLE001 — a missing model or BART: report and go on
            print(f"{label}: {exc}")
            continue
        rows.append({"case": case_name(seed), "mask": "interleaved", "R": accel,
                     "R_eff": round(info["effective_accel"], 2), **row})
        print(f"seed {seed} R={accel} {label:32s} {row['psnr']:6.2f} dB SSIM {row['ssim']:.3f} "
              f"{row['seconds']:6.1f} s", flush=True)
    return rows


def write_report(rows: list[dict], order: list[str], note: str, low_rank: float) -> None:
    rows.sort(key=lambda r: (r["case"], r["R"], order.index(r["method"]) if r["method"] in order else len(order)))
    RESULTS.mkdir(exist_ok=True)
    write_csv(rows, RESULTS / "gldm.csv")
    lines = ["# GLDM on time-interleaved sampling", "",
             "Phantoms (never training seeds), 16 frames x 128^2 x 8 coils, SNR 40; interleaved masks with 16 ACS lines; "
             f"ESPIRiT maps; default parameters unless the method says otherwise; {note}.", "",
             "| case | R | R_eff | method | PSNR dB | SSIM | NMSE | time s | peak MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['R']} | {r['R_eff']} | {r['method']} | {r['psnr']:.2f} | {r['ssim']:.3f} | "
              f"{r['nmse']:.2e} | {r['seconds']:.1f} | {r['peak_mb']:.0f} |" for r in rows]
    lines += ["", f"One low-rank Hankel step (16 x 128^2, 8 x 8 window, rank 96, Gram + eigh): {low_rank:.2f} s "
                  "(best of 3)."]
    (RESULTS / "gldm.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="method labels to (re-)run; other rows stay from gldm.csv")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1001], help="phantom seeds (benchmark: 1000-1099)")
    parser.add_argument("--accels", nargs="+", type=int, default=[4, 8])
    args = parser.parse_args()
    start = time.perf_counter()
    every = {name: (name, {}) for name in METHODS} | VARIANTS
    runs = {label: run for label, run in every.items() if not args.only or label in args.only}
    done = {(case_name(seed), accel, label) for seed in args.seeds for accel in args.accels for label in runs}
    rows = earlier_rows(lambda r: (r["case"], int(r["R"]), r["method"]) in done) if args.only else []
    for seed in args.seeds:
        for accel in args.accels:
            rows += measure(seed, accel, runs)
    low_rank = low_rank_seconds()
    what = f"last run: {', '.join(runs)} on seeds {args.seeds}, R {args.accels}" if args.only else "one run"
    write_report(rows, list(every), f"{what}, {(time.perf_counter() - start) / 60:.1f} min on 2 cores", low_rank)
    print(f"low-rank step {low_rank:.2f} s; wrote {RESULTS}/gldm.*")
    return 0


if __name__ == "__main__":
    sys.exit(main())
