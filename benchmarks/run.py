"""Quality / speed benchmark: methods x masks x R on held-out phantom cines and the shipped real-anatomy cine.

    python benchmarks/run.py                 # full grid, writes benchmarks/results/classical.{md,csv,png}
    python benchmarks/run.py --quick         # one phantom, VISTA only

Phantom seeds 1000+ are reserved for benchmarks (never for training; the shipped sample is seed 7).
The real cine is magnitude only: its phase, coil maps and noise are simulated.
"""

from __future__ import annotations

import argparse
import csv
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.memory import PeakRSS  # noqa: E402
from recon import methods  # noqa: E402
from recon.metrics import all_metrics  # noqa: E402
from recon.phantom import simulate_cine  # noqa: E402
from recon.pipeline import MaskSpec, measure, problem_for, reconstruct  # noqa: E402
from recon.samples import real_cine  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARK_SEEDS = (1000, 1001)
CLASSICAL = ("zero-filled", "sense", "lps", "bart-ttv", "bart-llr")


def cases(seeds, real: bool):
    for seed in seeds:
        yield f"phantom-{seed}", simulate_cine(frames=12, size=128, coils=8, seed=seed, snr=40.0)
    if real:
        yield "real-sax (simulated coils/phase/noise)", real_cine(coils=8, snr=40.0, seed=0)


def run_one(name: str, problem, reference, **params):
    method = methods.create(name, **params)
    with PeakRSS() as peak:
        start = time.perf_counter()
        result = reconstruct(problem, method)  # the shared driver; scored afterwards, outside the timing
        seconds = time.perf_counter() - start
    return {"method": name, "seconds": seconds, "peak_mb": peak.mb, **all_metrics(result.image, reference)}


def benchmark(args) -> list[dict]:
    rows = []
    names = [m for m in args.methods if not m.startswith("bart") or shutil.which("bart")]
    for case, cine in cases(args.seeds, args.real):
        for kind in args.masks:
            for accel in args.accels:
                prepared, reference = measure(cine, MaskSpec(kind, accel, 20, seed=0))  # no coil maps yet
                info = prepared.mask
                start = time.perf_counter()
                problem = problem_for(prepared.measured)
                maps_s = time.perf_counter() - start
                for name in names:
                    row = {"case": case, "shape": "x".join(map(str, cine.shape)), "mask": kind, "R": accel,
                           "R_eff": round(info["effective_accel"], 2), "maps_s": round(maps_s, 2),
                           **run_one(name, problem, reference)}
                    rows.append(row)
                    print(f"{case:40s} {kind:12s} R={accel:<3g} {name:12s} {row['psnr']:6.2f} dB "
                          f"SSIM {row['ssim']:.3f} {row['seconds']:6.2f} s {row['peak_mb']:7.0f} MB", flush=True)
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: float(f"{v:.6g}") if isinstance(v, float) else v for k, v in row.items()})


def write_markdown(rows: list[dict], path: Path, elapsed: float) -> None:
    lines = [
        "# Classical baselines", "",
        f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"Python {platform.python_version()}, torch {torch.__version__}. Whole run: {elapsed / 60:.1f} min.", "",
        "Metrics on magnitude against the fully sampled reference, whole field of view, no rescaling. "
        "R counts lines outside the 20 ACS lines (R_eff = all / sampled). Coil maps: ESPIRiT from the "
        "undersampled data (time `maps_s`, not included in `seconds`). Peak memory: sampled RSS of the "
        "benchmark process (BART: its own peak as a child process). The real cine is magnitude only: "
        "**its phase, coil maps and noise are simulated**.", "",
        "| case | mask | R | R_eff | method | PSNR dB | SSIM | NMSE | time s | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['mask']} | {r['R']:g} | {r['R_eff']} | {r['method']} | {r['psnr']:.2f} | "
                     f"{r['ssim']:.3f} | {r['nmse']:.2e} | {r['seconds']:.2f} | {r['peak_mb']:.0f} |")
    path.write_text("\n".join(lines) + "\n")


def write_plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases_, masks = sorted({r["case"] for r in rows}), sorted({r["mask"] for r in rows})
    fig, axes = plt.subplots(len(cases_), len(masks), figsize=(4 * len(masks), 3.2 * len(cases_)), squeeze=False)
    for i, case in enumerate(cases_):
        for j, mask in enumerate(masks):
            ax = axes[i, j]
            for method in dict.fromkeys(r["method"] for r in rows):
                pts = sorted((r["R"], r["psnr"]) for r in rows if (r["case"], r["mask"], r["method"]) == (case, mask, method))
                if pts:
                    ax.plot(*zip(*pts), marker="o", label=method)
            ax.set_title(f"{case[:24]} / {mask}", fontsize=8)
            ax.set_xlabel("R")
            ax.set_ylabel("PSNR (dB)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--real", action=argparse.BooleanOptionalAction, default=True,
                        help="include the real-anatomy cine (default yes; --quick leaves it out)")
    parser.add_argument("--seeds", nargs="*", type=int, default=list(BENCHMARK_SEEDS),
                        help="phantom seeds (benchmark seeds are 1000-1099)")
    parser.add_argument("--methods", nargs="+", default=list(CLASSICAL))
    parser.add_argument("--masks", nargs="+", default=["vista", "kt-gaussian", "radial"])
    parser.add_argument("--accels", nargs="+", type=float, default=[8, 16, 24])
    parser.add_argument("--name", default="classical", help="results file stem in benchmarks/results/")
    args = parser.parse_args(argv)
    if args.quick:
        args.masks, args.seeds, args.real = args.masks[:1], args.seeds[:1], False
    start = time.perf_counter()
    rows = benchmark(args)
    RESULTS.mkdir(exist_ok=True)
    write_csv(rows, RESULTS / f"{args.name}.csv")
    write_markdown(rows, RESULTS / f"{args.name}.md", time.perf_counter() - start)
    write_plot(rows, RESULTS / f"{args.name}.png")
    print(f"wrote {RESULTS}/{args.name}.{{md,csv,png}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
