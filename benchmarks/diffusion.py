"""Diffusion benchmarks: dSTDM / dSTDM-seq / STDM / spatial next to L+S and BART on the same cases, the
PSNR-vs-steps and time-vs-steps curves used to choose the default `steps`, and peak memory on a large cine.

    python benchmarks/diffusion.py [--quick]

Writes benchmarks/results/diffusion.{md,csv} and diffusion_steps.{csv,png}. The real cine is run at R = 8 only
and without dstdm-seq, to keep the whole run near half an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.memory import PeakRSS  # noqa: E402
from benchmarks.run import RESULTS, run_one, write_csv  # noqa: E402
from recon import methods  # noqa: E402
from recon.metrics import psnr  # noqa: E402
from recon.phantom import simulate_cine  # noqa: E402
from recon.pipeline import problem_for, undersample  # noqa: E402
from recon.samples import real_cine  # noqa: E402

DIFFUSION = ("dstdm", "dstdm-seq", "stdm", "spatial")


def prepared(cine, kind: str, accel: float):
    measured, info = undersample(cine, kind, accel, 20, seed=0)
    reference, measured.reference = measured.reference, None
    return problem_for(measured), reference, info


def steps_curve(problem, reference, steps_list) -> list[dict]:
    rows = []
    for steps in steps_list:
        start = time.perf_counter()
        image = methods.create("dstdm", steps=steps).run(problem).image  # other parameters at their defaults
        rows.append({"steps": steps, "seconds": time.perf_counter() - start, "psnr": psnr(image, reference)})
        print(f"steps {steps:4d}: {rows[-1]['psnr']:.2f} dB, {rows[-1]['seconds']:.1f} s", flush=True)
    return rows


def large_cine_memory() -> dict:
    """Peak RSS of dSTDM (2 steps) on 25 frames x 256^2 x 16 coils."""
    cine = simulate_cine(frames=25, size=256, coils=16, seed=1002, snr=40.0)
    problem, _, _ = prepared(cine, "vista", 8)
    with PeakRSS() as peak:
        methods.create("dstdm", steps=2).run(problem)
    return {"case": "25x256x256x16 coils", "peak_mb": peak.mb}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--accels", nargs="+", type=float, default=[8, 16, 24])
    parser.add_argument("--steps", nargs="+", type=int, default=[10, 20, 40, 70, 100])
    args = parser.parse_args(argv)
    start = time.perf_counter()
    phantom = simulate_cine(frames=12, size=128, coils=8, seed=1000, snr=40.0)
    cases = [("phantom-1000", phantom)] + ([] if args.quick else [("real-sax (simulated coils/phase/noise)",
                                                                    real_cine(coils=8, snr=40.0, seed=0))])
    rows = []
    for case, cine in cases:
        real = case.startswith("real")
        for accel in args.accels[:1] if args.quick or real else args.accels:
            problem, reference, info = prepared(cine, "vista", accel)
            for name in ("lps", "bart-ttv", *(d for d in DIFFUSION if not (real and d == "dstdm-seq"))):
                try:
                    row = run_one(name, problem, reference)
                except Exception as exc:  # noqa: BLE001 — e.g. BART missing: report and go on
                    print(f"{name}: {exc}")
                    continue
                rows.append({"case": case, "mask": "vista", "R": accel, "R_eff": round(info["effective_accel"], 2),
                             **row})
                print(f"{case:40s} R={accel:<3g} {name:10s} {row['psnr']:6.2f} dB SSIM {row['ssim']:.3f} "
                      f"{row['seconds']:6.1f} s {row['peak_mb']:6.0f} MB", flush=True)
    RESULTS.mkdir(exist_ok=True)
    write_csv(rows, RESULTS / "diffusion.csv")
    problem, reference, _ = prepared(phantom, "vista", 8)
    curve = steps_curve(problem, reference, args.steps[:3] if args.quick else args.steps)
    write_csv(curve, RESULTS / "diffusion_steps.csv")
    memory = None if args.quick else large_cine_memory()
    write_report(rows, curve, memory, time.perf_counter() - start)
    print(f"wrote {RESULTS}/diffusion.*")
    return 0


def write_report(rows, curve, memory, elapsed) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot([c["steps"] for c in curve], [c["psnr"] for c in curve], marker="o")
    a.set_xscale("log")
    a.set_xlabel("steps")
    a.set_ylabel("PSNR (dB)")
    a.set_title("dSTDM, phantom-1000, VISTA R=8", fontsize=9)
    b.plot([c["steps"] for c in curve], [c["seconds"] for c in curve], marker="o")
    b.set_xlabel("steps")
    b.set_ylabel("seconds")
    fig.tight_layout()
    fig.savefig(RESULTS / "diffusion_steps.png", dpi=90)
    lines = ["# Diffusion methods", "",
             f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; whole run "
             f"{elapsed / 60:.1f} min. Same cases, masks (VISTA, 20 ACS), ESPIRiT maps and metrics as "
             "classical_*.md; the real cine's phase, coils and noise are simulated. Default parameters for every "
             "method; shipped weights (sample_data/).", "",
             "| case | R | R_eff | method | PSNR dB | SSIM | NMSE | time s | peak MB |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['R']:g} | {r['R_eff']} | {r['method']} | {r['psnr']:.2f} | {r['ssim']:.3f} | "
              f"{r['nmse']:.2e} | {r['seconds']:.1f} | {r['peak_mb']:.0f} |" for r in rows]
    lines += ["", "## dSTDM: PSNR and time vs steps (phantom-1000, VISTA R=8)", "", "| steps | PSNR dB | time s |",
              "|---|---|---|"] + [f"| {c['steps']} | {c['psnr']:.2f} | {c['seconds']:.1f} |" for c in curve]
    if memory:
        lines += ["", f"Peak RSS of dSTDM (2 steps) on {memory['case']}: {memory['peak_mb']:.0f} MB."]
    (RESULTS / "diffusion.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
